"""A run killed with SIGKILL at any point loses nothing and records nothing twice.

``guidance-monitor run`` runs as a real process over 50 pages served from 127.0.0.1 (each answer a little
slow, so the run is still going when it is killed); the test watches its fetch rows through a read-only
connection and kills it after a given number, at whatever instant that lands on. The run after it
must find a sound database and finish the job: every page's changes recorded exactly once.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Response
from run_support import SMHL, capture, open_store, write_config

PAGES = [f"/guidance/watched-page-{n:02d}" for n in range(50)]
V1 = capture(SMHL, "2022-07-11")
V2 = capture(SMHL, "2022-08-18")


def serve(server, body: bytes) -> None:
    for path in PAGES:
        server.routes[path] = Response(body=body, delay=0.03)


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor", "run", "--config", str(config), "--no-deliver", "--no-site"]


def fetch_rows(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0  # not created yet


def run_and_kill(config: Path, database: Path, after_rows: int) -> None:
    """Start a run and SIGKILL it once ``after_rows`` more fetch rows are in the database."""
    start = fetch_rows(database)
    process = subprocess.Popen(command(config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    try:
        while fetch_rows(database) < start + after_rows:
            assert process.poll() is None, f"the run ended before it could be killed: {process.stderr.read()}"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    assert process.returncode == -signal.SIGKILL


def run_to_the_end(config: Path) -> None:
    finished = subprocess.run(command(config), capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert finished.stdout.startswith("Checked 50 pages:")


@pytest.mark.slow
@pytest.mark.parametrize("kills", [(0, 1, 20), (7, 33)])
def test_killed_runs_lose_nothing_and_record_nothing_twice(tmp_path, page_server, kills):
    config = write_config(tmp_path, page_server.base_url, PAGES, concurrency=4)
    database = tmp_path / "monitor.db"
    urls = [page_server.url(p) for p in PAGES]

    serve(page_server, V1)
    for after_rows in kills:
        run_and_kill(config, database, after_rows)
    run_to_the_end(config)
    with open_store(tmp_path) as store:
        assert store.integrity_check() == "ok"
        _, document = store.last_snapshot(urls[0])
        history = len(document.change_history)
        for url in urls:
            assert len(store.snapshots(url)) == 1, url
            changes = store.changes(page_url=url)
            assert [c.kind for c in changes if not c.backfilled] == ["new"], url
            assert len([c for c in changes if c.backfilled]) == history, url
            assert store.page(url).consecutive_failures == 0

    serve(page_server, V2)
    for after_rows in kills:
        run_and_kill(config, database, after_rows + 1)
    run_to_the_end(config)
    with open_store(tmp_path) as store:
        assert store.integrity_check() == "ok"
        assert len(store.undelivered("email")) == 100
        for url in urls:
            first, second = store.snapshots(url)
            kinds = [(c.kind, c.old_snapshot_id, c.new_snapshot_id) for c in store.changes(page_url=url)]
            assert kinds[:2] == [("major", first["id"], second["id"]), ("new", None, first["id"])], url
            assert len(kinds) == 2 + history
