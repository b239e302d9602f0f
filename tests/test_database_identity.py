"""A database that vanished, was emptied or replaced beside the site and lock file it made is refused,
touching nothing, until ``run --new-database``; a file of another application is never taken for one;
a damaged file and a full disk are one line each. Real runs in subprocesses, real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import Response
from run_support import SMHL, capture, page_path, write_config
from run_support import run_cli as cli

from monitor.store import Store, StoreError
from monitor.store.database import APPLICATION_ID
from monitor.store.lock import lock_path, recorded_identity

ROOT = Path(__file__).parent.parent
SMHL_V1 = capture(SMHL, "2022-07-11")
SMHL_PATH = page_path(SMHL)


def site_files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture
def monitored(tmp_path, page_server):
    """A run made: its database, its site and its lock file."""
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    made = cli(config, "run", "--no-deliver")
    assert made.returncode == 0, made.stderr
    return config


def test_the_site_and_the_lock_file_record_the_database(monitored, tmp_path):
    with Store(tmp_path / "monitor.db", readonly=True) as store:
        identity = store.identity
    assert len(identity) == 32
    assert recorded_identity(lock_path(tmp_path / "monitor.db")) == identity
    assert f'"database":"{identity}"' in (tmp_path / "site" / ".guidance-monitor-site").read_text()


@pytest.mark.parametrize("fault", ["emptied", "deleted", "replaced"])
def test_a_run_refuses_a_database_the_site_was_not_made_from(monitored, tmp_path, page_server, fault):
    database = tmp_path / "monitor.db"
    site = tmp_path / "site"
    before = site_files(site)
    for extra in ("-wal", "-shm"):
        Path(f"{database}{extra}").unlink(missing_ok=True)
    if fault == "emptied":
        database.write_bytes(b"")
    elif fault == "deleted":
        database.unlink()
    else:
        database.unlink()
        Store(database).close()
    requests = len(page_server.requests)
    refused = cli(monitored, "run")
    assert refused.returncode == 2, refused.stderr
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"guidance-monitor: database: {database}")
    assert "--new-database" in line and "Traceback" not in refused.stderr
    assert refused.stdout == ""
    assert len(page_server.requests) == requests  # nothing fetched, so nothing recorded or sent
    assert site_files(site) == before
    if fault == "deleted":
        assert not database.exists()
    if fault == "emptied":
        assert database.stat().st_size == 0
    again = cli(monitored, "run")  # still refused: the refusal recorded nothing
    assert again.returncode == 2

    accepted = cli(monitored, "run", "--new-database")
    assert accepted.returncode == 0, accepted.stderr
    with Store(database, readonly=True) as store:
        identity = store.identity
    assert f'"database":"{identity}"' in (site / ".guidance-monitor-site").read_text()
    assert recorded_identity(lock_path(database)) == identity
    assert cli(monitored, "run").returncode == 0


def test_a_missing_database_with_no_site_or_lock_file_is_a_first_run(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    assert cli(config, "run").returncode == 0


def test_another_applications_file_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"holds another application's tables \(invoices\)"):
        Store(path)
    assert path.read_bytes() == before

    marked = tmp_path / "marked.db"
    with sqlite3.connect(marked) as conn:
        conn.execute("PRAGMA application_id = 42")
    conn.close()
    with pytest.raises(StoreError, match="another application's database"):
        Store(marked)


def test_a_monitor_database_says_whose_it_is(tmp_path):
    with Store(tmp_path / "monitor.db") as store:
        assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_run_on_another_applications_file_is_one_line_exit_2(tmp_path, page_server):
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    with sqlite3.connect(tmp_path / "monitor.db") as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    result = cli(config, "run")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "holds another application's tables (notes)" in line
