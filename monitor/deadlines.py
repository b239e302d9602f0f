"""Dates to act on: what the guidance asks, starts or ends on a date, read from its current text; and how
each of those dates moved from one version of a page to the next.

Pure: Documents in, records out. A SENCO reads guidance for what they must do and by when; these dates
sit in sentences, and when GOV.UK moves one ("until 5 March 2021" becoming "until 23 July 2021") only a
reader of that day's diff learns it. The rules are held to a table of real sentences labelled by hand
(``tests/deadline_cases.yaml``, whose header says how a sentence is labelled).

What is read, and what is not:

- Only a Document's sections, sentence by sentence: never its change history, its "Published" and "Last
  updated" dates or anything around the text (those date the page, they ask nothing).
- Full dates ("1 September 2024", "Monday 8 March 2021"), months ("September 2024"), terms ("autumn term
  2024", "autumn 2024", "the summer of 2021"), academic, financial and tax years ("2024 to 2025 academic
  year"), in English and in Welsh ("1 Medi 2024", "tymor yr hydref 2024", "blwyddyn academaidd 2024 i
  2025"). A term or month stands for its first day, a year for the day it begins.
- A date written without its year takes the one year its sentence gives, else the one year its section's
  heading gives ("From 8 March" under "Wider reopening from 8 March 2021"); where neither gives exactly
  one year it is kept without a calendar date, never given a guessed year.
- Relative spans ("within 3 years of taking up their post") are kept, without a calendar date, where
  a duty stands before them in their sentence ("must gain within 3 years"): a span in a description
  ("2 cases within 14 days") asks nothing.
- A sentence that reports what was done, in the simple past ("was published in 2014", "we updated the
  guidance on 10 May 2021", "since 1 April 2021"), names no date to act on; nor does a dated entry of a
  log ("17 October 2024: ..."), an attachment's line ("Derogation 23 January 2025 (PDF, 132KB)"), a
  date that dates a document ("a request dated 14 February 2014") or fixes an age ("aged 11 on 31 August
  2021"), nor a year range that is only part of a document's title.

Each date says what it is to the reader (``role``: a deadline, a start, an end, or a day something
happens) from the words just before it, and whether its sentence carries a duty (must, required to,
mandatory, have to; "rhaid" in Welsh): "should" advises and "may" permits, so neither makes a duty.

:func:`follow` keeps each page's dates from one version to the next: a date is known by its page and a
key of its sentence with every date masked, so it keeps its identity when GOV.UK moves it; a sentence
edited around its date is matched to the one it was, where the two are alike enough.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Any, Literal

from .date_phrases import MENTION, Kind, Role, carries_duty, dates_in, may_hold_a_date
from .mentions import sentences, sides
from .model import Document, SectionChange
from .textdiff import ratio_at_least

SAME_SENTENCE = 0.75
"""Two sentences of a page this alike (by words, with their dates masked) are one sentence edited: the
date in it is the same date, moved if its day changed."""

# --------------------------------------------------------------------------- a page's dates


@dataclass(frozen=True)
class PageDate:
    """One date to act on where it stands: its page, section and sentence, whether the sentence carries a
    duty, and ``key``, which names it on its page whatever its date (the sentence with every date
    masked, and which of its dates it is)."""

    page_url: str
    section: str
    sentence: str
    phrase: str
    start: str | None
    kind: Kind
    role: Role
    duty: bool
    key: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page_url,
            "section": self.section,
            "sentence": self.sentence,
            "phrase": self.phrase,
            "date": self.start,
            "kind": self.kind,
            "role": self.role,
            "duty": self.duty,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageDate:
        return cls(
            data["page"],
            data["section"],
            data["sentence"],
            data["phrase"],
            data["date"],
            data["kind"],
            data["role"],
            data["duty"],
            data["key"],
        )


def masked(sentence: str) -> str:
    """The sentence in lower case with its dates, years and numbers masked: what stays when a date moves.

    >>> masked("Apply by 31 March 2022.") == masked("Apply by 28 February 2023.")
    True
    """
    text = MENTION.sub("§", sentence)
    text = re.sub(r"\d+", "#", text)
    return " ".join(re.findall(r"[\w§#£]+", text.casefold()))


def page_dates(document: Document) -> list[PageDate]:
    """Every date to act on in a Document's sections, in reading order (never its history or its
    Published and Last updated dates, which are not in its sections)."""
    found: list[PageDate] = []
    for section in document.sections:
        for line in section.text.split("\n"):
            if may_hold_a_date(line):
                found += _dated(document.url, section.heading, sentences(line.split()))
    return _unique_keys(found)


def _dated(page_url: str, heading: str, said: Iterable[str]) -> list[PageDate]:
    """The dates to act on in these sentences of one section."""
    found: list[PageDate] = []
    for sentence in said:
        read = _sentence_dates if len(sentence) <= KEPT_SENTENCE else _sentence_dates.__wrapped__
        found += [PageDate(page_url, heading, sentence, *fields) for fields in read(sentence, heading)]
    return found


KEPT_SENTENCE = 2_000
"""The longest sentence whose dates are kept for reading again, in characters: a longer one is rare, and
keeping it would hold memory that the page alone should."""


@functools.lru_cache(maxsize=4096)
def _sentence_dates(sentence: str, heading: str) -> tuple[tuple[str, str | None, Kind, Role, bool, str], ...]:
    """Each date to act on in one sentence under its heading, as the fields of a :class:`PageDate` after
    its page, heading and sentence. Kept for the sentences read last: a run reads the same sentences for
    a page's dates, each change's dates and every page that tells that change again."""
    mentions = dates_in(sentence, heading)
    if not mentions:
        return ()
    duty = carries_duty(sentence)
    shape = masked(sentence)
    return tuple((m.phrase, m.start, m.kind, m.role, duty, f"{shape}#{n}") for n, m in enumerate(mentions))


def date_changes(sections: Iterable[SectionChange], page_url: str = "") -> list[DateChange]:
    """What a change did to the dates to act on: each added, moved or removed, read from the text of
    the sections it changed (as their word diff keeps it), so a stored change says it without its
    snapshots. A sentence that only moved, or was reworded around the same date, did nothing."""
    old: list[PageDate] = []
    new: list[PageDate] = []
    for section in sections:
        before, after = sides(section.diff)
        old += _dated(page_url, section.old_heading or section.heading, sentences(before))
        new += _dated(page_url, section.heading, sentences(after))
    tracked, _ = follow([], _unique_keys(old), Update(""))
    return follow(tracked, _unique_keys(new), Update(""))[1]


def _unique_keys(found: list[PageDate]) -> list[PageDate]:
    """One key once on a page: a sentence said twice (in two sections) is two dates, told apart by the
    order they come in."""
    seen: dict[str, int] = {}
    unique = []
    for item in found:
        count = seen.get(item.key, 0)
        seen[item.key] = count + 1
        unique.append(item if count == 0 else replace(item, key=f"{item.key}~{count}"))
    return unique


# --------------------------------------------------------------------------- a page's dates over time


@dataclass(frozen=True)
class Update:
    """One GOV.UK update of a page, as a step of its dates' history: the day GOV.UK gives it (its change
    history's date, else the day it was found) and the change recorded for it, where one was."""

    day: str
    change_id: int | None = None


