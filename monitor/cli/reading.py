"""Commands that read pages and what was stored of them: ``parse``, ``diff``, ``history`` and ``show``."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .. import config as config_module
from ..clock import london_time
from ..model import Change, ChangeSet, Document
from ..plurals import plural
from .options import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Day,
    common,
    existing_store,
    fail,
    format_option,
    load_config,
    reason,
    watched_page,
)

if TYPE_CHECKING:
    from ..store import Store

STDIN = "-"


# --------------------------------------------------------------------------- saved pages


def _read_bytes(path: str) -> bytes:
    """A saved page's bytes; ``-`` is standard input."""
    from pathlib import Path

    if path == STDIN:
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        fail(f"{path}: cannot be read ({reason(exc)})")


def _read_saved(
    path: str, *, url: str | None = None, selector: str | None = None, status: int = EXIT_USAGE
) -> tuple[Document, bool]:
    """A saved page's Document, and whether its address is known (given, or stated by the page).

    Its links resolve against ``url``, else the address the page states for itself, else www.gov.uk (a
    GOV.UK page saved without its address still links to "/government/..." there, not to the disk).
    """
    from .. import parse as parse_module

    body = _read_bytes(path)
    name = "standard input" if path == STDIN else path
    address = url or parse_module.stated_url(body)
    return _parse_body(name, body, address or parse_module.GOVUK, "", selector, status), bool(address)


def _parse_body(
    source: str, body: bytes, url: str, content_type: str, selector: str | None, status: int
) -> Document:
    from .. import parse as parse_module
    from ..model import ParseError

    if not selector and parse_module.reader_for(body, url, content_type) == "selector":
        fail(f"{source}: not a GOV.UK page: give --selector CSS, the element that holds the document", status)
    try:
        return parse_module.parse(body, url, content_type, selector=selector)
    except ParseError as exc:
        # The reason's first line: a CSS syntax error goes on to draw the selector and a caret under it.
        first = (str(exc).strip().splitlines() or ["no reason given"])[0]
        fail(f"{source}: cannot be parsed ({first})", status)


def print_document(document: Document, output: str, *, url_stated: bool = True) -> None:
    """Print a Document as ``parse`` does. ``url_stated=False``: a saved page that gave no address of its
    own reads its links on www.gov.uk, but is not www.gov.uk's home page, so no address is claimed for it
    (``null`` in JSON)."""
    import json

    from .. import parse as parse_module

    if output == "json":
        data = parse_module.to_json(document)
        if not url_stated:
            data["url"] = None
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    text = parse_module.to_text(document)
    if not url_stated:
        text = text.replace(f"\nURL: {document.url}\n", "\nURL: not stated in the page (give --url)\n", 1)
    click.echo(text, nl=False)


# --------------------------------------------------------------------------- parse and diff


@click.command("parse")
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

    from .. import parse as parse_module

    if list_readers:
        for kind, text in parse_module.describe():
            plain = re.sub(r"``(.+?)``", r"\1", " ".join(text.split()))
            click.echo(f"{kind}\n    {plain}\n")
        return
    if not source:
        fail("parse: give a FILE or URL (or --list-readers)")
    if source.lower().startswith(("http://", "https://")):
        from .. import fetch
        from ..model import FetchRequest
        from ..settings import FetchSettings

        result = fetch.fetch_many(FetchSettings(), [FetchRequest(source)])[0]
        if not result.ok:
            fail(f"{source}: cannot be fetched ({result.error})", EXIT_FAILED)
        url = page_url or result.final_url
        document = _parse_body(source, result.body, url, result.content_type, selector, EXIT_FAILED)
    else:
        document, known = _read_saved(source, url=page_url, selector=selector, status=EXIT_FAILED)
        print_document(document, output, url_stated=known)
        return
    print_document(document, output)


