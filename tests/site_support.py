"""The changelog built from given records, as the tests need it: the records written to a real SQLite
store with the store's own writes, the site built whole by the real builder, and its files read back.

The store numbers what it stores: each change gets its id on the Change object given (in the order of the
ids it came with), and snapshots are numbered 1, 2, … in the order given.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from monitor.model import Change, Document, FetchResult, PageState, PageUpdate
from monitor.publish import rebuild_site
from monitor.settings import Config, DigestSettings
from monitor.store import Store

WRITTEN_AT = "2026-01-01T00:00:00+00:00"
STATE_COLUMNS = ("title", "parent_url", "active", "gone", "current_url", "consecutive_failures", "last_error")
"""What a page's state says on the site, written as a run writes it."""


def store_records(
    store: Store,
    pages: Sequence[PageState],
    changes: Sequence[Change],
    snapshots: Sequence[tuple[str, str, Document]] = (),
) -> None:
    """Write the pages' states, the snapshots ``(url, taken_at, document)`` and the changes."""
    for page in pages:
        state = {column: getattr(page, column) for column in STATE_COLUMNS}
        store.write(PageUpdate(page.url, FetchResult(page.url, page.url), WRITTEN_AT, page=state))
    listed = {p.url for p in pages}
    for url, taken_at, document in snapshots:
        store.write(PageUpdate(url, FetchResult(url, url), taken_at, snapshot=document))
    for change in sorted(changes, key=lambda c: c.id or 0):
        unlisted = {"title": change.title, "active": False} if change.page_url not in listed else {}
        fetch = FetchResult(change.page_url, change.page_url)
        store.write(PageUpdate(change.page_url, fetch, change.detected_at, changes=[change], page=unlisted))


def build_site(
    out: Path,
    pages: Sequence[PageState],
    changes: Sequence[Change],
    *,
    site_url: str = "",
    snapshots: Sequence[tuple[str, str, Document]] = (),
) -> Path:
    """The records in a new database beside ``out``, and the site built from it into ``out``."""
    with Store(out.parent / f"{out.name}.db") as store:
        store_records(store, pages, changes, snapshots)
        return rebuild_from(store, out, site_url=site_url)


def rebuild_from(store: Store, out: Path, *, site_url: str = "") -> Path:
    """The site built whole from ``store`` into ``out``, as ``guidance-monitor site`` builds it."""
    config = Config(database=str(store.path), site_dir=str(out), digest=DigestSettings(site_url=site_url))
    return rebuild_site(config, store)


def files_of(folder: Path) -> dict[str, str]:
    """Every file of a built site by its path in it, but the manifest (a site's own bookkeeping)."""
    return {
        str(path.relative_to(folder)): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def built(
    pages: Sequence[PageState],
    changes: Sequence[Change],
    *,
    site_url: str = "",
    snapshots: Sequence[tuple[str, str, Document]] = (),
) -> dict[str, str]:
    """The files of the site built from these records in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        site = build_site(Path(folder) / "site", pages, changes, site_url=site_url, snapshots=snapshots)
        return files_of(site)
