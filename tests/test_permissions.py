"""Folders this user may not write: every command says so in one line naming the path (never a
PermissionError traceback); a site whose parent may not be written is built inside its folder; ``check``
reports what a run could not write; reading commands read a database they may not write. Each command
runs held to file permissions (see ``run_support.unprivileged``), in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import Response
from run_support import SMHL, capture, page_path, run_cli, unprivileged, write_config

SMHL_PATH = page_path(SMHL)
ROOT = Path(__file__).parent.parent


@pytest.fixture
def locked(tmp_path):
    """A folder nobody may write in; opened again after the test so it can be cleared."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def watched(tmp_path, page_server):
    """A database holding a page's first version, an email to send, and a built site."""
    page_server.routes[SMHL_PATH] = Response(body=capture(SMHL, "2022-07-11"))
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    data = yaml.safe_load(config.read_text())
    data["digest"] = {"email": {"to": ["team@example.org"], "smtp_host": "127.0.0.1", "smtp_port": 9}}
    config.write_text(yaml.safe_dump(data))
    made = run_cli(config, "run", "--no-deliver")
    assert made.returncode == 0, made.stderr
    return config


def one_line(result: subprocess.CompletedProcess[str], path: Path) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (1, 2), result.stderr
    [line] = result.stderr.splitlines()
    assert str(path) in line, line
    return line


@pytest.mark.parametrize(
    "command",
    [["site", "--out", "{locked}/site"], ["digest", "--dry-run", "--out", "{locked}/out"]],
)
def test_writing_commands_name_the_folder_they_cannot_write(watched, locked, command):
    args = [part.format(locked=locked) for part in command]
    line = one_line(run_cli(watched, *args, prefix=unprivileged()), locked)
    assert "ermission denied" in line or "cannot be" in line


def test_demo_and_init_name_the_folder_they_cannot_write(tmp_path, locked):
    prefix = unprivileged()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["demo", "--out", str(locked / "demo")], ["init", str(locked / "new")]):
        result = subprocess.run(
            [*prefix, sys.executable, "-m", "monitor", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        one_line(result, locked)


def test_a_database_in_a_folder_that_cannot_be_entered_is_one_line(tmp_path, page_server):
    closed = tmp_path / "closed"
    closed.mkdir()
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    config.write_text(config.read_text().replace("database: monitor.db", f"database: {closed}/monitor.db"))
    closed.chmod(0o000)
    try:
        for command in (["run"], ["pages"], ["check"], ["history", SMHL_PATH]):
            result = run_cli(config, *command, prefix=unprivileged())
            one_line(result, closed)
    finally:
        closed.chmod(0o755)
    assert page_server.requests == []


def test_a_site_whose_parent_cannot_be_written_is_built_inside_it(tmp_path, page_server):
    """The /var/www set-up: the site's folder is the monitor's to write, its parent is not."""
    page_server.routes[SMHL_PATH] = [
        Response(body=capture(SMHL, "2022-07-11")),
        Response(body=capture(SMHL, "2022-08-18")),
    ]
    www = tmp_path / "www"
    (www / "site").mkdir(parents=True)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    config.write_text(config.read_text().replace("site_dir: site", f"site_dir: {www / 'site'}"))
    www.chmod(0o555)
    prefix = unprivileged()
    try:
        checked = run_cli(config, "check", prefix=prefix)
        assert checked.returncode == 0, checked.stderr
        assert f"note: site folder's parent {www}: cannot be written" in checked.stdout
        for _ in range(2):
            result = run_cli(config, "run", prefix=prefix)
            assert result.returncode == 0, result.stderr
            assert "not published" not in result.stdout
        rebuilt = run_cli(config, "site", prefix=prefix)
        assert rebuilt.returncode == 0, rebuilt.stderr
    finally:
        www.chmod(0o755)
    site = www / "site"
    assert (site / "index.html").exists() and (site / ".guidance-monitor-site").exists()
    pages = [p for p in (site / "changes").glob("*.html") if not p.name.endswith("-side-by-side.html")]
    assert len(pages) == 2  # first seen, then the change
    assert not [p for p in site.iterdir() if p.name.startswith(".gm-")]
    assert sorted(p.name for p in www.iterdir()) == ["site"]


def test_check_reports_folders_a_run_could_not_write(tmp_path, page_server):
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    (tmp_path / "site").mkdir()
    prefix = unprivileged()
    for locked, said in ((tmp_path / "site", "site folder"), (tmp_path, "database")):
        locked.chmod(0o555)
        try:
            result = run_cli(config, "check", prefix=prefix)
        finally:
            locked.chmod(0o755)
        assert result.returncode == 2
        line = one_line(result, locked)
        assert said in line and "cannot be" in line


def test_reading_commands_read_a_database_they_may_not_write(watched, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "monitor.db").rename(data / "monitor.db")
    for extra in ("-wal", "-shm"):
        Path(f"{tmp_path / 'monitor.db'}{extra}").unlink(missing_ok=True)
    watched.write_text(watched.read_text().replace("database: monitor.db", f"database: {data}/monitor.db"))
    (data / "monitor.db").chmod(0o444)
    data.chmod(0o555)
    prefix = unprivileged()
    try:
        before = (data / "monitor.db").read_bytes()
        for command in (
            ["pages"],
            ["history", SMHL_PATH],
            ["show", "1"],
            ["site", "--out", str(tmp_path / "s2")],
        ):
            result = run_cli(watched, *command, prefix=prefix)
            assert result.returncode == 0, (command, result.stderr)
        assert "Senior mental health lead training" in run_cli(watched, "pages", prefix=prefix).stdout
        assert (data / "monitor.db").read_bytes() == before
    finally:
        data.chmod(0o755)
