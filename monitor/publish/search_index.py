"""The changelog's search box: Pagefind's index of every change page and page timeline (their titles,
change notes and text), built while the rest of the site is written, served as static files with the site.

Pagefind (``pip install 'guidance-monitor[search]'``) ships its indexer as a binary inside its Python
package. Without it the site is published all the same, without the box, and the first build says so
once. The index is rebuilt only when a build wrote something, into a folder beside the site, and put in
place in two renames, so a reader never searches a half-written index.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..render.templates import site_search as available
from .folders import SiteError

__all__ = ["FOLDER", "INDEXED", "SearchIndexError", "available", "indexing", "say_once_unavailable"]

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


@contextlib.contextmanager
def indexing(site: Path, *, in_place: bool) -> Iterator[None]:
    """Index ``site`` into ``site/pagefind`` in Pagefind's own process while the body of the ``with``
    writes the rest of the build: the files it reads (``INDEXED``) are all written before it starts and
    none is written in the body. On leaving the body it waits for Pagefind and checks its exit.

    A new site's index goes straight into a new folder nobody reads yet. A live site's goes into a hidden
    folder inside it first (the site's own folder is always the monitor's to write, its parent not
    always), swapped in with two renames once Pagefind has exited, since it exits only when every file of
    the bundle is written: a reader never searches a half-written index. If the body fails, Pagefind is
    stopped and its folder removed before the failure goes on; if Pagefind fails, its folder is removed
    and the build fails with :class:`SearchIndexError`.
    """
    out = Path(tempfile.mkdtemp(prefix=".gm-new-search-", dir=site)) if in_place else site / FOLDER
    try:
        with tempfile.TemporaryFile() as said, tempfile.TemporaryFile() as errors:
            child = _start(site, out, said, errors)
            try:
                yield
            except BaseException:
                child.kill()
                child.wait()
                raise
            if child.wait() != 0:
                lines = (_text(errors) or _text(said)).strip().splitlines()
                raise SearchIndexError(
                    f"Pagefind could not index the site ({lines[-1] if lines else child.returncode})"
                )
        if in_place:
            live = site / FOLDER
            old = site / f".gm-old-search-{out.name.rpartition('-')[2]}"
            if live.exists():
                live.rename(old)
            out.rename(live)
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise


def _start(site: Path, out: Path, said: IO[bytes], errors: IO[bytes]) -> subprocess.Popen[bytes]:
    """Pagefind's own command (``python -m pagefind``, the binary its package ships), its output kept in
    files rather than pipes, which nobody reads while it works and which would fill and stop it."""
    return subprocess.Popen(
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
        stdin=subprocess.DEVNULL,
        stdout=said,
        stderr=errors,
    )


def _text(output: IO[bytes]) -> str:
    output.seek(0)
    return output.read().decode(errors="replace")
