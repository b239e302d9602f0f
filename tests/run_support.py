"""What the run tests share: real captures served as successive versions of a page, and a config for them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from monitor.changes import page_update, unchanged_update
from monitor.clock import utc_now
from monitor.model import Answer, Change, Document, FetchResult, PageState
from monitor.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
TIMELINE = FIXTURES / "html_timeline"

SMHL = "guidance~senior-mental-health-lead-training"
ATTENDANCE = "government~publications~school-attendance"
SEND = "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
SEND_ADDITIONAL = SEND + "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
SEND_TESTING = SEND + "~rapid-asymptomatic-testing-in-specialist-settings"


def page_path(folder: str) -> str:
    """The GOV.UK path of a timeline folder (``~`` stands for ``/``)."""
    return "/" + folder.replace("~", "/")


def captures(folder: str) -> list[bytes]:
    """Every capture of a page, oldest first."""
    return [f.read_bytes() for f in sorted((TIMELINE / folder).glob("*/*.html"))]


def capture(folder: str, stamp: str) -> bytes:
    """The capture whose folder starts with ``stamp`` (e.g. ``2022-07-11``)."""
    [file] = (TIMELINE / folder).glob(f"{stamp}*/*.html")
    return file.read_bytes()


def write_config(tmp_path: Path, base_url: str, pages: list, **fetch: object) -> Path:
    """A config for pages on a test server: fast timeouts, few retries, no politeness delay to wait on."""
    settings = {"source": "html", "timeout": 2, "retries": 2, "rate_per_host": 200, "concurrency": 4, **fetch}
    data = {
        "database": "monitor.db",
        "site_dir": "site",
        "govuk_base_url": base_url,
        "pages": pages,
        "fetch": settings,
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def open_store(tmp_path: Path) -> Store:
    return Store(tmp_path / "monitor.db")


def record(
    store: Store,
    url: str,
    fetch: FetchResult,
    document: Document | None,
    body: bytes | None,
    changes: list[Change],
    *,
    read_key: str | None = None,
) -> list[Change]:
    """Write one check's result as the pipeline would: the page's new state worked out by the rules
    (``changes.page_update``) from the page as stored, then written by the store."""
    page = store.page(url) or PageState(url)
    recent = store.recent_snapshots(url, 1)
    update = page_update(
        page,
        fetch,
        utc_now(),
        changes=changes,
        previous=recent[0] if recent else None,
        document=document,
        body=body,
        read_key=read_key,
    )
    return store.write(update)


def record_unchanged(store: Store, url: str, fetch: FetchResult, *, body_hash: str | None = None) -> None:
    """Write a check that found the page as it was (``changes.unchanged_update``)."""
    answer = Answer(fetch, body_hash=body_hash, same=body_hash is not None)
    store.write(unchanged_update(url, answer, utc_now()))


UNPRIVILEGED = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search,-fowner",
    "--bounding-set=-dac_override,-dac_read_search,-fowner",
    "--",
)
"""Run a command without the power to pass over file permissions: the suite may run as root (in CI),
whose processes write a folder whatever its mode. Without those capabilities a root process is held to
the owner's bits, as any user is (setpriv, util-linux)."""


def unprivileged() -> tuple[str, ...]:
    """The prefix that runs a command held to file permissions, or a skip where that cannot be done."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    return UNPRIVILEGED


def run_cli(
    config: Path, *args: str, timeout: float = 120, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """``guidance-monitor ARGS --config CONFIG`` in a process of its own, as cron runs it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "monitor", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
