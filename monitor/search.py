"""Where a phrase came and went: ``guidance-monitor search PHRASE`` over the full-text index of every
stored version (:mod:`monitor.store.fulltext`).

A journalist's question ("when did 'must' first appear in this guidance?") is answered by the versions
themselves, not by the changes: the first version of a page that has the phrase is where it appeared
(its first version, if the page had it when monitoring began), the first that lacks it again is where it
went.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .clock import london_day
from .store import Store
from .store.fulltext import FullText


@dataclass(frozen=True)
class PhraseEvent:
    """A version of a page in which the phrase appeared, or from which it went."""

    page_url: str
    title: str
    day: str
    """The day (UK time) the version was first seen."""
    taken_at: str
    snapshot: int
    event: str
    """``appeared`` or ``disappeared``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def phrase_events(store: Store, phrase: str) -> list[PhraseEvent]:
    """Every version where ``phrase`` appeared or disappeared, oldest first (case and accents ignored,
    its words in order)."""
    return [
        PhraseEvent(
            row["page_url"],
            row["title"],
            london_day(row["taken_at"]) or "",
            row["taken_at"],
            row["snapshot"],
            row["event"],
        )
        for row in FullText(store).phrase_events(phrase)
    ]


def as_text(phrase: str, events: list[PhraseEvent]) -> str:
    """The events as lines a person reads: a day, what happened, and the page."""
    if not events:
        return f"“{phrase}” is in no stored version of any page."
    lines = [f"“{phrase}”, in the versions stored (days in UK time):"]
    for e in events:
        lines.append(f"  {e.day}  {e.event:<11}  {e.title}\n              {e.page_url}")
    return "\n".join(lines)
