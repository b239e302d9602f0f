"""The store keeps each page's check in one transaction, deduplicates snapshots and bodies, migrates."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from run_support import record

from monitor import store as store_module
from monitor.model import (
    Change,
    ChangeSet,
    Document,
    FetchResult,
    HistoryEntry,
    MetadataChange,
    Section,
)
from monitor.store import (
    MIGRATIONS,
    LockHeld,
    Migration,
    Store,
    StoreError,
    history,
    migrate,
    outbox,
    schema,
    schema_version,
)

URL = "https://www.gov.uk/guidance/senior-mental-health-lead-training"


def doc(text: str = "Who the training is for", history: int = 1) -> Document:
    return Document(
        url=URL,
        title="Senior mental health lead training",
        published="2021-04-28",
        last_updated="2022-08-18",
        change_history=[HistoryEntry(f"2022-0{i + 1}-01", f"Update {i}") for i in range(history)],
        sections=[Section("Who the training is for", 2, text)],
    )


def ok(body: bytes = b"<main>v1</main>", etag: str | None = '"v1"', when: str = "2024-01-01T07:00:00+00:00"):
    return FetchResult(url=URL, final_url=URL, status=200, body=body, etag=etag, fetched_at=when)


def failed(error: str, when: str = "2024-01-02T07:00:00+00:00") -> FetchResult:
    return FetchResult(url=URL, final_url=URL, status=500, error=error, fetched_at=when)


SCHEMA_HISTORY = json.loads((Path(__file__).parent / "fixtures" / "store_schema_history.json").read_text())
"""``sqlite_master`` after each number of migrations, as released databases have it (see fixtures/README)."""


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "monitor.db") as s:
        yield s


def schema_of(conn: sqlite3.Connection) -> list[list[str | None]]:
    return [
        list(r) for r in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")
    ]


def tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def rows_in(store: Store, table: str) -> int:
    return store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_new_database_is_at_the_latest_schema_in_wal_mode(tmp_path):
    with Store(tmp_path / "sub" / "monitor.db") as s:
        assert schema_version(s.db) == len(MIGRATIONS)
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert {"pages", "fetches", "bodies", "snapshots", "changes", "deliveries"} <= tables(s.db)


def test_a_new_database_has_exactly_the_released_schema(tmp_path):
    """The same tables, columns, indexes and statement text as every released database has."""
    assert len(MIGRATIONS) == max(map(int, SCHEMA_HISTORY)), (
        "a new migration: record its schema in the fixture"
    )
    with Store(tmp_path / "monitor.db") as s:
        assert schema_of(s.db) == SCHEMA_HISTORY[str(len(MIGRATIONS))]


@pytest.mark.parametrize("older", range(len(SCHEMA_HISTORY) - 1))
def test_a_database_made_by_an_earlier_release_migrates_to_the_released_schema(tmp_path, older):
    """A file as an earlier release left it (its schema as released, at its version, with data in it)
    opens, keeps its data and ends with exactly the schema a new database has."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    rows = SCHEMA_HISTORY[str(older)]
    virtual = [name for kind, name, _, sql in rows if sql and sql.startswith("CREATE VIRTUAL TABLE")]
    for kind, name, _, sql in rows:
        # The automatic index of a key is made with its table, and a full-text table makes its own
        # shadow tables (``<name>_data``, ``<name>_idx``...).
        shadow = kind == "table" and any(name.startswith(f"{v}_") for v in virtual)
        if sql is not None and not shadow:
            conn.execute(sql)
    conn.execute(f"PRAGMA user_version = {older}")
    if older:  # at version 0 a table of any other name is another application's, and refused
        conn.execute("CREATE TABLE kept (note TEXT)")
        conn.execute("INSERT INTO kept VALUES ('made by an older release')")
        conn.execute("INSERT INTO pages (url, added_at) VALUES (?, '2024-01-01T00:00:00Z')", [URL])
    conn.close()
    with Store(path) as s:
        assert schema_version(s.db) == len(MIGRATIONS)
        assert [r for r in schema_of(s.db) if r[1] != "kept"] == SCHEMA_HISTORY[str(len(MIGRATIONS))]
        if older:
            assert s.db.execute("SELECT note FROM kept").fetchall() == [("made by an older release",)]
            added = s.db.execute("SELECT added_at FROM pages WHERE url = ?", [URL]).fetchone()
            assert added == ("2024-01-01T00:00:00Z",)
        s.upsert_page(URL, title="Watched")
        assert s.page(URL) is not None


