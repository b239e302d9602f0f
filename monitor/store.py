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
import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from .clock import utc_now
from .model import Change, ChangeSet, Document, FetchResult, PageState

BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """A database this version cannot use (made by a newer version, or not a guidance-monitor store)."""


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

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000)
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
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
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
    ) -> PageState:
        """Start watching a page. An existing page keeps its history and state.

        A page named in the configuration becomes a "config" page whatever added it first, so removing
        it from a search or a parent does not stop it being watched. Only the user's word watches a page
        again that was set inactive: ``add`` ("cli"), or a page newly listed in the configuration. A
        configured page that the user removed stays removed although config.yaml still lists it; a
        search or a parent page finding a removed page does not bring it back either.
        """
        row = self._page_row(url)
        if row is not None and not self._page_update(row, title, parent_url, source):
            return _page_state(row)  # already watched as asked: every run registers each configured page
        with self.db.atomic():
            row = self._page_row(url)
            if row is None:
                self.db["pages"].insert(
                    {
                        "url": url,
                        "title": title or "",
                        "parent_url": parent_url,
                        "source": source,
                        "added_at": utc_now(),
                    }
                )
            elif update := self._page_update(row, title, parent_url, source):
                _update_page(self.db, url, update)
        page = self.page(url)
        assert page is not None
        return page

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
        with self.db.atomic():
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

    def record(
        self,
        url: str,
        fetch: FetchResult,
        document: Document | None,
        body: bytes | None,
        changes: list[Change],
        *,
        read_key: str | None = None,
    ) -> list[Change]:
        """Keep the outcome of one check of one page, all in one transaction; return the changes with ids.

        ``document`` is given only for a response that passed the quality gate: then a snapshot is added
        when the document differs from the page's last. A ``body`` is kept once per content hash, also for
        a response the parser rejected, so a reader can be fixed against what was really served.
        A failed check (``fetch.error`` set) raises the page's failure count; a good or unchanged one
        resets it. Changes that name no snapshots are tied to the previous and the new one.
        ``read_key`` names how ``document`` was read from ``body`` (see :meth:`record_unchanged`).
        """
        when = fetch.fetched_at or utc_now()
        with self.db.atomic():
            if self._page_row(url) is None:
                self.db["pages"].insert({"url": url, "added_at": when, "source": "config"})
            page = self._page_row(url)
            assert page is not None
            stored_hash = None
            if body:
                stored_hash = body_hash(body)
                if self.db.execute("SELECT 1 FROM bodies WHERE hash = ?", [stored_hash]).fetchone() is None:
                    self.db.execute(
                        "INSERT INTO bodies (hash, content_type, size, body) VALUES (?, ?, ?, ?)",
                        [stored_hash, fetch.content_type, len(body), zlib.compress(body, 6)],
                    )
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
            previous = self.db.execute(
                "SELECT id, document_hash FROM snapshots WHERE page_url = ? ORDER BY id DESC LIMIT 1", [url]
            ).fetchone()
            old_id = previous[0] if previous else None
            new_id = old_id
            if document is not None and (previous is None or previous[1] != document.content_hash):
                new_id = _insert(
                    self.db,
                    "snapshots",
                    {
                        "page_url": url,
                        "taken_at": when,
                        "body_hash": stored_hash,
                        "document_hash": document.content_hash,
                        "document": json.dumps(document.to_dict(), ensure_ascii=False),
                    },
                )

            saved: list[Change] = []
            for change in changes:
                if not change.backfilled:
                    if change.old_snapshot_id is None and change.kind not in ("new",):
                        change.old_snapshot_id = old_id
                    if change.new_snapshot_id is None and document is not None:
                        change.new_snapshot_id = new_id
                change.id = _insert(self.db, "changes", _change_row(change))
                saved.append(change)

            state: dict[str, Any] = {"last_checked": when}
            if fetch.error:
                state["consecutive_failures"] = page["consecutive_failures"] + 1
                state["last_error"] = fetch.error
            else:
                state["consecutive_failures"] = 0
                state["last_error"] = None
            if document is not None:
                state["gone"] = 0
                state["read_key"] = read_key
                if document.title:
                    state["title"] = document.title
                if not fetch.redirects:
                    state["current_url"] = None
            if (document is not None or fetch.not_modified) and not fetch.error:
                if fetch.etag or fetch.last_modified or document is not None:
                    state["etag"] = fetch.etag
                    state["last_modified"] = fetch.last_modified
            for change in changes:
                if change.kind == "removed":
                    state["gone"] = 1
                    state["etag"] = state["last_modified"] = state["read_key"] = None
                elif change.kind == "moved":
                    state["current_url"] = change.new_url
            if any(not c.backfilled for c in changes):
                state["last_changed"] = when
            _update_page(self.db, url, state)
        return saved

    def record_unchanged(self, url: str, fetch: FetchResult, *, body_hash: str | None = None) -> None:
        """Keep a good check that found the page as it was, in one small transaction: a 304 (no
        ``body_hash``), or the very body whose Document is the last snapshot, read the same way (the
        page's ``read_key`` matched) and not redirected.

        What :meth:`record` keeps for the same answer, without loading or comparing any snapshot: the
        fetch row, and the page's state (failures reset; for a body, its validators and address).
        """
        when = fetch.fetched_at or utc_now()
        state: dict[str, Any] = {"last_checked": when, "consecutive_failures": 0, "last_error": None}
        if body_hash is not None:
            state.update(gone=0, current_url=None, etag=fetch.etag, last_modified=fetch.last_modified)
        elif fetch.etag or fetch.last_modified:
            state.update(etag=fetch.etag, last_modified=fetch.last_modified)
        with self.db.atomic():
            self.db.execute(
                "INSERT OR IGNORE INTO pages (url, added_at, source) VALUES (?, ?, 'config')", [url, when]
            )
            _update_page(self.db, url, state)
            self.db.execute(
                "INSERT INTO fetches (page_url, time, url, final_url, status, bytes, duration_ms, attempts, "
                "not_modified, error, body_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, "
                "(SELECT hash FROM bodies WHERE hash = ?))",
                [
                    url,
                    when,
                    fetch.url,
                    fetch.final_url,
                    fetch.status,
                    len(fetch.body),
                    fetch.duration_ms,
                    fetch.attempts,
                    int(fetch.not_modified),
                    body_hash,
                ],
            )

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
        rows = self.db.query(
            """
            SELECT * FROM changes
            WHERE backfilled = 0
              AND id NOT IN (SELECT change_id FROM deliveries WHERE channel = ?)
            ORDER BY detected_at, id
            """,
            [channel],
        )
        return [_change(r) for r in rows]

    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None:
        when = utc_now()
        with self.db.atomic():
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
        with self.db.atomic():
            change.id = self.db["changes"].insert(_change_row(change)).last_pk
            if not change.backfilled:
                self.db["pages"].update(change.page_url, {"last_changed": change.detected_at})
        return change

    def search_timestamp(self, url: str) -> str | None:
        """GOV.UK's ``public_timestamp`` for the page when a search last led to its full check."""
        row = self._page_row(url)
        return row["public_timestamp"] if row else None

    def set_search_timestamp(self, url: str, timestamp: str | None) -> None:
        with self.db.atomic():
            self.db["pages"].update(url, {"public_timestamp": timestamp})

    def follow_documents(self, url: str) -> bool:
        """Whether a page added with ``add --follow-documents`` follows its documents."""
        row = self._page_row(url)
        return bool(row and row["follow_documents"])

    def set_follow_documents(self, url: str, follow: bool) -> None:
        with self.db.atomic():
            self.db["pages"].update(url, {"follow_documents": int(follow)})


# --------------------------------------------------------------------------- rows <-> records


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
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in row.items() if k in names}


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


def _change_row(change: Change) -> dict[str, Any]:
    row = {f.name: getattr(change, f.name) for f in dataclasses.fields(Change) if f.name != "id"}
    row["changeset"] = (
        json.dumps(change.changeset.to_dict(), ensure_ascii=False) if change.changeset else None
    )
    row["backfilled"] = int(change.backfilled)
    return row


def _change(row: dict[str, Any]) -> Change:
    data = _fields(Change, row)
    changeset = ChangeSet.from_dict(json.loads(data["changeset"])) if data["changeset"] else None
    return Change(**{**data, "changeset": changeset, "backfilled": bool(data["backfilled"])})


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


# ================================================================ end of the static changelog's reads
