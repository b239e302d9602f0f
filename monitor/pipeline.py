"""One run: for every watched page, fetch -> quality gate -> parse -> diff -> store.

Pages are fetched concurrently (the Fetcher keeps to the configured concurrency and per-host rate) and
each one is parsed, compared and stored as soon as its answer arrives, in one store transaction. A run
killed part-way loses only the pages in flight; the next run checks them again, and since a change is
only ever recorded together with the snapshot it leads to, no change is recorded twice or lost.

A body byte for byte the same as the one the page's last snapshot was read from, read by the same code
in the same way (its ``read_key``), is the same Document: it is not parsed or compared again, and only
the fetch and the page's state are recorded, as for a 304.

Nothing that fails the quality gate (a fetch error, an empty or truncated body, a challenge page, a page
the parser cannot read) becomes a snapshot or a change: the next good answer is compared with the last
good snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from . import __version__, discover
from .clock import london_day, utc_timestamp
from .config import absolute_url
from .fetch import Fetcher
from .govuk import api_url, same_origin, same_site
from .model import (
    Change,
    Config,
    Document,
    FetchResult,
    HistoryEntry,
    PageState,
    ParseError,
    RunSummary,
)
from .parse import parse
from .store import Store, body_hash

log = logging.getLogger(__name__)
API_ACCEPT = "application/json"
GONE_STATUSES = frozenset({404, 410})

FIRST_SEEN = "First seen"
BACK_AGAIN = "Back on GOV.UK after being removed"
NO_NOTE = "Changed without a change note"
REMOVED = "Removed: the page is no longer there"


@dataclass(frozen=True)
class Target:
    """A page to check in this run and how to read it."""

    url: str
    selector: str | None = None
    follow_documents: bool = False


@dataclass
class Outcome:
    """A page's answer after the quality gate and the parser: a Document, or the reason there is none."""

    target: Target
    fetch: FetchResult
    document: Document | None = None
    reason: str | None = None
    read_key: str | None = None
    """How ``document`` was read from the body: which body, which code, which selector and content type."""
    body_hash: str | None = None
    same: bool = False
    """The body is the one the last snapshot was read from, read the same way: the page is unchanged."""
    fallback: bool = False
    """Read from the HTML page because the Content API failed (``fetch.source: auto``)."""


Answers = asyncio.Queue[Outcome | Exception]
"""Each page's answer, or the exception that ended its check, in the order they come."""

# --------------------------------------------------------------------------- the run


def run(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
    deliver: bool = True,
    site: bool = True,
) -> RunSummary:
    """The whole job of ``guidance-monitor run`` and of each scheduled run: check, send, publish.

    The changes are stored before anything is sent, so a failed send leaves them in the outbox for the
    next run; a send or publish failure is reported in ``failures`` under "digest" or "site".
    """
    summary = check_pages(config, store, now=now, should_stop=should_stop)
    if deliver and (config.digest.email.configured or config.digest.webhooks):
        try:
            from .deliver import deliver_pending

            summary.deliveries = deliver_pending(config, store)
            summary.digest_sent = bool(summary.deliveries)
        except Exception as exc:  # a send failure must not lose the run's report
            summary.failures.append(("digest", f"not sent: {exc}"))
    if site:
        try:
            from .site import update_site as publish_site

            summary.site_dir = str(publish_site(config, store))
        except Exception as exc:
            summary.failures.append(("site", f"not published: {exc}"))
    return summary