@pytest.mark.parametrize("older", range(1, len(MIGRATIONS)))
def test_a_file_at_an_older_version_is_migrated_and_keeps_its_data(tmp_path, older):
    """(At version 0 a file holds no table: one that holds any is another application's, refused.)"""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert migrate(conn, MIGRATIONS[:older]) == older
    conn.execute("CREATE TABLE kept (note TEXT)")
    conn.execute("INSERT INTO kept VALUES ('made by an older release')")
    conn.close()
    with Store(path) as s:
        assert schema_version(s.db) == len(MIGRATIONS)
        assert s.db.execute("SELECT note FROM kept").fetchall() == [("made by an older release",)]
        s.upsert_page(URL)
        assert s.page(URL) is not None


def test_migrations_run_once_each_in_order(tmp_path, monkeypatch):
    """A migration run twice would fail (its column exists): each file runs it once, after the others."""
    path = tmp_path / "monitor.db"
    Store(path).close()
    extra = Migration("a column added by a later release", "ALTER TABLE pages ADD COLUMN extra TEXT;")
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, extra))
    Store(path).close()
    Store(path).close()
    with Store(path) as s:
        assert schema_version(s.db) == len(MIGRATIONS) + 1
        assert columns(s.db, "pages")[-1] == "extra"


def test_a_database_at_another_version_is_refused_read_only(tmp_path, monkeypatch):
    path = tmp_path / "monitor.db"
    Store(path).close()
    extra = Migration("a column added by a later release", "ALTER TABLE pages ADD COLUMN extra TEXT;")
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, extra))
    with pytest.raises(StoreError, match=f"schema version {len(MIGRATIONS)}, expected {len(MIGRATIONS) + 1}"):
        Store(path, readonly=True)
    assert Store(path).close() is None
    with Store(path, readonly=True) as s:
        assert "extra" in columns(s.db, "pages")


def test_a_database_from_a_newer_release_is_refused(tmp_path):
    path = tmp_path / "monitor.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this guidance-monitor"):
        Store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "monitor.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a guidance-monitor database"):
        Store(path)


def test_upsert_keeps_state_and_config_wins(store):
    store.upsert_page(URL, source="search", title="From search")
    store.set_active(URL, False)
    assert store.pages() == []
    store.upsert_page(URL, source="config")
    page = store.page(URL)
    assert page.active and page.source == "config" and page.title == "From search"
    store.upsert_page(URL, source="document", parent_url="https://www.gov.uk/x")
    assert store.page(URL).source == "config"
    store.set_active(URL, False)
    store.upsert_page(URL, source="search")
    assert not store.page(URL).active
    store.upsert_page(URL, source="config")
    assert not store.page(URL).active, "a configured page the user removed stays removed"
    store.upsert_page(URL, source="cli")
    assert store.page(URL).active
    with pytest.raises(KeyError):
        store.set_active("https://www.gov.uk/unknown", False)


def test_register_pages_is_upsert_for_many_and_writes_nothing_when_nothing_changed(store):
    other = "https://www.gov.uk/guidance/other"
    store.upsert_page(URL, source="search", title="From search")
    store.register_pages([(URL, "Configured"), (other, "Other")])
    assert {(p.url, p.source, p.title) for p in store.pages()} == {
        (URL, "config", "From search"),
        (other, "config", "Other"),
    }
    store.set_active(other, False)
    store.register_pages([(URL, "Configured"), (other, "Other")])
    assert not store.page(other).active, "a configured page the user removed stays removed"
    changes_before = store.db.total_changes
    store.register_pages([(URL, "Configured"), (other, None)])
    assert store.db.total_changes == changes_before


