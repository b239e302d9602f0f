"""The ``guidance-monitor`` command. It only wires the stages together; the work is done in them.

Exit statuses are a contract with cron jobs and scripts: 0 done, 1 something failed (or, for ``diff``,
something changed), 2 a usage or configuration error, 3 another run holds the lock.
"""

from __future__ import annotations

import sys
from typing import NoReturn

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


def load_config(path: str | None) -> Config:
    try:
        return config_module.load(path)
    except config_module.ConfigError as exc:
        fail(f"config: {exc}")


config_option = click.option(
    "--config",
    "config_path",
    metavar="FILE",
    default=None,
    help="Configuration file (default: $GUIDANCE_MONITOR_CONFIG, else ./config.yaml).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="guidance-monitor")
def main() -> None:
    """Watch GOV.UK guidance pages and say exactly what changed.

    Run `guidance-monitor run` daily (cron) or `guidance-monitor serve`; try `guidance-monitor demo`.
    """


# Sub-commands are added below, one block per stage they drive. Keep each block small: the work belongs
# in the stage modules, not here.


# --------------------------------------------------------------------------- diff


def _read_document(
    path: str, *, url: str | None = None, selector: str | None = None, status: int = EXIT_USAGE
) -> Document:
    """Read and parse one saved page for ``diff`` and ``parse``; any failure is one line naming the file.

    Its links resolve against ``url``, else the address the page states for itself, else www.gov.uk (a
    GOV.UK page saved without its address still links to "/government/..." there, not to the disk).
    """
    from pathlib import Path

    from . import parse as parse_module

    try:
        body = Path(path).read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot be read ({exc.strerror or exc})")
    return _parse_body(
        path, body, url or parse_module.stated_url(body) or parse_module.GOVUK, "", selector, status
    )


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


@main.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
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
def diff_command(old: str, new: str, output: str, page_url: str | None, selector: str | None) -> None:
    """Say what changed between two captures of a page (HTML, Content API JSON or mirrored text).

    Exit status 0 when nothing changed, 1 when something did, 2 on error, as diff(1) does.
    """
    import json

    from . import diff as diff_module
    from . import render

    changes = diff_module.diff(
        _read_document(old, url=page_url, selector=selector),
        _read_document(new, url=page_url, selector=selector),
    )
    if output == "json":
        click.echo(json.dumps(changes.to_dict(), ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(render.html_report(changes, old_name=old, new_name=new), nl=False)
    else:
        click.echo(render.text_report(changes), nl=False)
    sys.exit(EXIT_FAILED if changes.changed else EXIT_OK)


# --------------------------------------------------------------------------- parse


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
def parse_command(
    source: str | None, output: str, selector: str | None, page_url: str | None, list_readers: bool
) -> None:
    """Print the Document read from a saved page (HTML, Content API JSON, text, PDF) or from a URL.

    Exit status 0 when the page was read, 1 when it could not be fetched or no reader can read it, 2 when
    the FILE cannot be read or the command is misused.
    """
    import json
    import re

    from . import parse as parse_module

    if list_readers:
        for kind, text in parse_module.describe():
            plain = re.sub(r"``(.+?)``", r"\1", " ".join(text.split()))
            click.echo(f"{kind}\n    {plain}\n")
        return
    if not source:
        fail("parse: give a FILE or URL (or --list-readers)")
    if source.startswith(("http://", "https://")):
        from . import fetch
        from .model import FetchRequest, FetchSettings

        result = fetch.fetch_many(FetchSettings(), [FetchRequest(source)])[0]
        if not result.ok:
            fail(f"{source}: cannot be fetched ({result.error})", EXIT_FAILED)
        url = page_url or result.final_url
        document = _parse_body(source, result.body, url, result.content_type, selector, EXIT_FAILED)
    else:
        document = _read_document(source, url=page_url, selector=selector, status=EXIT_FAILED)
    if output == "json":
        click.echo(json.dumps(parse_module.to_json(document), ensure_ascii=False, indent=2))
    else:
        click.echo(parse_module.to_text(document), nl=False)


# --------------------------------------------------------------------------- run, history, show


def _open_store(config: Config):  # -> store.Store
    from .store import Store, StoreError

    try:
        return Store(config.database)
    except StoreError as exc:
        fail(f"database: {exc}")


@main.command("run")
@config_option
@click.option("--no-deliver", is_flag=True, help="Check and record, but send no email or webhook.")
@click.option("--no-site", is_flag=True, help="Check and record, but do not publish the static site.")
def run_command(config_path: str | None, no_deliver: bool, no_site: bool) -> None:
    """Check every watched page once, record what changed, send the digest and publish the site.

    Exit status 0 when every page was checked, 1 when any failed, 2 on a configuration error, 3 when
    another run holds the lock.
    """
    from . import pipeline
    from .store import LockHeld

    config = load_config(config_path)
    with _open_store(config) as store:
        try:
            with store.lock():
                summary = pipeline.run(config, store, deliver=not no_deliver, site=not no_site)
        except LockHeld as exc:
            fail(str(exc), EXIT_LOCKED)
    pages = "page" if summary.checked == 1 else "pages"
    click.echo(f"Checked {summary.checked} {pages}: {summary.changed} changed, {summary.failed} failed.")
    for url, reason in summary.failures:
        click.echo(f"  failed: {url}: {reason}")
    for line in summary.deliveries:
        click.echo(f"  {line}")
    if not summary.checked and not config.pages and not config.searches:
        click.echo(
            f"Nothing to watch: list pages under `pages:` in {config.path or 'config.yaml'}, "
            "or add one with `guidance-monitor add URL`.",
            err=True,
        )
    sys.exit(EXIT_FAILED if summary.failures else EXIT_OK)


def _change_json(change) -> dict:  # Change -> its JSON form
    import dataclasses

    data = dataclasses.asdict(change)
    data["changeset"] = change.changeset.to_dict() if change.changeset else None
    return data


format_option = click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)


@main.command("history")
@click.argument("url")
@config_option
@format_option
def history_command(url: str, config_path: str | None, output: str) -> None:
    """List a watched page's snapshots and changes (URL: an address or a GOV.UK path)."""
    import dataclasses
    import json

    config = load_config(config_path)
    url = config_module.absolute_url(config, url)
    with _open_store(config) as store:
        page = store.page(url)
        if page is None:
            fail(f"{url}: not a watched page (see `guidance-monitor pages`)")
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
        taken = london_time(snap["taken_at"], missing="-")
        click.echo(f"  #{snap['id']}  {taken}  {updated}, {snap['history_count']} updates")
    click.echo(f"\nChanges ({len(changes)}), newest first (`guidance-monitor show ID` for one):")
    for change in changes:
        when = change.effective_date or london_time(change.detected_at, missing="-")[:10]
        backfilled = " (from GOV.UK's history)" if change.backfilled else ""
        click.echo(f"  #{change.id}  {when}  {change.kind}{backfilled}: {change.note}")


@main.command("show")
@click.argument("change_id", type=int)
@config_option
@format_option
def show_command(change_id: int, config_path: str | None, output: str) -> None:
    """Print one recorded change, with what changed in its sections, attachments and history."""
    import json

    config = load_config(config_path)
    with _open_store(config) as store:
        change = store.change(change_id)
    if change is None:
        fail(f"no change #{change_id} (see `guidance-monitor history URL`)")
    if output == "json":
        click.echo(json.dumps(_change_json(change), ensure_ascii=False, indent=2))
        return
    click.echo(f"Change #{change.id}: {change.kind}{' (from GOV.UK history)' if change.backfilled else ''}")
    click.echo(f"Page: {change.title or change.page_url}\n      {change.page_url}")
    detected = london_time(change.detected_at, missing="-")
    click.echo(f"Date: {change.effective_date or '-'} (detected {detected} UK time)")
    click.echo(f"Note: {change.note or '-'}")
    if change.new_url:
        click.echo(f"Now at: {change.new_url}")
    if change.changeset is not None:
        from .render import text_report

        click.echo("")
        click.echo(text_report(change.changeset), nl=False)


# --------------------------------------------------------------------------- serve and the watch list


@main.command("serve")
@config_option
@click.option("--once", is_flag=True, help="Run at once, then keep to the schedule.")
@click.option("--every", type=click.FloatRange(min=0.1), default=None, hidden=True, help="Seconds (tests).")
def serve_command(config_path: str | None, once: bool, every: float | None) -> None:
    """Run on the schedule in config.yaml (schedule.cron in schedule.timezone) until stopped.

    A run missed while stopped or asleep is made up once. SIGTERM or Ctrl-C finishes the page in hand
    and exits. --every SECONDS replaces the schedule (cron's finest step is a minute), for testing.
    """
    from . import scheduler

    with _open_store(load_config(config_path)):
        pass  # a database that cannot be opened stops here, in one line, rather than at each run
    sys.exit(scheduler.serve(config_path, once=once, every=every))


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
@config_option
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--all", "include_inactive", is_flag=True, help="Include pages no longer watched.")
def pages_command(config_path: str | None, output: str, include_inactive: bool) -> None:
    """List watched pages: last check, last change, failures in a row, last error."""
    from . import watchlist

    config = load_config(config_path)
    store = _watch_store(config, create=False)
    try:
        pages = watchlist.listing(config, store, include_inactive=include_inactive)
    finally:
        if store is not None:
            store.close()
    text = watchlist.as_json(pages) + "\n" if output == "json" else watchlist.as_text(pages)
    click.echo(text, nl=False)


@main.command("add")
@config_option
@click.argument("url")
@click.option("--follow-documents", is_flag=True, help="Also watch its HTML publications and PDFs.")
def add_command(config_path: str | None, url: str, follow_documents: bool) -> None:
    """Watch URL (a GOV.UK path such as /guidance/x, or an address) from the next run on.

    The page is kept in the database: config.yaml is not touched.
    """
    from . import watchlist

    config = load_config(config_path)
    with _watch_store(config, create=True) as store:
        try:
            click.echo(watchlist.add(config, store, url, follow_documents=follow_documents))
        except watchlist.WatchListError as exc:
            fail(str(exc))


@main.command("remove")
@config_option
@click.argument("url")
def remove_command(config_path: str | None, url: str) -> None:
    """Stop watching URL; its history stays. config.yaml is not touched."""
    from . import watchlist

    config = load_config(config_path)
    with _watch_store(config, create=True) as store:
        try:
            click.echo(watchlist.remove(config, store, url))
        except watchlist.WatchListError as exc:
            fail(str(exc))


# --------------------------------------------------------------------------- digest, site


@main.command("digest")
@config_option
@click.option("--dry-run", is_flag=True, help="Write what would be sent to --out; send nothing.")
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Folder for --dry-run and --since files.")
@click.option("--since", metavar="YYYY-MM-DD", default=None, help="Rebuild the digest of changes since DATE.")
@click.option("--send", is_flag=True, help="With --since: email the rebuilt digest and mark it delivered.")
def digest_command(
    config_path: str | None, dry_run: bool, out_dir: str | None, since: str | None, send: bool
) -> None:
    """Send the changes waiting in the outbox (email and webhooks), each change once per channel.

    --dry-run --out DIR writes what would be sent and marks nothing. --since DATE rebuilds the digest of
    every change detected since DATE, delivered or not, and writes it as .eml to --out (or to stdout); it
    is sent only with --send. Exit status 1 when a channel could not send (its changes stay queued).
    """
    from datetime import date
    from pathlib import Path

    from . import deliver
    from .store import LockHeld

    config = load_config(config_path)
    if send and not since:
        fail("--send goes with --since; without --since the outbox is sent anyway")
    if dry_run and not out_dir and not since:
        fail("--dry-run needs --out DIR")
    if since is not None:
        try:
            date.fromisoformat(since)
        except ValueError:
            fail(f"--since: not a date in the form YYYY-MM-DD: {since!r}")
    with _open_store(config) as store:
        if since is not None:
            digest, message = deliver.rebuild_digest(config, store, since)
            if send and not dry_run:
                if not config.digest.email.configured:
                    fail("--send: email is not configured (digest.email.to and smtp_host)")
                try:
                    detail = deliver.send_rebuilt(config, store, digest)
                    click.echo(f"email: sent {len(digest.changes)} changes ({detail})")
                except deliver.DeliveryError as exc:
                    fail(f"email: not sent: {exc}", EXIT_FAILED)
            elif out_dir:
                path = deliver.EmailChannel(config.digest.email).preview(digest, Path(out_dir))
                click.echo(f"Wrote {path}")
            else:
                click.echo(bytes(message).decode("utf-8", "replace"), nl=False)
            return
        try:
            with store.lock():
                results = deliver.deliver(config, store, dry_run_dir=out_dir if dry_run else None)
        except LockHeld as exc:
            fail(str(exc), EXIT_LOCKED)
    for result in results:
        if result.sent or dry_run:
            click.echo(str(result))
    if not results:
        configured = deliver.channels(config) or dry_run
        click.echo("Nothing to send." if configured else "No email or webhook is configured.")
    sys.exit(EXIT_FAILED if any(not r.sent for r in results) and not dry_run else EXIT_OK)


@main.command("site")
@config_option
@click.option("--out", "out_dir", metavar="DIR", default=None, help="Where to build (default: site_dir).")
def site_command(config_path: str | None, out_dir: str | None) -> None:
    """Build the static changelog (index, a page per watched page, a page per change, Atom feeds).

    It is built in a temporary folder beside DIR and swapped in whole, so readers never see half a site.
    """
    from . import deliver

    config = load_config(config_path)
    with _open_store(config) as store:
        try:
            path = deliver.publish_site(config, store, out_dir)
        except (deliver.DeliveryError, OSError) as exc:
            fail(f"site: {exc}", EXIT_FAILED)
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
def demo_command(out_dir: str) -> None:
    """Replay real captures of a DfE publication and its documents, one a simulated day, offline.

    Each day runs the same cycle as `guidance-monitor run`; the digests are written as .eml files.
    """
    from pathlib import Path

    from .demo import run_demo

    out = Path(out_dir).absolute()
    try:
        run_demo(out, echo=click.echo)
    except (OSError, RuntimeError) as exc:
        fail(f"demo: {exc}", EXIT_FAILED)
    click.echo(f"\nDone. Look at:\n  {out / 'site' / 'index.html'}   the changelog (open it in a browser)")
    click.echo(f"  {out}/*.eml   the digest emails\n  {out / 'monitor.db'}   the database")
