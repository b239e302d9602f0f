"""A GOV.UK page's change history ("show all updates"), in each markup era's own shape.

GOV.UK has listed a page's updates in four markups since 2014; each era is one small function, tried in
:data:`HISTORY_ERAS` order, so a new era is a new entry, never an ``if`` inside another.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from ..model import HistoryEntry
from .common import (
    display_date,
    fold,
    timestamp_date,
)
from .markup import (
    ClassIndex,
    text_of,
)


def element_date(el: etree._Element) -> str | None:
    """The date an element shows, else the one in its ``time[datetime]`` or ``abbr[title]``."""
    shown = display_date(text_of(el))
    if shown:
        return shown
    for node in el.iter("time", "abbr"):
        found = timestamp_date(node.get("datetime") or node.get("title"))
        if found:
            return found
    return None


def _items_history(item_class: str) -> Callable[[ClassIndex], list[HistoryEntry] | None]:
    """An era whose history is a list of ``li.<item_class>``, each with a ``time`` and a note."""

    def read(page: ClassIndex) -> list[HistoryEntry] | None:
        items = page.all(item_class, tag="li")
        if not items:
            return None
        first_list = items[0].getparent()
        return [_item_entry(li) for li in items if li.getparent() is first_list]

    read.__name__ = f"history_{item_class}"
    return read


def _item_entry(li: etree._Element) -> HistoryEntry:
    """One history item: its date from the ``time`` (or the element whose class names a date), the rest
    is the note."""
    dated = next(li.iter("time"), None)
    if dated is None:
        dated = next((child for child in li if "date" in (child.get("class") or "")), None)
    date = element_date(dated) if dated is not None else display_date(text_of(li))
    parts = [li.text or ""]
    for child in li:
        if child is not dated:
            parts.append(" " + text_of(child) + " ")
        parts.append(child.tail or "")
    return HistoryEntry(date, fold("".join(parts)))


def _definition_list_history(container_class: str) -> Callable[[ClassIndex], list[HistoryEntry] | None]:
    """An era whose history is a ``dl`` of date/note pairs (either way round), inside ``container_class``."""

    def read(page: ClassIndex) -> list[HistoryEntry] | None:
        container = page.first(container_class)
        dl = next(container.iter("dl"), None) if container is not None else None
        if dl is None:
            return None
        entries = []
        for dt in dl.iterchildren("dt"):
            dd = dt.getnext()
            if dd is None or dd.tag != "dd":
                continue
            dated, note = (dt, dd) if next(dt.iter("time", "abbr"), None) is not None else (dd, dt)
            entries.append(HistoryEntry(element_date(dated), text_of(note)))
        return entries or None

    read.__name__ = f"history_{container_class}"
    return read


HISTORY_ERAS = (
    _items_history("gem-c-metadata__change-history-item"),  # from July 2026, inside gem-c-metadata
    _items_history("gem-c-published-dates__change-item"),  # from March 2025
    _items_history("app-c-published-dates__change-item"),  # 2017 to March 2025
    _definition_list_history("footer-change-notes"),  # 2014 to 2016, page footer
    _definition_list_history("change-notes"),  # 2014 to 2016, header overlay
)


def history(page: ClassIndex) -> list[HistoryEntry]:
    for era in HISTORY_ERAS:
        entries = era(page)
        if entries is not None:
            return newest_first(entries)
    return []


def newest_first(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Entries newest first; left as shown when some have no date (their order is all we know).

    A list shown oldest first is turned round before sorting, so entries of one day keep their true order
    (the newest of the day first), which a sort by date alone cannot know.
    """
    if all(entry.date for entry in entries):
        dates = [entry.date or "" for entry in entries]
        if dates != sorted(dates, reverse=True) and dates == sorted(dates):
            entries = entries[::-1]
        return sorted(entries, key=lambda entry: entry.date or "", reverse=True)
    return entries
