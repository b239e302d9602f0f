"""Dates in one sentence: what a sentence of guidance gives a date for, and what that date is to a reader.

Pure and sentence by sentence; :mod:`monitor.deadlines` reads a page's sections with it and follows
each date from one version to the next. The rules (which words make a date, which sentences report the
past, which name a file or an age) are held to the labelled table ``tests/deadline_cases.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from .mentions import duties

Kind = Literal["day", "month", "term", "academic-year", "financial-year", "tax-year", "span"]
Role = Literal["deadline", "start", "end", "on"]

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


MENTION = re.compile(
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

_ANY_DATE = re.compile(rf"{_MONTH}|[Aa]utumn|[Ss]pring|[Ss]ummer|tymor|{_YEAR}|within|later\s+than|o\s+fewn")
"""What every date :func:`dates_in` finds has in it: a month, a season or term, a year, or the words a
span begins with. Text without any of these holds no date to act on."""


def may_hold_a_date(text: str) -> bool:
    """Whether ``text`` has what a date to act on needs (False: it has none, so most lines of a page are
    passed over without being split into sentences).

    >>> may_hold_a_date("Contact your local authority."), may_hold_a_date("Apply by 31 March.")
    (False, True)
    """
    return _ANY_DATE.search(text) is not None


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
    if (
        not may_hold_a_date(sentence)
        or _reported(sentence)
        or _ENTRY.match(sentence)
        or _NAMES_A_FILE.search(sentence)
    ):
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
    for match in MENTION.finditer(sentence):
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
    """The date one match of :data:`MENTION` names, with (month, day) when its year is not written; None
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
