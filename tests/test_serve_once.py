"""``serve --once`` runs once and exits, as cron needs (the runs never pile up); ``serve --now`` runs at
once and keeps to the schedule."""

from __future__ import annotations

import subprocess
import sys

from conftest import Response
from run_support import SMHL, capture, open_store, page_path, write_config

SMHL_PATH = page_path(SMHL)


def test_serve_once_runs_once_and_exits(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(body=capture(SMHL, "2022-07-11"))
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,  # the old --once kept to the schedule until stopped: this would time out
    )
    assert done.returncode == 0, done.stderr
    assert "run finished: checked 1, changed 1, failed 0" in done.stderr
    assert len(page_server.hits(SMHL_PATH)) == 1
    with open_store(tmp_path) as store:
        assert [c.kind for c in store.changes(include_backfilled=False)] == ["new"]


def test_serve_once_exits_1_when_a_page_failed(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(500, b"down")
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--once", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr


def test_serve_help_says_what_once_and_now_do():
    shown = subprocess.run(
        [sys.executable, "-m", "monitor", "serve", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "--once" in shown and "then exit" in shown
    assert "--now" in shown and "keep to the schedule" in shown