def test_check_states_gives_each_page_its_validators_and_last_reading(store):
    record(store, URL, ok(etag='"v1"'), doc(), b"<main>v1</main>", [], read_key="key-1")
    assert store.check_states()[URL][:2] == store.validators(URL) == ('"v1"', None)
    assert store.check_states()[URL][2] == store.last_read(URL) == "key-1"


def test_the_outbox_reads_the_monitored_changes_index_not_the_whole_history(store):
    """Each run asks what is undelivered; backfilled history is most of the changes table and must not be
    read for it (its cost would grow with every page ever added)."""
    sql = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'changes_monitored'").fetchone()
    assert sql is not None and "WHERE backfilled = 0" in sql[0]
    plan = [row[-1] for row in store.db.execute(f"EXPLAIN QUERY PLAN {outbox.UNDELIVERED}", ["email"])]
    assert any("changes_monitored" in step for step in plan), plan
    assert not any(step.startswith("SCAN changes") for step in plan), plan


def test_record_keeps_fetch_snapshot_changes_and_state(store):
    store.upsert_page(URL)
    saved = record(
        store, URL, ok(), doc(), b"<main>v1</main>", [Change(URL, "new", "2024-01-01T07:00:00+00:00")]
    )
    assert saved[0].id is not None
    snapshot_id, document = store.last_snapshot(URL)
    assert document == doc()
    assert saved[0].new_snapshot_id == snapshot_id
    assert store.change(saved[0].id) == saved[0]
    assert store.validators(URL) == ('"v1"', None)
    [fetch] = store.fetches(URL)
    assert fetch["status"] == 200 and fetch["bytes"] == len(b"<main>v1</main>") and fetch["error"] is None
    assert store.body(fetch["body_hash"]) == b"<main>v1</main>"
    page = store.page(URL)
    assert page.title == "Senior mental health lead training"
    assert page.last_checked == page.last_changed == "2024-01-01T07:00:00+00:00"


def test_same_document_is_not_snapshotted_twice_and_bodies_are_kept_once(store):
    record(store, URL, ok(), doc(), b"<main>v1</main>", [])
    record(store, URL, ok(when="2024-01-02T07:00:00+00:00"), doc(), b"<main>v1</main>", [])
    record(store, URL, ok(b"<main>v1 reordered</main>"), doc(), b"<main>v1 reordered</main>", [])
    assert len(store.snapshots(URL)) == 1
    assert len(store.fetches(URL)) == 3
    assert rows_in(store, "bodies") == 2
    record(store, URL, ok(b"<main>v2</main>"), doc("New text"), b"<main>v2</main>", [])
    assert [s["id"] for s in store.snapshots(URL)] == [1, 2]


def test_changes_are_tied_to_the_old_and_new_snapshot(store):
    record(store, URL, ok(), doc(), b"v1", [])
    changeset = ChangeSet("minor", metadata=[MetadataChange("summary", "a", "b")])
    [change] = record(
        store,
        URL,
        ok(b"v2"),
        doc("New"),
        b"v2",
        [Change(URL, "minor", "2024-01-03T00:00:00+00:00", changeset=changeset)],
    )
    assert (change.old_snapshot_id, change.new_snapshot_id) == (1, 2)
    assert store.change(change.id).changeset == changeset


def test_a_failed_fetch_counts_failures_and_keeps_the_last_good_snapshot(store):
    record(store, URL, ok(), doc(), b"v1", [])
    record(store, URL, failed("HTTP 500"), None, None, [])
    record(store, URL, failed("timed out"), None, None, [])
    page = store.page(URL)
    assert page.consecutive_failures == 2 and page.last_error == "timed out"
    assert store.validators(URL) == ('"v1"', None)
    assert len(store.snapshots(URL)) == 1
    assert [f["error"] for f in store.fetches(URL)] == ["timed out", "HTTP 500", None]
    record(store, URL, ok(), doc(), b"v1", [])
    assert store.page(URL).consecutive_failures == 0 and store.page(URL).last_error is None


