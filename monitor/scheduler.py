"""``guidance-monitor serve``: run the same job as ``guidance-monitor run`` on the configured schedule.

Set up once and forget: the schedule is ``schedule.cron`` read in ``schedule.timezone`` (Europe/London by
default), so a daily 07:00 run stays at 07:00 on the clock across the changes to and from summer time.
Runs missed while the machine slept, or while the service was stopped, are made up by one catch-up run
(never several) when the last one is no more than ``MISFIRE_GRACE`` old. SIGTERM and SIGINT let the page in
hand finish, then the service exits with status 0. The run lock is the one ``guidance-monitor run`` takes:
a run that finds it held is skipped and logged.

The configuration file is read again before each run, so edits to the watch list apply from the next run;
the schedule itself is read when the service starts.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import config as config_module
from .clock import LONDON, london_time, parse_timestamp
from .model import RunSummary
from .settings import ScheduleSettings
from .store import LockHeld, Store, StoreError

log = logging.getLogger("monitor.serve")

MISFIRE_GRACE = 3600
"""Seconds after its time that a missed run is still made up (once) rather than dropped."""
JOB_ID = "run"

Job = Callable[[Callable[[], bool]], Any]
"""What the service runs: given a ``should_stop`` callable, one whole run."""


# --------------------------------------------------------------------------- the schedule


def cron_trigger(schedule: ScheduleSettings) -> CronTrigger:
    """The configured schedule: five-field cron, read on the clock of ``schedule.timezone``."""
    return CronTrigger.from_crontab(schedule.cron, timezone=ZoneInfo(schedule.timezone))


def interval_trigger(seconds: float, timezone: str = "Europe/London") -> IntervalTrigger:
    """Every ``seconds`` seconds: ``serve --every`` (cron's finest step is a minute; this is for tests)."""
    return IntervalTrigger(seconds=seconds, timezone=ZoneInfo(timezone))


def next_runs(trigger: BaseTrigger, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` times ``trigger`` fires strictly after ``after``."""
    times: list[datetime] = []
    previous: datetime | None = None
    now = after + timedelta(microseconds=1)
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None:
            break
        times.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
    return times


def missed_run(
    trigger: BaseTrigger, last_run: datetime | None, now: datetime, grace: float = MISFIRE_GRACE
) -> datetime | None:
    """The scheduled time passed since ``last_run`` (and within ``grace`` of now), if there is one.

    Used at start-up: a service stopped over its run time makes it up once when it comes back.
    """
    since = now - timedelta(seconds=grace)
    if last_run is not None and last_run > since:
        since = last_run + timedelta(microseconds=1)
    fire = trigger.get_next_fire_time(None, since)
    return fire if fire is not None and fire <= now else None


# --------------------------------------------------------------------------- logging


class LondonFormatter(logging.Formatter):
    """Log times on the clock people in England read (times in the database stay UTC)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        when = datetime.fromtimestamp(record.created, LONDON)
        return when.strftime(datefmt or "%Y-%m-%d %H:%M:%S %Z")


def setup_logging(level: int = logging.INFO) -> None:
    """One line per event on stderr, for journald, a container log or a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LondonFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def summary_line(summary: RunSummary) -> str:
    parts = [f"checked {summary.checked}", f"changed {summary.changed}", f"failed {summary.failed}"]
    if summary.digest_sent:
        parts.append("digest sent")
    if summary.site_dir:
        parts.append(f"site in {summary.site_dir}")
    return "run finished: " + ", ".join(parts)


# --------------------------------------------------------------------------- the job


def run_job(config_path: str | None, should_stop: Callable[[], bool]) -> RunSummary | None:
    """One scheduled run: the same work as ``guidance-monitor run``, under the same lock.

    Never raises: a broken configuration, a held lock or a failed run is logged, and the service goes on
    to the next scheduled time.
    """
    from . import pipeline

    try:
        config = config_module.load(config_path)
    except config_module.ConfigError as exc:
        log.error("config: %s; run skipped", exc)
        return None
    try:
        with Store(config.database) as store, store.lock():
            log.info("run started")
            summary = pipeline.run(config, store, should_stop=should_stop)
    except LockHeld as exc:
        log.warning("%s; this run is skipped", exc)
        return None
    except StoreError as exc:
        log.error("database: %s; run skipped", exc)
        return None
    except Exception:
        log.exception("run failed")
        return None
    for name, reason in summary.failures:
        if name in ("digest", "site"):
            log.warning("%s: %s", name, reason)
    log.info("%s", summary_line(summary))
    return summary


def last_run(config_path: str | None) -> datetime | None:
    """When the last run checked a page, from the database (None for a new one)."""
    try:
        config = config_module.load(config_path)
        with Store(config.database) as store:
            times = [p.last_checked for p in store.pages(active_only=False) if p.last_checked]
    except Exception:
        return None
    if not times:
        return None
    return parse_timestamp(max(times))


# --------------------------------------------------------------------------- the service


class Service:
    """The scheduler, its one job, and a clean stop on SIGTERM or SIGINT."""

    def __init__(
        self,
        job: Job,
        trigger: BaseTrigger,
        *,
        timezone: str = "Europe/London",
        grace: float = MISFIRE_GRACE,
    ) -> None:
        self.job = job
        self.trigger = trigger
        self.grace = grace
        self.stopping = threading.Event()
        self.scheduler = BackgroundScheduler(
            timezone=ZoneInfo(timezone),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": int(grace)},
        )
        self.scheduler.add_listener(self._missed, EVENT_JOB_MISSED)

    def _run(self) -> None:
        if not self.stopping.is_set():
            self.job(self.stopping.is_set)

    def _missed(self, event: JobExecutionEvent) -> None:
        log.warning(
            "the run due at %s was missed by more than %d s",
            _log_time(event.scheduled_run_time),
            self.grace,
        )

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Ask the service to stop: the page in hand finishes, no new page or run starts."""
        if not self.stopping.is_set():
            name = signal.Signals(signum).name if signum else "stop"
            log.info("%s received: finishing the page in hand, then stopping", name)
        self.stopping.set()

    def serve(self, *, run_now: bool = False, last_run: datetime | None = None) -> int:
        """Run until stopped; returns the exit status (0)."""
        now = datetime.now(UTC)
        first: datetime | None = None
        if run_now:
            first = now
        else:
            missed = missed_run(self.trigger, last_run, now, self.grace)
            if missed is not None:
                log.info(
                    "the run due at %s did not happen: running it now",
                    _log_time(missed),
                )
                first = now
        options: dict[str, Any] = {"id": JOB_ID, "name": "guidance-monitor run"}
        if first is not None:
            options["next_run_time"] = first
        job = self.scheduler.add_job(self._run, self.trigger, **options)
        self.scheduler.start()
        log.info("serving: next run at %s", _log_time(job.next_run_time))
        try:
            while not self.stopping.wait(0.5):
                pass
        finally:
            self.scheduler.shutdown(wait=True)
        log.info("stopped")
        return 0


def _log_time(when: datetime | None) -> str:
    return london_time(when, seconds=True, zone=True)


def serve(config_path: str | None, *, once: bool = False, every: float | None = None) -> int:
    """``guidance-monitor serve``: the schedule from the configuration (or every ``every`` seconds)."""
    setup_logging()
    config = config_module.load(config_path)
    schedule = config.schedule
    trigger = interval_trigger(every, schedule.timezone) if every else cron_trigger(schedule)
    service = Service(
        lambda should_stop: run_job(config_path, should_stop), trigger, timezone=schedule.timezone
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, service.stop)
    return service.serve(run_now=once, last_run=None if once or every else last_run(config_path))
