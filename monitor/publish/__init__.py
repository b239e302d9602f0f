"""Write the static changelog's files: after each run only what its new changes touch, or the whole site.

The site folder keeps a manifest (``.guidance-monitor-site``, JSON) of what it was built from: a
fingerprint of the templates and the rendering code, the last change id it shows, the ids on its index,
kind pages and feed, its months, and per page the title, a digest of the facts its timeline shows and
the date of its last change. A run reads the changes recorded after that id (by id, so its cost does not
grow with the history already published) and the pages whose facts moved, and rewrites:

- each touched page's new change pages, then its feed and timeline (all its change pages when its title
  changed, since they name it);
- the month pages its changes are listed on, then the kind pages, the index, ``pages.html`` and
  ``feed.xml``.

A file whose bytes would not change is not written, so a run that found nothing writes nothing. Each file
is replaced atomically and a page is written only after the pages it links to: a reader, or a run killed
at any instant, never finds a half-written file or a link to a file that is not there yet, and the next
run completes the job (its manifest still says where the last one began).

``guidance-monitor site``, a new template or rendering code (the fingerprint), another database or a site
folder without a manifest rebuild everything: in a new folder beside the site, swapped in whole (see
:func:`~monitor.publish.folders.swap_in` for what that swap promises). Leftover folders of a killed
rebuild are removed by the next build, which holds a lock on the parent folder so two builds never share
one. What each file holds is :mod:`monitor.render.changelog`'s to say.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .. import TEMPLATES_DIR, __version__
from ..settings import Config
from ..store import SiteReads, Store
from .builder import Builder
from .folders import (
    BUILDING,
    SITE_MARKER,
    TEMP_PREFIX,
    SiteError,
    build_beside,
    clear_leftovers,
    parent_lock,
    refuse_foreign,
)
from .manifest import Manifest

__all__ = ["BUILDING", "SITE_MARKER", "TEMP_PREFIX", "SiteError", "rebuild_site", "update_site"]

_RENDER_CODE = sorted(
    [*Path(__file__).parent.glob("*.py"), *(Path(__file__).parent.parent / "render").glob("*.py")]
)
"""The code whose output the files are: a new version of any of it means a rebuild."""


def update_site(config: Config, store: Store, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Bring the changelog up to date with the store, writing only what changed (each ``run``)."""
    return _build(config, store, out_dir, full=False)


def rebuild_site(config: Config, store: Store, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Rebuild the whole changelog in a new folder and swap it in (``guidance-monitor site``)."""
    return _build(config, store, out_dir, full=True)


def _build(config: Config, store: Store, out_dir: str | os.PathLike[str] | None, *, full: bool) -> Path:
    target = Path(out_dir if out_dir is not None else config.site_dir).expanduser().absolute()
    site_url = config.digest.site_url
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise SiteError(f"{target}: exists and is not a folder")
    reads = SiteReads(store)
    with parent_lock(parent):
        clear_leftovers(parent, target.name)
        wanted = _identity(reads, site_url)
        manifest = None if full else Manifest.load(target)
        if (
            manifest is not None
            and manifest.identity == wanted
            and manifest.last_change <= reads.last_change_id()
        ):
            Builder(store, target, manifest, site_url=site_url, in_place=True).run()
            return target
        refuse_foreign(target)
        build_beside(
            target,
            lambda fresh: Builder(
                store, fresh, Manifest(identity=wanted), site_url=site_url, in_place=False
            ).run(),
        )
    return target


def _identity(reads: SiteReads, site_url: str) -> str:
    """What the files depend on besides the records: templates, rendering code, version, site address,
    and which database (one that replaced another starts its ids again)."""
    digest = hashlib.sha256(f"{__version__}\n{site_url}\n{reads.first_added()}\n".encode())
    for path in [*sorted(TEMPLATES_DIR.iterdir()), *_RENDER_CODE]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]
