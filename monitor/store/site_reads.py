"""What the static changelog reads, and only reads.

The site is rendered from the store one page, one month or one short list at a time, and a run finds
what it must write from the changes recorded since the last build (by id), without reading the history
already published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from ..model import Change, Document
from .database import Database
from .rows import change_from_row, dict_rows

SITE_BATCH = 200
"""Changes read in one query when the site asks for many by id."""


class SiteReads:
    """What the static changelog reads; every query uses an index (id, page, detection time)."""

    def __init__(self, store: Database) -> None:
        self.db = store.db

    def first_added(self) -> str:
        """When the first page was added: tells one database from another that replaced it."""
        row = self.db.execute("SELECT min(added_at) FROM pages").fetchone()
        return row[0] or ""

    def installation(self) -> str:
        """A key for this installation that its own history fixes: a digest of its first stored version
        (page, time and content). Two installations differ by it, while a replay of the same captures
        (the demo) gives the same key every time, so feed ids stay as they were."""
        row = self.db.execute(
            "SELECT page_url, taken_at, document_hash FROM snapshots ORDER BY id LIMIT 1"
        ).fetchone()
        seed = "\n".join(row) if row else ""
        return hashlib.sha256(seed.encode()).hexdigest()[:12]

    def page_facts(self) -> Iterator[tuple[str, str, bool, bool, str | None, int, str | None]]:
        """``(url, title, active, gone, current_url, consecutive_failures, last_error)`` of every page:
        what its timeline and the list of pages show of its state (a light row each, no dataclass)."""
        cursor = self.db.execute(
            "SELECT url, title, active, gone, current_url, consecutive_failures, last_error FROM pages"
        )
        for row in cursor:
            yield row[0], row[1] or "", bool(row[2]), bool(row[3]), row[4], row[5], row[6]

    def last_change_id(self) -> int:
        last: int = self.db.execute("SELECT coalesce(max(id), 0) FROM changes").fetchone()[0]
        return last

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
        rows = dict_rows(self.db, "SELECT * FROM changes WHERE page_url = ? ORDER BY id", [url])
        return [change_from_row(r) for r in rows]

    def changes_by_id(self, ids: list[int]) -> Iterator[Change]:
        """The changes with these ids, in the order given, read a batch at a time."""
        for start in range(0, len(ids), SITE_BATCH):
            batch = ids[start : start + SITE_BATCH]
            marks = ", ".join("?" * len(batch))
            found = {
                r["id"]: change_from_row(r)
                for r in dict_rows(self.db, f"SELECT * FROM changes WHERE id IN ({marks})", batch)
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
        last: int = self.db.execute("SELECT coalesce(max(id), 0) FROM snapshots").fetchone()[0]
        return last

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

    def body_hashes(self, change: Change) -> tuple[str | None, str | None]:
        """The SHA-256 of the bodies a change's old and new snapshots were read from (None where there is
        no snapshot, or no body was kept), as stored when each was fetched: a change's evidence."""
        found = {
            row[0]: row[1]
            for row in self.db.execute(
                "SELECT id, body_hash FROM snapshots WHERE id IN (?, ?)",
                [change.old_snapshot_id, change.new_snapshot_id],
            )
        }
        return found.get(change.old_snapshot_id), found.get(change.new_snapshot_id)

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
        return [change_from_row(r) for r in dict_rows(self.db, sql + " ORDER BY id", params)]

    def page_run(self, url: str, detected_at: str) -> list[Change]:
        """The changes one run recorded of one page, by id: read through the page's index (the unary
        ``+`` keeps SQLite from the run's index), so the cost is the page's history, never the whole
        run's, which on a first run is every page's backfilled history."""
        rows = dict_rows(
            self.db,
            "SELECT * FROM changes WHERE page_url = ? AND +detected_at = ? ORDER BY id",
            [url, detected_at],
        )
        return [change_from_row(r) for r in rows]
