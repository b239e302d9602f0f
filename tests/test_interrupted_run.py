"""A run stopped by Ctrl-C (SIGINT) or SIGTERM says how many pages it recorded and that the digest and
site were skipped, and exits 130 or 143; what it recorded is whole. A real ``run`` in a subprocess, and a
slow page on a real server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Response
from run_support import ATTENDANCE, SEND, SMHL, capture, page_path, write_config

ROOT = Path(__file__).parent.parent


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_what_it_kept_and_what_it_skipped(tmp_path, page_server, signum, status):
    # One page at a time, in address order: SEND (quick), ATTENDANCE (slow), SMHL (never reached).
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2022-02-24"))
    page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-05-06"), delay=20)
    page_server.routes[page_path(SMHL)] = Response(body=capture(SMHL, "2022-07-11"))
    pages = [page_path(SEND), page_path(ATTENDANCE), page_path(SMHL)]
    config = write_config(tmp_path, page_server.base_url, pages, concurrency=1, timeout=30)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run", "-v", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while not any(page_server.url(page_path(SEND)) in line for line in lines):  # SEND is recorded
        assert time.monotonic() < deadline and process.poll() is None, lines
        lines.append(process.stderr.readline())
    while not page_server.hits(page_path(ATTENDANCE)):  # ATTENDANCE is in hand
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 10, "stopped at once, not after the slow page"
    assert process.returncode == status
    assert "Traceback" not in err
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1] == (
        f"guidance-monitor: stopped by {name}: 1 page was recorded; the digest and the site were skipped "
        "(the pages not recorded are checked at the next run, which sends and publishes)"
    )
    assert out == ""
    assert not (tmp_path / "site").exists()
    conn = sqlite3.connect(tmp_path / "monitor.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    recorded = [url for (url,) in conn.execute("SELECT page_url FROM snapshots")]
    conn.close()
    assert recorded == [page_server.url(page_path(SEND))]
    assert page_server.hits(page_path(SMHL)) == []
