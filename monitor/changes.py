"""What an answer means for a page: the change rules, pure.

In: the page's state, its last good snapshot (and the content hashes of the few before it), and this
run's answer. Out: a :class:`~monitor.model.PageUpdate`, the changes found and the page's new state,
which the store writes as given. No I/O here, so every rule is tested from a table.

- A good answer is compared with the last good snapshot: ``new`` the first time (with the change history
  GOV.UK already published, backfilled), then ``major``, ``minor`` or ``withdrawn`` as the diff says,
  ``new`` again when a removed page comes back, ``moved`` when it answered from another address.
- A 404 or 410 for a page that had a snapshot is ``removed``, once.
- A failed check (``Answer.reason``) is never a change: it raises the page's failure count and keeps
  the last good snapshot and validators.
- A page that returns to a version it had within its last ``window`` snapshots is flipping between
  versions (an A/B test, two origins out of step): the return is not reported; the ``flips``-th return in
  a row is reported once as ``flapping``, naming both versions' snapshots; then it is quiet until a
  version not seen in the window appears.
- A return that is still there at the next check is GOV.UK going back to an earlier version: it is
  reported once as ``reverted``, compared with the version readers were last told about. Until that check
  the page's state keeps that version (``returned_from``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from .clock import london_date, london_day
from .model import (
    NEW_SNAPSHOT,
    Answer,
    Change,
    Document,
    FetchResult,
    HistoryEntry,
    PageState,
    PageUpdate,
    SnapshotRef,
)
from .notes import NoteCheck, changeset_check

GONE_STATUSES = frozenset({404, 410})
COMPARED = frozenset({"major", "minor", "withdrawn", "flapping", "reverted"})
"""Kinds that come from comparing two Documents (not from the answer's status or address)."""

FLAP_WINDOW = 3
"""A version seen within this many snapshots is one the page returns to, not news."""
FLIPS = 2
"""Returns in a row after which a page is reported, once, as alternating between two versions."""

FIRST_SEEN = "First seen"
BACK_AGAIN = "Back on GOV.UK after being removed"
NO_NOTE = "Changed without a change note"
WITH_PUBLICATION = "Updated with its publication on {date}: the change note is on the publication’s page"
REMOVED = "Removed: the page is no longer there"
ALTERNATING = "Alternating between two versions"
WENT_BACK = "GOV.UK went back to the version of {date}"
WENT_BACK_UNDATED = "GOV.UK went back to an earlier version"


def with_publication(change: Change) -> bool:
    """A publication's HTML document updated with its publication (see :data:`WITH_PUBLICATION`): announced,
    with its change note on another page."""
    return change.kind == "major" and change.note.startswith(WITH_PUBLICATION.partition("{")[0])


def recent_needed(window: int = FLAP_WINDOW, flips: int = FLIPS) -> int:
    """How many of the page's latest snapshot hashes :func:`decide` needs to judge a return."""
    return window + flips


# --------------------------------------------------------------------------- the answer


def unchanged(answer: Answer) -> bool:
    """The page is as it was and nothing about its address is news: a 304, or the very body its last
    snapshot was read from, not redirected. Nothing of the page's history is needed to record it."""
    fetch = answer.fetch
    return (answer.same or (fetch.not_modified and answer.reason is None)) and not fetch.redirects


def unchanged_update(url: str, answer: Answer, when: str) -> PageUpdate:
    """A check that found the page as it was: the fetch row and the page's state, without loading or
    comparing any snapshot (failures reset; for a body, its validators and address too)."""
    fetch = answer.fetch
    checked = fetch.fetched_at or when
    state: dict[str, Any] = {"last_checked": checked, "consecutive_failures": 0, "last_error": None}
    if answer.body_hash is not None:
        state.update(gone=0, current_url=None, etag=fetch.etag, last_modified=fetch.last_modified)
    elif fetch.etag or fetch.last_modified:
        state.update(etag=fetch.etag, last_modified=fetch.last_modified)
    return PageUpdate(url, fetch, checked, body_hash=answer.body_hash, page=state)


def decide(
    page: PageState,
    answer: Answer,
    when: str,
    *,
    last: Document | None = None,
    recent: Sequence[SnapshotRef] = (),
    told: Document | None = None,
    announced: bool = False,
    last_from_api: bool = False,
    window: int = FLAP_WINDOW,
    flips: int = FLIPS,
) -> PageUpdate:
    """What this run's answer means for the page, and what to write. Pure.

    ``last``: the page's last snapshot as the current code reads it, needed when the answer is a
    Document or a 404/410 and the page has a snapshot. ``recent``: the page's latest snapshots, newest
    first (at least :func:`recent_needed`). ``told``: the Document of the page's ``returned_from``
    snapshot, when it has one. ``announced``: the page's arrival is already recorded
    (discovery does so when a search finds it). ``last_from_api``: the last snapshot was read from the
    Content API, so an HTML reading (``answer.fallback``) is not compared with it.
    """
    previous = recent[0] if recent else None
    if unchanged(answer):
        update = unchanged_update(page.url, answer, when)
        back = went_back(page, told, (previous.id, last) if previous and last else None, when)
        if page.returned_from is not None:
            update.page["returned_from"] = None
        if back is not None:
            update.changes.append(back)
            update.page["last_changed"] = update.checked_at
        return update
    fetch = answer.fetch
    moved_to = moved_to_address(fetch, page.url)
    if answer.same or (fetch.not_modified and answer.reason is None):
        # A redirect answered 304 (the old address's validators fit the new one): no content to
        # compare, but the move itself is news.
        news = moved_to is not None and moved_to != page.current_url
        found = [moved(page, page.title, moved_to, when)] if news and moved_to else []
        return page_update(page, fetch, when, changes=found, previous=previous)
    if answer.document is not None:
        earlier = (previous.id, last) if previous is not None and last is not None else None
        if answer.fallback and last_from_api:
            # Some pages read differently from their HTML (a guide shows one part; the API gives all):
            # a difference between the API's last reading and the HTML page is no evidence of a change.
            # Nothing is lost: the next run that reads the API compares with the same snapshot.
            found = changes_for(page, earlier, answer.document, moved_to, when, announced=announced)
            if any(c.kind in COMPARED for c in found):
                kept = [c for c in found if c.kind not in COMPARED]
                return page_update(page, fetch, when, changes=kept, previous=previous)
        found = changes_for(
            page,
            earlier,
            answer.document,
            moved_to,
            when,
            announced=announced,
            recent=[r.document_hash for r in recent],
            window=window,
            flips=flips,
        )
        stayed = previous is not None and previous.document_hash == answer.document.content_hash
        back = went_back(page, told, earlier, when) if stayed else None
        update = page_update(
            page,
            fetch,
            when,
            changes=([back] if back else []) + found,
            previous=previous,
            document=answer.document,
            body=fetch.body,
            body_hash=answer.body_hash,
            read_key=answer.read_key,
        )
        returned_from = None
        if previous is not None and not stayed and earlier is not None:
            hashes = [r.document_hash for r in recent]
            if 0 < flip_count(answer.document.content_hash, hashes, window, flips) < flips:
                returned_from = page.returned_from or previous.id
        if returned_from != page.returned_from:
            update.page["returned_from"] = returned_from
        return update
    if fetch.status in GONE_STATUSES and previous is not None:
        found = [] if page.gone else [removed(page, last, fetch, when)]
        answered = dataclasses.replace(fetch, error=None)
        update = page_update(page, answered, when, changes=found, previous=previous)
        if found and page.returned_from is not None:
            update.page["returned_from"] = None
        return update
    if answer.reason is not None:
        failed = fetch if fetch.error == answer.reason else dataclasses.replace(fetch, error=answer.reason)
        body = fetch.body or None
        return page_update(page, failed, when, previous=previous, body=body, body_hash=answer.body_hash)
    return page_update(page, fetch, when, previous=previous)


# --------------------------------------------------------------------------- the page's new state


def page_update(
    page: PageState,
    fetch: FetchResult,
    when: str,
    *,
    changes: list[Change] | None = None,
    previous: SnapshotRef | None = None,
    document: Document | None = None,
    body: bytes | None = None,
    body_hash: str | None = None,
    read_key: str | None = None,
) -> PageUpdate:
    """The write for one check: a snapshot when ``document`` differs from the last, the changes tied to
    the snapshots they compare, and the page's state.

    A failed check (``fetch.error``) raises the failure count and keeps the validators; a good one resets
    it. Validators are kept from a good Document or a 304 (a 304 without any keeps the old ones). A
    ``removed`` change forgets them; a ``moved`` one records the new address, which stays until the page
    answers unredirected.
    """
    changes = changes or []
    checked = fetch.fetched_at or when
    new_version = document is not None and (
        previous is None or previous.document_hash != document.content_hash
    )
    old_id = previous.id if previous else None
    for change in changes:
        if change.backfilled:
            continue
        if change.old_snapshot_id is None and change.kind != "new":
            change.old_snapshot_id = old_id
        if change.new_snapshot_id is None and document is not None:
            change.new_snapshot_id = NEW_SNAPSHOT if new_version else old_id

    state: dict[str, Any] = {"last_checked": checked}
    if fetch.error:
        state["consecutive_failures"] = page.consecutive_failures + 1
        state["last_error"] = fetch.error
    else:
        state["consecutive_failures"] = 0
        state["last_error"] = None
    if document is not None:
        state["gone"] = 0
        state["read_key"] = read_key
        if document.title:
            state["title"] = document.title
        if not fetch.redirects:
            state["current_url"] = None
    if (document is not None or fetch.not_modified) and not fetch.error:
        if fetch.etag or fetch.last_modified or document is not None:
            state["etag"] = fetch.etag
            state["last_modified"] = fetch.last_modified
    for change in changes:
        if change.kind == "removed":
            state["gone"] = 1
            state["etag"] = state["last_modified"] = state["read_key"] = None
        elif change.kind == "moved":
            state["current_url"] = change.new_url
    if any(not c.backfilled for c in changes):
        state["last_changed"] = checked
    return PageUpdate(
        page.url,
        fetch,
        checked,
        body=body,
        body_hash=body_hash,
        snapshot=document if new_version else None,
        changes=changes,
        page=state,
    )


# --------------------------------------------------------------------------- changes


def changes_for(
    page: PageState,
    previous: tuple[int, Document] | None,
    document: Document,
    moved_to: str | None,
    when: str,
    *,
    announced: bool = False,
    recent: Sequence[str] = (),
    window: int = FLAP_WINDOW,
    flips: int = FLIPS,
) -> list[Change]:
    """What a good answer means for a page, given its last good snapshot.

    A withdrawal notice that appears makes the diff itself a ``withdrawn`` change (with everything else
    that changed beside it), noted with GOV.UK's notice.

    ``announced``: the page's arrival is already recorded (discovery does so when a search finds it), so
    its first snapshot adds only the backfilled history. ``recent``: the content hashes of the page's
    latest snapshots, newest first, for telling a return to an earlier version from a change.
    """
    today = london_day(when)
    title = document.title or page.title
    changes: list[Change] = []
    if previous is None:
        changes.extend(backfill(page.url, document, when))
        if not announced:
            changes.append(Change(page.url, "new", when, title, note=FIRST_SEEN, effective_date=today))
    else:
        from .diff import diff, updated_with_publication  # loaded only when a page changed

        old_id, old = previous
        changeset = diff(old, document)
        if page.gone:
            changes.append(Change(page.url, "new", when, title, note=BACK_AGAIN, effective_date=today))
        if changeset.changed:
            returns = flip_count(document.content_hash, recent, window, flips)
            if returns == flips:
                changes.append(
                    Change(page.url, "flapping", when, title, changeset, ALTERNATING, today, False, old_id)
                )
            elif returns == 0:
                newest = _newest(changeset.history_added)
                note = newest.note if newest else NO_NOTE
                effective = (newest.date if newest else None) or today
                check = changeset_check(changeset)
                if newest is None and changeset.kind == "major" and updated_with_publication(old, document):
                    # Its note is on a page this run may not read: neither silent nor held against.
                    note = WITH_PUBLICATION.format(date=london_date(document.last_updated))
                    effective = document.last_updated or today
                    check = NoteCheck()
                if changeset.kind == "withdrawn":
                    note = document.withdrawn or note
                changes.append(
                    Change(page.url, changeset.kind, when, title, changeset, note, effective, False, old_id)
                )
                changes[-1].note_check = check
    if moved_to is not None and moved_to != page.current_url:
        changes.append(moved(page, title, moved_to, when))
    return changes


def flip_count(
    content_hash: str, recent: Sequence[str], window: int = FLAP_WINDOW, flips: int = FLIPS
) -> int:
    """How many returns in a row a version with ``content_hash`` makes, counting at most ``flips + 1``;
    0 when it is not a return (a version not among the last ``window`` snapshots, or the last itself).

    ``recent`` holds the page's snapshot hashes, newest first.

    >>> flip_count("A", ["B", "A"])  # A, B, A: the first return
    1
    >>> flip_count("B", ["A", "B", "A"])  # A, B, A, B: the second, reported
    2
    >>> flip_count("A", ["B", "A", "B", "A"])  # and then quiet
    3
    >>> flip_count("C", ["A", "B", "A", "B", "A"])
    0
    """

    def returns(hash_: str, earlier: Sequence[str]) -> bool:
        return bool(earlier) and hash_ != earlier[0] and hash_ in earlier[:window]

    if window <= 0 or not returns(content_hash, recent):
        return 0
    count = 1
    while count <= flips and returns(recent[count - 1], recent[count:]):
        count += 1
    return count


def went_back(
    page: PageState, told: Document | None, current: tuple[int, Document] | None, when: str
) -> Change | None:
    """The page's return to an earlier version, now that it has stayed for a check: ``reverted``, compared
    with the version readers were last told about (``page.returned_from``, whose Document is ``told``)
    and dated by the version it went back to. None when the page is not returning, or the two read the
    same."""
    if page.returned_from is None or told is None or current is None:
        return None
    from .diff import diff

    current_id, document = current
    changeset = diff(told, document)
    if not changeset.changed:
        return None
    newest = _newest(document.change_history)
    dated = document.last_updated or (newest.date if newest else None) or document.published
    note = WENT_BACK.format(date=london_date(dated)) if dated else WENT_BACK_UNDATED
    title = document.title or page.title
    return Change(
        page.url,
        "reverted",
        when,
        title,
        changeset,
        note,
        london_day(when),
        old_snapshot_id=page.returned_from,
        new_snapshot_id=current_id,
    )


def moved(page: PageState, title: str, moved_to: str, when: str) -> Change:
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


def removed(page: PageState, last: Document | None, fetch: FetchResult, when: str) -> Change:
    return Change(
        page.url,
        "removed",
        when,
        (last.title if last else "") or page.title,
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


def moved_to_address(fetch: FetchResult, url: str) -> str | None:
    """Where the page answered from, as a page address, when it was redirected somewhere else."""
    if not fetch.redirects:
        return None
    parts = urlsplit(fetch.final_url)
    path = parts.path
    if path.startswith("/api/content/") and urlsplit(fetch.url).path.startswith("/api/content/"):
        path = path[len("/api/content") :]
    target = parts._replace(path=path).geturl()
    return None if target == url else target
