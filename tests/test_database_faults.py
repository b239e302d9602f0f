"""A damaged database and a full disk, met by real runs: one line naming the file and what to do, no
traceback, and nothing recorded before lost. Real SQLite files; the full disk is a small tmpfs mounted in
a private mount namespace (``unshare``), so the test needs no privilege."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Response
from run_support import SMHL, capture, page_path, write_config
from run_support import run_cli as cli

from monitor.store import Store

ROOT = Path(__file__).parent.parent
SMHL_V1 = capture(SMHL, "2022-07-11")
SMHL_V2 = capture(SMHL, "2022-08-18")
SMHL_PATH = page_path(SMHL)
PAGE = 4096


def test_a_zeroed_page_is_one_line_for_every_command(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    assert cli(config, "run", "--no-site").returncode == 0
    database = tmp_path / "monitor.db"
    with Store(database) as store:
        for n in range(300):  # pages enough that a zeroed page in the middle is one the commands read
            store.upsert_page(f"https://www.gov.uk/guidance/page-{n}", title="A page " * 40, source="cli")
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = database.stat().st_size // PAGE
    with database.open("r+b") as handle:
        handle.seek(PAGE * (pages - 3))
        handle.write(b"\0" * PAGE)
    for command in (["run"], ["pages"], ["check"], ["site"]):
        result = cli(config, *command)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        if result.returncode == 0:
            continue  # a command that never reads the zeroed page has nothing to say
        assert result.returncode in (1, 2), command
        [line] = result.stderr.splitlines()
        assert line.startswith(f"guidance-monitor: database: {database}: the database is damaged"), line
        assert ".recover" in line
    assert cli(config, "run").returncode == 2
    checked = cli(config, "check")  # quick_check reads every page, so check finds any damage
    assert checked.returncode == 2
    assert "the database is damaged" in checked.stderr and "Traceback" not in checked.stderr


def _can_mount_tmpfs(where: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs {where}"],
        capture_output=True,
    )
    return probe.returncode == 0


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path, page_server):
    disk = tmp_path / "disk"
    disk.mkdir()
    if not _can_mount_tmpfs(disk):
        pytest.skip("no unprivileged mount namespace here (unshare -rm) to make a small disk")
    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(body=SMHL_V2)]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    text = config.read_text().replace("database: monitor.db", f"database: {disk / 'monitor.db'}")
    config.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = f"{sys.executable} -m monitor run --no-site --config {config}"
    script = f"""
        mount -t tmpfs -o size=4m tmpfs {disk}
        {run} > {tmp_path}/first.out 2>&1; echo $? > {tmp_path}/first.rc
        dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null
        {run} > {tmp_path}/full.out 2> {tmp_path}/full.err; echo $? > {tmp_path}/full.rc
        rm {disk}/filler
        {run} > {tmp_path}/after.out 2>&1; echo $? > {tmp_path}/after.rc
        cp {disk}/monitor.db {tmp_path}/kept.db
    """
    subprocess.run(["unshare", "-rm", "sh", "-c", script], env=env, timeout=300, check=True)
    assert (tmp_path / "first.rc").read_text().strip() == "0", (tmp_path / "first.out").read_text()
    assert (tmp_path / "full.rc").read_text().strip() == "1"
    [line] = (tmp_path / "full.err").read_text().splitlines()
    assert line.startswith(f"guidance-monitor: database: {disk / 'monitor.db'}: the disk is full"), line
    assert (tmp_path / "after.rc").read_text().strip() == "0", (tmp_path / "after.out").read_text()
    kept = sqlite3.connect(tmp_path / "kept.db")
    assert kept.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    kinds = [k for (k,) in kept.execute("SELECT kind FROM changes WHERE backfilled = 0 ORDER BY id")]
    assert kinds.count("new") == 1  # the first run's, kept
    assert len(kinds) == 2  # and the change the full disk held up, recorded once when there was room
    kept.close()
