"""What matters in a change, in plain words: the lines that follow GOV.UK's change note at the head of
every entry (the email, the site, the feeds and the webhook), worded from the precise signals of
:mod:`monitor.signals` so a reader sees "In Workforce, ‘should’ became ‘must’" before any diff.

Pure: section changes with their signals in, short lines out. Each line names the section it is in and
quotes the words as GOV.UK wrote them, cut at a word when long; an obligation whose force alone changed
is quoted by its obligation words only ("‘should’ became ‘must’"), one whose party changed with the words
before it in its sentence (a party is often named in several words), anything else by the whole phrase, so
the line is never shorter than what makes it true. The strongest kinds come first (duties, then dates,
amounts, links, removed text), and an entry shows :data:`SHOWN` of them with the count of the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..deadlines import date_changes
from ..model import SectionChange, Signal
from .dates import when
from .plain_text import bounded

SHOWN = 3
"""Lines of what matters an entry leads with; the rest are counted ("and 2 more")."""
QUOTE_LIMIT = 80
"""Characters of a quoted phrase in a line: the change's page quotes it whole."""
KIND_ORDER = ("duty", "date", "amount", "link", "removed-text")
"""The order lines are told in: what someone must do first, text that went last."""
OBLIGATION_WORDS = frozenset(
    "must should may shall required mandatory statutory need needs have has to expected legally not".split()
)
"""Words that only say how strongly something is asked: when nothing else in a duty's phrase changed,
these are what the line quotes."""
QUOTE_MARKS = "‘’“”'\""
"""Quotation marks a phrase may start or end with: the line puts its own around it."""
HEADING_LIMIT = 60
"""Characters of a section's heading in a line."""
CONTEXT_WORDS = 4
"""Words of its sentence quoted before an obligation or amount added or dropped."""
DATE_NOUNS = (("deadline", ("by", "before", "no later than")), ("end date", ("until", "till")))
"""What a date is called by the words just before it ("by 31 March 2022" is a deadline, "until 23 July"
an end date); a sentence that says "deadline" makes any date in it one."""


@dataclass(frozen=True)
class Matters:
    """The lines an entry leads with and how many more there are (told on the change's page)."""

    lines: tuple[str, ...]
    more: int = 0