def _report(changes: ChangeSet, output: str, old_name: str, new_name: str) -> NoReturn:
    """Print a comparison as ``diff`` does and exit as diff(1) does: 0 the same, 1 changed."""
    import json

    from .. import render

    if output == "json":
        from ..notes import changeset_check

        data = {**changes.to_dict(), "note_check": changeset_check(changes).to_dict()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif output == "html":
        click.echo(render.html_report(changes, old_name=old_name, new_name=new_name), nl=False)
    else:
        click.echo(render.text_report(changes), nl=False)
    sys.exit(EXIT_FAILED if changes.changed else EXIT_OK)


@click.command("diff")
@click.argument("old", metavar="OLD|URL")
@click.argument("new", metavar="[NEW]", required=False)
@click.option(
    "--from", "from_day", type=Day(), metavar="YYYY-MM-DD", help="With URL: the page as stored on this day."
)
@click.option(
    "--to", "to_day", type=Day(), metavar="YYYY-MM-DD", help="With URL: the page as stored on this day."
)
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
    from_day: date | None,
    to_day: date | None,
    output: str,
    page_url: str | None,
    selector: str | None,
) -> None:
    """Say what changed between two captures of a page (HTML, Content API JSON or mirrored text; `-`
    reads standard input), or, with --from and --to, between two days of a watched page as stored.

    Exit status 0 when nothing changed, 1 when something did, 2 on error, as diff(1) does.
    """
    from .. import diff as diff_module

    if from_day or to_day:
        if new is not None:
            fail("--from and --to compare two days of one watched page: give its URL only, not NEW")
        if not (from_day and to_day):
            fail("give both --from YYYY-MM-DD and --to YYYY-MM-DD")
        config = load_config()
        url = config_module.absolute_url(config, old)
        with existing_store(config) as store:
            watched_page(store, url)
            before_meta, before = _stored_on(store, url, from_day, "--from")
            after_meta, after = _stored_on(store, url, to_day, "--to")
        _report(
            diff_module.diff(before, after),
            output,
            f"{url} on {from_day} (snapshot #{before_meta['id']})",
            f"{url} on {to_day} (snapshot #{after_meta['id']})",
        )
    if new is None:
        fail("give two saved pages (OLD NEW), or a URL with --from and --to")
    if old == STDIN and new == STDIN:
        fail("only one of OLD and NEW can be standard input (-)")
    before = _read_saved(old, url=page_url, selector=selector)[0]
    after = _read_saved(new, url=page_url, selector=selector)[0]
    reasons = diff_module.unrelated(before, after)
    if reasons:
        click.echo(
            f"guidance-monitor: warning: {old} and {new} look like two different pages: "
            f"{'; '.join(reasons)}. Compared anyway.",
            err=True,
        )
    _report(diff_module.diff(before, after), output, old, new)


# --------------------------------------------------------------------------- history and show


def _change_json(change: Change) -> dict[str, Any]:
    import dataclasses

    data = dataclasses.asdict(change)
    data["changeset"] = change.changeset.to_dict() if change.changeset else None
    data["govuk_date"] = _govuk_date(change)
    data["note_check"] = change.note_check.to_dict() if change.note_check else None
    return data


def _kind(change: Change) -> str:
    """The site's words for a change's kind."""
    from ..render import BACKFILLED_LABEL, change_label

    return change_label(change) + (f" ({BACKFILLED_LABEL.lower()})" if change.backfilled else "")


def _govuk_date(change: Change) -> str | None:
    """The date GOV.UK gave the change, from its newest dated change note; None when GOV.UK dated none
    (a page first seen, moved or edited silently). The listing is ordered by when each was found, so
    this date is shown beside it, never in its place."""
    from ..render.records import note_entries

    return next((entry.date for entry in note_entries(change) if entry.date), None)


def _stored_on(store: Store, url: str, day: date, option: str) -> tuple[dict[str, Any], Document]:
    """The page as the monitor had it at the end of ``day`` on the London clock."""
    from datetime import datetime, time, timedelta

    from ..clock import LONDON, utc_timestamp
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


@click.command("history")
@click.argument("url")
@format_option
@common
def history_command(url: str, output: str) -> None:
    """List a watched page's snapshots, and its changes newest found first with GOV.UK's own date beside
    each (URL: an address or a GOV.UK path)."""
    import dataclasses
    import json

    config = load_config()
    url = config_module.absolute_url(config, url)
    with existing_store(config) as store:
        page = watched_page(store, url)
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
        click.echo(f"  #{snap['id']}  {taken}  {updated}, {plural(snap['history_count'], 'update')}")
    click.echo(
        f"\nChanges ({len(changes)}), newest found first, each with GOV.UK's own date"
        " (`guidance-monitor show ID` for one):"
    )
    for change in changes:
        found = london_time(change.detected_at, zone=True, missing="-")
        govuk = _govuk_date(change)
        dated = f"GOV.UK {govuk}" if govuk else "no GOV.UK date"
        click.echo(f"  #{change.id}  {found}  ({dated})  {_kind(change)}: {change.note}")


@click.command("show")
@click.argument("what", metavar="CHANGE_ID|URL")
@click.option(
    "--at", "at_day", type=Day(), metavar="YYYY-MM-DD", help="With URL: the page as stored on that day."
)
@format_option
@common
def show_command(what: str, at_day: date | None, output: str) -> None:
    """Print one recorded change (CHANGE_ID), or a watched page as the monitor stored it on a day
    (URL --at YYYY-MM-DD: its text as `parse` prints it, or --format json)."""
    if what.strip().isdigit():
        if at_day:
            fail("--at goes with a page's URL; a CHANGE_ID names one change")
        _show_change(int(what), output)
    elif not at_day:
        fail(f"{what}: give a change number, or a page's URL with --at YYYY-MM-DD")
    else:
        config = load_config()
        url = config_module.absolute_url(config, what)
        with existing_store(config) as store:
            watched_page(store, url)
            meta, document = _stored_on(store, url, at_day, "--at")
        taken = london_time(meta["taken_at"], zone=True)
        click.echo(f"{url} as stored on {at_day}: version #{meta['id']}, first seen {taken}", err=True)
        print_document(document, output)


def _show_change(change_id: int, output: str) -> None:
    import json

    config = load_config()
    with existing_store(config) as store:
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
        from ..render import text_report

        click.echo("")
        click.echo(text_report(change.changeset), nl=False)


COMMANDS = (parse_command, diff_command, history_command, show_command)
