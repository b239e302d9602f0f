"""What the calendar of dates to act on reads and keeps: each page's versions since its dates were last
followed, the change that led to each version, and each page's followed dates (``page_dates``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any

from ..deadlines import PageDate, page_dates, within
from ..model import Document
from .database import Database


class DateReads:
    """Reads and writes of ``page_dates``; every query uses an index (snapshot id, page)."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self.db = store.db

    def pages_behind(self) -> list[tuple[str, int]]:
        """``(url, snapshot id its dates were followed to, 0 if never)`` of each page with a snapshot
        stored since, in the order of their first such snapshot: found from the snapshots after the last
        one followed, by id, so an unchanged run reads nothing of the history."""
        rows = self.db.execute(
            "SELECT s.page_url, coalesce(d.snapshot_id, 0) FROM snapshots s"
            " LEFT JOIN page_dates d ON d.page_url = s.page_url"
            " WHERE s.id > (SELECT coalesce(max(snapshot_id), 0) FROM page_dates)"
            " AND s.id > coalesce(d.snapshot_id, 0) GROUP BY s.page_url ORDER BY min(s.id)"
        )
        return [(r[0], r[1]) for r in rows]

    def versions_after(
        self, url: str, after_id: int, recorded: Mapping[int, tuple[int, str | None]]
    ) -> Iterator[tuple[int, str, str, Document, int | None]]:
        """``(snapshot id, taken at, GOV.UK day of the update, Document, change id)`` of the page's
        snapshots after ``after_id``, oldest first. The day and the change are those of the change
        recorded with the snapshot (``recorded``, from :meth:`recorded_with`; its effective date: GOV.UK's
        history entry, else the day it was found), else the day the snapshot was taken."""
        cursor = self.db.execute(
            "SELECT id, taken_at, document FROM snapshots WHERE page_url = ? AND id > ? ORDER BY id",
            [url, after_id],
        )
        for snapshot_id, taken_at, document in cursor:
            change_id, effective = recorded.get(snapshot_id, (None, None))
            day = effective or taken_at
            yield snapshot_id, taken_at, day, Document.from_dict(json.loads(document)), change_id

    def recorded_with(self, after_id: int) -> dict[int, tuple[int, str | None]]:
        """``snapshot id -> (change id, effective date)`` of the first monitored change recorded with
        each snapshot after ``after_id`` that its page's dates are not yet followed to: read once for
        every page brought up to date, since no index leads from a snapshot to its change and asking
        page by page would read the changes once a page."""
        found: dict[int, tuple[int, str | None]] = {}
        rows = self.db.execute(
            "SELECT c.new_snapshot_id, c.id, c.effective_date FROM changes c"
            " JOIN snapshots s ON s.id = c.new_snapshot_id"
            " LEFT JOIN page_dates d ON d.page_url = s.page_url"
            " WHERE c.backfilled = 0 AND c.new_snapshot_id > ? AND s.id > coalesce(d.snapshot_id, 0)"
            " ORDER BY c.id",
            [after_id],
        )
        for snapshot_id, change_id, effective in rows:
            found.setdefault(snapshot_id, (change_id, effective))
        return found

    def pages_ended(self) -> list[tuple[str, int, str]]:
        """``(url, change id, GOV.UK day)`` of each page that moved or was removed since the last such
        change folded in (its latest one): its dates are no longer on the page."""
        rows = self.db.execute(
            "SELECT page_url, max(id), coalesce(effective_date, detected_at) FROM changes"
            " WHERE id > (SELECT coalesce(max(ended_change_id), 0) FROM page_dates)"
            " AND kind IN ('moved', 'removed') AND backfilled = 0 GROUP BY page_url ORDER BY page_url"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def moves(self) -> dict[str, list[tuple[str, int]]]:
        """``new url -> [(old url, change id)]`` of each page GOV.UK moved, oldest move first: read once
        for every page new to the calendar (no index leads from an address to the moves to it)."""
        found: dict[str, list[tuple[str, int]]] = {}
        rows = self.db.execute(
            "SELECT new_url, page_url, id FROM changes WHERE kind = 'moved' AND new_url IS NOT NULL"
            " AND backfilled = 0 ORDER BY id"
        )
        for new_url, old_url, change_id in rows:
            found.setdefault(new_url, []).append((old_url, change_id))
        return found

    def moved_at(self, url: str) -> str | None:
        """When GOV.UK was first found to have moved the page elsewhere (its first ``moved`` change),
        or None: its versions from then on are those of its new address."""
        row = self.db.execute(
            "SELECT min(detected_at) FROM changes WHERE page_url = ? AND kind = 'moved' AND backfilled = 0",
            [url],
        ).fetchone()
        return row[0] if row else None

    def tracked(self, url: str) -> list[dict[str, Any]]:
        """The page's followed dates as last kept (each ``Tracked.to_dict()``)."""
        row = self.db.execute("SELECT tracked FROM page_dates WHERE page_url = ?", [url]).fetchone()
        found: list[dict[str, Any]] = json.loads(row[0]) if row else []
        return found

    def keep(self, url: str, tracked: list[dict[str, Any]], *, snapshot_id: int = 0, ended: int = 0) -> None:
        """Keep the page's followed dates as of ``snapshot_id`` (and of the move or removal ``ended``); a
        mark given as 0 stays as it was. Inside :meth:`keeping`: the marks are read as one (the highest
        says how far every page was followed), so every page of one bringing up to date is kept at once
        or none is."""
        self.db.execute(
            "INSERT INTO page_dates (page_url, snapshot_id, ended_change_id, tracked) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (page_url) DO UPDATE SET tracked = excluded.tracked,"
            " snapshot_id = max(snapshot_id, excluded.snapshot_id),"
            " ended_change_id = max(ended_change_id, excluded.ended_change_id)",
            [url, snapshot_id, ended, json.dumps(tracked, ensure_ascii=False)],
        )

    def keeping(self) -> AbstractContextManager[None]:
        """The one transaction every :meth:`keep` of one bringing up to date goes in."""
        return self.store.writing()

    def titles(self) -> dict[str, str]:
        """Each page's title, as the pages list shows it."""
        return {r[0]: r[1] or "" for r in self.db.execute("SELECT url, title FROM pages")}

    def all_tracked(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """``(url, followed dates)`` of every page, by address."""
        for url, tracked in self.db.execute("SELECT page_url, tracked FROM page_dates ORDER BY page_url"):
            yield url, json.loads(tracked)

    def last_checked(self) -> str | None:
        """When a page was last checked: the moment the calendar's "upcoming" is counted from."""
        row = self.db.execute("SELECT max(last_checked) FROM pages").fetchone()
        return row[0] if row else None

    def current(self, url: str | None = None) -> list[PageDate]:
        """The dates to act on in the current text of every watched page (of one with ``url``)."""
        return [d for _, document in self.latest_documents(url) for d in page_dates(document)]

    def coming_up(self, urls: list[str], since: str, days: int) -> list[PageDate]:
        """The dates to act on in these pages' current text from ``since`` for ``days`` days."""
        wanted = set(urls)
        return within([d for d in self.current() if d.page_url in wanted], since, days)

    def latest_documents(self, url: str | None = None) -> Iterator[tuple[str, Document]]:
        """``(url, Document)`` of each watched page's last snapshot (one page's with ``url``): the current
        text of every watched page and followed document, where it still is (not removed, not moved)."""
        sql = (
            "SELECT p.url, s.document FROM pages p JOIN snapshots s ON s.id ="
            " (SELECT max(id) FROM snapshots WHERE page_url = p.url)"
            " WHERE p.active = 1 AND p.gone = 0 AND p.current_url IS NULL"
        )
        params: list[str] = []
        if url is not None:
            sql += " AND p.url = ?"
            params.append(url)
        for page_url, document in self.db.execute(sql + " ORDER BY p.url", params):
            yield page_url, Document.from_dict(json.loads(document))