def cut(text: str, limit: int) -> str:
    """``text`` on one line within ``limit`` characters, cut at a word with "…" (no stop or comma
    left before it)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return re.sub(r"[\s,;:.–-]+…$", "…", bounded(text, limit))


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """ "‘text’" on one line, cut at a word after ``limit`` characters."""
    return "‘" + cut(text.strip().strip(QUOTE_MARKS), limit) + "’"


def place(heading: str) -> str:
    """The section as a line names it: its heading without GOV.UK's numbering ("8. Transport"), cut
    when long."""
    return cut(re.sub(r"^\s*\d+[.)]\s+", "", heading), HEADING_LIMIT) or "the page"


def _core(old: str, new: str) -> tuple[str, str]:
    """The run of words that differs between two phrases, from the first difference to the last."""
    a, b = old.split(), new.split()
    differing = [op for op in SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if not differing:
        return "", ""
    first, last = differing[0], differing[-1]
    return " ".join(a[first[1] : last[2]]), " ".join(b[first[3] : last[4]])


def _force_only(old: str, new: str) -> bool:
    """Whether the phrases differ only in how strongly they ask ("should" -> "must")."""
    words = [w.strip(".,;:").casefold() for w in f"{old} {new}".split()]
    return bool(words) and all(w in OBLIGATION_WORDS for w in words)


def _date_noun(signal: Signal) -> str:
    """ "deadline", "end date" or "date", from the sentence the new (else the old) date stands in."""
    sentence = " ".join((signal.new_sentence or signal.old_sentence).casefold().split())
    date = " ".join((signal.new or signal.old).casefold().split())
    if "deadline" in sentence:
        return "deadline"
    before = sentence.split(date, 1)[0] if date and date in sentence else ""
    for noun, words in DATE_NOUNS:
        if any(before.endswith(f" {word} ") or before == f"{word} " for word in words):
            return noun
    return "date"


def what(signal: Signal) -> str:
    """What one signal says happened, without the section ("‘should’ became ‘must’")."""
    old, new = signal.old, signal.new
    if signal.kind == "removed-text":
        return f"removed {quoted(old)}"
    if signal.kind == "link":
        return f"a link now leads to {new}" if new else f"a link to {old} was removed"
    if old and new:
        if signal.kind == "duty":
            core_old, core_new = _core(old, new)
            if core_old and core_new and _force_only(core_old, core_new):
                return f"{quoted(core_old)} became {quoted(core_new)}"
            if old.split()[:1] != new.split()[:1]:
                # The party bound changed: its word alone ("over should wear") may be the tail of a
                # longer name, so the words before it in its sentence say whose duty it is.
                old = in_sentence(old, signal.old_sentence, rest=False)
                new = in_sentence(new, signal.new_sentence, rest=False)
        if signal.kind == "date":
            return f"{_date_noun(signal)} moved from {' '.join(old.split())} to {' '.join(new.split())}"
        if signal.kind == "amount":
            return f"{' '.join(old.split())} became {' '.join(new.split())}"
        return f"{quoted(old)} became {quoted(new)}"
    if signal.kind == "date":
        return f"added date {quoted(new)}" if new else f"removed date {quoted(old)}"
    if new:
        return f"added {quoted(in_sentence(new, signal.new_sentence))}"
    return f"removed {quoted(in_sentence(old, signal.old_sentence))}"


def in_sentence(phrase: str, sentence: str, before: int = CONTEXT_WORDS, *, rest: bool = True) -> str:
    """The phrase with the words before it in its sentence, and with ``rest`` the rest of the sentence
    after it: "should retain" alone says too little."""
    phrase, sentence = " ".join(phrase.split()), " ".join(sentence.split())
    at = sentence.find(phrase) if phrase else -1
    if at < 0:
        return phrase
    words = sentence[:at].split()
    tail = sentence[at:] if rest else phrase
    return ("…" if len(words) > before else "") + " ".join([*words[-before:], tail])


def line(heading: str, signal: Signal) -> str:
    """One line of what matters: "In Workforce, ‘should’ became ‘must’"."""
    return f"In {place(heading)}, {what(signal)}"


def lines(sections: Sequence[SectionChange]) -> list[str]:
    """Every line of what matters in these sections, strongest kind first, each said once."""
    found = [(s.heading, signal) for s in sections for signal in s.signals]
    said = [(_rank(signal.kind), line(heading, signal)) for heading, signal in found]
    said += [(_rank("date"), text) for text in date_lines(sections)]
    said.sort(key=lambda item: item[0])
    return list(dict.fromkeys(text for _, text in said))


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else 99


def date_lines(sections: Sequence[SectionChange]) -> list[str]:
    """The dates to act on (:mod:`monitor.deadlines`) the change added, moved or removed that no date
    signal tells already: a sentence that went with its date is told as removed text, and the
    calendar's date in it as removed too."""
    told = {
        " ".join(phrase.split())
        for s in sections
        for g in s.signals
        if g.kind == "date"
        for phrase in (g.old, g.new)
        if phrase
    }
    found = []
    for change in date_changes(sections):
        item = change.date
        if item.phrase in told or change.old_phrase in told:
            continue
        day = when(item.start, item.kind, item.phrase)
        if change.what == "moved":
            old = when(change.old_start, change.old_kind, change.old_phrase)
            found.append(f"In {place(item.section)}, a date to act on moved from {old} to {day}")
        else:
            found.append(f"In {place(item.section)}, {change.what} the date to act on {day}")
    return found


def matters(sections: Sequence[SectionChange], shown: int = SHOWN) -> Matters:
    """The lines an entry leads with: at most ``shown``, and how many more there are."""
    every = lines(sections)
    return Matters(tuple(every[:shown]), max(0, len(every) - shown))
