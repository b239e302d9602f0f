"""``guidance-monitor explore``: the database in Datasette, read-only, with the store's own words for
each table and column and canned queries for the usual questions.

What it publishes is safe to put on the open web: the tables that name subscribers or recipients
(:data:`PRIVATE`) are refused, and neither the database file nor arbitrary SQL can be had; ``--private``
lifts both for a trusted network. The canned queries agree with the site: "silent edits" are the changes
the site calls silent (:func:`silent_edit_ids`), and an address may be given in any spelling, read by
:func:`monitor.govuk.normalise` through the SQL function ``page_address`` (:mod:`monitor.explore_plugin`).

Datasette serves the file immutable (nothing it does can write to it) in this process, so a signal that
stops explore stops the server with it. The descriptions live here, beside the only code that shows them;
a test checks that every table and column the schema makes is described.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .govuk import WWW
from .store.fulltext import PHRASE_EVENTS

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "pages": (
        "Every page watched, or once watched, and how its watching is going.",
        {
            "url": "The page's address (one spelling per page).",
            "title": "Its title when last read.",
            "parent_url": "For a followed document: the publication page it belongs to.",
            "source": "What added it: config (config.yaml), cli (guidance-monitor add), search, document.",
            "active": "1 while it is watched; 0 once removed (its history is kept).",
            "added_at": "When it was first watched (UTC).",
            "current_url": "Where it now lives, when it has moved (a redirect).",
            "gone": "1 when GOV.UK answers 404 or 410 for it.",
            "etag": "The ETag of its last good answer (for conditional requests).",
            "last_modified": "The Last-Modified of its last good answer.",
            "consecutive_failures": "Checks in a row that failed.",
            "last_error": "Why the last check failed, if it did.",
            "last_checked": "When it was last checked (UTC).",
            "last_changed": "When a change was last recorded (UTC).",
            "public_timestamp": "GOV.UK's public_timestamp when a search last led to a full check.",
            "follow_documents": "1 when its HTML publications and PDFs are watched too.",
            "read_key": "Which body, read by which code, gave its last snapshot.",
            "selector": "For a page outside GOV.UK: the CSS selector of the element holding its text.",
            "search": "The name of the search (searches[].name) that found it, if one did.",
            "returned_from": "When it went back to an earlier version at its last check: the snapshot "
            "readers were last told about, which a return that stays is compared with.",
        },
    ),
    "fetches": (
        "Every request made for a page, good or failed.",
        {
            "id": "Fetch number.",
            "page_url": "The page.",
            "time": "When (UTC).",
            "url": "The address asked for (the Content API's for a GOV.UK page read from it).",
            "final_url": "The address that answered, after redirects.",
            "status": "HTTP status (empty when there was no answer).",
            "bytes": "Size of the answer.",
            "duration_ms": "How long it took, in milliseconds.",
            "attempts": "Tries, counting retries.",
            "not_modified": "1 for a 304 answer: unchanged since the last good one.",
            "error": "Why the answer could not be used, if it could not.",
            "body_hash": "The body kept for it (bodies.hash).",
        },
    ),
    "bodies": (
        "Each distinct answer body, kept once (zlib-compressed).",
        {
            "hash": "SHA-256 of the body.",
            "content_type": "Its Content-Type.",
            "size": "Its size in bytes, uncompressed.",
            "body": "The body, zlib-compressed.",
        },
    ),
    "snapshots": (
        "Each distinct version of a page, as the monitor read it.",
        {
            "id": "Snapshot number.",
            "page_url": "The page.",
            "taken_at": "When this version was first seen (UTC).",
            "body_hash": "The body it was read from (bodies.hash).",
            "document_hash": "Hash of what a reader sees: equal hashes, same page.",
            "document": "The page as read: title, dates, change history, sections, attachments (JSON).",
        },
    ),
    "changes": (
        "Every change recorded: edits, with what changed, and events (new, moved, removed, withdrawn).",
        {
            "id": "Change number (guidance-monitor show ID).",
            "page_url": "The page.",
            "kind": "major (updated with a change note), minor (changed without a change note), new, "
            "moved, removed or withdrawn.",
            "detected_at": "When the monitor found it (UTC).",
            "effective_date": "The date GOV.UK gives it, else the day it was found.",
            "title": "The page's title.",
            "note": "GOV.UK's change note, or a plain description of the event.",
            "changeset": "What changed, section by section and word by word (JSON).",
            "backfilled": "1 for history GOV.UK published before monitoring began (never sent).",
            "old_snapshot_id": "The version before.",
            "new_snapshot_id": "The version after.",
            "new_url": "For moved: where the page now lives.",
            "note_check": "For an edit: what its change note leaves out, held against the text (JSON: "
            "sentence, silent kinds, unmentioned sections).",
        },
    ),
    "deliveries": (
        "Which change went out on which channel, once each.",
        {
            "id": "Delivery number.",
            "change_id": "The change sent.",
            "channel": "The channel's name: email, a webhook's name (format@host), notify:<name>.",
            "delivered_at": "When (UTC).",
            "detail": "What the channel answered.",
        },
    ),
    "delivery_attempts": (
        "Each message handed to a channel, recorded before it was sent, so a run killed meanwhile "
        "resends that one message with the same Message-ID.",
        {
            "id": "Attempt number.",
            "channel": "The channel's name.",
            "message_id": "The Message-ID the message carried (derived from its changes and recipients).",
            "change_ids": "The changes it carried (JSON list).",
            "recipients": "Its recipients (JSON list).",
            "started_at": "When it was handed over (UTC).",
            "finished_at": "When its outcome was recorded (UTC); empty while unknown.",
            "outcome": "sent, failed or refused.",
            "detail": "What the channel answered.",
        },
    ),
    "recipient_deliveries": (
        "Each email recipient's answer for each change: a refused or deferred address keeps the change "
        "for that address alone.",
        {
            "change_id": "The change.",
            "channel": "The channel's name.",
            "recipient": "The email address.",
            "status": "sent, deferred (retried next run), refused (reported, retried each run) or given_up "
            "(refused for digest.give_up_after_days).",
            "code": "The SMTP reply code.",
            "detail": "The server's reply.",
            "at": "When (UTC).",
            "refused_since": "When its refusals in a row began (UTC); empty unless refused.",
        },
    ),
    "snapshot_text": (
        "The full-text index of every stored version (SQLite FTS5), kept as versions are stored: search "
        "the snapshots table, or ask the phrase query.",
        {
            "page_url": "The page.",
            "title": "The version's title.",
            "body": "Its title, summary, headings, text and change notes.",
        },
    ),
    "subscribers": (
        "Each subscriber's rhythm (digest.subscribers): from when their changes count, and when their "
        "message last went.",
        {
            "channel": "The subscriber's outbox name (email:<first address>).",
            "since": "Changes found from this time on are theirs (UTC).",
            "last_sent": "When their last message went (UTC); their rhythm counts from it.",
            "after_change": "The last change recorded before they started: every later one counts too.",
        },
    ),
    "monitor_database": (
        "The database's identity, one row: the site and the run lock record it, so a run never takes "
        "another database (or an empty one) for this one.",
        {
            "id": "A random id made with the database.",
            "created_at": "When the database was made (UTC).",
        },
    ),
    "page_dates": (
        "Each page's dates to act on, followed through its versions: the calendar (dates.ics) is "
        "written from it, and a run folds in only what was stored after its marks.",
        {
            "page_url": "The page.",
            "snapshot_id": "The snapshot its dates were last followed to.",
            "ended_change_id": "The last move or removal of the page folded in (0 for none).",
            "tracked": "Its dates as JSON: each with its calendar UID, sentence, date, sequence, moves "
            "and cancellation.",
        },
    ),
}
"""What each table and column holds, in words: ``guidance-monitor explore`` shows it in Datasette."""

QUERIES: dict[str, tuple[str, str, str]] = {
    "changes-this-week": (
        "Changes this week",
        "Changes found in the last seven days, newest first (history published before monitoring "
        "began left out).",
        "SELECT c.id, c.detected_at, c.effective_date, c.kind, c.title, c.note, c.page_url\n"
        "FROM changes c WHERE c.backfilled = 0 AND c.detected_at >= strftime('%Y-%m-%dT%H:%M:%SZ', "
        "'now', '-7 days')\nORDER BY c.detected_at DESC, c.id DESC",
    ),
    "silent-edits": (
        "Silent edits",
        "Pages changed without a change note that no publication's note explains either (those the "
        "changelog calls silent edits), newest first.",
        "SELECT c.id, c.detected_at, c.title, c.page_url FROM changes c\n"
        "WHERE c.id IN ({silent}) ORDER BY c.detected_at DESC, c.id DESC",
    ),
    "could-not-be-checked": (
        "Pages that could not be checked",
        "Watched pages whose last check failed, with the reason and how many checks in a row failed.",
        "SELECT p.url, p.title, p.consecutive_failures, p.last_error, p.last_checked FROM pages p\n"
        "WHERE p.active = 1 AND p.consecutive_failures > 0 ORDER BY p.consecutive_failures DESC, p.url",
    ),
    "page-on-a-date": (
        "The text of a page on a date",
        "The page (its address) as the monitor had it at the end of a day (YYYY-MM-DD, UTC): "
        "each section's heading and text.",
        "SELECT s.id AS snapshot, s.taken_at, json_extract(s.document, '$.title') AS title,\n"
        "  json_extract(section.value, '$.heading') AS heading,\n"
        "  json_extract(section.value, '$.text') AS text\n"
        "FROM snapshots s, json_each(s.document, '$.sections') AS section\n"
        "WHERE s.id = (SELECT id FROM snapshots WHERE page_url = page_address(:url)\n"
        "  AND taken_at < date(:date, '+1 day') ORDER BY taken_at DESC, id DESC LIMIT 1)\n"
        "ORDER BY section.key",
    ),
    "phrase": (
        "Where a phrase appeared or went",
        "Each version of a page in which the phrase is found and the one before it was not (appeared), "
        "or the other way round (disappeared), oldest first: as `guidance-monitor search PHRASE` lists them.",
        PHRASE_EVENTS.strip(),
    ),
}
"""Datasette's canned queries for ``guidance-monitor explore``: name -> (title, description, SQL);
``{silent}`` stands for the ids of the silent edits, read from the database when it is served."""

PRIVATE = frozenset({"subscribers", "delivery_attempts", "recipient_deliveries", "deliveries"})
"""Tables that name subscribers or recipients (a channel's name is a subscriber's address): never
published unless ``--private``."""


class ExploreError(Exception):
    """Why explore cannot do what it was asked, in one plain line.

    ``usage``: the request cannot be met as given (no Datasette, no database yet, an address that cannot
    be listened on); otherwise the work itself failed (the metadata file could not be written).
    """

    def __init__(self, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.usage = usage


def metadata(
    database: str, *, silent: Sequence[int] = (), private: bool = False, govuk_base_url: str = WWW
) -> dict[str, Any]:
    """Datasette's metadata for the database named ``database`` (its file name without the suffix): the
    description of each table and column, the canned queries (``silent``: the ids of the silent edits)
    and, unless ``private``, no arbitrary SQL and no access to the :data:`PRIVATE` tables."""
    tables: dict[str, dict[str, Any]] = {
        name: {"description": description, "columns": columns}
        for name, (description, columns) in TABLES.items()
    }
    tables["snapshots"] |= {"fts_table": "snapshot_text", "fts_pk": "id"}
    if not private:
        for name in PRIVATE:
            tables[name] |= {"allow": False, "hidden": True}
    ids = ", ".join(str(int(i)) for i in silent)
    queries = {
        name: {"title": title, "description": description, "sql": sql.replace("{silent}", ids)}
        for name, (title, description, sql) in QUERIES.items()
    }
    described: dict[str, Any] = {
        "title": "guidance-monitor",
        "description": "Every check, version and change of the GOV.UK guidance pages watched. Times are UTC.",
        "databases": {database: {"tables": tables, "queries": queries}},
        "plugins": {"guidance-monitor": {"govuk_base_url": govuk_base_url}},
    }
    if not private:
        described["allow_sql"] = False
    return described


def silent_edit_ids(database: Path) -> list[int]:
    """The changes the changelog calls silent edits: a change without a change note (``minor``), unless
    it is a document's change told under its publication with the note that explains it, exactly as its
    change page decides (:class:`monitor.render.stories.StoryIndex`)."""
    from .publish.builder import story_index
    from .store import SiteReads, Store

    if not database.exists():
        return []
    with Store(database, readonly=True) as store:
        index = story_index(SiteReads(store))
        ids = []
        for change in store.changes(include_backfilled=False):
            if change.kind == "minor" and change.id is not None:
                part = index.place(change).part
                if not (part and part.explained_by):
                    ids.append(change.id)
    return sorted(ids)


def serve(
    database: str,
    *,
    host: str,
    port: int,
    base_url: str,
    metadata_out: str | None,
    quiet: bool = False,
    private: bool = False,
    govuk_base_url: str = WWW,
) -> None:
    """Serve the database file ``database`` read-only on ``host:port`` under ``base_url`` until stopped;
    with ``metadata_out``, write Datasette's metadata to that file instead (for ``datasette publish``).
    ``quiet``: say nothing unless something goes wrong; ``private``: every table, the file and any SQL,
    for a trusted network."""
    path = Path(database)
    described = metadata(
        path.stem, silent=silent_edit_ids(path), private=private, govuk_base_url=govuk_base_url
    )
    if metadata_out:
        try:
            Path(metadata_out).write_text(json.dumps(described, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ExploreError(
                f"--metadata {metadata_out}: cannot be written ({reason})", usage=False
            ) from None
        click.echo(f"Wrote {metadata_out}")
        return
    if importlib.util.find_spec("datasette") is None:
        raise ExploreError("explore needs Datasette: pip install 'guidance-monitor[explore]'")
    if not path.exists():
        raise ExploreError(f"no database yet at {path}: `guidance-monitor run` creates it")
    try:
        with socket.create_server((host, port)):
            pass  # free: Datasette takes it next (a taken port is one line here, not a server's traceback)
    except OSError as exc:
        raise ExploreError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror or exc})"
        ) from None
    import uvicorn

    datasette = explorer(path, described, base_url=base_url, private=private)
    asyncio.run(datasette.invoke_startup())
    if not quiet:
        click.echo(f"Serving {path} read-only on http://{host}:{port}{base_url} (Ctrl-C stops)", err=True)
    uvicorn.run(datasette.app(), host=host, port=port, log_level="warning")


def explorer(path: Path, described: dict[str, Any], *, base_url: str = "/", private: bool = False) -> Any:
    """The Datasette instance ``explore`` serves: the file immutable, with ``described`` (see
    :func:`metadata`), and the file itself downloadable only when ``private``."""
    from datasette.app import Datasette

    return Datasette(
        immutables=[str(path)],
        metadata=described,
        settings={
            "base_url": base_url if base_url.endswith("/") else base_url + "/",
            "allow_download": private,
        },
    )