@dataclass(frozen=True)
class Move:
    """A date GOV.UK moved: what it said before, and the update that moved it."""

    old_phrase: str
    old_start: str | None
    update: Update
    old_kind: Kind = "day"


@dataclass
class Tracked:
    """One date to act on over a page's versions: one calendar event. ``uid`` is given once, from the
    page and the date's first key, and kept while the sentence lives, however the date moves; each
    change to the event raises ``sequence``; a date whose sentence went is ``cancelled``, and one whose
    sentence comes back is the same event again."""

    uid: str
    current: PageDate
    introduced: Update
    sequence: int = 0
    moves: list[Move] = field(default_factory=list)
    cancelled: Update | None = None
    changed: Update | None = None
    """The last update that moved, added back or cancelled it: the change that made it what it is."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "current": {**self.current.to_dict(), "key": self.current.key},
            "introduced": _update_dict(self.introduced),
            "sequence": self.sequence,
            "moves": [
                {
                    "old_phrase": m.old_phrase,
                    "old_start": m.old_start,
                    "old_kind": m.old_kind,
                    "update": _update_dict(m.update),
                }
                for m in self.moves
            ],
            "cancelled": _update_dict(self.cancelled),
            "changed": _update_dict(self.changed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tracked:
        return cls(
            uid=data["uid"],
            current=PageDate.from_dict(data["current"]),
            introduced=_update(data["introduced"]) or Update(""),
            sequence=data["sequence"],
            moves=[
                Move(m["old_phrase"], m["old_start"], _update(m["update"]) or Update(""), m["old_kind"])
                for m in data["moves"]
            ],
            cancelled=_update(data["cancelled"]),
            changed=_update(data["changed"]),
        )


def _update_dict(update: Update | None) -> dict[str, Any] | None:
    return None if update is None else {"day": update.day, "change_id": update.change_id}


def _update(data: dict[str, Any] | None) -> Update | None:
    return None if data is None else Update(data["day"], data["change_id"])


def uid_of(page_url: str, key: str) -> str:
    """A calendar UID from a page and a date's key: the same on every build, and unique to the pair."""
    digest = hashlib.sha256(f"{page_url}\n{key}".encode()).hexdigest()[:24]
    return f"{digest}@guidance-monitor"


@dataclass(frozen=True)
class DateChange:
    """What one update did to one date to act on: ``added``, ``moved`` or ``removed``."""

    what: Literal["added", "moved", "removed"]
    date: PageDate
    old_phrase: str = ""
    old_start: str | None = None
    old_kind: Kind = "day"


