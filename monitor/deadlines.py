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

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Any, Literal

from .mentions import duties, sentences, sides
from .model import Document, SectionChange
from .textdiff import ratio_at_least

Kind = Literal["day", "month", "term", "academic-year", "financial-year", "tax-year", "span"]
Role = Literal["deadline", "start", "end", "on"]

SAME_SENTENCE = 0.75
"""Two sentences of a page this alike (by words, with their dates masked) are one sentence edited: the
date in it is the same date, moved if its day changed."""

# --------------------------------------------------------------------------- words

_MONTHS_EN = "january february march april may june july august september october november december".split()
_MONTHS_CY = "ionawr chwefror mawrth ebrill mai mehefin gorffennaf awst medi hydref tachwedd rhagfyr".split()
_MONTH_NUMBER = {name: n for names in (_MONTHS_EN, _MONTHS_CY) for n, name in enumerate(names, 1)}
_MONTH_NUMBER.update({"fawrth": 3, "fai": 5, "fedi": 9, "hydref": 10})
"""English and Welsh month names (and the mutated Welsh forms "ym mis Fawrth", "Fedi") to their numbers."""

_MONTH_EN = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_CY = (
    r"(?:Ionawr|Chwefror|[MF]awrth|Ebrill|[MF]ai|Mehefin|Gorffennaf|Awst|[MF]edi|Hydref|Tachwedd|Rhagfyr)"
)
_MONTH = rf"(?:{_MONTH_EN}|{_MONTH_CY})"
_YEAR = r"(?:19|20)\d{2}"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th|af|ain|ed|fed)?"
_WEEKDAY = (
    r"(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|[Dd]ydd\s+(?:Llun|Mawrth|Mercher|Iau|Gwener|Sadwrn|Sul))"
)

_SEASON_EN = r"(?P<season>[Aa]utumn|[Ss]pring|[Ss]ummer)"
_SEASON_CY = r"(?:tymor\s+(?:yr?\s+)?(?P<tymor>[Hh]ydref|[Gg]wanwyn|[Hh]af))"
_TERM_START = {"autumn": 9, "spring": 1, "summer": 4, "hydref": 9, "gwanwyn": 1, "haf": 4}
"""The month a school term begins in, for the all-day event on a term's first day: autumn in
September, spring in January, summer in April."""
_TERM_NAME = {"hydref": "autumn", "gwanwyn": "spring", "haf": "summer"}


def _range(name: str) -> str:
    """A range of two years ("2024 to 2025", "2024/25"), its first year in the group ``y1<name>``."""
    return rf"(?P<y1{name}>{_YEAR})\s*(?:to|i|-|–|/)\s*(?:{_YEAR}|\d{{2}})\b"


def _year_word(name: str) -> str:
    """The word that says which year a range is, in the group ``yk<name>``."""
    return rf"(?P<yk{name}>academic|financial|tax|school|academaidd|ariannol|ysgol)"


_MENTION = re.compile(
    "|".join(
        [
            # 1 September 2024, Monday 8 March 2021, 1 Medi 2024, 8 March
            rf"(?P<dm>(?:{_WEEKDAY},?\s+)?(?:the\s+)?(?P<d1>{_DAY})\s+(?:of\s+)?(?P<m1>{_MONTH})"
            rf"(?:,?\s+(?P<y_dm>{_YEAR}))?)\b",
            # September 1, 2024
            rf"(?P<md>(?P<m2>{_MONTH_EN})\s+(?P<d2>{_DAY}),?\s+(?P<y_md>{_YEAR}))\b",
            # autumn term 2024, autumn 2024, the summer of 2021, spring term
            rf"(?P<term>{_SEASON_EN}(?:\s+(?:half[- ])?term)?"
            rf"(?:\s+(?:of\s+|in\s+)?(?P<y_t>{_YEAR}))?)\b",
            # the 2020 summer term
            rf"(?P<yterm>(?P<y_yt>{_YEAR})\s+(?P<season2>[Aa]utumn|[Ss]pring|[Ss]ummer)\s+term)\b",
            # tymor yr hydref 2024
            rf"(?P<cyterm>{_SEASON_CY}(?:\s+(?P<y_cy>{_YEAR}))?)\b",
            # academic year 2024 to 2025, blwyddyn academaidd 2024 i 2025
            rf"(?P<yr1>(?:{_year_word('')}\s+years?|blwyddyn\s+{_year_word('_cy')})\s+"
            rf"{_range('')})",
            # 2024 to 2025 academic year
            rf"(?P<yr2>{_range('_b')}\s+{_year_word('_b')}\s+years?)\b",
            # September 2024, Medi 2024, September
            rf"(?P<month>(?P<m3>{_MONTH})(?:\s+(?P<y_m>{_YEAR}))?)\b",
        ]
    )
)