def test_not_modified_resets_failures_without_a_snapshot(store):
    record(store, URL, ok(), doc(), b"v1", [])
    record(store, URL, failed("HTTP 503"), None, None, [])
    not_modified = FetchResult(
        URL, URL, status=304, not_modified=True, fetched_at="2024-01-05T00:00:00+00:00"
    )
    record(store, URL, not_modified, None, None, [])
    assert store.page(URL).consecutive_failures == 0
    assert store.validators(URL) == ('"v1"', None)
    assert store.fetches(URL, limit=1)[0]["not_modified"] is True
    assert len(store.snapshots(URL)) == 1


def test_removed_marks_the_page_gone_and_a_good_fetch_brings_it_back(store):
    record(store, URL, ok(), doc(), b"v1", [])
    gone = FetchResult(URL, URL, status=410, fetched_at="2024-02-01T00:00:00+00:00")
    record(store, URL, gone, None, None, [Change(URL, "removed", "2024-02-01T00:00:00+00:00")])
    page = store.page(URL)
    assert page.gone and page.active and store.validators(URL) == (None, None)
    assert len(store.snapshots(URL)) == 1
    record(store, URL, ok(), doc(), b"v1", [])
    assert not store.page(URL).gone


def test_moved_sets_the_current_address(store):
    new = "https://www.gov.uk/guidance/new-address"
    record(store, URL, ok(), doc(), b"v1", [])
    moved = FetchResult(
        URL, new, status=200, body=b"v1", redirects=[URL], fetched_at="2024-03-01T00:00:00+00:00"
    )
    record(store, URL, moved, doc(), b"v1", [Change(URL, "moved", "2024-03-01T00:00:00+00:00", new_url=new)])
    assert store.page(URL).current_url == new
    record(store, URL, moved, doc(), b"v1", [])
    assert store.page(URL).current_url == new
    record(store, URL, ok(), doc(), b"v1", [])
    assert store.page(URL).current_url is None


def test_record_is_one_transaction(store, monkeypatch):
    record(store, URL, ok(), doc(), b"v1", [])

    def broken(change):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(history, "row_from_change", broken)
    with pytest.raises(RuntimeError):
        record(store, URL, ok(b"v2"), doc("New"), b"v2", [Change(URL, "minor", "2024-01-03T00:00:00+00:00")])
    assert len(store.fetches(URL)) == 1
    assert len(store.snapshots(URL)) == 1
    assert rows_in(store, "bodies") == 1
    assert store.page(URL).last_checked == "2024-01-01T07:00:00+00:00"


def test_changes_newest_first_with_filters(store):
    other = "https://www.gov.uk/government/publications/school-attendance"
    record(store, URL, ok(), doc(), b"v1", [Change(URL, "new", "2024-01-01T07:00:00+00:00")])
    record(
        store,
        URL,
        ok(b"v2", when="2024-01-02T07:00:00+00:00"),
        doc("x"),
        b"v2",
        [Change(URL, "major", "2024-01-02T07:00:00+00:00", effective_date="2022-01-01", backfilled=True)],
    )
    record(
        store,
        other,
        ok(when="2024-01-03T07:00:00+00:00"),
        doc(),
        b"v1",
        [Change(other, "new", "2024-01-03T07:00:00+00:00")],
    )
    assert [c.page_url for c in store.changes()] == [other, URL, URL]
    assert len(store.changes(page_url=URL)) == 2
    assert len(store.changes(include_backfilled=False)) == 2
    assert [c.page_url for c in store.changes(since="2024-01-02T00:00:00+00:00")] == [other, URL]
    assert len(store.changes(limit=1)) == 1
    assert store.change(999) is None


def test_outbox_is_oldest_first_per_channel_and_never_backfilled(store):
    changes = record(
        store,
        URL,
        ok(),
        doc(),
        b"v1",
        [
            Change(URL, "new", "2024-01-01T07:00:00+00:00"),
            Change(URL, "major", "2024-01-01T07:00:00+00:00", backfilled=True, effective_date="2022-01-01"),
        ],
    )
    later = record(
        store, URL, ok(b"v2"), doc("x"), b"v2", [Change(URL, "minor", "2024-01-02T07:00:00+00:00")]
    )
    assert [c.kind for c in store.undelivered("email")] == ["new", "minor"]
    store.mark_delivered("email", [changes[0].id], "sent to 2 addresses")
    store.mark_delivered("email", [changes[0].id])
    assert [c.id for c in store.undelivered("email")] == [later[0].id]
    assert [c.kind for c in store.undelivered("webhook")] == ["new", "minor"]
    assert [d["detail"] for d in store.deliveries(changes[0].id)] == ["sent to 2 addresses"]


