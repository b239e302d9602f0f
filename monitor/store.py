"""The SQLite store: every fetch, every distinct version of a page, every change. The only SQL here.

One page's writes for one check (its fetch row, its snapshot, its changes, its state) go in one
transaction, so a run killed at any moment leaves each page either fully recorded or untouched, and the
next run picks up where it stopped without recording any change twice.

The schema grows only by appending to ``MIGRATIONS``; ``PRAGMA user_version`` says how many have run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from .clock import utc_now
from .model import (
    NEW_SNAPSHOT,
    Change,
    ChangeSet,
    Document,
    PageState,
    PageUpdate,
    SnapshotRef,
)

BUSY_TIMEOUT_MS = 30_000
UNDELIVERED = """
SELECT * FROM changes WHERE id IN (
    SELECT c.id FROM changes c
    WHERE c.backfilled = 0
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.change_id = c.id AND d.channel = ?)
)
ORDER BY detected_at, id
"""
"""A channel's outbox: the monitored changes it has not sent, found through ``changes_monitored``."""
BODY_COMPRESSION = 3
"""zlib level for stored bodies: a first run stores every page, and level 6 took 1.1 ms a 47 KB page
against 0.5 ms here, for bodies about 11% smaller (0.24 of their size against 0.27)."""


class StoreError(RuntimeError):
    """A database this version cannot use (made by a newer version, or not a guidance-monitor store)."""


class StoreBusy(StoreError):
    """Another process held the database's write lock for longer than the busy timeout."""

    def __init__(self, path: Path, timeout_ms: int) -> None:
        self.path = path
        super().__init__(
            f"{path} is locked by another process (waited {timeout_ms / 1000:g} s to write); nothing "
            "was lost: the pages not recorded are checked again on the next run"
        )


class LockHeld(RuntimeError):
    """Another process holds the run lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        held_by = f" held by pid {pid}" if pid else " held"
        super().__init__(f"another guidance-monitor run is in progress (lock {path}{held_by})")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# --------------------------------------------------------------------------- schema


def _migration_1(db: sqlite_utils.Database) -> None:
    """The first release: pages, their fetches, bodies, snapshots, changes and deliveries."""
    db.executescript(
        """
        CREATE TABLE pages (
            url TEXT PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            parent_url TEXT,
            source TEXT NOT NULL DEFAULT 'config',
            active INTEGER NOT NULL DEFAULT 1,
            added_at TEXT NOT NULL,
            current_url TEXT,
            gone INTEGER NOT NULL DEFAULT 0,
            etag TEXT,
            last_modified TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_checked TEXT,
            last_changed TEXT
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            time TEXT NOT NULL,
            url TEXT NOT NULL,
            final_url TEXT,
            status INTEGER,
            bytes INTEGER NOT NULL DEFAULT 0,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 1,
            not_modified INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            body_hash TEXT REFERENCES bodies(hash)
        );
        CREATE INDEX fetches_page ON fetches(page_url, id);
        CREATE TABLE bodies (
            hash TEXT PRIMARY KEY,
            content_type TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            taken_at TEXT NOT NULL,
            body_hash TEXT REFERENCES bodies(hash),
            document_hash TEXT NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX snapshots_page ON snapshots(page_url, id);
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            kind TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            effective_date TEXT,
            title TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            changeset TEXT,
            backfilled INTEGER NOT NULL DEFAULT 0,
            old_snapshot_id INTEGER REFERENCES snapshots(id),
            new_snapshot_id INTEGER REFERENCES snapshots(id),
            new_url TEXT
        );
        CREATE INDEX changes_page ON changes(page_url, id);
        CREATE INDEX changes_detected ON changes(detected_at);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            channel TEXT NOT NULL,
            delivered_at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            UNIQUE (change_id, channel)
        );
        """
    )


def _migration_2(db: sqlite_utils.Database) -> None:
    """Discovery and ``add``: GOV.UK's ``public_timestamp`` when a search last led to a full check of the
    page, and whether a page added with ``add --follow-documents`` follows its documents."""
    db.executescript(
        """
        ALTER TABLE pages ADD COLUMN public_timestamp TEXT;
        ALTER TABLE pages ADD COLUMN follow_documents INTEGER NOT NULL DEFAULT 0;
        """
    )


def _migration_3(db: sqlite_utils.Database) -> None:
    """The page's ``read_key``: which body, read by which code and how, gave the Document that is the
    page's last snapshot. The same key again means the same Document, so the body is not parsed again."""
    db.execute("ALTER TABLE pages ADD COLUMN read_key TEXT")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1, _migration_2, _migration_3]