_RANGE_LIST = re.compile(
    rf"(?:{_YEAR}\s*(?:to|-|–|/)\s*(?:{_YEAR}|\d{{2}})\s*(?:,|and|or)\s*)+"
    rf"(?={_YEAR}\s*(?:to|-|–|/)\s*(?:{_YEAR}|\d{{2}})\s+(?:academic|financial|tax|school)\s+years\b)"
)
"""The first ranges of a list that ends with the kind of year they all are ("the 2021 to 2022 and
2022 to 2023 academic years"): each is a year of that kind."""
_LISTED_RANGE = re.compile(rf"(?P<y1>{_YEAR})\s*(?:to|-|–|/)\s*(?P<y2>{_YEAR}|\d{{2}})")

_NUMBER = (
    r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|twenty|thirty)"
)
_SPAN = re.compile(
    rf"\b(?:within|no\s+later\s+than|not\s+later\s+than|o\s+fewn)\s+{_NUMBER}\s+"
    r"(?:(?:(?:working|school|calendar|clear)\s+)?(?:hours?|days?|weeks?|months?|years?|terms?)\b"
    r"|(?:awr|diwrnod|wythnos|mis|blynedd)\w*)"
    r"(?:\s+(?:of|after|before|from|ar\s+ôl|o)\s+[^,;.]+)?",
    re.I,
)

_TERM_PAIR = re.compile(
    rf"\b(?P<first>[Aa]utumn|[Ss]pring|[Ss]ummer)\s+and\s+(?:autumn|spring|summer)\s+(?P<year>{_YEAR})\s+terms\b"
)
"""Two terms of one year ("the spring and summer 2021 terms"): the first is named without its year."""

# --------------------------------------------------------------------------- what a sentence says

_REPORT = re.compile(
    r"\b(?:was|were|had|did|became|came|announced|introduced|issued|launched|hosted|ended|lifted|"
    r"supported|consulted|cyhoeddodd|cyhoeddwyd)\b"
    r"|\b(?:we|DfE|the\s+government|Ofqual|Ofsted|(?:Prime\s+)?Minister|Secretary\s+of\s+State(?:\s+for\s+\w+)?)"
    r"\s+(?:\w+ly\s+)?(?:updated|asked|sent|provided|added|changed|removed|wrote|published|confirmed|paused)\b"
    r"|\b(?:should|must|would|could)\s+have\s+\w+ed\b"
    r"|^\W*On\s+[^,]{3,30}?,?\s+we\b"
    r"|\b(?:originally\s+)?published\s+(?:in|on)\b|\bannouncement\s+(?:made\s+)?on\b|\btime\s+of\s+writing\b"
    r"|\bin\s+the\s+past\b",
    re.I,
)
"""A sentence that reports what was done, in the simple past: its dates date the report, not an act."""
_ENTRY = re.compile(rf"^\W*{_DAY}\s+{_MONTH}\s+{_YEAR}\s*:")
"""A dated entry of a log ("17 October 2024: the CMA directed ..."), as a case's timeline or a page's
latest updates list them: its date is when it was written."""
_NAMES_A_FILE = re.compile(
    r"\((?:PDF|CSV|ODS|ODT|XLSX?|DOCX?|MS Word|MS Excel|HTML)\b[^)]*\b\d+(?:\.\d+)?\s?[KMG]B\b"
)
"""An attachment's line ("Derogation 23 January 2025 (PDF, 132KB)"): the date is part of its name."""
_NOT_PAST = re.compile(r"\b(?:will|would|must|should|to|be|been|being|can|may|not|has|have)\s+$", re.I)
"""Words before a reporting verb that make it no report ("will be announced", "to be issued", "have
had a test")."""

