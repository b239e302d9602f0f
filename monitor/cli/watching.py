"""Commands that watch pages: ``run``, ``serve``, ``check`` and the watch list (``pages``, ``add``,
``remove``)."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..model import Answer, FetchResult, RunSummary
from ..plurals import plural
from ..settings import Config
from .options import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    common,
    fail,
    format_option,
    load_config,
    open_store,
    options,
)

if TYPE_CHECKING:
    from ..store import Store
    from ..watchlist import Target


# --------------------------------------------------------------------------- run


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

    def __call__(self, target: Target, answer: Answer, summary: RunSummary, outstanding: int) -> None:
        if self.verbose:
            self.clear()
            click.echo(fetch_line(target.url, answer.fetch, answer.reason), err=True)
        if self.terminal:
            failed = f", {summary.failed} failed" if summary.failed else ""
            self._show(
                f"Checked {summary.checked} of {plural(summary.checked + outstanding, 'page')}{failed}"
            )

    def _show(self, text: str) -> None:
        click.echo(f"\r\x1b[K{text}", err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


def fetch_line(url: str, fetch: FetchResult, reason: str | None) -> str:
    """One fetch as ``--verbose`` logs it: ``URL: HTTP 200, 12345 bytes, 0.31 s``."""
    status = f"HTTP {fetch.status}" if fetch.status else "no answer"
    if fetch.not_modified:
        status += " (not modified)"
    line = f"{url}: {status}, {plural(len(fetch.body), 'byte')}, {fetch.duration_ms / 1000:.2f} s"
    if fetch.attempts > 1:
        line += f", {plural(fetch.attempts, 'try', 'tries')}"
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


@click.command("run")
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
    from .. import pipeline
    from ..store import LockHeld

    opts = options()
    config = load_config()
    progress = RunProgress(verbose=opts.verbose, terminal=not opts.quiet and sys.stderr.isatty())
    with open_store(config) as store, _fetch_log(opts.verbose):
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
    if summary.failures or not opts.quiet:
        checked = plural(summary.checked, "page")
        click.echo(f"Checked {checked}: {summary.changed} changed, {summary.failed} failed.")
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


@click.command("serve")
@click.option("--once", is_flag=True, help="Run at once, then keep to the schedule.")
@click.option("--every", type=click.FloatRange(min=0.1), default=None, hidden=True)
@common
def serve_command(once: bool, every: float | None) -> None:
    """Run on the schedule in config.yaml (schedule.cron in schedule.timezone) until stopped.

    A run missed while stopped or asleep is made up once. SIGTERM or Ctrl-C finishes the page in hand
    and exits.
    """
    from .. import scheduler

    # --every SECONDS (hidden) replaces the schedule: cron's finest step is a minute, and tests need less.
    with open_store(load_config()):
        pass  # a database that cannot be opened stops here, in one line, rather than at each run
    sys.exit(scheduler.serve(options().config_path, once=once, every=every))


# --------------------------------------------------------------------------- check


@click.command("check")
@click.option("--online", is_flag=True, help="Also fetch each page once and say what is read from it.")
@common
def check_command(online: bool) -> None:
    """Check the configuration; with --online, fetch each watched page once and report what the monitor
    reads from it. Nothing is stored.

    Exit status 0 when all is well, 1 when a page could not be fetched or read, 2 on a configuration error.
    """
    from .. import pipeline, watchlist

    config = load_config()
    store = _read_only_store(config)
    try:
        pages = watchlist.targets(config, store)
        searches = f", {plural(len(config.searches), 'search', 'searches')}" if config.searches else ""
        click.echo(f"{config.path or 'config.yaml'}: valid. {plural(len(pages), 'page')} to watch{searches}.")
        database = "exists" if store is not None else "created by the first run"
        click.echo(f"  database {config.database} ({database}); site in {config.site_dir}")
        email = config.digest.email
        sent_to = f"to {', '.join(email.to)} via {email.smtp_host}" if email.to else "none"
        click.echo(f"  email: {sent_to}")
        click.echo(f"  schedule for serve: {config.schedule.cron} ({config.schedule.timezone})")
        if not online:
            return
        answers = pipeline.read_once(config, pages, store)
    finally:
        if store is not None:
            store.close()
    failed = 0
    for page, answer in zip(pages, answers, strict=True):
        document = answer.document
        if document is None:
            failed += 1
            click.echo(f"{page.url}\n  cannot be read: {answer.reason}")
            continue
        click.echo(f"{page.url}\n  {document.title or '(no title)'}")
        facts = [
            f"last updated {document.last_updated}" if document.last_updated else "no last-updated date",
            plural(len(document.change_history), "update"),
            plural(len(document.sections), "section"),
            plural(len(document.attachments), "document"),
        ]
        source = "Content API" if "json" in answer.fetch.content_type else "the page"
        click.echo(f"  {', '.join(facts)} (HTTP {answer.fetch.status}, from {source})")
    if failed:
        fail(f"{failed} of {plural(len(pages), 'page')} could not be read", EXIT_FAILED)


def _read_only_store(config: Config) -> Store | None:
    """The database opened read-only when it exists: ``check`` stores nothing, nor creates a file."""
    from ..store import Store, StoreError

    if not Path(config.database).exists():
        return None
    try:
        return Store(config.database, readonly=True)
    except StoreError as exc:
        fail(f"database: {exc}")


# --------------------------------------------------------------------------- the watch list


def _watch_store(config: Config) -> Store:
    """The database the watch list lives in, created when it is missing."""
    from ..store import Store, StoreError

    try:
        return Store(config.database)
    except StoreError as exc:
        fail(str(exc))


@click.command("pages")
@format_option
@click.option("--all", "include_inactive", is_flag=True, help="Include pages no longer watched.")
@common
def pages_command(output: str, include_inactive: bool) -> None:
    """List watched pages: last check, last change, failures in a row, last error; then the recipients
    whose server refuses changes still waiting for them."""
    from .. import watchlist
    from ..deliver import refusal_lines

    config = load_config()
    store = _watch_store(config) if Path(config.database).exists() else None
    try:
        pages = watchlist.watched(config, store, include_inactive=include_inactive)
        refused = refusal_lines(config, store) if store is not None else []
    finally:
        if store is not None:
            store.close()
    text = watchlist.as_json(pages) + "\n" if output == "json" else watchlist.as_text(pages)
    click.echo(text, nl=False)
    if refused and output == "text":
        click.echo("Refused, waiting for the address to be mended:\n" + "\n".join(f"  {r}" for r in refused))


@click.command("add")
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
    from .. import watchlist

    config = load_config()
    try:
        url = watchlist.page_url(config, url)
        watchlist.check_selector(config, url, selector)
    except watchlist.WatchListError as exc:
        fail(str(exc))
    with _watch_store(config) as store:
        click.echo(watchlist.add(config, store, url, follow_documents=follow_documents, selector=selector))


@click.command("remove")
@click.argument("url")
@common
def remove_command(url: str) -> None:
    """Stop watching URL; its history stays. config.yaml is not touched."""
    from .. import watchlist

    config = load_config()
    with _watch_store(config) as store:
        try:
            click.echo(watchlist.remove(config, store, url))
        except watchlist.WatchListError as exc:
            fail(str(exc))


COMMANDS = (run_command, serve_command, check_command, pages_command, add_command, remove_command)