"""Append only: entry ``n`` (from 0) takes a database from version ``n`` to ``n + 1``."""


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, migrations: list[Callable[[sqlite_utils.Database], None]]) -> int:
    """Run the migrations this file has not had yet, each in its own transaction; return the version."""
    version = schema_version(db)
    if version > len(migrations):
        raise StoreError(
            f"the database is at schema version {version}, newer than this guidance-monitor "
            f"understands ({len(migrations)}): upgrade guidance-monitor"
        )
    for number in range(version, len(migrations)):
        with db.atomic():
            migrations[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
    return len(migrations)


# --------------------------------------------------------------------------- the store


class Store:
    """A monitor database. Opening it creates the file or brings its schema up to date."""

    def __init__(
        self, path: str | os.PathLike[str], *, readonly: bool = False, busy_timeout_ms: int | None = None
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        timeout = self.busy_timeout_ms / 1000
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=timeout)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=timeout)
            conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if not isinstance(exc, sqlite3.OperationalError):
                raise StoreError(f"{self.path}: not a guidance-monitor database ({exc})") from None
            raise StoreError(f"{self.path}: cannot be opened ({exc})") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if self.path.parent.exists() and not self.path.parent.is_dir():
                reason = f"{self.path.parent} is not a folder"
            raise StoreError(f"{self.path}: cannot be opened ({reason})") from None
        self.db = sqlite_utils.Database(conn)
        self.db.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        self.db.execute("PRAGMA foreign_keys = ON")
        try:
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                migrate(self.db, MIGRATIONS)
            elif schema_version(self.db) != len(MIGRATIONS):
                raise StoreError(
                    f"{self.path}: schema version {schema_version(self.db)}, expected {len(MIGRATIONS)}"
                )
        except sqlite3.DatabaseError as exc:
            self.db.conn.close()
            raise StoreError(f"{self.path}: not a guidance-monitor database ({exc})") from None
        except BaseException:
            self.db.conn.close()
            raise

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def writing(self, *, wait: bool = True) -> Iterator[None]:
        """One write transaction that takes SQLite's write lock as it begins (``BEGIN IMMEDIATE``).

        A deferred transaction that reads and then writes fails at once in WAL mode when another process
        is writing, whatever the busy timeout; one that asks for the lock first waits for it. Past the
        timeout the store says so (:class:`StoreBusy`) and nothing of the transaction is written.
        ``wait=False`` says so at once, for a caller that waits in its own way (an event loop that must
        keep serving its other work).
        """
        if self.db.conn.in_transaction:
            with self.db.atomic():  # inside a caller's transaction: a savepoint
                yield
            return
        try:
            if not wait:
                self.db.execute("PRAGMA busy_timeout = 0")
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreBusy(self.path, self.busy_timeout_ms) from None
            raise
        finally:
            if not wait:
                self.db.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        try:
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    # ----------------------------------------------------------------------- run lock

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run lock: one run at a time per database, released when the process dies.

        ``flock`` is tied to the open file, so a killed run never leaves a stale lock behind.
        """
        lock_path = Path(f"{self.path}.lock")
        handle = open(lock_path, "a+")  # noqa: SIM115 (held for the whole block)
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                text = handle.read().strip()
                raise LockHeld(lock_path, int(text) if text.isdigit() else None) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()
                handle.flush()
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            handle.close()

    # ----------------------------------------------------------------------- pages

    def upsert_page(
        self,
        url: str,
        *,
        title: str | None = None,
        parent_url: str | None = None,
        source: str = "config",
        search: str | None = None,
    ) -> PageState:
        """Start watching a page (``search``: the name of the search that found it). An existing page
        keeps its history and state.

        A page named in the configuration becomes a "config" page whatever added it first, so removing
        it from a search or a parent does not stop it being watched. Only the user's word watches a page
        again that was set inactive: ``add`` ("cli"), or a page newly listed in the configuration. A
        configured page that the user removed stays removed although config.yaml still lists it; a
        search or a parent page finding a removed page does not bring it back either.
        """
        row = self._page_row(url)
        if row is not None and not self._page_update(row, title, parent_url, source):
            return _page_state(row)  # already watched as asked: every run registers each configured page
        with self.writing():
            row = self._page_row(url)
            if row is None:
                self.db["pages"].insert(
                    {
                        "url": url,
                        "title": title or "",
                        "parent_url": parent_url,
                        "source": source,
                        "added_at": utc_now(),
                        **({"search": search} if search else {}),
                    }
                )
            elif update := self._page_update(row, title, parent_url, source):
                _update_page(self.db, url, update)
        page = self.page(url)
        assert page is not None
        return page

    def register_pages(self, pages: Sequence[tuple[str, str | None]], *, source: str = "config") -> None:
        """``upsert_page`` for many pages at once (each run registers every configured page): one read of
        the pages table, and one transaction only when a page is new or asks for a change."""
        cursor = self.db.execute("SELECT * FROM pages")
        columns = [c[0] for c in cursor.description]
        rows = {row["url"]: row for row in (dict(zip(columns, r, strict=True)) for r in cursor)}
        new = [(url, title or "", source, utc_now()) for url, title in dict(pages).items() if url not in rows]
        due = [
            (url, title)
            for url, title in pages
            if url in rows and self._page_update(rows[url], title, None, source)
        ]
        if new or due:
            with self.writing():
                self.db.conn.executemany(
                    "INSERT OR IGNORE INTO pages (url, title, source, added_at) VALUES (?, ?, ?, ?)", new
                )
                for url, title in due:
                    self.upsert_page(url, title=title, source=source)

    def check_states(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Every page's ETag, Last-Modified and ``read_key`` (see :meth:`validators`, :meth:`last_read`),
        read once for a run."""
        rows = self.db.execute("SELECT url, etag, last_modified, read_key FROM pages")
        return {url: (etag, modified, key) for url, etag, modified, key in rows}

    @staticmethod
    def _page_update(
        row: dict[str, Any], title: str | None, parent_url: str | None, source: str
    ) -> dict[str, Any]:
        update: dict[str, Any] = {}
        newly_configured = source == "config" and row["source"] != "config"
        if not row["active"] and (source == "cli" or newly_configured):
            update["active"] = 1
        if title and not row["title"]:
            update["title"] = title
        if parent_url and not row["parent_url"]:
            update["parent_url"] = parent_url
        if newly_configured:
            update["source"] = "config"
        return update

    def set_active(self, url: str, active: bool) -> None:
        if self._page_row(url) is None:
            raise KeyError(url)
        with self.writing():
            self.db["pages"].update(url, {"active": int(active)})

    def page(self, url: str) -> PageState | None:
        row = self._page_row(url)
        return _page_state(row) if row else None

    def pages(self, active_only: bool = True) -> list[PageState]:
        where = "active = 1" if active_only else None
        return [_page_state(r) for r in self.db["pages"].rows_where(where, order_by="added_at, url")]

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified of the page's last good response, for a conditional request."""
        row = self._page_row(url)
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def last_read(self, url: str) -> str | None:
        """The ``read_key`` of the body whose Document is the page's last snapshot (None: read afresh)."""
        row = self.db.execute("SELECT read_key FROM pages WHERE url = ?", [url]).fetchone()
        return row[0] if row else None

    def _page_row(self, url: str) -> dict[str, Any] | None:
        cursor = self.db.execute("SELECT * FROM pages WHERE url = ?", [url])
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True)) if row else None

    # ----------------------------------------------------------------------- recording a check

    def write(self, update: PageUpdate, *, wait: bool = True) -> list[Change]:
        """Write one check of one page as ``monitor.changes`` decided it, in one transaction; return its
        changes with their ids.

        The body is kept once per content hash; a change whose ``new_snapshot_id`` is ``NEW_SNAPSHOT``
        gets the id of the snapshot written with it. ``wait=False``: raise :class:`StoreBusy` at once if
        another process is writing, rather than wait for it here.
        """
        with self.writing(wait=wait):
            return self._write(update)

    def write_many(self, updates: list[PageUpdate], *, wait: bool = True) -> list[list[Change]]:
        """Write several pages' checks in one transaction (``write`` for each, in order): a run writes the
        answers that arrived together so, since a commit a page was most of what an unchanged check cost
        the store. Each check stays whole; a kill before the commit loses the batch, checked again next run.
        """
        if not updates:
            return []
        with self.writing(wait=wait):
            return [self._write(update) for update in updates]

    def _write(self, update: PageUpdate) -> list[Change]:
        url, fetch, when = update.url, update.fetch, update.checked_at
        self.db.execute(
            "INSERT OR IGNORE INTO pages (url, added_at, source) VALUES (?, ?, 'config')", [url, when]
        )
        stored_hash = None
        if update.body:
            stored_hash = update.body_hash or body_hash(update.body)
            self.db.execute(
                "INSERT OR IGNORE INTO bodies (hash, content_type, size, body) VALUES (?, ?, ?, ?)",
                [stored_hash, fetch.content_type, len(update.body), _compressed(update.body)],
            )
        elif update.body_hash:
            row = self.db.execute("SELECT hash FROM bodies WHERE hash = ?", [update.body_hash]).fetchone()
            stored_hash = row[0] if row else None
        _insert(
            self.db,
            "fetches",
            {
                "page_url": url,
                "time": when,
                "url": fetch.url,
                "final_url": fetch.final_url,
                "status": fetch.status,
                "bytes": len(fetch.body),
                "duration_ms": fetch.duration_ms,
                "attempts": fetch.attempts,
                "not_modified": int(fetch.not_modified),
                "error": fetch.error,
                "body_hash": stored_hash,
            },
        )
        snapshot_id = None
        if update.snapshot is not None:
            snapshot_id = _insert(
                self.db,
                "snapshots",
                {
                    "page_url": url,
                    "taken_at": when,
                    "body_hash": stored_hash,
                    "document_hash": update.snapshot.content_hash,
                    "document": json.dumps(update.snapshot.to_dict(), ensure_ascii=False),
                },
            )
        for change in update.changes:
            if change.new_snapshot_id == NEW_SNAPSHOT:
                if snapshot_id is None:
                    raise ValueError(f"{url}: a change leads to a snapshot that is not written")
                change.new_snapshot_id = snapshot_id
            change.id = _insert(self.db, "changes", _change_row(change))
        if update.page:
            _update_page(self.db, url, update.page)
        return update.changes

    def recent_snapshots(self, url: str, limit: int) -> list[SnapshotRef]:
        """The page's latest snapshots, newest first, by id and content hash only (no Document read)."""
        rows = self.db.execute(
            "SELECT id, document_hash FROM snapshots WHERE page_url = ? ORDER BY id DESC LIMIT ?",
            [url, limit],
        ).fetchall()
        return [SnapshotRef(id_, hash_) for id_, hash_ in rows]

    # ----------------------------------------------------------------------- reading back

    def last_snapshot(self, url: str) -> tuple[int, Document] | None:
        """The page's last good version: what the next good response is compared with."""
        row = self._last_snapshot_row(url)
        return (row["id"], Document.from_dict(json.loads(row["document"]))) if row else None

    def _last_snapshot_row(self, url: str) -> dict[str, Any] | None:
        rows = list(self.db["snapshots"].rows_where("page_url = ?", [url], order_by="id desc", limit=1))
        return rows[0] if rows else None

    def snapshot(self, snapshot_id: int) -> tuple[dict[str, Any], Document] | None:
        """One snapshot's row (without the document JSON) and its Document."""
        rows = list(self.db["snapshots"].rows_where("id = ?", [snapshot_id]))
        if not rows:
            return None
        row = rows[0]
        return _snapshot_meta(row), Document.from_dict(json.loads(row["document"]))

    def snapshots(self, url: str) -> list[dict[str, Any]]:
        """The page's versions, oldest first: id, taken_at, body_hash, document_hash, title, last_updated."""
        rows = self.db["snapshots"].rows_where("page_url = ?", [url], order_by="id")
        return [_snapshot_meta(r) for r in rows]

    def last_snapshot_body(self, url: str) -> tuple[str, bytes, str] | None:
        """The body the page's last snapshot was read from: ``(body_hash, body, content_type)``."""
        row = self.db.execute(
            "SELECT b.hash, b.body, b.content_type FROM snapshots s JOIN bodies b ON b.hash = s.body_hash"
            " WHERE s.page_url = ? ORDER BY s.id DESC LIMIT 1",
            [url],
        ).fetchone()
        return (row[0], zlib.decompress(row[1]), row[2] or "") if row else None

    def body(self, hash_: str) -> bytes | None:
        rows = list(self.db["bodies"].rows_where("hash = ?", [hash_]))
        return zlib.decompress(rows[0]["body"]) if rows else None

    def fetches(self, url: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The page's fetch attempts, newest first."""
        rows = self.db["fetches"].rows_where("page_url = ?", [url], order_by="id desc", limit=limit)
        return [{**r, "not_modified": bool(r["not_modified"])} for r in rows]

    def changes(
        self,
        *,
        since: str | None = None,
        page_url: str | None = None,
        include_backfilled: bool = True,
        limit: int | None = None,
    ) -> list[Change]:
        """Changes newest first; ``since`` compares with ``detected_at`` (UTC ISO)."""
        clauses, params = [], []
        if since is not None:
            clauses.append("detected_at >= ?")
            params.append(since)
        if page_url is not None:
            clauses.append("page_url = ?")
            params.append(page_url)
        if not include_backfilled:
            clauses.append("backfilled = 0")
        rows = self.db["changes"].rows_where(
            " AND ".join(clauses) or None, params, order_by="detected_at desc, id desc", limit=limit
        )
        return [_change(r) for r in rows]

    def change(self, change_id: int) -> Change | None:
        rows = list(self.db["changes"].rows_where("id = ?", [change_id]))
        return _change(rows[0]) if rows else None

    # ----------------------------------------------------------------------- delivery outbox

    def undelivered(self, channel: str) -> list[Change]:
        """Changes not yet sent on ``channel``, oldest first. Backfilled history is never sent."""
        rows = self.db.query(UNDELIVERED, [channel])
        return [_change(r) for r in rows]

    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None:
        when = utc_now()
        with self.writing():
            for change_id in change_ids:
                self.db.execute(
                    "INSERT OR IGNORE INTO deliveries (change_id, channel, delivered_at, detail) "
                    "VALUES (?, ?, ?, ?)",
                    [change_id, channel, when, detail],
                )

    def deliveries(self, change_id: int) -> list[dict[str, Any]]:
        return list(self.db["deliveries"].rows_where("change_id = ?", [change_id], order_by="id"))

    def integrity_check(self) -> str:
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]

    # ----------------------------------------------------------------------- discovery and the watch list

    def add_change(self, change: Change) -> Change:
        """Record a change that no fetch led to (a page a search found); returns it with its id."""
        with self.writing():
            change.id = self.db["changes"].insert(_change_row(change)).last_pk
            if not change.backfilled:
                self.db["pages"].update(change.page_url, {"last_changed": change.detected_at})
        return change

    def search_timestamp(self, url: str) -> str | None:
        """GOV.UK's ``public_timestamp`` for the page when a search last led to its full check."""
        row = self._page_row(url)
        return row["public_timestamp"] if row else None

    def set_search_timestamp(self, url: str, timestamp: str | None) -> None:
        with self.writing():
            self.db["pages"].update(url, {"public_timestamp": timestamp})

    def follow_documents(self, url: str) -> bool:
        """Whether a page added with ``add --follow-documents`` follows its documents."""
        row = self._page_row(url)
        return bool(row and row["follow_documents"])

    def set_follow_documents(self, url: str, follow: bool) -> None:
        with self.writing():
            self.db["pages"].update(url, {"follow_documents": int(follow)})


