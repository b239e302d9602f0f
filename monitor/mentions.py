"""What one sentence says that a reader acts on: its obligation words, its dates and its amounts.

Pure and sentence by sentence: :mod:`monitor.signals` compares what these find in the old and new text
of a changed section, and only a difference there becomes a signal. Each finder returns
:class:`Mention` records (the phrase, a key to compare it by, and what it binds), so a sentence that says
the same thing in other words compares equal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .model import DiffOp
from .tokens import glued

Alone = Literal["always", "added", "never"]
"""When a mention counts on its own: always, only in a wholly added sentence, or never."""

_TOKEN = re.compile(r"\n+|\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*$")
_SENTENCE_START = re.compile(r"^[\"'‘“(\[]?[A-Z0-9£]")
_ABBREVIATION = re.compile(r"^(?:e\.g|i\.e|etc|no|vs|para|paras|ref|st|dr|mr|mrs|ms)\.$", re.I)
_BULLETS = {"-", "•", "*", "–", "—"}
_LAST_OF_AN_END = frozenset(".!?\"'’”)]")
"""The characters a sentence's last token can end with: most tokens end with none of them, and are
passed over without :data:`_SENTENCE_END`'s search."""


def sides(ops: Iterable[DiffOp]) -> tuple[list[str], list[str]]:
    """The old and the new text of a section as tokens; a line break, where the diff keeps one, is a token."""
    old: list[str] = []
    new: list[str] = []
    for op in ops:
        tokens = _TOKEN.findall(op.text)
        if op.op != "insert":
            _extend(old, tokens)
        if op.op != "delete":
            _extend(new, tokens)
    return old, new


def _extend(side: list[str], tokens: list[str]) -> None:
    """Tokens added to one side, a run's first glued to the last one ("£" + "1,500") where the page
    wrote them together: the diff splits punctuation from words, a phrase quotes them as written.

    ``tokens`` is not changed: an unchanged run's tokens go to both sides. An unchanged run carries the
    new page's line breaks, so after a deletion the break at its head may not be the old page's; one
    between marks that glue ("Public Health England (" + "PHE)") is no page's, and is dropped rather
    than cut a sentence in two.
    """
    if not tokens or not side or side[-1].startswith("\n"):
        side += tokens
        return
    first = 1 if tokens[0].startswith("\n") and len(tokens) > 1 and glued(side[-1], tokens[1]) else 0
    if glued(side[-1], tokens[first]) and not tokens[first].startswith("\n"):
        side[-1] += tokens[first]
        first += 1
    side += tokens[first:]


def sentences(tokens: Sequence[str]) -> list[str]:
    """Sentences and list items, in order: the unit a reader quotes and the unit compared here."""
    found: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            found.append(" ".join(current))
            current.clear()

    for k, token in enumerate(tokens):
        if token.startswith("\n"):
            close()
            continue
        if token in _BULLETS and current:
            close()
        current.append(token)
        if token[-1] not in _LAST_OF_AN_END or not _SENTENCE_END.search(token) or _ABBREVIATION.match(token):
            continue
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if not following or following in _BULLETS or _SENTENCE_START.match(following):
            close()
    close()
    return found


# --------------------------------------------------------------------------- what a sentence says


@dataclass(frozen=True)
class Mention:
    """One obligation word, date or amount in a sentence: ``key`` compares, ``phrase`` is shown."""

    key: str
    phrase: str
    around: tuple[str, str] | None = None
    """For an obligation word: the words just before and after it. A "should" becomes a "must" only
    where one of them stays ("SENCOs should complete" -> "SENCOs must complete"); two unrelated
    obligations in one edited sentence are one dropped and one added."""
    alone: Alone = "always"
    """When the mention may be a signal on its own rather than only as one side of a change. "May"
    permits as often as it only says what is possible ("you may come into contact"), so it counts only
    where it takes the place of another obligation word ("must" -> "may"). An age names a group as often
    as it sets who is covered ("16- to 18-year olds"), so it counts where it changed in an edited
    sentence or stands in a sentence that was only added, not where text around it was rewritten."""
    subject: frozenset[str] = frozenset()
    """For an obligation word: the longer words of its clause before it, who is bound ("Employers
    must protect": employers)."""

    def replaced_by(self, other: Mention) -> bool:
        """Whether ``other`` is this obligation with another force: the verb after it kept ("should
        inform" -> "must inform"), or, where it ends its clause, the word before it ("you should:" ->
        "you must:"). Other mentions have no such words and always may be."""
        if self.around is None or other.around is None:
            return True
        (before, after), (other_before, other_after) = self.around, other.around
        if after or other_after:
            return after == other_after
        return bool(before) and before == other_before


def bare(token: str) -> str:
    return token.strip("\"'‘’“”()[]{},.;:!?").casefold()


_NEGATIONS = {"not", "never", "n't"}
_BE = set("is are be been being was were not also still now longer it's isn't".split())
"""Words before "required" that make it an obligation ("are required", "is not required")."""
_QUOTES = ("'", "‘", '"', "“")
_CLAUSE_END = (",", ";", ":", ")", ".", "?", "!")