def _hold_lock(path, ready, release):
    with Store(path).lock():
        ready.set()
        release.wait(10)


def _start_holder(path):
    """Another process holding the run lock until ``release`` is set."""
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(path, ready, release))
    holder.start()
    assert ready.wait(20)
    return holder, release


def test_lock_is_exclusive_across_processes_and_names_the_holder(tmp_path):
    path = tmp_path / "monitor.db"
    holder, release = _start_holder(path)
    try:
        with Store(path) as s, pytest.raises(LockHeld) as caught:
            with s.lock():
                pass
        assert caught.value.pid == holder.pid
        assert f"held by pid {holder.pid}" in str(caught.value)
    finally:
        release.set()
        holder.join(10)
    with Store(path) as s, s.lock():
        pass


def test_lock_dies_with_its_process(tmp_path):
    path = tmp_path / "monitor.db"
    holder, _ = _start_holder(path)
    holder.kill()
    holder.join(10)
    deadline = time.monotonic() + 5
    with Store(path) as s:
        while True:
            try:
                with s.lock():
                    break
            except LockHeld:
                assert time.monotonic() < deadline
                time.sleep(0.05)


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "monitor.db"
    Store(path).close()

    half_done = Migration(
        "fails at its second statement", "CREATE TABLE half (x TEXT);\nCREATE TABLE pages (y TEXT);"
    )
    monkeypatch.setattr(schema, "MIGRATIONS", (*MIGRATIONS, half_done))
    with pytest.raises(StoreError, match="table pages already exists"):
        Store(path)
    monkeypatch.setattr(schema, "MIGRATIONS", MIGRATIONS)
    with Store(path) as s:
        assert schema_version(s.db) == len(MIGRATIONS)
        assert "half" not in tables(s.db)


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        (lambda tmp: tmp / "plain-file" / "monitor.db", "is not a folder"),
        (lambda tmp: tmp, "unable to open database file"),
    ],
    ids=["parent is a file", "path is a folder"],
)
def test_a_database_that_cannot_be_opened_is_one_plain_error(tmp_path, where, reason):
    (tmp_path / "plain-file").write_text("not a folder")
    with pytest.raises(StoreError, match=f"cannot be opened .*{reason}"):
        Store(where(tmp_path))
    assert (tmp_path / "plain-file").read_text() == "not a folder"


# --------------------------------------------------------------------------- another writer


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE pages SET title = title")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
print("released", time.time(), flush=True)
"""


def hold_write_lock(path, seconds: float) -> subprocess.Popen:
    """Another process (a plain ``sqlite3`` connection) holding a write transaction for ``seconds``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def released_at(holder: subprocess.Popen) -> float:
    """When the holder committed: its process may still be exiting after the lock is free."""
    word, when = holder.stdout.readline().split()
    assert word == "released" and holder.wait(10) == 0
    return float(when)


def test_a_write_waits_for_another_process_s_transaction(tmp_path):
    path = tmp_path / "monitor.db"
    with Store(path) as store:
        record(store, URL, ok(), doc(), b"v1", [])
        holder = hold_write_lock(path, 1.5)
        [change] = record(
            store, URL, ok(b"v2"), doc("New"), b"v2", [Change(URL, "minor", "2024-01-03T00:00:00+00:00")]
        )
        written = time.time()
        assert released_at(holder) <= written, "the write went through only once the other transaction ended"
        assert store.change(change.id) == change