# --------------------------------------------------------------------------- rows <-> records


def _compressed(body: bytes) -> bytes:
    return zlib.compress(body, BODY_COMPRESSION)


def _insert(db: sqlite_utils.Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row with plain SQL (sqlite-utils' ``insert`` reads the table's schema on every call)."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _update_page(db: sqlite_utils.Database, url: str, state: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in state)
    db.execute(f"UPDATE pages SET {assignments} WHERE url = ?", [*state.values(), url])


def _fields(cls: type, row: dict[str, Any]) -> dict[str, Any]:
    """The columns of ``row`` that are fields of ``cls``: later migrations may add columns."""
    names = _field_names(cls)
    return {k: v for k, v in row.items() if k in names}


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    """Asked for every row read (20,000 pages a run for a large watch list): worked out once a class."""
    return frozenset(f.name for f in dataclasses.fields(cls))


def _page_state(row: dict[str, Any]) -> PageState:
    data = _fields(PageState, row)
    return PageState(
        **{**data, "title": data["title"] or "", "active": bool(data["active"]), "gone": bool(data["gone"])}
    )


def _snapshot_meta(row: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(row["document"])
    return {
        **{k: v for k, v in row.items() if k != "document"},
        "title": document.get("title", ""),
        "last_updated": document.get("last_updated"),
        "history_count": len(document.get("change_history", [])),
    }


_CHANGE_COLUMNS = tuple(f.name for f in dataclasses.fields(Change) if f.name != "id")
"""Change's stored fields, listed once: ``dataclasses.fields`` on every row cost as much as the row."""


def _change_row(change: Change) -> dict[str, Any]:
    row = {name: getattr(change, name) for name in _CHANGE_COLUMNS}
    row["changeset"] = (
        json.dumps(change.changeset.to_dict(), ensure_ascii=False) if change.changeset else None
    )
    row["backfilled"] = int(change.backfilled)
    return row


def _change(row: dict[str, Any]) -> Change:
    data = _fields(Change, row)
    changeset = ChangeSet.from_dict(json.loads(data["changeset"])) if data["changeset"] else None
    return Change(**{**data, "changeset": changeset, "backfilled": bool(data["backfilled"])})


# =========================================================================== the delivery outbox's records
# (the deliver helper's block: its migration is appended to MIGRATIONS here, renumber it at merge)


def _migration_outbox(db: sqlite_utils.Database) -> None:
    """Delivery attempts and each recipient's answer.

    An attempt is recorded before a message is handed over (before SMTP ``DATA``, before a webhook's
    POST) with the Message-ID it carries, so a run killed after the server accepted it resends that one
    message, with the same Message-ID, and nothing else twice. A recipient's answer is kept per change,
    so one refused or deferred address keeps the changes for that address alone.
    """
    db.executescript(
        """
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            change_ids TEXT NOT NULL,
            recipients TEXT NOT NULL DEFAULT '[]',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX delivery_attempts_open ON delivery_attempts(channel, finished_at);
        CREATE TABLE recipient_deliveries (
            change_id INTEGER NOT NULL REFERENCES changes(id),
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            status TEXT NOT NULL,
            code INTEGER,
            detail TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            PRIMARY KEY (change_id, channel, recipient)
        );
        """
    )


MIGRATIONS.append(_migration_outbox)


@dataclasses.dataclass
class Attempt:
    """A message handed to a channel whose outcome was not recorded (the run was killed meanwhile)."""

    id: int
    channel: str
    message_id: str
    change_ids: list[int]
    recipients: list[str]


class Outbox:
    """The outbox of a :class:`Store`: which change went out on which channel, to whom, and what is
    being sent right now."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = store.db

    def undelivered(self, channel: str) -> list[Change]:
        return self.store.undelivered(channel)

    def adopt(self, channel: str, old_names: list[str]) -> None:
        """Carry what was delivered under a channel's earlier names (``webhook:<url>`` before channels had
        names) over to ``channel``, and forget those names: they may hold a token."""
        old = [n for n in old_names if n != channel]
        if not old:
            return
        marks = ", ".join("?" * len(old))
        with self.store.writing():
            for table in ("deliveries", "recipient_deliveries"):
                self.db.execute(
                    f"UPDATE OR IGNORE {table} SET channel = ? WHERE channel IN ({marks})", [channel, *old]
                )
                self.db.execute(f"DELETE FROM {table} WHERE channel IN ({marks})", old)
            self.db.execute(
                f"UPDATE delivery_attempts SET channel = ? WHERE channel IN ({marks})", [channel, *old]
            )

    def start(self, channel: str, message_id: str, change_ids: list[int], recipients: list[str]) -> int:
        """Record that a message is about to be handed over; returns the attempt's id."""
        with self.store.writing():
            return _insert(
                self.db,
                "delivery_attempts",
                {
                    "channel": channel,
                    "message_id": message_id,
                    "change_ids": json.dumps(change_ids),
                    "recipients": json.dumps(recipients),
                    "started_at": utc_now(),
                },
            )

    def finish(self, attempt_id: int, outcome: str, detail: str = "") -> None:
        with self.store.writing():
            self._finish(attempt_id, outcome, detail)

    def _finish(self, attempt_id: int, outcome: str, detail: str) -> None:
        self.db.execute(
            "UPDATE delivery_attempts SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?",
            [utc_now(), outcome, detail, attempt_id],
        )

    def unfinished(self, channel: str) -> list[Attempt]:
        """Attempts on ``channel`` whose outcome was never recorded, oldest first."""
        rows = self.db.execute(
            "SELECT id, channel, message_id, change_ids, recipients FROM delivery_attempts"
            " WHERE channel = ? AND finished_at IS NULL ORDER BY id",
            [channel],
        ).fetchall()
        return [Attempt(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows]

    def sent(self, channel: str, change_ids: list[int], detail: str, attempt_id: int | None = None) -> None:
        """Mark the changes delivered on ``channel`` and close the attempt, in one transaction."""
        when = utc_now()
        with self.store.writing():
            for change_id in change_ids:
                self.db.execute(
                    "INSERT OR IGNORE INTO deliveries (change_id, channel, delivered_at, detail) "
                    "VALUES (?, ?, ?, ?)",
                    [change_id, channel, when, detail],
                )
            if attempt_id is not None:
                self._finish(attempt_id, "sent", detail)

    def record_recipients(
        self,
        channel: str,
        change_ids: list[int],
        answers: dict[str, tuple[str, int | None, str]],
        attempt_id: int | None = None,
    ) -> None:
        """Each recipient's answer for these changes: ``{address: (status, code, detail)}`` with status
        ``sent``, ``deferred`` (try again) or ``refused`` (given up)."""
        when = utc_now()
        with self.store.writing():
            for recipient, (status, code, detail) in answers.items():
                for change_id in change_ids:
                    self.db.execute(
                        "INSERT OR REPLACE INTO recipient_deliveries"
                        " (change_id, channel, recipient, status, code, detail, at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [change_id, channel, recipient, status, code, detail, when],
                    )
            if attempt_id is not None:
                outcomes = {status for status, _, _ in answers.values()}
                self._finish(attempt_id, "/".join(sorted(outcomes)), "")

    def recipient_answers(self, channel: str, change_ids: list[int]) -> dict[tuple[int, str], str]:
        """``{(change_id, recipient): status}`` recorded for these changes on ``channel``."""
        found: dict[tuple[int, str], str] = {}
        for start in range(0, len(change_ids), 500):
            chunk = change_ids[start : start + 500]
            rows = self.db.execute(
                "SELECT change_id, recipient, status FROM recipient_deliveries WHERE channel = ?"
                f" AND change_id IN ({', '.join('?' * len(chunk))})",
                [channel, *chunk],
            ).fetchall()
            found.update({(r[0], r[1]): r[2] for r in rows})
        return found

    def refusals(self, channel: str, change_ids: list[int]) -> list[tuple[str, int | None, str]]:
        """The recipients that refused these changes for good: ``(address, code, detail)``."""
        if not change_ids:
            return []
        rows = self.db.execute(
            "SELECT DISTINCT recipient, code, detail FROM recipient_deliveries WHERE channel = ?"
            f" AND status = 'refused' AND change_id IN ({', '.join('?' * len(change_ids))})",
            [channel, *change_ids],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def organisations(self, urls: list[str]) -> dict[str, list[str]]:
        """GOV.UK's organisations of each page, from its last snapshot."""
        found: dict[str, list[str]] = {}
        for url in dict.fromkeys(urls):
            row = self.db.execute(
                "SELECT json_extract(document, '$.organisations') FROM snapshots"
                " WHERE page_url = ? ORDER BY id DESC LIMIT 1",
                [url],
            ).fetchone()
            if row is not None:
                found[url] = json.loads(row[0]) if row[0] else []
        return found

    def checked_before(self, url: str, before: str) -> str | None:
        """When the page was last fetched without error before ``before`` (a UTC timestamp)."""
        row = self.db.execute(
            "SELECT max(time) FROM fetches WHERE page_url = ? AND time < ? AND (error IS NULL OR error = '')",
            [url, before],
        ).fetchone()
        return row[0] if row else None

    # ----------------------------------------------------------------------- subscribers

    def subscriber(self, channel: str) -> tuple[str, str | None] | None:
        """``(since, last_sent)`` of the subscriber on ``channel``; None before their first run."""
        row = self.db.execute(
            "SELECT since, last_sent FROM subscribers WHERE channel = ?", [channel]
        ).fetchone()
        return (row[0], row[1]) if row else None

    def subscribe(self, channel: str, since: str) -> str:
        """When the subscriber on ``channel`` counts changes from: ``since`` the first time, kept after."""
        with self.store.writing():
            self.db.execute(
                "INSERT OR IGNORE INTO subscribers (channel, since) VALUES (?, ?)", [channel, since]
            )
        found = self.subscriber(channel)
        assert found is not None
        return found[0]

    def set_last_sent(self, channel: str, when: str) -> None:
        """Their message went at ``when`` (a UTC timestamp): their rhythm counts from it."""
        with self.store.writing():
            self.db.execute("UPDATE subscribers SET last_sent = ? WHERE channel = ?", [when, channel])


def _migration_subscribers(db: sqlite_utils.Database) -> None:
    """Subscribers (``digest.subscribers``): from when each one's changes count and when their message
    last went (their rhythm); and the search that found a page, which ``searches:`` subscriptions follow."""
    db.executescript(
        """
        CREATE TABLE subscribers (
            channel TEXT PRIMARY KEY,
            since TEXT NOT NULL,
            last_sent TEXT
        );
        ALTER TABLE pages ADD COLUMN search TEXT;
        """
    )


MIGRATIONS.append(_migration_subscribers)


# --------------------------------------------------------------------------- cli helper's block
# Added by the command line (``add --selector``, ``show URL --at``, ``diff URL --from --to``,
# ``explore``): read-only queries, plus one column. Kept together at the end so it merges as one piece.


def _migration_page_selector(db: sqlite_utils.Database) -> None:
    """``add --selector``: the CSS selector of a page outside GOV.UK added from the command line."""
    db.execute("ALTER TABLE pages ADD COLUMN selector TEXT")


MIGRATIONS.append(_migration_page_selector)


def _migration_monitored_changes(db: sqlite_utils.Database) -> None:
    """An index of the monitored changes only: what the outbox asks of every run. The backfilled history
    of each page is most of the changes table (410,000 of 500,000 rows after a year of 20,000 pages), and
    the outbox scanned it whole, reading a 1 GB database from disk on a cold start."""
    db.execute("CREATE INDEX IF NOT EXISTS changes_monitored ON changes(id) WHERE backfilled = 0")


MIGRATIONS.append(_migration_monitored_changes)


def page_selector(store: Store, url: str) -> str | None:
    """The selector ``add --selector`` gave the page, or None."""
    row = store.db.execute("SELECT selector FROM pages WHERE url = ?", [url]).fetchone()
    return row[0] if row else None


def set_page_selector(store: Store, url: str, selector: str | None) -> None:
    with store.writing():
        store.db.execute("UPDATE pages SET selector = ? WHERE url = ?", [selector, url])


def snapshot_before(store: Store, url: str, before: str) -> tuple[dict[str, Any], Document] | None:
    """The page as it stood just before ``before`` (a UTC timestamp): its last snapshot taken earlier."""
    row = store.db.execute(
        "SELECT id FROM snapshots WHERE page_url = ? AND taken_at < ?"
        " ORDER BY taken_at DESC, id DESC LIMIT 1",
        [url, before],
    ).fetchone()
    return store.snapshot(row[0]) if row else None


EXPLORE_TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "pages": (
        "Every page watched, or once watched, and how its watching is going.",
        {
            "url": "The page's address (one spelling per page).",
            "title": "Its title when last read.",
            "parent_url": "For a followed document: the publication page it belongs to.",
            "source": "What added it: config (config.yaml), cli (guidance-monitor add), search, document.",
            "active": "1 while it is watched; 0 once removed (its history is kept).",
            "added_at": "When it was first watched (UTC).",
            "current_url": "Where it now lives, when it has moved (a redirect).",
            "gone": "1 when GOV.UK answers 404 or 410 for it.",
            "etag": "The ETag of its last good answer (for conditional requests).",
            "last_modified": "The Last-Modified of its last good answer.",
            "consecutive_failures": "Checks in a row that failed.",
            "last_error": "Why the last check failed, if it did.",
            "last_checked": "When it was last checked (UTC).",
            "last_changed": "When a change was last recorded (UTC).",
            "public_timestamp": "GOV.UK's public_timestamp when a search last led to a full check.",
            "follow_documents": "1 when its HTML publications and PDFs are watched too.",
            "read_key": "Which body, read by which code, gave its last snapshot.",
            "selector": "For a page outside GOV.UK: the CSS selector of the element holding its text.",
            "search": "The name of the search (searches[].name) that found it, if one did.",
        },
    ),
    "fetches": (
        "Every request made for a page, good or failed.",
        {
            "id": "Fetch number.",
            "page_url": "The page.",
            "time": "When (UTC).",
            "url": "The address asked for (the Content API's for a GOV.UK page read from it).",
            "final_url": "The address that answered, after redirects.",
            "status": "HTTP status (empty when there was no answer).",
            "bytes": "Size of the answer.",
            "duration_ms": "How long it took, in milliseconds.",
            "attempts": "Tries, counting retries.",
            "not_modified": "1 for a 304 answer: unchanged since the last good one.",
            "error": "Why the answer could not be used, if it could not.",
            "body_hash": "The body kept for it (bodies.hash).",
        },
    ),
    "bodies": (
        "Each distinct answer body, kept once (zlib-compressed).",
        {
            "hash": "SHA-256 of the body.",
            "content_type": "Its Content-Type.",
            "size": "Its size in bytes, uncompressed.",
            "body": "The body, zlib-compressed.",
        },
    ),
    "snapshots": (
        "Each distinct version of a page, as the monitor read it.",
        {
            "id": "Snapshot number.",
            "page_url": "The page.",
            "taken_at": "When this version was first seen (UTC).",
            "body_hash": "The body it was read from (bodies.hash).",
            "document_hash": "Hash of what a reader sees: equal hashes, same page.",
            "document": "The page as read: title, dates, change history, sections, attachments (JSON).",
        },
    ),
    "changes": (
        "Every change recorded: edits, with what changed, and events (new, moved, removed, withdrawn).",
        {
            "id": "Change number (guidance-monitor show ID).",
            "page_url": "The page.",
            "kind": "major (updated with a change note), minor (changed without a change note), new, "
            "moved, removed or withdrawn.",
            "detected_at": "When the monitor found it (UTC).",
            "effective_date": "The date GOV.UK gives it, else the day it was found.",
            "title": "The page's title.",
            "note": "GOV.UK's change note, or a plain description of the event.",
            "changeset": "What changed, section by section and word by word (JSON).",
            "backfilled": "1 for history GOV.UK published before monitoring began (never sent).",
            "old_snapshot_id": "The version before.",
            "new_snapshot_id": "The version after.",
            "new_url": "For moved: where the page now lives.",
        },
    ),
    "deliveries": (
        "Which change went out on which channel, once each.",
        {
            "id": "Delivery number.",
            "change_id": "The change sent.",
            "channel": "The channel's name: email, a webhook's name (format@host), notify:<name>.",
            "delivered_at": "When (UTC).",
            "detail": "What the channel answered.",
        },
    ),
    "delivery_attempts": (
        "Each message handed to a channel, recorded before it was sent, so a run killed meanwhile "
        "resends that one message with the same Message-ID.",
        {
            "id": "Attempt number.",
            "channel": "The channel's name.",
            "message_id": "The Message-ID the message carried (derived from its changes and recipients).",
            "change_ids": "The changes it carried (JSON list).",
            "recipients": "Its recipients (JSON list).",
            "started_at": "When it was handed over (UTC).",
            "finished_at": "When its outcome was recorded (UTC); empty while unknown.",
            "outcome": "sent, failed or refused.",
            "detail": "What the channel answered.",
        },
    ),
    "recipient_deliveries": (
        "Each email recipient's answer for each change: a refused or deferred address keeps the change "
        "for that address alone.",
        {
            "change_id": "The change.",
            "channel": "The channel's name.",
            "recipient": "The email address.",
            "status": "sent, deferred (retried next run) or refused (reported, not retried).",
            "code": "The SMTP reply code.",
            "detail": "The server's reply.",
            "at": "When (UTC).",
        },
    ),
    "subscribers": (
        "Each subscriber's rhythm (digest.subscribers): from when their changes count, and when their "
        "message last went.",
        {
            "channel": "The subscriber's outbox name (email:<first address>).",
            "since": "Changes found from this time on are theirs (UTC).",
            "last_sent": "When their last message went (UTC); their rhythm counts from it.",
        },
    ),
}
"""What each table and column holds, in words: ``guidance-monitor explore`` shows it in Datasette."""

EXPLORE_QUERIES: dict[str, tuple[str, str, str]] = {
    "changes-this-week": (
        "Changes this week",
        "Changes found in the last seven days, newest first (history published before monitoring "
        "began left out).",
        "SELECT c.id, c.detected_at, c.effective_date, c.kind, c.title, c.note, c.page_url\n"
        "FROM changes c WHERE c.backfilled = 0 AND c.detected_at >= strftime('%Y-%m-%dT%H:%M:%SZ', "
        "'now', '-7 days')\nORDER BY c.detected_at DESC, c.id DESC",
    ),
    "silent-edits": (
        "Silent edits",
        "Pages changed without a change note (GOV.UK's minor edits), newest first.",
        "SELECT c.id, c.detected_at, c.title, c.page_url FROM changes c\n"
        "WHERE c.kind = 'minor' AND c.backfilled = 0 ORDER BY c.detected_at DESC, c.id DESC",
    ),
    "could-not-be-checked": (
        "Pages that could not be checked",
        "Watched pages whose last check failed, with the reason and how many checks in a row failed.",
        "SELECT p.url, p.title, p.consecutive_failures, p.last_error, p.last_checked FROM pages p\n"
        "WHERE p.active = 1 AND p.consecutive_failures > 0 ORDER BY p.consecutive_failures DESC, p.url",
    ),
    "page-on-a-date": (
        "The text of a page on a date",
        "The page (its address) as the monitor had it at the end of a day (YYYY-MM-DD, UTC): "
        "each section's heading and text.",
        "SELECT s.id AS snapshot, s.taken_at, json_extract(s.document, '$.title') AS title,\n"
        "  json_extract(section.value, '$.heading') AS heading,\n"
        "  json_extract(section.value, '$.text') AS text\n"
        "FROM snapshots s, json_each(s.document, '$.sections') AS section\n"
        "WHERE s.id = (SELECT id FROM snapshots WHERE page_url = :url AND taken_at < date(:date, '+1 day')\n"
        "  ORDER BY taken_at DESC, id DESC LIMIT 1)\nORDER BY section.key",
    ),
}
"""Datasette's canned queries for ``guidance-monitor explore``: name -> (title, description, SQL)."""


# =========================================================================== the static changelog's reads
# Read-only queries for monitor.site, kept in one block: the site is rendered from the store one page,
# one month or one short list at a time, and a run finds what it must write from the changes recorded
# since the last build (by id) without reading the history already published.

SITE_BATCH = 200


class SiteReads:
    """What the static changelog reads; every query uses an index (id, page, detection time)."""

    def __init__(self, store: Store) -> None:
        self.db = store.db

    def first_added(self) -> str:
        """When the first page was added: tells one database from another that replaced it."""
        row = self.db.execute("SELECT min(added_at) FROM pages").fetchone()
        return row[0] or ""

    def page_facts(self) -> Iterator[tuple[str, str, bool, bool, str | None, int, str | None]]:
        """``(url, title, active, gone, current_url, consecutive_failures, last_error)`` of every page:
        what its timeline and the list of pages show of its state (a light row each, no dataclass)."""
        cursor = self.db.execute(
            "SELECT url, title, active, gone, current_url, consecutive_failures, last_error FROM pages"
        )
        for row in cursor:
            yield row[0], row[1] or "", bool(row[2]), bool(row[3]), row[4], row[5], row[6]

    def last_change_id(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]

    def change_rows(self, after_id: int = 0) -> Iterator[tuple[int, str, str, str, bool]]:
        """``(id, page_url, kind, detected_at, backfilled)`` of each change recorded after ``after_id``,
        oldest first, streamed (no changeset is read)."""
        cursor = self.db.execute(
            "SELECT id, page_url, kind, detected_at, backfilled FROM changes WHERE id > ? ORDER BY id",
            [after_id],
        )
        for row in cursor:
            yield row[0], row[1], row[2], row[3], bool(row[4])

    def page_changes(self, url: str) -> list[Change]:
        """Every change of one page (its history included), in the order they were recorded."""
        rows = self.db.query("SELECT * FROM changes WHERE page_url = ? ORDER BY id", [url])
        return [_change(r) for r in rows]

    def changes_by_id(self, ids: list[int]) -> Iterator[Change]:
        """The changes with these ids, in the order given, read a batch at a time."""
        for start in range(0, len(ids), SITE_BATCH):
            batch = ids[start : start + SITE_BATCH]
            marks = ", ".join("?" * len(batch))
            found = {
                r["id"]: _change(r)
                for r in self.db.query(f"SELECT * FROM changes WHERE id IN ({marks})", batch)
            }
            yield from (found[i] for i in batch if i in found)

    def detected_between(self, start: str, end: str) -> list[tuple[int, str, str, str | None, str, bool]]:
        """``(id, page_url, kind, effective_date, detected_at, backfilled)`` of the changes monitoring saw
        (not backfilled history) from ``start`` up to ``end`` (ISO strings, compared as stored), without
        their changesets."""
        rows = self.db.execute(
            "SELECT id, page_url, kind, effective_date, detected_at, backfilled FROM changes"
            " WHERE detected_at >= ? AND detected_at < ? AND backfilled = 0 AND kind != 'none' ORDER BY id",
            [start, end],
        )
        return [(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def last_snapshot_id(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM snapshots").fetchone()[0]

    def snapshot_rows(self, after_id: int = 0) -> Iterator[tuple[int, str]]:
        """``(id, page_url)`` of each snapshot stored after ``after_id``, oldest first (no document)."""
        cursor = self.db.execute("SELECT id, page_url FROM snapshots WHERE id > ? ORDER BY id", [after_id])
        for row in cursor:
            yield row[0], row[1]

    def page_versions(self, url: str) -> list[tuple[int, str]]:
        """``(id, taken_at)`` of one page's snapshots, oldest first: the versions its timeline links."""
        rows = self.db.execute("SELECT id, taken_at FROM snapshots WHERE page_url = ? ORDER BY id", [url])
        return [(r[0], r[1]) for r in rows]

    def snapshot(self, snapshot_id: int) -> tuple[str, str, Document] | None:
        """``(page_url, taken_at, document)`` of one snapshot."""
        row = self.db.execute(
            "SELECT page_url, taken_at, document FROM snapshots WHERE id = ?", [snapshot_id]
        ).fetchone()
        return (row[0], row[1], Document.from_dict(json.loads(row[2]))) if row else None

    def story_links(self) -> dict[str, tuple[str, str | None]]:
        """``url -> (title, parent_url)`` of the pages a story can join: followed documents and the
        publications they belong to (every other page's changes are told on their own)."""
        rows = self.db.execute(
            "SELECT url, title, parent_url FROM pages WHERE parent_url IS NOT NULL"
            " OR url IN (SELECT parent_url FROM pages WHERE parent_url IS NOT NULL)"
        )
        return {r[0]: (r[1] or "", r[2]) for r in rows}

    def run_changes(self, detected_at: str, urls: list[str] | None = None) -> list[Change]:
        """The changes one run recorded (one ``detected_at``), of ``urls`` only when given, by id."""
        sql, params = "SELECT * FROM changes WHERE detected_at = ?", [detected_at]
        if urls is not None:
            if not urls:
                return []
            sql += f" AND page_url IN ({', '.join('?' * len(urls))})"
            params += urls
        return [_change(r) for r in self.db.query(sql + " ORDER BY id", params)]


# ================================================================ end of the static changelog's reads
