"""The watch list's records: which pages are watched, how each was added, and how to ask for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..clock import utc_now
from ..model import PageState
from .database import Database
from .rows import dict_row, dict_rows, page_from_row, update_page


class Pages(Database):
    """The pages table: one row a page ever watched, its state kept across runs."""

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
            return page_from_row(row)  # already watched as asked: every run registers each configured page
        with self.writing():
            row = self._page_row(url)
            if row is None:
                self.db.execute(
                    "INSERT INTO pages (url, title, parent_url, source, added_at, search)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [url, title or "", parent_url, source, utc_now(), search or None],
                )
            elif update := self._page_update(row, title, parent_url, source):
                update_page(self.db, url, update)
        page = self.page(url)
        assert page is not None
        return page

    def register_pages(self, pages: Sequence[tuple[str, str | None]], *, source: str = "config") -> None:
        """``upsert_page`` for many pages at once (each run registers every configured page): one read of
        the pages table, and one transaction only when a page is new or asks for a change."""
        rows = {row["url"]: row for row in dict_rows(self.db, "SELECT * FROM pages")}
        new = [(url, title or "", source, utc_now()) for url, title in dict(pages).items() if url not in rows]
        due = [
            (url, title)
            for url, title in pages
            if url in rows and self._page_update(rows[url], title, None, source)
        ]
        if new or due:
            with self.writing():
                self.db.executemany(
                    "INSERT OR IGNORE INTO pages (url, title, source, added_at) VALUES (?, ?, ?, ?)", new
                )
                for url, title in due:
                    self.upsert_page(url, title=title, source=source)

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
            update_page(self.db, url, {"active": int(active)})

    def page(self, url: str) -> PageState | None:
        row = self._page_row(url)
        return page_from_row(row) if row else None

    def pages(self, active_only: bool = True) -> list[PageState]:
        where = " WHERE active = 1" if active_only else ""
        return [
            page_from_row(r) for r in dict_rows(self.db, f"SELECT * FROM pages{where} ORDER BY added_at, url")
        ]

    def check_states(self) -> dict[str, tuple[str | None, str | None, str | None]]:
        """Every page's ETag, Last-Modified and ``read_key`` (see :meth:`validators`, :meth:`last_read`),
        read once for a run."""
        rows = self.db.execute("SELECT url, etag, last_modified, read_key FROM pages")
        return {url: (etag, modified, key) for url, etag, modified, key in rows}

    def returning_pages(self) -> set[str]:
        """The pages that went back to an earlier version at their last check (``returned_from``): their
        next check is judged even when nothing changed, read once for a run."""
        return {url for (url,) in self.db.execute("SELECT url FROM pages WHERE returned_from IS NOT NULL")}

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """The ETag and Last-Modified of the page's last good response, for a conditional request."""
        row = self._page_row(url)
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def last_read(self, url: str) -> str | None:
        """The ``read_key`` of the body whose Document is the page's last snapshot (None: read afresh)."""
        return self._page_text(url, "read_key")

    def search_timestamp(self, url: str) -> str | None:
        """GOV.UK's ``public_timestamp`` for the page when a search last led to its full check."""
        return self._page_text(url, "public_timestamp")

    def set_search_timestamp(self, url: str, timestamp: str | None) -> None:
        with self.writing():
            update_page(self.db, url, {"public_timestamp": timestamp})

    def follow_documents(self, url: str) -> bool:
        """Whether a page added with ``add --follow-documents`` follows its documents."""
        return bool(self._page_column(url, "follow_documents"))

    def set_follow_documents(self, url: str, follow: bool) -> None:
        with self.writing():
            update_page(self.db, url, {"follow_documents": int(follow)})

    def page_selector(self, url: str) -> str | None:
        """The CSS selector ``add --selector`` gave a page outside GOV.UK, or None."""
        return self._page_text(url, "selector")

    def set_page_selector(self, url: str, selector: str | None) -> None:
        with self.writing():
            update_page(self.db, url, {"selector": selector})

    def _page_row(self, url: str) -> dict[str, Any] | None:
        return dict_row(self.db, "SELECT * FROM pages WHERE url = ?", [url])

    def _page_column(self, url: str, column: str) -> object:
        """One column of the page's row; None for a page not in the table."""
        row = self.db.execute(f"SELECT {column} FROM pages WHERE url = ?", [url]).fetchone()
        return row[0] if row else None

    def _page_text(self, url: str, column: str) -> str | None:
        value = self._page_column(url, column)
        return value if isinstance(value, str) else None