_AGE = re.compile(r"\b(?:aged|age\s+of|born)\b", re.I)
_SINCE = re.compile(r"\b(?:since|ers)\s+(?:the\s+|its\s+)?$", re.I)
_AS_TITLE = re.compile(r"^\s*(?:guidance|addendum|report|survey|statistics|data|budget\s+returns?)\b", re.I)
"""A year range followed by one of these names a document ("the 2020 to 2021 academic year guidance")."""

_ROLE_WORDS: tuple[tuple[Role, re.Pattern[str]], ...] = (
    (
        "deadline",
        re.compile(
            r"\b(?:by|no\s+later\s+than|not\s+later\s+than|before|on\s+or\s+before|up\s+to|deadline\s+"
            r"(?:\w+\s+){0,6}(?:is|of)|closes?|closing\s+date\s+is|erbyn|cyn|dim\s+hwyrach\s+na)"
            r"(?:\s+(?:the|end\s+of|start\s+of|at\s+least|the\s+start\s+of|the\s+end\s+of))*\s*$",
            re.I,
        ),
    ),
    (
        "start",
        re.compile(
            r"\b(?:from|with\s+effect\s+from|starting(?:\s+from)?|start(?:s|ing)?\s+(?:in|on)|begin(?:s|ning)?"
            r"(?:\s+(?:in|on))?|commence(?:s)?(?:\s+(?:in|on))?|come\s+into\s+(?:force|effect)(?:\s+(?:on|from))?|"
            r"comes\s+into\s+(?:force|effect)(?:\s+(?:on|from))?|in\s+force\s+from|opens?(?:\s+on)?|"
            r"effective(?:\s+from)?|o|o\s+ddydd|yn\s+dod\s+i\s+rym(?:\s+ar)?|"
            r"(?:will\s+)?(?:begin|start)\s+(?:in|on))"
            r"(?:\s+(?:the|start\s+of|beginning\s+of|the\s+start\s+of|the\s+beginning\s+of))*\s*$",
            re.I,
        ),
    ),
    (
        "end",
        re.compile(r"\b(?:until|till|to|ends?(?:\s+on)?|tan|hyd\s+at)\s+(?:the\s+)?(?:end\s+of\s+)?$", re.I),
    ),
)
"""What a date is to the reader, from the words just before it; any other date is a day something
happens on (``on``)."""

_DUTY_KEYS = {"must", "must not", "required", "legally required", "mandatory", "have to"}
_DUTY_KEYS |= {"legal obligation", "legal requirement"}
_DUTY_CY = re.compile(r"\b(?:rhaid|mae['’]n\s+ofynnol|gorfod)\b", re.I)


def carries_duty(sentence: str) -> bool:
    """Whether the sentence binds someone: must, required to, mandatory, have to, a legal obligation or
    requirement (Welsh: rhaid, mae'n ofynnol, gorfod). "Should" advises and "may" permits: neither is a
    duty here, and "not required" lifts one.

    >>> carries_duty("Every new SENCO must gain the qualification.")
    True
    >>> carries_duty("You should keep a record.")
    False
    """
    return any(m.key in _DUTY_KEYS for m in duties(sentence)) or bool(_DUTY_CY.search(sentence))


@dataclass(frozen=True)
class Found:
    """One date to act on in one sentence: the phrase as written, its first day (ISO, or None where the
    text gives no calendar day: a span, a date whose year is not known), what kind of date it is and
    what it is to the reader."""

    phrase: str
    start: str | None
    kind: Kind
    role: Role


def _year(text: str | None) -> int | None:
    return int(text) if text else None


def _reported(sentence: str) -> bool:
    for match in _REPORT.finditer(sentence):
        if not _NOT_PAST.search(sentence[: match.start()]):
            return True
    return False


