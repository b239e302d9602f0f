"""How a recorded change is keyed, dated, ordered, noted and linked: the facts every rendering of a change
agrees on, so its page, its feed entry and its line in the digest name the same date and address."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlsplit

from ..clock import london_date, london_day, parse_timestamp, utc_timestamp
from ..govuk import page_slug
from ..model import Change, HistoryEntry
from .labels import NO_DATE


def http_url(url: str | None) -> str | None:
    """The address if it is safe to link to (http or https), else None: ``javascript:`` never goes live."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c in url for c in "\r\n\t"):
        return url
    return None


@lru_cache(maxsize=4096)
def _shown_date(value: str, year: bool) -> str:
    return london_date(value, year=year)


def shown_date(value: str | date | datetime | None, *, year: bool = True) -> str:
    """:func:`~monitor.clock.london_date` for the templates, each date worked out once: a site shows the
    same dates again and again across its pages."""
    return _shown_date(value, year) if isinstance(value, str) else london_date(value, year=year)


def iso_utc(value: str | None) -> str:
    """RFC 3339 in UTC for Atom (``2026-11-27T07:00:00Z``); a bare date becomes midnight UTC."""
    if not value:
        return "1970-01-01T00:00:00Z"
    if len(value) == 10:
        value += "T00:00:00+00:00"
    return utc_timestamp(parse_timestamp(value))


def change_key(change: Change) -> str:
    """The name of a change's page and feed entry: its id, or for a change not yet stored a digest of
    what it is, so the name never depends on when it was rendered."""
    if change.id is not None:
        return str(change.id)
    seed = f"{change.page_url}|{change.detected_at}|{change.kind}|{change.note}"
    return "x" + hashlib.sha1(seed.encode()).hexdigest()[:12]


def change_date(change: Change) -> str:
    """The date a change belongs to: GOV.UK's own where it gives one, else the day it was detected.

    History GOV.UK printed without a date stays undated (""): never the day we happened to read it.
    """
    if change.effective_date or change.backfilled:
        return change.effective_date or ""
    return london_day(change.detected_at) or ""


def newest_first(changes: Iterable[Change]) -> list[Change]:
    """Newest first by the date each change belongs to.

    History GOV.UK printed without dates stays where GOV.UK listed it: an undated backfilled entry sorts
    with the dated entry before it in the page's history (backfill records the history oldest first).
    """
    changes = list(changes)
    order_date: dict[int, str] = {}
    previous: dict[str, str] = {}
    for change in sorted((c for c in changes if c.backfilled), key=lambda c: c.id or 0):
        day = change_date(change) or previous.get(change.page_url, "")
        previous[change.page_url] = order_date[id(change)] = day
    return sorted(
        changes,
        key=lambda c: (order_date.get(id(c), change_date(c)), c.detected_at or "", c.id or 0),
        reverse=True,
    )


def note_entries(change: Change) -> list[HistoryEntry]:
    """GOV.UK's change notes for a change, each with its own date, in GOV.UK's order (newest first).

    Several history entries often appear between two checks, each dated by GOV.UK; a backfilled entry
    carries the date GOV.UK (or the mirror) gave it, None where none was given. A diffed change that
    added no history entry has no note, whatever plain description it was recorded with.
    """
    if change.changeset and change.changeset.history_added:
        return [h for h in change.changeset.history_added if h.note]
    if change.kind == "major" and change.note and (change.backfilled or change.changeset is None):
        return [HistoryEntry(change.effective_date, change.note)]
    return []


def change_notes(change: Change) -> list[str]:
    """What GOV.UK's change notes say, without their dates."""
    return [entry.note for entry in note_entries(change)]


def notes_dated(change: Change) -> bool:
    """Whether each note is shown with its own date: not when the one note has the date the change is
    listed under, which already says it."""
    entries = note_entries(change)
    return len(entries) > 1 or (len(entries) == 1 and (entries[0].date or "") != change_date(change))


def note_lines(change: Change) -> list[str]:
    """The change notes as plain text, for the email's text part and the webhooks."""
    dated = notes_dated(change)
    return [
        f"GOV.UK's change note{of_date(entry.date) if dated else ''}: {entry.note}"
        for entry in note_entries(change)
    ]


def of_date(day: str | None) -> str:
    """ " of 27 November 2026" after a change note, or that GOV.UK gave it no date."""
    return f" of {london_date(day)}" if day else f" ({NO_DATE})"


def change_link(change: Change, site_url: str) -> str:
    """The change's page on the published site ("" when the site's address is not configured)."""
    return f"{site_url.rstrip('/')}/changes/{change_key(change)}.html" if site_url else ""


def page_link(url: str, site_url: str) -> str:
    """A watched page's timeline on the published site ("" when the site's address is not configured)."""
    return f"{site_url.rstrip('/')}/pages/{page_slug(url)}.html" if site_url else ""