def duties(sentence: str) -> list[Mention]:
    """The obligation words of a sentence: must, must not, should, should not, may, may not, required
    (after a form of "be", or before "to"), legally required, mandatory, statutory, have to (each with
    its negation), a legal obligation and a legal requirement.

    Left out, as they describe as often as they oblige: "May" the month, "will need to", "can",
    "expected to" ("is expected to start"), "had to" (what happened), "required" before a noun ("the
    tests required for"), and an obligation word in quotation marks ("we have said 'must'"), which
    names the word rather than uses it.
    """
    tokens = sentence.split()
    words = [bare(t) for t in tokens]
    found: list[Mention] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        start, end, key = i, i + 1, ""
        if tokens[i][:1] in _QUOTES:
            continue
        if word in ("must", "should", "may", "mustn't", "shouldn't", "mustn’t", "shouldn’t"):
            if word == "may" and _is_month_may(tokens, i):
                continue
            key = word.replace("’", "'").replace("n't", "")
            if word.endswith(("n't", "n’t")):
                key += " not"
            elif following == "not":
                key, end = f"{word} not", i + 2
        elif word in ("obligation", "requirement") and before == "legal":
            key, start = f"legal {word}", i - 1
            if i > 2 and words[i - 2] == "a" and words[i - 3] in _NEGATIONS:
                key, start = f"not {key}", i - 3
        elif (word == "required" and (before in _BE or following == "to" or before == "legally")) or (
            word in ("mandatory", "statutory") or (word in ("have", "has") and following == "to")
        ):
            key = {"has": "have"}.get(word, word)
            if following == "to" and word in ("have", "has"):
                key, end = f"{key} to", i + 2
            if word == "required" and before == "legally":
                key, start = "legally required", i - 1
                before = words[i - 2] if i > 1 else ""
            if word != "statutory" and (before in _NEGATIONS or before.endswith(("n't", "n’t"))):
                key, start = f"not {key}", start - 1
            elif word != "statutory" and before == "longer" and start > 1 and words[start - 2] == "no":
                key, start = f"not {key}", start - 2
        if key:
            # A word beyond a comma or a bracket belongs to another clause: the phrase stops there.
            first = start - 1 if start and not tokens[start - 1].endswith(_CLAUSE_END) else start
            last = end + 1 if not tokens[end - 1].endswith(_CLAUSE_END) else end
            phrase = " ".join(tokens[first:last])
            around = (_next_word(words, start - 1, -1), _next_word(words, end, 1))
            alone: Alone = "never" if key.startswith("may") else "always"
            found.append(Mention(key, phrase.strip(",;:()"), around, alone, _subject(tokens, start)))
    return found


_ADVERBS = {"also", "only", "still", "now", "then", "always", "normally", "usually", "therefore", "however"}
"""Words that sit between an obligation word and what it binds without changing either."""


def _next_word(words: Sequence[str], i: int, step: int) -> str:
    """The first word from ``i`` on (going by ``step``) that is not one of the :data:`_ADVERBS`."""
    while 0 <= i < len(words) and words[i] in _ADVERBS:
        i += step
    return words[i] if 0 <= i < len(words) else ""


_FUNCTION_WORDS = {
    *("the", "and", "who", "which", "that", "this", "these", "those", "their", "your", "with", "are"),
    *("they", "you", "she", "him", "her", "them", "its", "our", "all", "any", "some", "each", "every"),
    *("but", "nor", "yet", "for", "also", "then", "where", "when", "while", "whilst", "if"),
}
"""Words that do not say who is bound: a pronoun stands for a party named elsewhere."""


def _subject(tokens: Sequence[str], start: int) -> frozenset[str]:
    """The longer words before token ``start`` back to the start of its clause."""
    first = start
    while first > 0 and not tokens[first - 1].endswith(_CLAUSE_END):
        first -= 1
    words = (bare(t) for t in tokens[first:start])
    return frozenset(w for w in words if len(w) > 2 and w not in _FUNCTION_WORDS)


