"""The changelog's search box: Pagefind's index of every change page and page timeline (their titles,
change notes and text), built after the site's files are written, served as static files with the site.

Pagefind (``pip install 'guidance-monitor[search]'``) ships its indexer as a binary inside its Python
package. Without it the site is published all the same, without the box, and the first build says so
once. The index is rebuilt only when a build wrote something, into a folder beside the site, and put in
place in two renames, so a reader never searches a half-written index.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from pathlib import Path

from ..render.templates import site_search as available

__all__ = ["FOLDER", "INDEXED", "available", "build", "say_once_unavailable"]

FOLDER = "pagefind"
"""Where the index lives in the site (Pagefind's own default, which its UI script expects)."""
INDEXED = "{changes,pages}/**/*.html"
"""What is searched: each change's page and each watched page's timeline (not the lists, which repeat
them, nor the snapshots, whose whole text would drown the changes)."""

log = logging.getLogger(__name__)
_said: list[bool] = []


def say_once_unavailable() -> None:
    """One line, once per process, that the site has no search box and how to have one."""
    if not _said:
        _said.append(True)
        log.warning(
            "site: published without its search box (pip install 'guidance-monitor[search]' adds Pagefind)"
        )


def build(site: Path, *, in_place: bool) -> None:
    """Index ``site`` into ``site/pagefind``: straight there in a new folder nobody reads yet, else beside
    the live site first and then swapped in."""
    if not in_place:
        asyncio.run(_index(site, site / FOLDER))
        return
    parent = site.parent
    fresh = Path(tempfile.mkdtemp(prefix=f".{site.name}.new-search-", dir=parent))
    try:
        asyncio.run(_index(site, fresh))
        live = site / FOLDER
        old = parent / f".{site.name}.old-search-{fresh.name.rpartition('-')[2]}"
        if live.exists():
            live.rename(old)
        fresh.rename(live)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


async def _index(site: Path, out: Path) -> None:
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(root_selector="main", force_language="en", output_path=str(out.absolute()))
    async with PagefindIndex(config=config) as index:
        await index.add_directory(str(site.absolute()), glob=INDEXED)