def test_a_database_locked_past_the_timeout_is_one_error_and_writes_nothing(tmp_path):
    path = tmp_path / "monitor.db"
    with Store(path, busy_timeout_ms=200) as store:
        record(store, URL, ok(), doc(), b"v1", [])
        holder = hold_write_lock(path, 3)
        with pytest.raises(store_module.StoreBusy, match="locked by another process") as caught:
            record(
                store, URL, ok(b"v2"), doc("New"), b"v2", [Change(URL, "minor", "2024-01-03T00:00:00+00:00")]
            )
        gave_up = time.time()
        assert gave_up < released_at(holder)
        assert "\n" not in str(caught.value) and "0.2 s" in str(caught.value)
        assert len(store.fetches(URL)) == 1 and len(store.snapshots(URL)) == 1 and store.changes() == []


def test_the_rules_read_the_latest_snapshots_through_the_index(store):
    """What flapping detection reads for every changed page: ids and hashes, found by the page's index."""
    for text in ("a", "b", "c"):
        record(store, URL, ok(text.encode()), doc(text), text.encode(), [])
    assert [r.id for r in store.recent_snapshots(URL, 2)] == [3, 2]
    assert store.recent_snapshots(URL, 5)[-1].document_hash == doc("a").content_hash
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    store.recent_snapshots(URL, 5)
    store.db.set_trace_callback(None)
    [query] = statements
    plan = " ".join(row[-1] for row in store.db.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "USING INDEX snapshots_page" in plan and "TEMP B-TREE" not in plan, plan


def test_a_failing_block_inside_a_transaction_undoes_itself_alone(store):
    """``writing`` inside ``writing`` is a savepoint: the outer transaction keeps what it wrote."""
    with store.writing():
        store.upsert_page(URL, title="Kept")
        with pytest.raises(RuntimeError), store.writing():
            store.set_page_selector(URL, "main")
            raise RuntimeError("inner block failed")
        store.set_follow_documents(URL, True)
    assert store.page(URL).title == "Kept" and store.follow_documents(URL)
    assert store.page_selector(URL) is None
    with pytest.raises(RuntimeError), store.writing():
        store.set_page_selector(URL, "main")
        raise RuntimeError("the whole transaction failed")
    assert store.page_selector(URL) is None and not store.db.in_transaction


def test_page_selector_is_kept_per_page(store):
    other = "https://example.org/guide"
    store.upsert_page(URL)
    store.upsert_page(other, source="cli")
    store.set_page_selector(other, "#content")
    assert (store.page_selector(other), store.page_selector(URL)) == ("#content", None)
    assert store.page_selector("https://example.org/never-added") is None
    store.set_page_selector(other, None)
    assert store.page_selector(other) is None


def test_snapshot_before_is_the_last_version_taken_earlier(store):
    record(store, URL, ok(when="2024-01-01T07:00:00+00:00"), doc("first"), b"v1", [])
    record(store, URL, ok(b"v2", when="2024-01-03T07:00:00+00:00"), doc("second"), b"v2", [])
    assert store.snapshot_before(URL, "2024-01-01T07:00:00+00:00") is None
    row, document = store.snapshot_before(URL, "2024-01-03T00:00:00+00:00")
    assert (row["id"], row["taken_at"], document) == (1, "2024-01-01T07:00:00+00:00", doc("first"))
    row, document = store.snapshot_before(URL, "2024-02-01T00:00:00+00:00")
    assert (row["id"], document) == (2, doc("second"))
    assert "document" not in row


def test_what_a_digest_asks_of_the_history(store):
    """When each page was last checked without error before a change, and its organisations."""
    record(store, URL, ok(when="2024-01-01T07:00:00+00:00"), doc(), b"v1", [])
    record(store, URL, failed("HTTP 500", when="2024-01-02T07:00:00+00:00"), None, None, [])
    assert store.checked_before(URL, "2024-01-03T00:00:00+00:00") == "2024-01-01T07:00:00+00:00"
    assert store.checked_before(URL, "2024-01-01T07:00:00+00:00") is None
    with_organisation = Document(url=URL, title="T", organisations=["Department for Education"])
    record(store, URL, ok(b"v3", when="2024-01-04T07:00:00+00:00"), with_organisation, b"v3", [])
    assert store.organisations([URL, URL, "https://www.gov.uk/unknown"]) == {
        URL: ["Department for Education"]
    }
