"""The ``guidance-monitor`` command. It only wires the stages together; the work is done in them.

Exit statuses are a contract with cron jobs and scripts: 0 done, 1 something failed (or, for ``diff``,
something changed), 2 a usage or configuration error, 3 another run holds the lock.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from . import __version__
from . import config as config_module
from .clock import london_time
from .model import Config, Document

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print one plain line to stderr and exit: never a traceback for input we can name."""
    click.echo(f"guidance-monitor: {message}", err=True)
    sys.exit(status)


def _reason(exc: OSError) -> str:
    """An OSError in words, without Python's ``[Errno 30]``."""
    return exc.strerror or str(exc)


# --------------------------------------------------------------------------- options every command takes


@dataclass
class Options:
    """The options that may come before or after the sub-command (``guidance-monitor --config F run`` and
    ``guidance-monitor run --config F`` are the same). A ``--config`` after the sub-command wins over one
    before it; ``--verbose`` with ``--quiet`` is refused."""

    config_path: str | None = None
    verbose: bool = False
    quiet: bool = False


def _remember(ctx: click.Context, param: click.Parameter, value: object) -> object:
    if value not in (None, False):
        setattr(ctx.ensure_object(Options), str(param.name), value)
    return value


GLOBAL_OPTIONS = (
    click.option(
        "--config",
        "config_path",
        metavar="FILE",
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Configuration file (default: $GUIDANCE_MONITOR_CONFIG, else ./config.yaml).",
    ),
    click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Say more: each fetch with its status, size and time.",
    ),
    click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="Say only what went wrong.",
    ),
)


