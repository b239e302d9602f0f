"""``run`` keeps cron's convention: from a non-terminal, a run that found nothing new and had nothing
fail prints nothing (cron mails only what a job prints), and ``-v`` says it anyway."""

from __future__ import annotations

import subprocess
import sys

from conftest import Response
from run_support import SEND, capture, page_path, write_config


def run(config, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "run", "--config", str(config), "--no-deliver", "--no-site", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_a_run_that_found_nothing_prints_nothing_from_cron(tmp_path, page_server):
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2021-09-27"))
    config = write_config(tmp_path, page_server.base_url, [page_path(SEND)])
    first = run(config)
    assert first.returncode == 0 and first.stdout.startswith("Checked 1 page: 1 changed, 0 failed.")
    again = run(config)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    verbose = run(config, "-v")
    assert verbose.returncode == 0 and verbose.stdout == "Checked 1 page: 0 changed, 0 failed.\n"


def test_a_failure_is_always_said(tmp_path, page_server):
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2021-09-27"))
    config = write_config(tmp_path, page_server.base_url, [page_path(SEND)])
    run(config)
    page_server.routes[page_path(SEND)] = Response(status=500, body=b"down")
    failed = run(config)
    assert failed.returncode == 1 and failed.stdout.startswith("Checked 1 page: 0 changed, 1 failed.")
