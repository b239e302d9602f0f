"""``guidance-monitor serve``: the schedule's clock, catch-up after a stop, and the service end to end."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Response
from run_support import ATTENDANCE, SEND, SMHL, capture, open_store, page_path, write_config

from monitor.scheduler import cron_trigger, missed_run, next_runs
from monitor.settings import ScheduleSettings

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


# --------------------------------------------------------------------------- the service, end to end


def start_serve(config: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "serve", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Log:
    """The service's stderr, read line by line as it comes."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(text in line for line in self.lines) >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"{count} x {text!r} not logged in {timeout} s:\n" + "\n".join(self.lines))

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


def stop(process: subprocess.Popen, log: Log, timeout: float = 20) -> int:
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=timeout)
    log.thread.join(timeout=5)
    return status


def integrity(tmp_path: Path) -> str:
    with open_store(tmp_path) as store:
        return store.integrity_check()


@pytest.fixture
def two_pages(tmp_path, page_server):
    page_server.routes[page_path(SMHL)] = Response(body=capture(SMHL, "2022-07-11"))
    page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-05-06"))
    return write_config(tmp_path, page_server.base_url, [page_path(SMHL), page_path(ATTENDANCE)])


def test_serve_runs_on_schedule_and_stops_cleanly_on_sigterm(tmp_path, page_server, two_pages):
    process = start_serve(two_pages, "--every", "2")
    log = Log(process)
    try:
        log.wait_for("run finished", count=2)
    finally:
        status = stop(process, log)
    assert status == 0, "\n".join(log.lines)
    assert log.count("run finished: checked 2") >= 2
    assert log.count(page_server.url(page_path(SMHL))) >= 2  # a line per page per run
    assert log.lines[-1].endswith("stopped")
    assert integrity(tmp_path) == "ok"
    with open_store(tmp_path) as store:
        for folder in (SMHL, ATTENDANCE):
            url = page_server.url(page_path(folder))
            assert len(store.fetches(url)) >= 2
            assert len(store.snapshots(url)) == 1
            assert [c.kind for c in store.changes(page_url=url, include_backfilled=False)] == ["new"]
    # Times in the log are on the London clock.
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT|BST) INFO ", log.lines[0])


def test_sigterm_during_a_run_finishes_the_page_in_hand_only(tmp_path, page_server):
    # One page at a time, in address order: SEND (quick), ATTENDANCE (slow), SMHL (quick).
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2022-02-24"))
    page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-05-06"), delay=1.5)
    page_server.routes[page_path(SMHL)] = Response(body=capture(SMHL, "2022-07-11"))
    pages = [page_path(SEND), page_path(ATTENDANCE), page_path(SMHL)]
    config = write_config(tmp_path, page_server.base_url, pages, concurrency=1, timeout=5)
    process = start_serve(config, "--once", "--every", "600")
    log = Log(process)
    try:
        log.wait_for(page_server.url(page_path(SEND)))  # SEND is stored; ATTENDANCE is in hand
    finally:
        status = stop(process, log)
    assert status == 0, "\n".join(log.lines)
    assert integrity(tmp_path) == "ok"
    with open_store(tmp_path) as store:
        assert len(store.snapshots(page_server.url(page_path(SEND)))) == 1
        assert len(store.snapshots(page_server.url(page_path(ATTENDANCE)))) == 1
        assert store.fetches(page_server.url(page_path(SMHL))) == []
    assert page_server.hits(page_path(SMHL)) == []


def test_a_run_finding_the_lock_held_is_skipped(tmp_path, page_server, two_pages):
    with open_store(tmp_path) as store, store.lock():
        process = start_serve(two_pages, "--once", "--every", "60")
        log = Log(process)
        try:
            log.wait_for("this run is skipped")
        finally:
            status = stop(process, log)
    assert status == 0
    assert page_server.requests == []