def common(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a sub-command the global options too, so they may follow it."""
    for option in reversed(GLOBAL_OPTIONS):
        command = option(command)
    return command


def options() -> Options:
    options = click.get_current_context().ensure_object(Options)
    if options.verbose and options.quiet:
        fail("--verbose and --quiet: choose one")
    return options


def load_config(path: str | None = None) -> Config:
    """The configuration: ``path``, else ``--config`` wherever it was given, else the default file."""
    try:
        return config_module.load(path or options().config_path)
    except config_module.ConfigError as exc:
        fail(f"config: {exc}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidance-monitor")
@common
@click.pass_context
def main(ctx: click.Context) -> None:
    """Watch GOV.UK guidance pages and say exactly what changed.

    Run `guidance-monitor run` daily (cron) or `guidance-monitor serve`; try `guidance-monitor demo`, or
    `guidance-monitor init` to start. --config, --verbose and --quiet go before or after the command.
    """
    ctx.ensure_object(Options)


# Sub-commands are added below, one block per stage they drive. Keep each block small: the work belongs
# in the stage modules, not here.


# --------------------------------------------------------------------------- diff and parse

STDIN = "-"


def _read_bytes(path: str) -> bytes:
    """A saved page's bytes; ``-`` is standard input."""
    from pathlib import Path

    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot be read ({_reason(exc)})")


def _read_document(
    path: str, *, url: str | None = None, selector: str | None = None, status: int = EXIT_USAGE
) -> Document:
    """Read and parse one saved page for ``diff`` and ``parse``; any failure is one line naming the file."""
    return _read_saved(path, url=url, selector=selector, status=status)[0]


def _read_saved(
    path: str, *, url: str | None = None, selector: str | None = None, status: int = EXIT_USAGE
) -> tuple[Document, bool]:
    """A saved page's Document, and whether its address is known (given, or stated by the page).

    Its links resolve against ``url``, else the address the page states for itself, else www.gov.uk (a
    GOV.UK page saved without its address still links to "/government/..." there, not to the disk).
    """
    from . import parse as parse_module

    body = _read_bytes(path)
    name = "standard input" if path == STDIN else path
    address = url or parse_module.stated_url(body)
    return _parse_body(name, body, address or parse_module.GOVUK, "", selector, status), bool(address)


def _parse_body(
    source: str, body: bytes, url: str, content_type: str, selector: str | None, status: int
) -> Document:
    from . import parse as parse_module
    from .model import ParseError

    if not selector and parse_module.reader_for(body, url, content_type) == "selector":
        fail(f"{source}: not a GOV.UK page: give --selector CSS, the element that holds the document", status)
    try:
        return parse_module.parse(body, url, content_type, selector=selector)
    except ParseError as exc:
        # The reason's first line: a CSS syntax error goes on to draw the selector and a caret under it.
        reason = (str(exc).strip().splitlines() or ["no reason given"])[0]
        fail(f"{source}: cannot be parsed ({reason})", status)


def unrelated(old: Document, new: Document) -> list[str]:
    """Why two captures look like two different pages rather than two versions of one; empty when alike.

    ``diff`` compares whatever it is given, but a comparison of two different pages reads as a huge
    change, so it says so.
    """
    from urllib.parse import urlsplit

    from .govuk import normalise

    reasons = []
    stated = [d.url for d in (old, new) if d.url and urlsplit(d.url).path not in ("", "/")]
    if len(stated) == 2 and normalise(stated[0]) != normalise(stated[1]):
        reasons.append(f"they give different addresses ({old.url}, {new.url})")
    if old.published and new.published and old.published != new.published:
        reasons.append(f"first published on different days ({old.published}, {new.published})")
    if old.last_updated and new.last_updated and new.last_updated < old.last_updated:
        reasons.append(f'"Last updated" goes back from {old.last_updated} to {new.last_updated}')
    words = [{w for w in title.casefold().split() if len(w) > 3} for title in (old.title, new.title)]
    if all(words) and not words[0] & words[1]:
        reasons.append("their titles have no word in common")
    return reasons


def _report(changes, output: str, old_name: str, new_name: str) -> NoReturn:  # ChangeSet
    """Print a comparison as ``diff`` does and exit as diff(1) does: 0 the same, 1 changed."""
    import json

    from . import render

    if output == "json":
        click.echo(json.dumps(changes.to_dict(), ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(render.html_report(changes, old_name=old_name, new_name=new_name), nl=False)
    else:
        click.echo(render.text_report(changes), nl=False)
    sys.exit(EXIT_FAILED if changes.changed else EXIT_OK)


@main.command("diff")
@click.argument("old", metavar="OLD|URL")
@click.argument("new", metavar="[NEW]", required=False)
@click.option("--from", "from_day", metavar="YYYY-MM-DD", help="With URL: the page as stored on this day.")
@click.option("--to", "to_day", metavar="YYYY-MM-DD", help="With URL: the page as stored on this day.")
@click.option(
    "--format", "output", type=click.Choice(["text", "json", "html"]), default="text", show_default=True
)
@click.option(
    "--url",
    "page_url",
    metavar="URL",
    help="The address both saved files came from (for their links; default: the one each page states, "
    "else www.gov.uk).",
)
@click.option("--selector", metavar="CSS", help="Outside GOV.UK: the CSS selector of the document's element.")
@common
def diff_command(
    old: str,
    new: str | None,
    from_day: str | None,
    to_day: str | None,
    output: str,
    page_url: str | None,
    selector: str | None,
) -> None:
    """Say what changed between two captures of a page (HTML, Content API JSON or mirrored text; `-`
    reads standard input), or, with --from and --to, between two days of a watched page as stored.

    Exit status 0 when nothing changed, 1 when something did, 2 on error, as diff(1) does.
    """
    from . import diff as diff_module

    if from_day or to_day:
        if new is not None:
            fail("--from and --to compare two days of one watched page: give its URL only, not NEW")
        if not (from_day and to_day):
            fail("give both --from YYYY-MM-DD and --to YYYY-MM-DD")
        config = load_config()
        url = config_module.absolute_url(config, old)
        first, second = _day(from_day, "--from"), _day(to_day, "--to")
        with _existing_store(config) as store:
            _watched(store, url)
            (before_meta, before), (after_meta, after) = (
                _stored_on(store, url, first, "--from"),
                _stored_on(store, url, second, "--to"),
            )
        _report(
            diff_module.diff(before, after),
            output,
            f"{url} on {first} (snapshot #{before_meta['id']})",
            f"{url} on {second} (snapshot #{after_meta['id']})",
        )
    if new is None:
        fail("give two saved pages (OLD NEW), or a URL with --from and --to")
    if old == STDIN and new == STDIN:
        fail("only one of OLD and NEW can be standard input (-)")
    before = _read_document(old, url=page_url, selector=selector)
    after = _read_document(new, url=page_url, selector=selector)
    reasons = unrelated(before, after)
    if reasons:
        click.echo(
            f"guidance-monitor: warning: {old} and {new} look like two different pages: "
            f"{'; '.join(reasons)}. Compared anyway.",
            err=True,
        )
    _report(diff_module.diff(before, after), output, old, new)


@main.command("parse")
@click.argument("source", metavar="FILE_OR_URL", required=False)
@click.option("--format", "output", type=click.Choice(["json", "text"]), default="json", show_default=True)
@click.option("--selector", metavar="CSS", help="Outside GOV.UK: the CSS selector of the document's element.")
@click.option(
    "--url",
    "page_url",
    metavar="URL",
    help="The address a saved FILE came from (for its links; default: the one the page states, else "
    "www.gov.uk).",
)
@click.option("--list-readers", is_flag=True, help="List the readers, in the order they are tried, and exit.")
@common
def parse_command(
    source: str | None, output: str, selector: str | None, page_url: str | None, list_readers: bool
) -> None:
    """Print the Document read from a saved page (HTML, Content API JSON, text, PDF; `-` reads standard
    input) or from a URL.

    Exit status 0 when the page was read, 1 when it could not be fetched or no reader can read it, 2 when
    the FILE cannot be read or the command is misused.
    """
    import re

    from . import parse as parse_module

    if list_readers:
        for kind, text in parse_module.describe():
            plain = re.sub(r"``(.+?)``", r"\1", " ".join(text.split()))
            click.echo(f"{kind}\n    {plain}\n")
        return
    if not source:
        fail("parse: give a FILE or URL (or --list-readers)")
    if source.lower().startswith(("http://", "https://")):
        from . import fetch
        from .model import FetchRequest, FetchSettings

        result = fetch.fetch_many(FetchSettings(), [FetchRequest(source)])[0]
        if not result.ok:
            fail(f"{source}: cannot be fetched ({result.error})", EXIT_FAILED)
        url = page_url or result.final_url
        document = _parse_body(source, result.body, url, result.content_type, selector, EXIT_FAILED)
    else:
        document, known = _read_saved(source, url=page_url, selector=selector, status=EXIT_FAILED)
        if not known:
            # Its links resolve on www.gov.uk, but it is not www.gov.uk's home page: say the truth.
            _print_document(document, output, address="not stated in the page (give --url)")
            return
    _print_document(document, output)


def _print_document(document: Document, output: str, *, address: str | None = None) -> None:
    import json

    from . import parse as parse_module

    if output == "json":
        click.echo(json.dumps(parse_module.to_json(document), ensure_ascii=False, indent=2))
        return
    text = parse_module.to_text(document)
    if address is not None:
        text = text.replace(f"\nURL: {document.url}\n", f"\nURL: {address}\n", 1)
    click.echo(text, nl=False)


# --------------------------------------------------------------------------- run


def _open_store(config: Config):  # -> store.Store
    from .store import Store, StoreError

    try:
        return Store(config.database)
    except StoreError as exc:
        fail(f"database: {exc}")


def _existing_store(config: Config):  # -> store.Store
    """The database, for commands that only read it: one line, not an empty new file, when it is missing."""
    from pathlib import Path

    if not Path(config.database).exists():
        fail(f"no database yet at {config.database}: `guidance-monitor run` creates it")
    return _open_store(config)


class RunProgress:
    """What ``run`` says while it works: on a terminal, one line counting pages (done of total, failures),
    rewritten in place; with ``--verbose``, each fetch with its status, size and time. In cron (no
    terminal) it says nothing, and only the summary and the problems are printed."""

    def __init__(self, *, verbose: bool, terminal: bool) -> None:
        self.verbose, self.terminal = verbose, terminal
        self.shown = False

    def start(self) -> None:
        if self.terminal:
            self._show("Checking the watched pages…")

    def __call__(self, outcome: Any, summary: Any, outstanding: int) -> None:  # Outcome, RunSummary
        if self.verbose:
            self.clear()
            click.echo(fetch_line(outcome.target.url, outcome.fetch, outcome.reason), err=True)
        if self.terminal:
            failed = f", {summary.failed} failed" if summary.failed else ""
            self._show(f"Checked {summary.checked} of {summary.checked + outstanding} pages{failed}")

    def _show(self, text: str) -> None:
        click.echo(f"\r\x1b[K{text}", err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


def fetch_line(url: str, fetch: Any, reason: str | None) -> str:  # FetchResult
    """One fetch as ``--verbose`` logs it: ``URL: HTTP 200, 12,345 bytes, 0.31 s``."""
    status = f"HTTP {fetch.status}" if fetch.status else "no answer"
    if fetch.not_modified:
        status += " (not modified)"
    line = f"{url}: {status}, {len(fetch.body):,} bytes, {fetch.duration_ms / 1000:.2f} s"
    if fetch.attempts > 1:
        line += f", {fetch.attempts} tries"
    if fetch.url != url:
        line += f" (from {fetch.url})"
    return line + (f"; failed: {reason}" if reason else "")


class _Echo(logging.Handler):
    """Log records as plain lines on the stderr of the moment (click's, so a test runner captures them)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


@contextlib.contextmanager
def _fetch_log(verbose: bool) -> Iterator[None]:
    """``--verbose``: the fetcher's retries and the searches' results on stderr, for this command only."""
    if not verbose:
        yield
        return
    handler = _Echo()
    loggers = [logging.getLogger(name) for name in ("monitor.fetch", "monitor.discover")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@main.command("run")
@click.option("--no-deliver", is_flag=True, help="Check and record, but send no email or webhook.")
@click.option("--no-site", is_flag=True, help="Check and record, but do not publish the static site.")
@common
def run_command(no_deliver: bool, no_site: bool) -> None:
    """Check every watched page once, record what changed, send the digest and publish the site.

    On a terminal it shows its progress; in cron it prints only the summary and the problems (what
    could not be sent on standard error, even with --quiet). Exit status 0 when every page was checked
    and every change sent, 1 when a page failed or a channel could not send to everyone (its changes
    stay queued for the next run, a refused recipient's until digest.give_up_after_days), 2 on a
    configuration error, 3 when another run holds the lock.
    """
    from . import pipeline
    from .store import LockHeld

    opts = options()
    config = load_config()
    progress = RunProgress(verbose=opts.verbose, terminal=not opts.quiet and sys.stderr.isatty())
    with _open_store(config) as store, _fetch_log(opts.verbose):
        try:
            with store.lock():
                progress.start()
                summary = pipeline.run(
                    config, store, deliver=not no_deliver, site=not no_site, progress=progress
                )
        except LockHeld as exc:
            fail(str(exc), EXIT_LOCKED)
        finally:
            progress.clear()
    locked = [reason for where, reason in summary.failures if where == pipeline.DATABASE]
    if locked:
        fail(f"database: {locked[0]}", EXIT_FAILED)  # one line: nothing else of the run could be recorded
    pages = "page" if summary.checked == 1 else "pages"
    if summary.failures or not opts.quiet:
        click.echo(f"Checked {summary.checked} {pages}: {summary.changed} changed, {summary.failed} failed.")
    for url, reason in summary.failures:  # what could not be sent is said on stderr, even with --quiet
        click.echo(f"  failed: {url}: {reason}", err=url == "digest")
    if not opts.quiet:
        for line in summary.deliveries:
            click.echo(f"  {line}")
    if not summary.checked and not config.pages and not config.searches:
        click.echo(
            f"Nothing to watch: list pages under `pages:` in {config.path or 'config.yaml'}, "
            "or add one with `guidance-monitor add URL`.",
            err=True,
        )
    sys.exit(EXIT_FAILED if summary.failures else EXIT_OK)


# --------------------------------------------------------------------------- history and show


def _change_json(change) -> dict:  # Change -> its JSON form
    import dataclasses

    data = dataclasses.asdict(change)
    data["changeset"] = change.changeset.to_dict() if change.changeset else None
    return data


def _kind(change) -> str:  # Change -> the site's words for its kind
    from .render import BACKFILLED_LABEL, change_label

    return change_label(change) + (f" ({BACKFILLED_LABEL.lower()})" if change.backfilled else "")


format_option = click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)


def _watched(store, url: str):  # -> PageState
    page = store.page(url)
    if page is None:
        fail(f"{url}: not a watched page (see `guidance-monitor pages`)")
    return page


def _day(value: str, option: str):  # -> date
    import re
    from datetime import date

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return date.fromisoformat(value.strip())
    except ValueError:
        pass
    fail(f"{option}: not a date in the form YYYY-MM-DD: {value!r}")


def _stored_on(store, url: str, day, option: str):  # -> (snapshot row, Document)
    """The page as the monitor had it at the end of ``day`` on the London clock."""
    from datetime import datetime, time, timedelta

    from .clock import LONDON, utc_timestamp

    found = store.snapshot_before(
        url, utc_timestamp(datetime.combine(day + timedelta(days=1), time(), LONDON))
    )
    if found is None:
        snapshots = store.snapshots(url)
        if not snapshots:
            fail(f"{url}: no version stored yet (it has never been read)")
        first = london_time(snapshots[0]["taken_at"], zone=True)
        fail(f"{option} {day}: nothing stored for {url} yet on that day; the first version is of {first}")
    return found


@main.command("history")
@click.argument("url")
@format_option
@common
def history_command(url: str, output: str) -> None:
    """List a watched page's snapshots and changes (URL: an address or a GOV.UK path)."""
    import dataclasses
    import json

    config = load_config()
    url = config_module.absolute_url(config, url)
    with _existing_store(config) as store:
        page = _watched(store, url)
        snapshots, changes = store.snapshots(url), store.changes(page_url=url)
    if output == "json":
        data = {
            "page": dataclasses.asdict(page),
            "snapshots": snapshots,
            "changes": [_change_json(c) for c in changes],
        }
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(f"{page.title or url}\n{url}")
    if page.gone:
        click.echo("No longer on GOV.UK (removed).")
    if page.current_url:
        click.echo(f"Now at {page.current_url}")
    click.echo(f"\nSnapshots ({len(snapshots)}), times in UK time:")
    for snap in snapshots:
        updated = f"last updated {snap['last_updated']}" if snap["last_updated"] else "no last-updated date"
        taken = london_time(snap["taken_at"], zone=True, missing="-")
        click.echo(f"  #{snap['id']}  {taken}  {updated}, {snap['history_count']} updates")
    click.echo(f"\nChanges ({len(changes)}), newest first (`guidance-monitor show ID` for one):")
    for change in changes:
        when = change.effective_date or london_time(change.detected_at, missing="-")[:10]
        click.echo(f"  #{change.id}  {when}  {_kind(change)}: {change.note}")


@main.command("show")
@click.argument("what", metavar="CHANGE_ID|URL")
@click.option("--at", "at_day", metavar="YYYY-MM-DD", help="With URL: the page as stored on that day.")
@format_option
@common
def show_command(what: str, at_day: str | None, output: str) -> None:
    """Print one recorded change (CHANGE_ID), or a watched page as the monitor stored it on a day
    (URL --at YYYY-MM-DD: its text as `parse` prints it, or --format json)."""
    if what.strip().isdigit():
        if at_day:
            fail("--at goes with a page's URL; a CHANGE_ID names one change")
        _show_change(int(what), output)
    elif not at_day:
        fail(f"{what}: give a change number, or a page's URL with --at YYYY-MM-DD")
    else:
        day = _day(at_day, "--at")
        config = load_config()
        url = config_module.absolute_url(config, what)
        with _existing_store(config) as store:
            _watched(store, url)
            meta, document = _stored_on(store, url, day, "--at")
        taken = london_time(meta["taken_at"], zone=True)
        click.echo(f"{url} as stored on {day}: version #{meta['id']}, first seen {taken}", err=True)
        _print_document(document, output)


def _show_change(change_id: int, output: str) -> None:
    import json

    config = load_config()
    with _existing_store(config) as store:
        change = store.change(change_id)
    if change is None:
        fail(f"no change #{change_id} (see `guidance-monitor history URL`)")
    if output == "json":
        click.echo(json.dumps(_change_json(change), ensure_ascii=False, indent=2))
        return
    click.echo(f"Change #{change.id}: {_kind(change)}")
    click.echo(f"Page: {change.title or change.page_url}\n      {change.page_url}")
    detected = london_time(change.detected_at, zone=True, missing="-")
    click.echo(f"Date: {change.effective_date or '-'} (found {detected})")
    click.echo(f"Note: {change.note or '-'}")
    if change.new_url:
        click.echo(f"Now at: {change.new_url}")
    if change.changeset is not None:
        from .render import text_report

        click.echo("")
        click.echo(text_report(change.changeset), nl=False)


# --------------------------------------------------------------------------- serve and the watch list


@main.command("serve")
@click.option("--once", is_flag=True, help="Run at once, then keep to the schedule.")
@click.option("--every", type=click.FloatRange(min=0.1), default=None, hidden=True)
@common
def serve_command(once: bool, every: float | None) -> None:
    """Run on the schedule in config.yaml (schedule.cron in schedule.timezone) until stopped.

    A run missed while stopped or asleep is made up once. SIGTERM or Ctrl-C finishes the page in hand
    and exits.
    """
    from . import scheduler

    # --every SECONDS (hidden) replaces the schedule: cron's finest step is a minute, and tests need less.
    with _open_store(load_config()):
        pass  # a database that cannot be opened stops here, in one line, rather than at each run
    sys.exit(scheduler.serve(options().config_path, once=once, every=every))


def _watch_store(config: Config, create: bool):
    """The database, or None when it does not exist yet and ``create`` is false."""
    from pathlib import Path

    from .store import Store, StoreError

    if not create and not Path(config.database).exists():
        return None
    try:
        return Store(config.database)
    except StoreError as exc:
        fail(str(exc))


@main.command("pages")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--all", "include_inactive", is_flag=True, help="Include pages no longer watched.")
@common
def pages_command(output: str, include_inactive: bool) -> None:
    """List watched pages: last check, last change, failures in a row, last error; then the recipients
    whose server refuses changes still waiting for them."""
    from . import watchlist

    config = load_config()
    from .deliver import refusal_lines

    store = _watch_store(config, create=False)
    try:
        pages = watchlist.listing(config, store, include_inactive=include_inactive)
        refused = refusal_lines(config, store) if store is not None else []
    finally:
        if store is not None:
            store.close()
    text = watchlist.as_json(pages) + "\n" if output == "json" else watchlist.as_text(pages)
    click.echo(text, nl=False)
    if refused and output == "text":
        click.echo("Refused, waiting for the address to be mended:\n" + "\n".join(f"  {r}" for r in refused))


@main.command("add")
@click.argument("url")
@click.option("--follow-documents", is_flag=True, help="Also watch its HTML publications and PDFs.")
@click.option(
    "--selector",
    metavar="CSS",
    help="For a page outside GOV.UK (needed there): the CSS selector of the element holding its text.",
)
@common
def add_command(url: str, follow_documents: bool, selector: str | None) -> None:
    """Watch URL (a GOV.UK path such as /guidance/x, or an address) from the next run on.

    Two spellings of one page (a path or its www.gov.uk address, a trailing slash, a #fragment, tracking
    parameters) are one page. The page is kept in the database: config.yaml is not touched.
    """
    from . import watchlist

    config = load_config()
    try:
        url = watchlist.page_url(config, url)
        watchlist.check_selector(config, url, selector)
    except watchlist.WatchListError as exc:
        fail(str(exc))
    with _watch_store(config, create=True) as store:
        click.echo(watchlist.add(config, store, url, follow_documents=follow_documents, selector=selector))


@main.command("remove")
@click.argument("url")
@common
def remove_command(url: str) -> None:
    """Stop watching URL; its history stays. config.yaml is not touched."""
    from . import watchlist

    config = load_config()
    with _watch_store(config, create=True) as store:
        try:
            click.echo(watchlist.remove(config, store, url))
        except watchlist.WatchListError as exc:
            fail(str(exc))


# --------------------------------------------------------------------------- digest, site


def _out_folder(out_dir: str, option: str = "--out"):  # -> Path
    """A folder to write into: a file of that name is a usage error, said in one line."""
    from pathlib import Path

    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        fail(f"{option} {out_dir}: is a file, not a folder")
    return path


@main.command("digest")
@click.option("--dry-run", is_flag=True, help="Write what would be sent to --out; send nothing.")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Folder for --dry-run and --since files.")
@click.option("--since", metavar="YYYY-MM-DD", default=None, help="Rebuild the digest of changes since DATE.")
@click.option("--send", is_flag=True, help="With --since: email each subscriber their own and mark it sent.")
@common
def digest_command(dry_run: bool, out_dir: str | None, since: str | None, send: bool) -> None:
    """Send the changes waiting in the outbox (email and webhooks), each change once per channel.

    --dry-run --out DIR writes what would be sent and marks nothing. --since DATE rebuilds the digest of
    every change detected since DATE, delivered or not, and writes it as .eml to --out (or to stdout); it
    is sent only with --send, to each subscriber their own and to digest.email.to all of it. A digest
    with no change in it is not written. What could not be sent, or was refused, is said on standard
    error. Exit status 1 when a channel could not send to everyone (its changes stay queued) or a file
    could not be written.
    """
    from . import deliver
    from .store import LockHeld

    config = load_config()
    if send and not since:
        fail("--send goes with --since; without --since the outbox is sent anyway")
    if dry_run and not out_dir and not since:
        fail("--dry-run needs --out DIR")
    if since is not None:
        since = _day(since, "--since").isoformat()
    out = _out_folder(out_dir) if out_dir else None
    with _open_store(config) as store:
        if since is not None:
            digest, message = deliver.rebuild_digest(config, store, since)
            if not digest.changes:
                click.echo(f"No change found since {since}: no digest {'sent' if send else 'written'}.")
                return
            if send and not dry_run:
                if not config.digest.email.smtp_host or not deliver.EmailChannel.configured(config):
                    fail("--send: email is not configured (digest.email.smtp_host, and to or subscribers)")
                sent = deliver.send_rebuilt(config, store, digest)
                for result in sent:
                    click.echo(str(result), err=result.problem)
                if not sent:
                    click.echo(f"No subscriber's pages changed since {since}: no digest sent.")
                sys.exit(EXIT_FAILED if any(r.problem for r in sent) else EXIT_OK)
            elif out is not None:
                try:
                    path = deliver.EmailChannel(config.digest.email).preview(digest, out)
                except OSError as exc:
                    fail(f"--out {out_dir}: cannot be written ({_reason(exc)})", EXIT_FAILED)
                click.echo(f"Wrote {path}")
            else:
                click.echo(bytes(message).decode("utf-8", "replace"), nl=False)
            return
        try:
            with store.lock():
                results = deliver.deliver(config, store, dry_run_dir=out if dry_run else None)
        except LockHeld as exc:
            fail(str(exc), EXIT_LOCKED)
        except OSError as exc:
            fail(f"--out {out_dir}: cannot be written ({_reason(exc)})", EXIT_FAILED)
    for result in results:
        if result.sent or result.problem or dry_run:
            click.echo(str(result), err=result.problem)
    if not results:
        configured = deliver.channels(config) or dry_run
        click.echo(
            ("Nothing to send: nothing written." if dry_run else "Nothing to send.")
            if configured
            else "No email or webhook is configured."
        )
    sys.exit(EXIT_FAILED if any(r.problem for r in results) else EXIT_OK)


@main.command("site")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Where to build (default: site_dir).")
@common
def site_command(out_dir: str | None) -> None:
    """Build the static changelog (index, a page per watched page, a page per change, Atom feeds).

    It is built in a temporary folder beside DIR and swapped in whole, so readers never see half a site.
    """
    from .publish import rebuild_site

    config = load_config()
    if out_dir:
        _out_folder(out_dir)
    with _open_store(config) as store:
        try:
            path = rebuild_site(config, store, out_dir)
        except OSError as exc:
            fail(f"site: {exc.filename or out_dir or config.site_dir}: {_reason(exc)}", EXIT_FAILED)
    click.echo(f"Site written to {path}")


# --------------------------------------------------------------------------- demo


@main.command("demo")
@click.option(
    "--out",
    "out_dir",
    default="demo-output",
    show_default=True,
    metavar="DIR",
    help="Where to leave the database, the digest emails and the site.",
)
@common
def demo_command(out_dir: str) -> None:
    """Replay real captures of a DfE publication and its documents, one a simulated day, offline.

    Each day runs the same cycle as `guidance-monitor run`; the digests are written as .eml files.
    Days and times are UK time.
    """
    from .demo import run_demo

    out = _out_folder(out_dir).absolute()
    try:
        run_demo(out, echo=click.echo)
    except OSError as exc:
        fail(f"demo: {exc.filename or out}: cannot be written ({_reason(exc)})", EXIT_FAILED)
    except RuntimeError as exc:
        fail(f"demo: {exc}", EXIT_FAILED)
    click.echo(f"\nDone. Look at:\n  {out / 'site' / 'index.html'}   the changelog (open it in a browser)")
    click.echo(f"  {out}/*.eml   the digest emails\n  {out / 'monitor.db'}   the database")
    click.echo(f"  guidance-monitor --config {out / 'config.yaml'} history {_demo_page()}   its timeline")


def _demo_page() -> str:
    from .demo import PAGE_PATH

    return PAGE_PATH


# --------------------------------------------------------------------------- init and check


@main.command("init")
@click.argument("folder", metavar="[DIR]", default=".")
@common
def init_command(folder: str) -> None:
    """Write a commented starter config.yaml into DIR (default: here) and say what to run next.

    It watches the SENCO qualification page and its old address; email and schedule are there, commented
    out. An existing config.yaml is never overwritten.
    """
    target = _out_folder(folder, "DIR") / "config.yaml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "x", encoding="utf-8") as file:
            file.write(config_module.STARTER)
    except FileExistsError:
        fail(f"{target} already exists: nothing written (edit it, or init another folder)")
    except OSError as exc:
        fail(f"{target}: cannot be written ({_reason(exc)})", EXIT_FAILED)
    flag = "" if target.resolve() == config_module.config_path().resolve() else f" --config {target}"
    click.echo(f"Wrote {target}: it watches the SENCO qualification page. Next:")
    click.echo(f"  guidance-monitor{flag} check --online   see what the monitor reads from each page")
    click.echo(f"  guidance-monitor{flag} run              the first check (then daily: cron or serve)")


@main.command("check")
@click.option("--online", is_flag=True, help="Also fetch each page once and say what is read from it.")
@common
def check_command(online: bool) -> None:
    """Check the configuration; with --online, fetch each watched page once and report what the monitor
    reads from it. Nothing is stored.

    Exit status 0 when all is well, 1 when a page could not be fetched or read, 2 on a configuration error.
    """
    from pathlib import Path

    config = load_config()
    where = config.path or "config.yaml"
    pages = _check_targets(config)
    searches = f", {len(config.searches)} searches" if config.searches else ""
    click.echo(f"{where}: valid. {len(pages)} pages to watch{searches}.")
    database = "exists" if Path(config.database).exists() else "created by the first run"
    click.echo(f"  database {config.database} ({database}); site in {config.site_dir}")
    email = config.digest.email
    click.echo(f"  email: {'to ' + ', '.join(email.to) + ' via ' + email.smtp_host if email.to else 'none'}")
    click.echo(f"  schedule for serve: {config.schedule.cron} ({config.schedule.timezone})")
    if not online:
        return
    failed = 0
    for target, fetch, reading in _read_once(config, pages):
        if isinstance(reading, str):
            failed += 1
            click.echo(f"{target.url}\n  cannot be read: {reading}")
            continue
        click.echo(f"{target.url}\n  {reading.title or '(no title)'}")
        facts = [
            f"last updated {reading.last_updated}" if reading.last_updated else "no last-updated date",
            _count(len(reading.change_history), "update"),
            _count(len(reading.sections), "section"),
            _count(len(reading.attachments), "document"),
        ]
        source = "Content API" if "json" in fetch.content_type else "the page"
        click.echo(f"  {', '.join(facts)} (HTTP {fetch.status}, from {source})")
    if failed:
        fail(f"{failed} of {len(pages)} pages could not be read", EXIT_FAILED)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _check_targets(config: Config) -> list[Any]:  # -> list[pipeline.Target]
    """The configured pages, and those added with ``add`` when the database exists (opened read-only)."""
    from pathlib import Path

    from .pipeline import Target
    from .store import Store, StoreError

    targets = {}
    for page in config.pages:
        url = config_module.absolute_url(config, page.url)
        targets[url] = Target(url, page.selector, page.follow_documents)
    if Path(config.database).exists():
        try:
            with Store(config.database, readonly=True) as store:
                for page in store.pages(active_only=True):
                    if page.source != "config" and page.url not in targets:
                        targets[page.url] = Target(page.url, store.page_selector(page.url))
        except StoreError as exc:
            fail(f"database: {exc}")
    return list(targets.values())


def _read_once(config: Config, targets: list[Any]) -> list[tuple[Any, Any, Document | str]]:
    """Each target fetched once, as a run would (the Content API first where it serves the page), and
    read: its Document, or why there is none. Nothing is stored."""
    from dataclasses import replace

    from . import fetch as fetch_module
    from . import pipeline
    from .govuk import api_url
    from .model import FetchRequest, ParseError
    from .parse import parse

    api = [pipeline.uses_api(config, t) for t in targets]
    requests = [
        FetchRequest(api_url(config.govuk_base_url, t.url), accept=pipeline.API_ACCEPT)
        if a
        else FetchRequest(t.url)
        for t, a in zip(targets, api, strict=True)
    ]
    results = fetch_module.fetch_many(config.fetch, requests)
    retry = [
        i
        for i, r in enumerate(results)
        if api[i] and config.fetch.source == "auto" and (not r.ok or (r.status or 0) >= 400)
    ]
    for i, result in zip(
        retry,
        fetch_module.fetch_many(config.fetch, [FetchRequest(targets[i].url) for i in retry]),
        strict=True,
    ):
        results[i] = result
    found: list[tuple[Any, Any, Document | str]] = []
    for target, result in zip(targets, results, strict=True):
        reason = pipeline.quality_gate(result)
        if reason is None and result.status is not None and result.status >= 400:
            reason = f"HTTP {result.status}"
        if reason is not None:
            found.append((target, result, reason))
            continue
        try:
            document = parse(result.body, target.url, result.content_type, selector=target.selector)
        except ParseError as exc:
            found.append((target, result, f"not readable as a page: {str(exc).splitlines()[0]}"))
            continue
        found.append((target, replace(result, body=b""), document))
    return found


# --------------------------------------------------------------------------- explore


@main.command("explore")
@click.option("--host", metavar="ADDRESS", default="127.0.0.1", show_default=True, help="Listen on.")
@click.option("--port", metavar="PORT", type=click.IntRange(0, 65535), default=8001, show_default=True)
@click.option(
    "--base-url", default="/", show_default=True, help="The path it is served under, behind a proxy."
)
@click.option(
    "--metadata",
    "metadata_out",
    metavar="FILE",
    help="Write Datasette's metadata (descriptions, canned queries) to FILE and exit, for `datasette "
    "publish`.",
)
@common
def explore_command(host: str, port: int, base_url: str, metadata_out: str | None) -> None:
    """Explore the database in Datasette (pip install 'guidance-monitor[explore]'), read-only.

    Every table and column is described, and canned queries answer the usual questions: changes this
    week, silent edits, pages that could not be checked, the text of a page on a date. The file is opened
    immutable: restart it after a run to see the run's changes.
    """
    from . import explore

    try:
        explore.serve(
            load_config().database,
            host=host,
            port=port,
            base_url=base_url,
            metadata_out=metadata_out,
            quiet=options().quiet,
        )
    except explore.ExploreError as exc:
        fail(str(exc), EXIT_USAGE if exc.usage else EXIT_FAILED)


# --------------------------------------------------------------------------- notify (the deliver helper's)


@main.command("notify")
@common
@click.option("--test", "test", is_flag=True, help="Send a test message on every configured channel.")
@click.option("--list-channels", is_flag=True, help="List every kind of channel, from plugins too, and exit.")
def notify_command(test: bool, list_channels: bool) -> None:
    """Send a test message on every channel (email, webhooks, digest.notify, digest.channels) and say
    whether it went; --list-channels lists every kind of channel, those from other packages too.

    Each channel is shown by its name, never its address. The test message says it is a test from
    guidance-monitor and names the channel, nothing else. Then the recipients whose server refuses
    changes still waiting for them are listed, with its reply. Exit status 1 when any channel failed.
    Nothing is marked in the outbox.
    """
    from .deliver import kinds, notify_test, refusal_lines

    if list_channels:
        for kind, text in kinds():
            click.echo(f"{kind}\n    {' '.join(text.replace('``', '').split())}\n")
        return
    if not test:
        fail("notify: say what to do: --test sends a test message on every channel")
    config = load_config()
    results = notify_test(config)
    if not results:
        fail("notify: no channel is configured (digest.email, digest.webhooks or digest.notify)")
    for result in results:
        click.echo(f"{result.channel}: {'sent' if result.sent else 'FAILED'} ({result.detail})")
    store = _watch_store(config, create=False)
    if store is not None:
        with store:
            for line in refusal_lines(config, store):
                click.echo(f"waiting: {line}")
    sys.exit(EXIT_FAILED if any(not r.sent for r in results) else EXIT_OK)