def _context_year(text: str) -> int | None:
    """The one year a text gives, or None when it gives none or several."""
    years = {int(y) for y in re.findall(rf"(?<![\d£])({_YEAR})(?!\d)", text)}
    return years.pop() if len(years) == 1 else None


def _role(before: str) -> Role:
    for role, pattern in _ROLE_WORDS:
        if pattern.search(before):
            return role
    return "on"


def _iso(year: int | None, month: int, day: int = 1) -> str | None:
    if year is None:
        return None
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def dates_in(sentence: str, heading: str = "") -> list[Found]:
    """The dates to act on in one sentence, in order; ``heading`` is its section's heading, where a date
    written without its year may find it.

    >>> [(f.phrase, f.start, f.role) for f in dates_in("Teaching of the NPQ will begin in autumn 2024.")]
    [('autumn 2024', '2024-09-01', 'start')]
    >>> dates_in("This was published in 2014.")
    []
    >>> [(f.phrase, f.start) for f in dates_in("Rhaid cyflwyno'r ffurflen erbyn 31 Mawrth 2025.")]
    [('31 Mawrth 2025', '2025-03-31')]
    """
    if _reported(sentence) or _ENTRY.match(sentence) or _NAMES_A_FILE.search(sentence):
        return []
    placed: list[tuple[int, Found, tuple[int, int] | None]] = []
    """(where it stands, the date, (month, day) when its year is not written)."""
    for listed in _RANGE_LIST.finditer(sentence):
        tail = re.match(r"\S+\s+(?:to|-|–|/)\s*\S+\s+(\w+)", sentence[listed.end() :])
        kind = _year_kind(tail.group(1) if tail else "")
        role = _role(sentence[: listed.start()])
        for one in _LISTED_RANGE.finditer(listed.group()):
            year = Found(one.group(), _year_start(kind, int(one.group("y1"))), kind, role)
            placed.append((listed.start() + one.start(), year, None))
    for match in _MENTION.finditer(sentence):
        mention = _mention(match, sentence)
        if mention is not None:
            placed.append((match.start(), *mention))
    placed.sort(key=lambda p: p[0])
    found = [p[1] for p in placed]
    if any(p[2] for p in placed):
        _give_years(found, [p[2] for p in placed], sentence, heading)
    for pair in _TERM_PAIR.finditer(sentence):
        season = pair.group("first").casefold()
        term = Found(pair.group("first"), _iso(int(pair.group("year")), _TERM_START[season]), "term", "on")
        found.insert(next((n for n, p in enumerate(placed) if p[0] > pair.start()), len(placed)), term)
    for span in _SPAN.finditer(sentence):
        if carries_duty(sentence[: span.start()]):
            found.append(Found(span.group().strip(" ,"), None, "span", "deadline"))
    return found


def _mention(match: re.Match[str], sentence: str) -> tuple[Found, tuple[int, int] | None] | None:
    """The date one match of :data:`_MENTION` names, with (month, day) when its year is not written; None
    when it is no date to act on."""
    before, after = sentence[: match.start()], sentence[match.end() :]
    if _SINCE.search(before) or re.search(r"\bdated\s+$", before):
        return None
    role = _role(before)
    phrase = match.group().strip()
    fixes_age = bool(_AGE.search(before) and re.search(r"\bon\s+(?:the\s+)?$", before))
    if match.group("dm") or match.group("md"):
        month = _MONTH_NUMBER[(match.group("m1") or match.group("m2")).casefold()]
        day = int(re.sub(r"\D", "", match.group("d1") or match.group("d2")))
        year = _year(match.group("y_dm") or match.group("y_md"))
        if fixes_age:
            return None
        return Found(phrase, _iso(year, month, day), "day", role), None if year else (month, day)
    if match.group("term") or match.group("yterm") or match.group("cyterm"):
        season = (match.group("season") or match.group("season2") or match.group("tymor")).casefold()
        year = _year(match.group("y_t") or match.group("y_yt") or match.group("y_cy"))
        if year is None and not re.search(r"\b(?:term|tymor)\b", phrase, re.I):
            return None  # "spring" alone, without "term" or a year, is the season, not a date
        month = _TERM_START[season]
        return Found(phrase, _iso(year, month), "term", role), None if year else (month, 1)
    if match.group("yr1") or match.group("yr2"):
        if _AS_TITLE.match(after):
            return None
        kind = _year_kind(match.group("yk") or match.group("yk_cy") or match.group("yk_b"))
        first = int(match.group("y1") or match.group("y1_b"))
        return Found(phrase, _year_start(kind, first), kind, role), None
    name = match.group("m3")
    year = _year(match.group("y_m"))
    if (year is None and not _bare_month(name, before)) or fixes_age:
        return None
    month = _MONTH_NUMBER[name.casefold()]
    return Found(phrase, _iso(year, month), "month", role), None if year else (month, 1)


