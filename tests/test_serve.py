"""``guidance-monitor serve``: the schedule's clock, catch-up after a stop, and the service end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.model import ScheduleSettings
from monitor.scheduler import cron_trigger, missed_run, next_runs

LONDON = ZoneInfo("Europe/London")
DAILY_7AM = cron_trigger(ScheduleSettings(cron="0 7 * * *", timezone="Europe/London"))

# The clocks change at 01:00 UTC on the last Sunday of March (forward) and of October (back).
# after (UTC) -> the next three runs (UTC): 06:00Z in summer time, 07:00Z in winter.
CLOCK_CHANGES = [
    ("2026-03-28T08:00", ["2026-03-29T06:00", "2026-03-30T06:00", "2026-03-31T06:00"]),
    ("2026-03-29T00:30", ["2026-03-29T06:00", "2026-03-30T06:00", "2026-03-31T06:00"]),
    ("2026-10-24T08:00", ["2026-10-25T07:00", "2026-10-26T07:00", "2026-10-27T07:00"]),
    ("2026-10-25T00:30", ["2026-10-25T07:00", "2026-10-26T07:00", "2026-10-27T07:00"]),
    ("2027-03-27T08:00", ["2027-03-28T06:00", "2027-03-29T06:00", "2027-03-30T06:00"]),
    ("2027-10-30T08:00", ["2027-10-31T07:00", "2027-11-01T07:00", "2027-11-02T07:00"]),
    ("2027-03-26T06:30", ["2027-03-26T07:00", "2027-03-27T07:00", "2027-03-28T06:00"]),
    ("2027-10-29T06:30", ["2027-10-30T06:00", "2027-10-31T07:00", "2027-11-01T07:00"]),
]


@pytest.mark.parametrize("after,expected", CLOCK_CHANGES)
def test_runs_stay_at_seven_on_the_london_clock(after, expected):
    start = datetime.fromisoformat(after).replace(tzinfo=UTC)
    runs = next_runs(DAILY_7AM, start, 3)
    assert [r.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") for r in runs] == expected
    assert all(r.astimezone(LONDON).strftime("%H:%M") == "07:00" for r in runs)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# last run, now -> the run to make up at start-up (None: nothing missed, or missed too long ago)
MISSED = [
    ("2026-06-01T06:00:05", "2026-06-02T06:20", "2026-06-02T06:00"),  # stopped over 07:00 BST, back 20 min on
    ("2026-06-01T06:00:05", "2026-06-02T05:50", None),  # back before the run time
    ("2026-06-02T06:00:05", "2026-06-02T06:20", None),  # today's run happened
    ("2026-05-28T06:00:05", "2026-06-02T06:30", "2026-06-02T06:00"),  # five days asleep: one run, not five
    ("2026-06-01T06:00:05", "2026-06-02T08:00", None),  # beyond the hour's grace: wait for tomorrow
    (None, "2026-06-02T06:10", "2026-06-02T06:00"),  # a new database
]


@pytest.mark.parametrize("last,now,expected", MISSED)
def test_a_run_missed_while_stopped_is_made_up_once(last, now, expected):
    fire = missed_run(DAILY_7AM, utc(last) if last else None, utc(now), grace=3600)
    assert (fire.astimezone(UTC) if fire else None) == (utc(expected) if expected else None)


def test_missed_run_respects_a_shorter_grace():
    assert missed_run(DAILY_7AM, None, utc("2026-06-02T06:10"), grace=300) is None
    assert missed_run(DAILY_7AM, None, utc("2026-06-02T06:04"), grace=300) == utc("2026-06-02T06:00")
