"""The change note held against the text: does GOV.UK's note say what the signals say changed?

Pure: a change's note (or none) and its section changes, with their signals, in; what a reader should be
told out. A reader trusts the note; when the substance changed (a duty, a date or an amount) and the note
is silent, or speaks of other parts of the page, that is the news a journalist or a SENCO is after, so it
must be right every time it is said:

- no note, and a duty, date or amount signal: "Silent change to a duty" (or a date, an amount; each kind
  that changed is named);
- a note, and sections with such signals that it does not name: "The change note does not mention:
  <section>, <section>";
- otherwise nothing.

A note *names* a section when one of the heading's own words (a word that is neither a common English
word nor one that every guidance page uses for its parts, such as "introduction" or "details") is in the
note, compared without case and with their endings taken off ("costs" names "Cost", "testing" names
"Asymptomatic testing"). A heading with no such word ("Details", "Introduction", "Latest updates"), or
with none but the page's title's (the opening section of "Study in the European Union" is headed so),
cannot be named by any note, so no note is said to miss it: when in doubt the note is taken to cover the
change, as a wrong claim that GOV.UK stayed silent is worse than a claim not made. ``removed-text`` alone is
not held against the note: text goes for many reasons a note need not give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import ChangeSet, SectionChange

HELD = ("duty", "date", "amount")
"""The kinds of signal a note is expected to speak of, in the order a reader is told them."""

_ARTICLE = {"duty": "a duty", "date": "a date", "amount": "an amount"}

_COMMON = set(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers him his how i if in into is it its itself just may me more most must my
    no nor not now of off on once only or other our out over own same she should so some such than that
    the their them then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours""".split()
)
"""Common English words: they name nothing."""

_PARTS = set(
    """introduction summary overview background details detail contents content contact main change
    changes previous version latest update updates updated review reviews reviewed annex appendix
    guidance information section sections page document part parts general further other note notes""".split()
)
"""Words guidance uses for the parts of any page: a note using them ("updated guidance") names no
section, and a heading made only of them ("Latest updates and reviews") cannot be named."""

_SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ies", "ed", "es", "s")


def _stem(word: str) -> str:
    """The word without its ending, so that "testing", "tests" and "tested" are one word."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def _own_words(text: str) -> set[str]:
    """The stems of a text's words that can name a part of a page."""
    words = re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", text.casefold().replace("-", " "))
    return {
        _stem(w) for w in words if w not in _COMMON and w not in _PARTS and not w.isdigit() and len(w) > 1
    }


def names(note: str, heading: str, title: str = "") -> bool:
    """Whether ``note`` names the section ``heading``, or could not be expected to (a heading made only
    of common words, words for the parts of a page and the page's ``title``)."""
    own = _own_words(re.sub(r"^\s*\d+[.)]\s*", "", heading))
    return not own - _own_words(title) or bool(own & _own_words(note))


@dataclass(frozen=True)
class NoteCheck:
    """What the note leaves out: ``silent`` the kinds that changed under no note at all, ``unmentioned``
    the headings of sections with a duty, date or amount signal that the note does not name."""

    silent: tuple[str, ...] = ()
    unmentioned: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept with the change and printed by ``diff``, ``show`` and ``history``."""
        return {"sentence": self.sentence, "silent": list(self.silent), "unmentioned": list(self.unmentioned)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoteCheck:
        return cls(tuple(data.get("silent", ())), tuple(data.get("unmentioned", ())))

    @property
    def sentence(self) -> str:
        """The plain-English line that leads the change's entry, or "" when the note covers it."""
        if self.silent:
            kinds = [_ARTICLE[kind] for kind in self.silent]
            listed = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
            return f"Silent change to {listed}"
        if self.unmentioned:
            return "The change note does not mention: " + ", ".join(self.unmentioned)
        return ""


def held_against(note: str | None, sections: Sequence[SectionChange], title: str = "") -> NoteCheck:
    """The note of one change held against the signals of its sections; ``title`` is the page's."""
    signalled = [s for s in sections if any(g.kind in HELD for g in s.signals)]
    if not signalled:
        return NoteCheck()
    if not note or not note.strip():
        kinds = {g.kind for s in signalled for g in s.signals}
        return NoteCheck(silent=tuple(kind for kind in HELD if kind in kinds))
    unmentioned: list[str] = []
    for section in signalled:
        headings = [section.heading] + ([section.old_heading] if section.old_heading else [])
        if (
            not any(names(note, heading, title) for heading in headings)
            and section.heading not in unmentioned
        ):
            unmentioned.append(section.heading)
    return NoteCheck(unmentioned=tuple(unmentioned))


def changeset_check(changeset: ChangeSet) -> NoteCheck:
    """The notes GOV.UK added with a change (none: a silent change) held against its sections."""
    notes = " ".join(entry.note for entry in changeset.history_added if entry.note)
    return held_against(notes or None, changeset.sections, changeset.new.title or changeset.old.title)