def check_pages(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> RunSummary:
    """Check every watched page once and record what changed.

    ``should_stop`` (a SIGTERM, say) is asked after each page: once it says yes, the fetches in flight
    are abandoned and the pages already answered are all recorded.
    """
    return asyncio.run(_run(config, store, now, should_stop or (lambda: False)))


def watched(config: Config, store: Store) -> list[Target]:
    """The active pages: those in the configuration (registered in the store) and those added since.

    A page that came from the configuration and is no longer listed there is not watched (its history is
    kept); one the user removed with ``remove`` stays inactive.
    """
    configured = {}
    for page in config.pages:
        url = absolute_url(config, page.url)
        store.upsert_page(url, title=page.name, source="config")
        configured[url] = Target(url, page.selector, page.follow_documents)
    return [
        configured.get(p.url) or Target(p.url, follow_documents=store.follow_documents(p.url))
        for p in store.pages(active_only=True)
        if p.url in configured or p.source != "config"
    ]


async def _run(
    config: Config, store: Store, now: datetime | None, should_stop: Callable[[], bool]
) -> RunSummary:
    summary = RunSummary()
    async with Fetcher(config.fetch) as fetcher:
        skip = await discover.refresh(fetcher, config, store, summary, now=now)
        targets = [t for t in watched(config, store) if t.url not in skip]
        scheduled = {t.url for t in targets} | skip
        # Answers are taken from a queue as they come: waiting on the set of pending tasks after each
        # answer costs time in proportion to the pages still out, quadratic over a run.
        answers: Answers = asyncio.Queue()
        pending: set[asyncio.Task[None]] = set()

        def start(target: Target) -> None:
            task = asyncio.create_task(_answer(fetcher, config, store, target, answers))
            pending.add(task)
            task.add_done_callback(pending.discard)

        for target in targets:
            start(target)
        outstanding = len(targets)
        try:
            while outstanding and not should_stop():
                outcome = await answers.get()
                outstanding -= 1
                if isinstance(outcome, Exception):
                    raise outcome
                if now is not None:
                    # A run on a given clock (the demo's simulated days) records its fetches on it too.
                    outcome.fetch = dataclasses.replace(outcome.fetch, fetched_at=utc_timestamp(now))
                _settle(store, outcome, now or datetime.now(UTC), summary)
                for document in _documents_to_follow(config, store, outcome, scheduled):
                    scheduled.add(document.url)
                    start(document)
                    outstanding += 1
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    return summary


async def _answer(fetcher: Fetcher, config: Config, store: Store, target: Target, answers: Answers) -> None:
    try:
        outcome: Outcome | Exception = await _obtain(fetcher, config, store, target)
    except Exception as exc:  # raised in the run, as an awaited task's exception would be
        outcome = exc
    answers.put_nowait(outcome)


# --------------------------------------------------------------------------- fetch, gate, parse


def uses_api(config: Config, target: Target) -> bool:
    """The Content API serves only GOV.UK pages, and a selector names an element of the HTML page."""
    return (
        config.fetch.source != "html"
        and target.selector is None
        and same_origin(target.url, config.govuk_base_url)
        and not urlsplit(target.url).path.lower().endswith(".pdf")
    )


async def _obtain(fetcher: Fetcher, config: Config, store: Store, target: Target) -> Outcome:
    etag, last_modified = store.validators(target.url)
    # A page that follows its documents is always read: its attachments are registered from the Document.
    last_read = None if target.follow_documents else store.last_read(target.url)
    if uses_api(config, target):
        address = api_url(config.govuk_base_url, urlsplit(target.url).path)
        fetch = await fetcher.fetch(address, etag=etag, last_modified=last_modified, accept=API_ACCEPT)
        outcome = _read(target, fetch, last_read)
        if config.fetch.source == "api" or outcome.reason is None:
            return outcome
        fetch = await fetcher.fetch(target.url, etag=etag, last_modified=last_modified)
        return dataclasses.replace(_read(target, fetch, last_read), fallback=True)
    fetch = await fetcher.fetch(target.url, etag=etag, last_modified=last_modified)
    return _read(target, fetch, last_read)


def quality_gate(fetch: FetchResult) -> str | None:
    """Why an answer cannot be trusted as the page's content, or None.

    The fetcher already names network faults, truncation, oversize bodies and challenge pages.
    """
    if fetch.error:
        return fetch.error
    if fetch.not_modified:
        return None
    if not fetch.body.strip():
        return "empty body"
    return None


def _read(target: Target, fetch: FetchResult, last_read: str | None = None) -> Outcome:
    reason = quality_gate(fetch)
    if reason is not None or fetch.not_modified:
        return Outcome(target, fetch, reason=reason)
    hashed = body_hash(fetch.body)
    key = read_key(hashed, target.selector, fetch.content_type)
    if key == last_read and not fetch.redirects:
        return Outcome(target, fetch, read_key=key, body_hash=hashed, same=True)
    try:
        document = parse(fetch.body, target.url, fetch.content_type, selector=target.selector)
    except ParseError as exc:
        return Outcome(target, fetch, reason=f"not readable as a page: {exc}")
    return Outcome(target, fetch, document=document, read_key=key, body_hash=hashed)


def read_key(body_hash: str, selector: str | None, content_type: str) -> str:
    """Names a reading of a body: the same key is the same Document, so that body need not be parsed."""
    parts = (reader_fingerprint(), selector or "", content_type, body_hash)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@functools.cache
def reader_fingerprint() -> str:
    """The code that turns a body into a Document: this release and the source of the parse stage, so
    that a reader changed in place (a fix, a new field) reads every page afresh once."""
    digest = hashlib.sha256(__version__.encode())
    here = Path(__file__).parent
    for path in [here / "model.py", here / "parse.py", *sorted((here / "readers").glob("*.py"))]:
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(path.name.encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- diff and store


def _settle(store: Store, outcome: Outcome, now: datetime, summary: RunSummary) -> None:
    """Compare a page's answer with its last good snapshot and record the result in one transaction."""
    url, fetch = outcome.target.url, outcome.fetch
    summary.checked += 1
    unchanged = outcome.same or (fetch.not_modified and outcome.reason is None)
    if unchanged and not fetch.redirects:
        store.record_unchanged(url, fetch, body_hash=outcome.body_hash if outcome.same else None)
        log.info("%s: no change", url)
        return
    page = store.page(url) or PageState(url)
    if unchanged:
        # A redirect answered 304 (the old address's validators fit the new one): no content to
        # compare, but the move itself is news.
        moved_to = _moved_to(fetch, url)
        when = utc_timestamp(now)
        changes = (
            []
            if moved_to is None or moved_to == page.current_url
            else [_moved(page, page.title, moved_to, when)]
        )
        saved = store.record(url, fetch, None, None, changes)
        if saved:
            summary.changed += 1
        log.info("%s: %s", url, "moved" if saved else "no change")
        summary.changes.extend(saved)
        return
    previous = store.last_snapshot(url)
    when = utc_timestamp(now)
    if outcome.document is not None and previous is not None:
        previous = _as_read_now(store, outcome, previous)
    if outcome.document is not None:
        announced = previous is None and bool(store.changes(page_url=url, include_backfilled=False, limit=1))
        changes = changes_for(
            page, previous, outcome.document, _moved_to(fetch, url), when, announced=announced
        )
        if outcome.fallback and _read_from_api(store, url) and any(c.kind in COMPARED for c in changes):
            # Some pages read differently from their HTML (a guide shows one part; the API gives all):
            # a difference between the API's last reading and the HTML page is no evidence of a change.
            # Nothing is lost: the next run that reads the API compares with the same snapshot.
            log.info("%s: the Content API failed; the comparison waits for it", url)
            changes = [c for c in changes if c.kind not in COMPARED]
            saved = store.record(url, fetch, None, None, changes)
        else:
            saved = store.record(url, fetch, outcome.document, fetch.body, changes, read_key=outcome.read_key)
    elif fetch.status in GONE_STATUSES and previous is not None:
        changes = [] if page.gone else [removed(page, previous[1], fetch, when)]
        saved = store.record(url, dataclasses.replace(fetch, error=None), None, None, changes)
    elif outcome.reason is not None:
        failed = fetch if fetch.error == outcome.reason else dataclasses.replace(fetch, error=outcome.reason)
        store.record(url, failed, None, fetch.body or None, [])
        summary.failed += 1
        summary.failures.append((url, outcome.reason))
        log.info("%s: failed: %s", url, outcome.reason)
        return
    else:
        saved = store.record(url, fetch, None, None, [])
    if any(not c.backfilled for c in saved):
        summary.changed += 1
    log.info("%s: %s", url, ", ".join(c.kind for c in saved if not c.backfilled) or "no change")
    summary.changes.extend(saved)


COMPARED = frozenset({"major", "minor", "withdrawn"})


def _read_from_api(store: Store, url: str) -> bool:
    stored = store.last_snapshot_body(url)
    return stored is not None and "json" in stored[2]


def _as_read_now(store: Store, outcome: Outcome, previous: tuple[int, Document]) -> tuple[int, Document]:
    """The last snapshot as this release reads it.

    A reader fixed or improved since the snapshot was taken would otherwise show its own improvement as a
    change on every page. The snapshot's body is kept, so it is read again with the current code,
    unless the page's ``read_key`` says the current code read it already.
    """
    target = outcome.target
    stored = store.last_snapshot_body(target.url)
    if stored is None:
        return previous
    hashed, body, content_type = stored
    if store.last_read(target.url) == read_key(hashed, target.selector, content_type):
        return previous
    if outcome.document is not None and (hashed, content_type) == (
        outcome.body_hash,
        outcome.fetch.content_type,
    ):
        return previous[0], outcome.document  # the same bytes, just read by the current code
    try:
        return previous[0], parse(body, target.url, content_type, selector=target.selector)
    except ParseError:
        return previous


def changes_for(
    page: PageState,
    previous: tuple[int, Document] | None,
    document: Document,
    moved_to: str | None,
    when: str,
    *,
    announced: bool = False,
) -> list[Change]:
    """What a good answer means for a page, given its last good snapshot. Pure.

    A withdrawal notice that appears makes the diff itself a ``withdrawn`` change (with everything else
    that changed beside it), noted with GOV.UK's notice.

    ``announced``: the page's arrival is already recorded (discovery does so when a search finds it), so
    its first snapshot adds only the backfilled history.
    """
    today = london_day(when)
    title = document.title or page.title
    changes: list[Change] = []
    if previous is None:
        changes.extend(backfill(page.url, document, when))
        if not announced:
            changes.append(Change(page.url, "new", when, title, note=FIRST_SEEN, effective_date=today))
    else:
        from .diff import diff  # loaded only when a page changed: an unchanged run never compares

        old_id, old = previous
        changeset = diff(old, document)
        if page.gone:
            changes.append(Change(page.url, "new", when, title, note=BACK_AGAIN, effective_date=today))
        if changeset.changed:
            newest = _newest(changeset.history_added)
            note = newest.note if newest else NO_NOTE
            if changeset.kind == "withdrawn":
                note = document.withdrawn or note
            effective = (newest.date if newest else None) or today
            changes.append(
                Change(page.url, changeset.kind, when, title, changeset, note, effective, False, old_id)
            )
    if moved_to is not None and moved_to != page.current_url:
        changes.append(_moved(page, title, moved_to, when))
    return changes


def _moved(page: PageState, title: str, moved_to: str, when: str) -> Change:
    return Change(
        page.url,
        "moved",
        when,
        title,
        note=f"Now at {moved_to}",
        effective_date=london_day(when),
        new_url=moved_to,
    )


def backfill(url: str, document: Document, when: str) -> list[Change]:
    """The page's published change history as timeline entries, oldest first, never to be emailed.

    The history is newest first as GOV.UK lists it; reversing it (not sorting by date) keeps undated
    entries where GOV.UK put them.
    """
    entries = list(reversed(document.change_history))
    return [
        Change(url, "major", when, document.title, note=e.note, effective_date=e.date, backfilled=True)
        for e in entries
    ]


def removed(page: PageState, last: Document, fetch: FetchResult, when: str) -> Change:
    return Change(
        page.url,
        "removed",
        when,
        last.title or page.title,
        note=f"{REMOVED} (HTTP {fetch.status})",
        effective_date=london_day(when),
    )


def _newest(entries: Iterable[HistoryEntry]) -> HistoryEntry | None:
    """The latest-dated entry; among undated ones the first listed (GOV.UK lists newest first)."""
    entries = list(entries)
    dated = [e for e in entries if e.date]
    if dated:
        return max(dated, key=lambda e: e.date or "")
    return entries[0] if entries else None


def _moved_to(fetch: FetchResult, url: str) -> str | None:
    """Where the page answered from, as a page address, when it was redirected somewhere else."""
    if not fetch.redirects:
        return None
    parts = urlsplit(fetch.final_url)
    path = parts.path
    if path.startswith("/api/content/") and urlsplit(fetch.url).path.startswith("/api/content/"):
        path = path[len("/api/content") :]
    target = parts._replace(path=path).geturl()
    return None if target == url else target


# --------------------------------------------------------------------------- followed documents


def is_followed_document(parent_url: str, url: str, kind: str) -> bool:
    """An HTML publication or PDF of the same site, which changes without its parent page saying so."""
    if not same_site(url, parent_url) or url == parent_url:
        return False
    path = urlsplit(url).path.lower()
    return (
        kind.lower() in ("html", "pdf")
        or path.endswith(".pdf")
        or (path.startswith("/government/publications/") and path.count("/") >= 4)
    )


def _documents_to_follow(config: Config, store: Store, outcome: Outcome, scheduled: set[str]) -> list[Target]:
    """Register the documents of a page that follows them; those not yet due this run are checked now."""
    if not outcome.target.follow_documents or outcome.document is None:
        return []
    parent = outcome.target.url
    found = []
    for attachment in outcome.document.attachments:
        url = attachment.url.split("#", 1)[0]
        if not is_followed_document(parent, url, attachment.kind):
            continue
        store.upsert_page(url, title=attachment.title, parent_url=parent, source="document")
        if url not in scheduled:
            found.append(Target(url))
    return found