def _is_month_may(tokens: Sequence[str], i: int) -> bool:
    """The month, not permission: "10 May", "May 2021", or a capitalised "May" inside a sentence."""
    if not tokens[i].startswith("May"):
        return False
    before = tokens[i - 1] if i else ""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    return bool(i > 0 or re.match(r"\d", following) or re.match(r"\d", before))


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORD = r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
_SEASON = r"(?:[Aa]utumn|[Ss]pring|[Ss]ummer)"
_YEAR = r"(?:19|20)\d{2}"
_YEAR_RANGE = rf"{_YEAR}\s*(?:to|-|–|/)\s*(?:{_YEAR}|\d{{2}})\b"
_DATE = re.compile(
    "|".join(
        [
            rf"\b(?:academic|financial|school|tax)\s+years?\s+{_YEAR_RANGE}",
            rf"\b{_YEAR_RANGE}\s+(?:academic|financial|school|tax)\s+years?\b",
            rf"\b{_YEAR_RANGE}",
            r"\b\d{4}-\d{2}-\d{2}\b",
            r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+{_YEAR})?\b",
            rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}\b",
            rf"\b{_MONTH}\s+{_YEAR}\b",
            rf"\b(?i:the\s+)?(?i:start|end|beginning|middle)\s+of\s+{_MONTH}\b",
            r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\b",
            rf"\b{_SEASON}(?:\s+(?:term|half[- ]term))?\s+{_YEAR}\b",
            rf"\b{_SEASON}\s+(?:term|half[- ]term)\b",
            rf"\bwithin\s+(?:\d+|{_NUMBER_WORD}|one|a|an)\s+(?:working\s+|school\s+|calendar\s+)?"
            r"(?:days?|weeks?|months?|years?|terms?)\b",
            rf"\b(?i:in|by|from|since|until|after|before|during)\s+(?P<year>{_YEAR})\b"
            rf"(?!\s*(?:to|-|–|/)\s*(?:{_YEAR}|\d{{2}})\b)",
        ]
    )
)
"""Dates as guidance writes them. A school year ("year 7") is not one: it names pupils, not a time."""

_UNIT = (
    r"(?:minutes?|hours?|days?|weeks?|months?|years?|terms?|sessions?|lessons?|pupils?|students?|"
    r"children|staff|adults?|people|places?|tests?|times|metres?|miles?|credits?)"
)
_AGE = re.compile(
    "|".join(
        [
            r"\baged\s+(?:between\s+)?\d+(?:\s*(?:to|-|–|and)\s*\d+)?",
            r"\b(?:under|over)\s+(?:the\s+age\s+of\s+\d+|\d+s)\b",
            r"\bage\s+of\s+\d+\b",
            r"\b\d+(?:\s*-?\s*(?:to|-|–)\s*\d+)?[- ]years?[- ]olds?\b",
        ]
    )
)
_AMOUNT = re.compile(
    "|".join(
        [
            r"[£$€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|bn|m|k)\b)?",
            r"\b\d[\d,]*(?:\.\d+)?\s?(?:%|per\s?cent\b)",
            _AGE.pattern,
            r"\bday\s+\d{1,2}\b",
            r"\b(?:once|twice|three\s+times)"
            r"(?:[- ]weekly|[- ]daily|\s+(?:a|per|each)\s+(?:day|week|month|term|year))",
            rf"(?<![\w-])(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD})(?:\s*(?:to|-|–|or)\s*\d[\d,]*)?[- ]?"
            rf"(?:full\s+|working\s+|school\s+|calendar\s+|clear\s+|further\s+)?{_UNIT}\b",
        ]
    )
)
"""Money, percentages, ages, frequencies and counts with a unit. A school year ("year 7") is not one,
nor a key stage ("key stage 1 - 3 hours" is 3 hours), nor the size or page count of a file."""


def _masked(sentence: str, pattern: re.Pattern[str]) -> str:
    """The sentence with the spans ``pattern`` finds blanked, so an amount never reads a date's digits."""
    return pattern.sub(lambda m: " " * len(m.group()), sentence)


def _key(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.casefold())
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)
    text = text.replace("per cent", "%").replace("percent", "%").replace("–", "-")
    text = re.sub(r"(?<=\d)\s*(m|bn)\b", lambda m: {"m": " million", "bn": " billion"}[m.group(1)], text)
    text = re.sub(r"(?<=\d)(?=[a-z])", " ", text)
    text = re.sub(r"\b(?:academic|financial|school|tax)\s+years?\b", "", text)
    words = re.split(r"[\s-]+", text.replace("£ ", "£"))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w)


def dates(sentence: str) -> list[Mention]:
    """Dates, months, academic and financial years, terms, and "within N years" deadlines."""
    found = []
    for match in _DATE.finditer(sentence):
        text = match.group("year") or match.group()
        found.append(Mention(_key(text), text))
    return found


_KEY_STAGE = re.compile(r"\bkey\s+stages?\s+\d+(?:\s*(?:and|,)\s*\d+)*", re.I)
"""A key stage names pupils: masked so that "key stage 1 – 3 hours a day" is 3 hours, not 1 to 3."""


def amounts(sentence: str) -> list[Mention]:
    """Money, percentages, ages, frequencies and counts with a unit ("10 days", "3 tests")."""
    text = _masked(_masked(sentence, _DATE), _KEY_STAGE)
    return [
        Mention(
            _key(m.group()),
            m.group().strip(),
            alone="added" if _AGE.fullmatch(m.group().strip()) else "always",
        )
        for m in _AMOUNT.finditer(text)
    ]


def same_date(a: str, b: str) -> bool:
    """One date, the year only written out: "31 March" and "31 March 2021"."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short + " ") and bool(re.fullmatch(r"\d{4}", long[len(short) + 1 :]))
