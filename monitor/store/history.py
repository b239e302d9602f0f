"""Each page's history: its fetches, the bodies they brought, its versions (snapshots) and its changes.

One page's writes for one check (its fetch row, its snapshot, its changes, its state) go in one
transaction, so a run killed at any moment leaves each page either fully recorded or untouched, and the
next run picks up where it stopped without recording any change twice.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from ..model import NEW_SNAPSHOT, Change, Document, PageUpdate, SnapshotRef
from .database import Database
from .rows import (
    body_hash,
    change_from_row,
    compressed,
    dict_row,
    dict_rows,
    insert,
    row_from_change,
    snapshot_meta,
    update_page,
)


class History(Database):
    """Recording each check as ``monitor.changes`` decided it, and reading the history back."""

    def write(self, update: PageUpdate, *, wait: bool = True) -> list[Change]:
        """Write one check of one page, in one transaction; return its changes with their ids.

        The body is kept once per content hash; a change whose ``new_snapshot_id`` is ``NEW_SNAPSHOT``
        gets the id of the snapshot written with it. ``wait=False``: raise :class:`StoreBusy` at once if
        another process is writing, rather than wait for it here.
        """
        with self.writing(wait=wait):
            return self._write(update)

    def write_many(self, updates: list[PageUpdate], *, wait: bool = True) -> list[list[Change]]:
        """Write several pages' checks in one transaction (``write`` for each, in order): a run writes the
        answers that arrived together so, since a commit for each page would be most of what an unchanged
        check costs the store. Each check stays whole; a kill before the commit loses the batch, checked
        again next run.
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
                [stored_hash, fetch.content_type, len(update.body), compressed(update.body)],
            )
        elif update.body_hash:
            row = self.db.execute("SELECT hash FROM bodies WHERE hash = ?", [update.body_hash]).fetchone()
            stored_hash = row[0] if row else None
        insert(
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
            snapshot_id = insert(
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
            change.id = insert(self.db, "changes", row_from_change(change))
        if update.page:
            update_page(self.db, url, update.page)
        return update.changes

    def add_change(self, change: Change) -> Change:
        """Record a change that no fetch led to (a page a search found); returns it with its id."""
        with self.writing():
            change.id = insert(self.db, "changes", row_from_change(change))
            if not change.backfilled:
                update_page(self.db, change.page_url, {"last_changed": change.detected_at})
        return change

    # ----------------------------------------------------------------------- snapshots and bodies

    def recent_snapshots(self, url: str, limit: int) -> list[SnapshotRef]:
        """The page's latest snapshots, newest first, by id and content hash only (no Document read)."""
        rows = self.db.execute(
            "SELECT id, document_hash FROM snapshots WHERE page_url = ? ORDER BY id DESC LIMIT ?",
            [url, limit],
        ).fetchall()
        return [SnapshotRef(id_, hash_) for id_, hash_ in rows]

    def last_snapshot(self, url: str) -> tuple[int, Document] | None:
        """The page's last good version: what the next good response is compared with."""
        row = self.db.execute(
            "SELECT id, document FROM snapshots WHERE page_url = ? ORDER BY id DESC LIMIT 1", [url]
        ).fetchone()
        return (row[0], Document.from_dict(json.loads(row[1]))) if row else None

    def snapshot(self, snapshot_id: int) -> tuple[dict[str, Any], Document] | None:
        """One snapshot's row (without the document JSON) and its Document."""
        row = dict_row(self.db, "SELECT * FROM snapshots WHERE id = ?", [snapshot_id])
        if row is None:
            return None
        return snapshot_meta(row), Document.from_dict(json.loads(row["document"]))

    def snapshot_before(self, url: str, before: str) -> tuple[dict[str, Any], Document] | None:
        """The page as it stood just before ``before`` (a UTC timestamp): its last snapshot taken earlier."""
        row = self.db.execute(
            "SELECT id FROM snapshots WHERE page_url = ? AND taken_at < ?"
            " ORDER BY taken_at DESC, id DESC LIMIT 1",
            [url, before],
        ).fetchone()
        return self.snapshot(row[0]) if row else None

    def snapshots(self, url: str) -> list[dict[str, Any]]:
        """The page's versions, oldest first: id, taken_at, body_hash, document_hash, title, last_updated."""
        rows = dict_rows(self.db, "SELECT * FROM snapshots WHERE page_url = ? ORDER BY id", [url])
        return [snapshot_meta(r) for r in rows]

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

    def last_snapshot_body(self, url: str) -> tuple[str, bytes, str] | None:
        """The body the page's last snapshot was read from: ``(body_hash, body, content_type)``."""
        row = self.db.execute(
            "SELECT b.hash, b.body, b.content_type FROM snapshots s JOIN bodies b ON b.hash = s.body_hash"
            " WHERE s.page_url = ? ORDER BY s.id DESC LIMIT 1",
            [url],
        ).fetchone()
        return (row[0], zlib.decompress(row[1]), row[2] or "") if row else None

    def body(self, hash_: str) -> bytes | None:
        row = self.db.execute("SELECT body FROM bodies WHERE hash = ?", [hash_]).fetchone()
        return zlib.decompress(row[0]) if row else None

    # ----------------------------------------------------------------------- fetches and changes

    def fetches(self, url: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The page's fetch attempts, newest first."""
        rows = dict_rows(
            self.db,
            "SELECT * FROM fetches WHERE page_url = ? ORDER BY id DESC LIMIT ?",
            [url, _no_limit(limit)],
        )
        return [{**r, "not_modified": bool(r["not_modified"])} for r in rows]

    def checked_before(self, url: str, before: str) -> str | None:
        """When the page was last fetched without error before ``before`` (a UTC timestamp)."""
        row = self.db.execute(
            "SELECT max(time) FROM fetches WHERE page_url = ? AND time < ? AND (error IS NULL OR error = '')",
            [url, before],
        ).fetchone()
        return row[0] if row else None

    def changes(
        self,
        *,
        since: str | None = None,
        page_url: str | None = None,
        include_backfilled: bool = True,
        limit: int | None = None,
    ) -> list[Change]:
        """Changes newest first; ``since`` compares with ``detected_at`` (UTC ISO)."""
        clauses: list[str] = []
        params: list[str | int] = []
        if since is not None:
            clauses.append("detected_at >= ?")
            params.append(since)
        if page_url is not None:
            clauses.append("page_url = ?")
            params.append(page_url)
        if not include_backfilled:
            clauses.append("backfilled = 0")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT * FROM changes{where} ORDER BY detected_at DESC, id DESC LIMIT ?"
        return [change_from_row(r) for r in dict_rows(self.db, sql, [*params, _no_limit(limit)])]

    def change(self, change_id: int) -> Change | None:
        row = dict_row(self.db, "SELECT * FROM changes WHERE id = ?", [change_id])
        return change_from_row(row) if row else None


def _no_limit(limit: int | None) -> int:
    """SQLite's ``LIMIT -1`` is no limit at all."""
    return -1 if limit is None else limit