def _bare_month(name: str, before: str) -> bool:
    """A month named without a year is a date only after a word that dates something ("from
    September", "by the end of March"): "the June announcement" names an event, and "May" is the month
    only after "in", "by", "from", "until", "before" or "during", being as often the verb."""
    if name in ("May", "Mai", "Fai"):  # the month only where a date word stands just before it
        return bool(re.search(r"\b(?:in|by|from|until|before|during|erbyn|ym\s+mis)\s+$", before))
    return bool(
        re.search(
            r"\b(?:from|by|in|until|till|before|after|for|during|of|ym\s+mis|o|erbyn|tan|cyn)\s+$",
            before,
            re.I,
        )
    )


def _year_kind(word: str) -> Kind:
    """The kind of year a word names ("financial", "ariannol", "tax"); any other is an academic year."""
    word = word.casefold()
    if word in ("financial", "ariannol"):
        return "financial-year"
    if word == "tax":
        return "tax-year"
    return "academic-year"


def _year_start(kind: Kind, year: int) -> str | None:
    """The day a year of ``kind`` begins: an academic year on 1 September, a financial year on 1 April,
    a tax year on 6 April."""
    return _iso(year, *{"financial-year": (4, 1), "tax-year": (4, 6)}.get(kind, (9, 1)))


def _give_years(
    found: list[Found], missing: Sequence[tuple[int, int] | None], sentence: str, heading: str
) -> None:
    """Give each date written without its year (``missing[i]`` is its month and day) the one year its
    sentence, else its heading, gives; without one it keeps no calendar day.

    In a range ("from 1 September to 31 March 2022") a date whose month comes after the month of the
    dated day that follows it lies in the year before.
    """
    year = _context_year(sentence)
    in_sentence = year is not None
    if year is None:
        year = _context_year(heading)
    if year is None:
        return
    for index, month_day in enumerate(missing):
        if month_day is None:
            continue
        month, day = month_day
        given = year
        later = zip(found[index + 1 :], missing[index + 1 :], strict=True)
        following = next((f.start for f, m in later if m is None and f.start), None)
        if in_sentence and following is not None and month > int(following[5:7]):
            given = year - 1
        found[index] = replace(found[index], start=_iso(given, month, day))


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
    text = _MENTION.sub("§", sentence)
    text = re.sub(r"\d+", "#", text)
    return " ".join(re.findall(r"[\w§#£]+", text.casefold()))


def page_dates(document: Document) -> list[PageDate]:
    """Every date to act on in a Document's sections, in reading order (never its history or its
    Published and Last updated dates, which are not in its sections)."""
    found: list[PageDate] = []
    for section in document.sections:
        for line in section.text.split("\n"):
            found += _dated(document.url, section.heading, sentences(line.split()))
    return _unique_keys(found)


def _dated(page_url: str, heading: str, said: Iterable[str]) -> list[PageDate]:
    """The dates to act on in these sentences of one section."""
    found: list[PageDate] = []
    for sentence in said:
        mentions = dates_in(sentence, heading)
        duty = carries_duty(sentence) if mentions else False
        shape = masked(sentence)
        for n, m in enumerate(mentions):
            found.append(
                PageDate(page_url, heading, sentence, m.phrase, m.start, m.kind, m.role, duty, f"{shape}#{n}")
            )
    return found


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
