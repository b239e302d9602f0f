"""The changelog's search box: Pagefind's index of every change page and page timeline (their titles,
change notes and text), built after the site's files are written, served as static files with the site.

Pagefind (``pip install 'guidance-monitor[search]'``) ships its indexer as a binary inside its Python
package. Without it the site is published all the same, without the box, and the first build says so
once. The index is rebuilt only when a build wrote something, into a folder beside the site, and put in
place in two renames, so a reader never searches a half-written index.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..render.templates import site_search as available
from .folders import SiteError

__all__ = ["FOLDER", "INDEXED", "SearchIndexError", "available", "build", "say_once_unavailable"]

FOLDER = "pagefind"
"""Where the index lives in the site (Pagefind's own default, which its UI script expects)."""
INDEXED = "{changes/*[0-9].html,pages/**/*.html}"
"""What is searched: each change's page (named by its number) and each watched page's timeline; not a
change's side-by-side page, which says the same again (each change would be found twice), nor the
lists, which repeat them, nor the snapshots, whose whole text would drown the changes."""

log = logging.getLogger(__name__)


class SearchIndexError(SiteError):
    """Pagefind failed: the site's files are written, its search index is not brought up to date (the
    run reports it as a failure of the site, and the next build that writes something indexes again)."""


_said: list[bool] = []


def say_once_unavailable() -> None:
    """One line, once per process, that the site has no search box and how to have one."""
    if not _said:
        _said.append(True)
        log.warning(
            "site: published without its search box (pip install 'guidance-monitor[search]' adds Pagefind)"
        )


def build(site: Path, *, in_place: bool) -> None:
    """Index ``site`` into ``site/pagefind``: straight there in a new folder nobody reads yet, else into a
    hidden folder inside the live site first (the site's own folder is always the monitor's to write,
    its parent not always) and then swapped in."""
    if not in_place:
        _index(site, site / FOLDER)
        return
    fresh = Path(tempfile.mkdtemp(prefix=".gm-new-search-", dir=site))
    try:
        _index(site, fresh)
        live = site / FOLDER
        old = site / f".gm-old-search-{fresh.name.rpartition('-')[2]}"
        if live.exists():
            live.rename(old)
        fresh.rename(live)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _index(site: Path, out: Path) -> None:
    """Pagefind's own command (``python -m pagefind``, the binary its package ships): it exits once every
    file of the bundle is written, so the folder is whole when it is put in place."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pagefind",
            "--silent",
            "--site",
            str(site.absolute()),
            "--output-path",
            str(out.absolute()),
            "--glob",
            INDEXED,
            "--root-selector",
            "main",
            "--force-language",
            "en",
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise SearchIndexError(
            f"Pagefind could not index the site ({lines[-1] if lines else done.returncode})"
        )