def follow(
    tracked: Sequence[Tracked], dates: Sequence[PageDate], update: Update
) -> tuple[list[Tracked], list[DateChange]]:
    """A page's dates after one more version: ``tracked`` as they stood, ``dates`` read from the new
    version. Returns the dates as they now stand (the cancelled ones kept, so an event is never lost
    from a calendar) and what the update did to them.

    Only dates with a calendar day are followed: a span or a date without its year is no event.
    """
    live = [t for t in tracked if t.cancelled is None]
    result = [replace(t, moves=list(t.moves)) for t in tracked if t.cancelled is not None]
    new = [d for d in dates if d.start is not None]
    pairs = _pairs([t.current for t in live], new)
    changes: list[DateChange] = []
    taken: set[int] = set()
    for i, item in enumerate(live):
        j = pairs.get(i)
        if j is None:
            result.append(replace(item, sequence=item.sequence + 1, cancelled=update, changed=update))
            changes.append(DateChange("removed", item.current))
            continue
        taken.add(j)
        now = new[j]
        was = item.current
        if now == was:
            result.append(item)
            continue
        moves = list(item.moves)
        changed = item.changed
        if now.start != was.start:
            moves.append(Move(was.phrase, was.start, update, was.kind))
            changes.append(DateChange("moved", now, was.phrase, was.start, was.kind))
            changed = update
        result.append(replace(item, current=now, sequence=item.sequence + 1, moves=moves, changed=changed))
    by_uid = {t.uid: n for n, t in enumerate(result)}
    for j, added in enumerate(new):
        if j in taken:
            continue
        uid = uid_of(added.page_url, added.key)
        changes.append(DateChange("added", added))
        if uid in by_uid:  # its sentence came back
            old = result[by_uid[uid]]
            result[by_uid[uid]] = replace(
                old, current=added, sequence=old.sequence + 1, cancelled=None, changed=update
            )
        else:
            by_uid[uid] = len(result)
            result.append(Tracked(uid, added, update, changed=update))
    return result, changes


def _pairs(old: Sequence[PageDate], new: Sequence[PageDate]) -> dict[int, int]:
    """old index -> new index: the same key first, then the most alike sentence (of the same place
    among its dates) above :data:`SAME_SENTENCE`."""
    pairs: dict[int, int] = {}
    by_key: dict[str, list[int]] = {}
    for j, item in enumerate(new):
        by_key.setdefault(item.key, []).append(j)
    for i, item in enumerate(old):
        if by_key.get(item.key):
            pairs[i] = by_key[item.key].pop(0)
    free = sorted({j for js in by_key.values() for j in js})
    for i, item in enumerate(old):
        if i in pairs or not free:
            continue
        shape, place = item.key.rsplit("#", 1)
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(shape.split())
        best, best_ratio = -1, SAME_SENTENCE
        for j in free:
            other, other_place = new[j].key.rsplit("#", 1)
            if other_place != place:
                continue
            matcher.set_seq1(other.split())
            ratio = ratio_at_least(matcher, best_ratio)
            if ratio:
                best, best_ratio = j, ratio
        if best >= 0:
            pairs[i] = best
            free.remove(best)
    return pairs


def history(versions: Iterable[tuple[Document, Update]]) -> list[Tracked]:
    """A page's dates followed through its versions, oldest first: what :func:`follow` gives one step
    at a time, from nothing."""
    tracked: list[Tracked] = []
    for document, update in versions:
        tracked, _ = follow(tracked, page_dates(document), update)
    return tracked


def listing(dates: Sequence[PageDate], since: str, *, every: bool = False) -> list[PageDate]:
    """The dates on or after ``since`` (ISO), soonest first; with ``every``, then the dates before it,
    latest first, then those with no calendar day, in reading order."""
    dated = [d for d in dates if d.start is not None]
    coming = sorted((d for d in dated if (d.start or "") >= since), key=lambda d: d.start or "")
    if not every:
        return coming
    past = sorted((d for d in dated if (d.start or "") < since), key=lambda d: d.start or "", reverse=True)
    return coming + past + [d for d in dates if d.start is None]


def within(dates: Sequence[PageDate], since: str, days: int) -> list[PageDate]:
    """The dates from ``since`` (ISO) for ``days`` days, soonest first: what is coming up."""
    until = (date.fromisoformat(since) + timedelta(days=days)).isoformat()
    return [d for d in listing(dates, since) if (d.start or "") < until]


def describe_kind(item: PageDate) -> str:
    """What the all-day event of a term, month or year stands for, in plain words; empty for a day."""
    if item.kind == "term":
        return f"{item.phrase}: a term, shown on its first day (terms begin on dates each school sets)"
    if item.kind == "month":
        return f"{item.phrase}: a month, shown on its first day"
    if item.kind in ("academic-year", "financial-year", "tax-year"):
        return f"{item.phrase}: {item.kind.replace('-', ' ')}, shown on its first day"
    return ""
