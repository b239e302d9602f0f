"""The dates to act on as people read them: the ``dates`` command's text and JSON, the site's
``dates.html`` and the calendar ``dates.ics``. Pure: records in, text out.

The calendar is written with the ``icalendar`` package, which folds lines at 75 octets, ends them with
CRLF and escapes text as RFC 5545 asks. Each date is one all-day event whose UID never changes (see
:func:`monitor.deadlines.uid_of`); a date GOV.UK moved keeps its UID with a higher SEQUENCE, and one whose
sentence went stays in the file as CANCELLED, so a calendar that imported it before drops it.

Every output depends only on the records it is given and the day counted from, never on the time it is
rendered, so the same database gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from typing import Any

from ..clock import london_date
from ..deadlines import Move, PageDate, Tracked, describe_kind
from .records import http_url

ROLE_WORDS = {"deadline": "Deadline", "start": "Starts", "end": "Ends", "on": "Date"}
"""What a date is to the reader, as a word before it."""
CALENDAR_NAME = "GOV.UK guidance: dates to act on"
COMING_UP_DAYS = 30
"""A weekly digest ends with the dates to act on in this many days from when it is sent."""


def when(start: str | None, kind: str, phrase: str) -> str:
    """A date as a reader says it: a day in full ("31 March 2022"), a month ("March 2022"), a term or a
    year as the guidance wrote it; a date with no calendar day by its phrase."""
    if start is None:
        return phrase
    if kind == "day":
        return london_date(start)
    if kind == "month":
        return date.fromisoformat(start).strftime("%B %Y")
    return phrase


def moved_words(move: Move) -> str:
    """ "moved from 31 March 2022 (GOV.UK update of 2 December 2021)"."""
    old = when(move.old_start, move.old_kind, move.old_phrase)
    return f"moved from {old} (GOV.UK update of {london_date(move.update.day)})"


def section_link(item: PageDate) -> str | None:
    """Where a reader finds the date on GOV.UK: its page (a Document keeps no anchor of its sections)."""
    return http_url(item.page_url)


# --------------------------------------------------------------------------- the command


def dates_json(dates: Sequence[PageDate], titles: Mapping[str, str]) -> list[dict[str, Any]]:
    """The ``dates --format json`` list: each date with its page, section, sentence and link."""
    return [
        {**item.to_dict(), "title": titles.get(item.page_url, ""), "link": section_link(item)}
        for item in dates
    ]


def dates_text(dates: Sequence[PageDate], titles: Mapping[str, str], *, since: str) -> str:
    """The ``dates`` command's text: each date on its line, its sentence and its link beneath."""
    if not dates:
        return f"No dates to act on from {london_date(since)}.\n"
    lines: list[str] = []
    for item in dates:
        day = when(item.start, item.kind, item.phrase) if item.start else f"{item.phrase} (no calendar date)"
        duty = " [duty]" if item.duty else ""
        lines.append(f"{day}  {ROLE_WORDS[item.role]}{duty}  {titles.get(item.page_url) or item.page_url}")
        lines.append(f"    “{item.sentence}”")
        lines.append(f"    {item.section}: {section_link(item) or item.page_url}")
    return "\n".join(lines) + "\n"


def coming_up_context(coming_up: Sequence[PageDate], titles: Mapping[str, str]) -> dict[str, Any]:
    """What the digest's "Coming up in the next 30 days" section shows of each date."""
    return {
        "coming_up_days": COMING_UP_DAYS,
        "coming_up": [
            {
                "when": when(item.start, item.kind, item.phrase),
                "role": ROLE_WORDS[item.role],
                "duty": item.duty,
                "title": titles.get(item.page_url) or item.page_url,
                "sentence": item.sentence,
                "section": item.section,
                "link": section_link(item),
            }
            for item in coming_up
        ],
    }


# --------------------------------------------------------------------------- the calendar


def _summary(event: Tracked, titles: Mapping[str, str]) -> str:
    item = event.current
    title = titles.get(item.page_url) or item.page_url
    return f"{ROLE_WORDS[item.role]}: {when(item.start, item.kind, item.phrase)} – {title}"


def _description(event: Tracked, titles: Mapping[str, str], site_url: str) -> str:
    """The sentence, where it stands, what a term or month stands for, how it moved and where to read it."""
    item = event.current
    parts = [f"“{item.sentence}”", f"{titles.get(item.page_url) or item.page_url}, section “{item.section}”."]
    if item.duty:
        parts.append("The sentence carries a duty.")
    if kind := describe_kind(item):
        parts.append(kind[0].upper() + kind[1:] + ".")
    for move in event.moves:
        parts.append(moved_words(move)[0].upper() + moved_words(move)[1:] + ".")
    if event.cancelled is not None:
        parts.append(f"Removed from the guidance (GOV.UK update of {london_date(event.cancelled.day)}).")
    change = event.changed or event.introduced
    if site_url and change.change_id is not None:
        parts.append(f"The change: {site_url.rstrip('/')}/changes/{change.change_id}.html")
    if link := section_link(item):
        parts.append(f"On GOV.UK: {link}")
    return "\n\n".join(parts)


def _stamp(day: str) -> datetime:
    """DTSTAMP and LAST-MODIFIED: the day of the update that made the event what it is, at midnight UTC,
    so the file is the same whenever it is written."""
    return datetime.combine(date.fromisoformat(day[:10]), datetime.min.time(), UTC)


def calendar_ics(events: Iterable[Tracked], titles: Mapping[str, str], *, site_url: str = "") -> str:
    """``dates.ics``: every date followed on every page, each an all-day event, the cancelled ones kept."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//guidance-monitor//dates to act on//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    for tracked in sorted(events, key=lambda t: (t.current.start or "", t.uid)):
        item = tracked.current
        if item.start is None:
            continue
        first = date.fromisoformat(item.start)
        event = Event()
        event.add("uid", tracked.uid)
        event.add("dtstamp", _stamp((tracked.changed or tracked.introduced).day or item.start))
        event.add("dtstart", first)
        event.add("dtend", first + timedelta(days=1))
        event.add("sequence", tracked.sequence)
        event.add("summary", _summary(tracked, titles))
        event.add("description", _description(tracked, titles, site_url))
        event.add("status", "CANCELLED" if tracked.cancelled is not None else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        if link := section_link(item):
            event.add("url", link)
        calendar.add_component(event)
    written: bytes = calendar.to_ical()
    return written.decode("utf-8")


# --------------------------------------------------------------------------- the site's page


def dates_page(
    events: Iterable[Tracked], titles: Mapping[str, str], *, since: str, site_url: str = ""
) -> str:
    """``dates.html``: the dates still to come on ``since`` or after, soonest first, grouped by month,
    each with its sentence and linked to the change that introduced or last moved it."""
    from .templates import render_template  # the templates know what matters, which words dates so

    upcoming = sorted(
        (t for t in events if t.cancelled is None and t.current.start and t.current.start >= since),
        key=lambda t: (t.current.start or "", titles.get(t.current.page_url, ""), t.uid),
    )
    months = [
        (date.fromisoformat(f"{month}-01").strftime("%B %Y"), list(items))
        for month, items in groupby(upcoming, key=lambda t: (t.current.start or "")[:7])
    ]
    return render_template(
        "dates.html",
        title="Dates to act on",
        root="",
        site_url=site_url.rstrip("/"),
        since=since,
        months=months,
        titles=titles,
        when=when,
        role_words=ROLE_WORDS,
        describe_kind=describe_kind,
        moved_words=moved_words,
        section_link=section_link,
    )
