"""Normalisers every reader shares, so the same visible fact reads the same whatever the source.

Dates become ISO ``YYYY-MM-DD`` as a person in the UK saw them (GOV.UK shows dates in Europe/London);
text has its whitespace folded; sizes become bytes as GOV.UK displays them; attachment addresses become
absolute and lose tracking parameters.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from urllib.parse import urlsplit

from .. import govuk
from ..clock import LONDON

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan", "ionawr"),
            ("february", "feb", "chwefror"),
            ("march", "mar", "mawrth"),
            ("april", "apr", "ebrill"),
            ("may", "mai"),
            ("june", "jun", "mehefin"),
            ("july", "jul", "gorffennaf"),
            ("august", "aug", "awst"),
            ("september", "sep", "sept", "medi"),
            ("october", "oct", "hydref"),
            ("november", "nov", "tachwedd"),
            ("december", "dec", "rhagfyr"),
        ],
        start=1,
    )
    for name in names
}
"""Month names and abbreviations in English and in Welsh (GOV.UK's Welsh pages write "5 Gorffennaf 2023")."""
DISPLAY_DATE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([^\W\d_]+)\.?,?\s+(\d{4})\b", re.IGNORECASE)
"""A date's shape: a day, a word, a year. The word is a month when :data:`MONTHS` knows it: one look-up,
where an alternation of every month name made each date cost as much as reading a paragraph."""


def fold(text: str | None) -> str:
    """Fold every run of whitespace (including non-breaking spaces) into one space, and trim."""
    return " ".join((text or "").split())


def display_date(text: str | None) -> str | None:
    """The first date written out as people read it ("5 July 2023", "1st January 1990"), as ISO.

    >>> display_date("Last updated 2 February 2024")
    '2024-02-02'
    >>> display_date("1st Jan. 1990"), display_date("31 February 2020")
    ('1990-01-01', None)
    >>> display_date("Cyhoeddwyd ar 5 Gorffennaf 2023")
    '2023-07-05'
    """
    text = text or ""
    match = DISPLAY_DATE.search(text)
    while match and match[2].lower() not in MONTHS:  # "5 Mayday 2020": try further on
        match = DISPLAY_DATE.search(text, match.start() + 1)
    if not match:
        return None
    try:
        return date(int(match[3]), MONTHS[match[2].lower()], int(match[1])).isoformat()
    except ValueError:
        return None


def timestamp_date(value: str | None) -> str | None:
    """The London calendar date of an ISO 8601 timestamp, as GOV.UK prints it beside a change.

    >>> timestamp_date("2023-07-04T23:30:00Z")  # half past midnight in London, summer time
    '2023-07-05'
    >>> timestamp_date("2016-01-17"), timestamp_date("")
    ('2016-01-17', None)
    """
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        match = re.match(r"\d{4}-\d{2}-\d{2}", text)
        return match[0] if match else None
    if moment.tzinfo is not None:
        moment = moment.astimezone(LONDON)
    return moment.date().isoformat()


_SIZE = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(bytes?|kb|mb|gb|tb)\b", re.IGNORECASE)
_UNITS = {"byte": 0, "bytes": 0, "kb": 1, "mb": 2, "gb": 3, "tb": 4}


def size_bytes(text: str | None) -> int | None:
    """Bytes from a displayed size ("245KB", "1.84 MB", "300 Bytes"); GOV.UK counts in powers of 1024.

    >>> size_bytes("PDF, 245KB, 12 pages"), size_bytes("1.84 MB"), size_bytes("300 Bytes")
    (250880, 1929380, 300)
    >>> size_bytes("no size") is None
    True
    """
    match = _SIZE.search(text or "")
    if not match:
        return None
    number = float(match[1].replace(",", ""))
    unit: int = 1024 ** _UNITS[match[2].lower()]
    return round(number * unit)


_PAGES = re.compile(r"\b(\d[\d,]*)\s+pages?\b", re.IGNORECASE)


def page_count(text: str | None) -> int | None:
    """The number of pages GOV.UK gives beside an attachment ("PDF, 245KB, 12 pages").

    >>> page_count("PDF, 245KB, 12 pages"), page_count("1 page"), page_count("CSV, 1.84 MB")
    (12, 1, None)
    """
    match = _PAGES.search(text or "")
    return int(match[1].replace(",", "")) if match else None


def displayed_size(size: int | None) -> int | None:
    """``size`` rounded as GOV.UK displays it (three significant figures, powers of 1024), in bytes.

    The page shows "1.84 MB" where the Content API gives 1932905: rounding the API's exact size the way the
    page does makes both sources agree, and a change only counts when a reader could see it.

    >>> displayed_size(1932905) == size_bytes("1.84 MB"), displayed_size(300)
    (True, 300)
    """
    if size is None or size < 0:
        return size
    exponent = 0 if size < 1024 else min(int(math.log(size, 1024)), 4)
    value: float = size / 1024**exponent
    if value >= 1024 and exponent < 4:
        exponent, value = exponent + 1, value / 1024
    if exponent == 0:
        return size
    digits = max(0, 3 - len(str(int(value))))
    unit: int = 1024**exponent
    return round(round(value, digits) * unit)


absolute_url = govuk.absolute
"""Re-exported for the readers: links made absolute, without tracking parameters or a fragment."""


_KIND_BY_CONTENT_TYPE = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/plain": "txt",
    "text/html": "html",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/zip": "zip",
    "application/xml": "xml",
    "application/json": "json",
}


def attachment_kind(url: str, shown: str = "", content_type: str = "") -> str:
    """The format of an attachment in lower case: its file extension, else what the page or API calls it."""
    if fold(shown).lower() == "html":
        return "html"
    match = re.search(r"\.([A-Za-z0-9]{2,5})$", urlsplit(url).path)
    if match:
        return match[1].lower()
    if content_type:
        return _KIND_BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower(), "")
    return fold(shown).lower()


STATISTICS_TYPES = frozenset(
    {"national_statistics", "official_statistics", "accredited_official_statistics", "statistics"}
)


def page_type_for(schema: str, document_type: str = "") -> str:
    """GOV.UK's word for a page's type: its schema ("publication", "detailed_guide", "guide",
    "html_publication" ...), or "statistics" for the statistics document types."""
    if document_type in STATISTICS_TYPES:
        return "statistics"
    return schema or document_type
