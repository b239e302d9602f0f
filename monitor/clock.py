"""Times: UTC in the database, Europe/London when shown to people.

Every stage stamps and reads times through these few functions, so the database holds one timestamp
form (``2026-11-28T07:00:00Z``) and people always see the London clock, across the changes to and from
summer time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def utc_timestamp(when: datetime) -> str:
    """The database's timestamp form; a naive datetime is taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now() -> str:
    return utc_timestamp(datetime.now(UTC))


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp (``Z`` or an offset; none means UTC) as an aware datetime."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def london_day(value: str | None) -> str | None:
    """The ISO date on the London clock of a timestamp; a bare date stays as it is."""
    if not value:
        return None
    if len(value) == 10:
        return value
    try:
        return parse_timestamp(value).astimezone(LONDON).date().isoformat()
    except ValueError:
        return value[:10]


def london_moment(value: str | date | datetime) -> datetime | date:
    """A timestamp on the London clock; a bare date stays a date."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LONDON)
    if isinstance(value, date):
        return value
    if len(value) == 10:
        return date.fromisoformat(value)
    return parse_timestamp(value).astimezone(LONDON)


def london_time(
    value: str | datetime | None, *, seconds: bool = False, zone: bool = False, missing: str = "never"
) -> str:
    """A timestamp as people read it in logs and listings: ``2026-11-28 07:00 GMT``."""
    if not value:
        return missing
    moment = london_moment(value)
    form = "%Y-%m-%d %H:%M" + (":%S" if seconds else "") + (" %Z" if zone else "")
    return moment.strftime(form)


def london_date(value: str | date | datetime | None, *, year: bool = True) -> str:
    """A date as people read it, a UTC timestamp turned to the London clock first; text that is not a
    date is left as it is.

    >>> london_date("2026-03-29T23:30:00Z"), london_date("2026-11-27", year=False)
    ('30 March 2026', '27 November')
    """
    if value is None or value == "":
        return ""
    try:
        moment = london_moment(value)
    except ValueError:
        return str(value)
    text = f"{moment.day} {moment:%B}"
    return f"{text} {moment.year}" if year else text
