"""Write the static changelog (the "files" half of delivery): only what a run's new changes touch.

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
is replaced atomically (a temporary file in the same folder, fsync, ``os.replace``) and a page is written
only after the pages it links to: a reader, or a run killed at any instant, never finds a half-written file
or a link to a file that is not there yet, and the next run completes the job (its manifest still says
where the last one began). A brand-new page first gets a timeline that lists none of its new changes, so
that its change pages, which link back to it, come after it.

``guidance-monitor site``, a new template or rendering code (the fingerprint), another database or a site
folder without a manifest rebuild everything: in a new folder beside the site, swapped in whole. Leftover
folders of a killed rebuild are removed by the next build, which holds a lock on the parent folder so two
builds never share one.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from . import TEMPLATES_DIR, __version__
from .clock import london_day
from .govuk import page_slug
from .model import Config, PageState
from .render import KIND_ORDER, SIGNAL_LABELS, signal_kinds
from .render.site import (
    INDEX_LIMIT,
    SITE_FEED_LIMIT,
    PageEntry,
    SitePage,
    Teller,
    Version,
    change_list,
    change_page,
    change_path,
    month_of,
    month_page,
    page_entry,
    page_feed,
    pages_list,
    site_feed,
    site_page,
    snapshot_page,
    snapshot_path,
    stylesheet,
    timeline,
)
from .store import SiteReads, Store

SITE_MARKER = ".guidance-monitor-site"
"""The manifest, left in every built site: a rebuild never replaces a folder guidance-monitor did not make."""
BUILDING = ".guidance-monitor-building"
"""Present while a run writes into the site in place: after a kill, the next run sweeps temporary files."""
TEMP_PREFIX = ".gm-tmp-"
_RENDER_CODE = [Path(__file__), *sorted((Path(__file__).parent / "render").glob("*.py"))]


class SiteError(OSError):
    """The site cannot be written there: the reason is one plain line."""


def publish_site(config: Config, store: Store, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Rebuild the whole changelog in a new folder and swap it in (``guidance-monitor site``)."""
    target = Path(out_dir if out_dir is not None else config.site_dir)
    return build(store, target, site_url=config.digest.site_url, full=True)


def update_site(config: Config, store: Store, out_dir: str | os.PathLike[str] | None = None) -> Path:
    """Bring the changelog up to date with the store, writing only what changed (each ``run``)."""
    target = Path(out_dir if out_dir is not None else config.site_dir)
    return build(store, target, site_url=config.digest.site_url, full=False)


def build(store: Store, target: Path, *, site_url: str = "", full: bool = False) -> Path:
    target = target.expanduser().absolute()
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise SiteError(f"{target}: exists and is not a folder")
    reads = SiteReads(store)
    with _parent_lock(parent):
        _clear_leftovers(parent, target.name)
        wanted = _identity(reads, site_url)
        manifest = None if full else Manifest.load(target)
        if (
            manifest is not None
            and manifest.identity == wanted
            and manifest.last_change <= reads.last_change_id()
        ):
            Builder(store, target, manifest, site_url=site_url, in_place=True).run()
            return target
        _refuse_foreign(target)
        _build_beside(
            target,
            lambda fresh: Builder(
                store, fresh, Manifest(identity=wanted), site_url=site_url, in_place=False
            ).run(),
        )
    return target


def _refuse_foreign(target: Path) -> None:
    """A folder that guidance-monitor did not build is never replaced."""
    if target.is_dir() and any(target.iterdir()) and not (target / SITE_MARKER).exists():
        raise SiteError(f"{target}: not empty and not built by guidance-monitor; choose another folder")


def _build_beside(target: Path, fill: Callable[[Path], object]) -> None:
    """Fill a new folder beside ``target`` and swap it in whole; a failure leaves ``target`` as it was
    and takes the new folder away (one a kill leaves is cleared by the next build)."""
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        fill(fresh)
        _swap_in(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def _identity(reads: SiteReads, site_url: str) -> str:
    """What the files depend on besides the records: templates, rendering code, version, site address,
    and which database (one that replaced another starts its ids again)."""
    digest = hashlib.sha256(f"{__version__}\n{site_url}\n{reads.first_added()}\n".encode())
    for path in [*sorted(TEMPLATES_DIR.iterdir()), *_RENDER_CODE]:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


# --------------------------------------------------------------------------- the manifest


@dataclass
class Manifest:
    identity: str
    last_change: int = 0
    last_snapshot: int = 0
    """The last snapshot with a page of its own (``snapshots/<id>.html``)."""
    latest: list[int] = field(default_factory=list)
    """The latest monitored change ids, newest first: the index and the site feed."""
    kinds: dict[str, list[int]] = field(default_factory=dict)
    signals: dict[str, list[int]] = field(default_factory=dict)
    """Per signal kind, the latest change ids tagged with it, newest first: ``signal/<kind>.html``."""
    months: list[str] = field(default_factory=list)
    pages: dict[str, list[str]] = field(default_factory=dict)
    """url -> [title shown, digest of the facts its timeline shows, date of its last change]."""

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        try:
            data = json.loads((folder / SITE_MARKER).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def dump(self) -> str:
        data = {
            "identity": self.identity,
            "last_change": self.last_change,
            "last_snapshot": self.last_snapshot,
            "latest": self.latest,
            "kinds": self.kinds,
            "signals": self.signals,
            "months": self.months,
            "pages": self.pages,
        }
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


Facts = tuple[str, str, bool, bool, str | None, int, str | None]
"""A page's state as its timeline and ``pages.html`` show it (see ``SiteReads.page_facts``)."""


def _facts(facts: Facts) -> str:
    """A digest of what the site shows of a page's state (never the time it was checked)."""
    return hashlib.sha1(json.dumps(facts[1:], ensure_ascii=False).encode()).hexdigest()[:16]


def _listed_state(facts: Facts) -> PageState:
    url, title, active, gone, current_url, failures, error = facts
    return PageState(
        url=url,
        title=title,
        active=active,
        gone=gone,
        current_url=current_url,
        consecutive_failures=failures,
        last_error=error,
    )


# --------------------------------------------------------------------------- building


class Builder:
    """One build: from what the manifest says the folder shows, to what the store holds now."""

    def __init__(
        self, store: Store, root: Path, manifest: Manifest, *, site_url: str, in_place: bool
    ) -> None:
        self.store = store
        self.reads = SiteReads(store)
        self.root = root
        self.old = manifest
        self.site_url = site_url.rstrip("/")
        self.in_place = in_place
        self.started = False
        self.folders: set[Path] = set()
        reads = self.reads
        self.told = Teller(
            reads.story_links(),
            run_of=reads.run_changes,
            history_of=reads.page_changes,
            own_run=lambda url, detected_at: reads.run_changes(detected_at, [url]),
        )

    def run(self) -> None:
        old = self.old
        new = Manifest(
            identity=old.identity,
            last_change=old.last_change,
            last_snapshot=old.last_snapshot,
            latest=list(old.latest),
            kinds={k: list(v) for k, v in old.kinds.items()},
            signals={k: list(v) for k, v in old.signals.items()},
            months=list(old.months),
            pages={k: list(v) for k, v in old.pages.items()},
        )
        states = {f[0]: f for f in self.reads.page_facts()}
        touched: set[str] = set()
        months: set[str] = set()
        added: dict[str, list[int]] = {}
        for change_id, url, kind, detected_at, backfilled in self.reads.change_rows(old.last_change):
            new.last_change = change_id
            touched.add(url)
            if backfilled or kind == "none":
                continue
            added.setdefault("", []).append(change_id)
            added.setdefault(kind, []).append(change_id)
            months.add(month_of(detected_at))
        for snapshot_id, url in self.reads.snapshot_rows(old.last_snapshot):
            new.last_snapshot = snapshot_id
            touched.add(url)
        touched |= {url for url, s in states.items() if old.pages.get(url, [None, None])[1] != _facts(s)}
        if not self.in_place:
            self._write("style.css", stylesheet())
        if not touched and new.last_change == old.last_change and new.last_snapshot == old.last_snapshot:
            return
        if self.in_place:
            self._begin()
        self.tagged: dict[str, list[int]] = {}
        for url in sorted(touched):
            months |= self._page(
                self.store.page(url) or PageState(url=url, active=False), states.get(url), new
            )
        limit = max(INDEX_LIMIT, SITE_FEED_LIMIT)
        new.latest = (added.get("", [])[::-1] + new.latest)[:limit]
        for kind in KIND_ORDER:
            if added.get(kind) or kind in new.kinds:
                new.kinds[kind] = (added.get(kind, [])[::-1] + new.kinds.get(kind, []))[:INDEX_LIMIT]
        for signal in SIGNAL_LABELS:
            if self.tagged.get(signal) or signal in new.signals:
                tagged = sorted(self.tagged.get(signal, []), reverse=True)
                new.signals[signal] = (tagged + new.signals.get(signal, []))[:INDEX_LIMIT]
        new.months = sorted(set(new.months) | months, reverse=True)
        views = {
            url: SitePage(url, title, page_slug(url), PageState(url=url), [], [])
            for url, (title, _, _) in new.pages.items()
        }
        for month in sorted(months):
            self._month(month, views)
        self._lists(new, views, states)
        self._write(SITE_MARKER, new.dump())
        if self.in_place:
            (self.root / BUILDING).unlink(missing_ok=True)

    # ----------------------------------------------------------------------- one page

    def _page(self, state: PageState, facts: Facts | None, new: Manifest) -> set[str]:
        """Write one page's new change pages, feed and timeline; return the months to rewrite."""
        view = site_page(state, self.reads.page_changes(state.url))
        view.versions = [Version(*v) for v in self.reads.page_versions(state.url)]
        self.told.known(view.changes)
        told = self.told
        before = self.old.pages.get(state.url)
        retitled = before is None or before[0] != view.title
        timeline_path = f"pages/{view.slug}.html"
        months: set[str] = set()
        if self.in_place and not (self.root / timeline_path).exists():
            self._write(f"pages/{view.slug}.xml", page_feed(view, site_url=self.site_url, told=told))
            self._write(
                timeline_path,
                timeline(
                    view,
                    site_url=self.site_url,
                    upto=self.old.last_change,
                    upto_version=self.old.last_snapshot,
                    told=told,
                ),
            )
        for version in view.versions:  # written once: a snapshot never changes
            if version.id > self.old.last_snapshot and (found := self.reads.snapshot(version.id)):
                url, taken_at, document = found
                self._write(
                    snapshot_path(version.id), snapshot_page(url, taken_at, document, site_url=self.site_url)
                )
        for change in view.changes:
            if (change.id or 0) > self.old.last_change:
                for signal in signal_kinds(change):
                    self.tagged.setdefault(signal, []).append(change.id or 0)
        for change in reversed(view.changes):
            if retitled or (change.id or 0) > self.old.last_change:
                self._write(change_path(change), change_page(change, view, site_url=self.site_url, told=told))
                if retitled and before is not None:
                    months.add(month_of(change.detected_at))
        self._write(f"pages/{view.slug}.xml", page_feed(view, site_url=self.site_url, told=told))
        self._write(timeline_path, timeline(view, site_url=self.site_url, told=told))
        entry = page_entry(view)
        new.pages[state.url] = [view.title, _facts(facts) if facts else "", entry.last_change]
        return months

    # ----------------------------------------------------------------------- lists

    def _month(self, month: str, views: dict[str, SitePage]) -> None:
        first = date.fromisoformat(f"{month}-01")
        following = (first + timedelta(days=32)).replace(day=1)
        rows = self.reads.detected_between(
            (first - timedelta(days=1)).isoformat(), (following + timedelta(days=1)).isoformat()
        )
        listed = [r for r in rows if not r[5] and r[2] != "none" and month_of(r[4]) == month]
        listed.sort(key=lambda r: (r[3] or london_day(r[4]) or "", r[4] or "", r[0]), reverse=True)
        changes = self.reads.changes_by_id([r[0] for r in listed])
        self._write_pieces(
            f"archive/{month}.html",
            month_page(month, changes, views, count=len(listed), site_url=self.site_url, told=self.told),
        )

    def _lists(self, new: Manifest, views: dict[str, SitePage], states: dict[str, Facts]) -> None:
        kinds = [k for k in KIND_ORDER if new.kinds.get(k)]
        signals = [g for g in SIGNAL_LABELS if new.signals.get(g)]
        if self.in_place:  # a new filter page first links only to pages that exist
            shown = [k for k in KIND_ORDER if self.old.kinds.get(k)]
            shown_signals = [g for g in SIGNAL_LABELS if self.old.signals.get(g)]
            for kind in kinds:
                if kind not in shown:
                    interim = [k for k in KIND_ORDER if k in shown or k == kind]
                    self._filter(new, views, interim, shown_signals, kind=kind)
            for signal in signals:
                if signal not in shown_signals:
                    interim = [g for g in SIGNAL_LABELS if g in shown_signals or g == signal]
                    self._filter(new, views, shown, interim, signal=signal)
        for kind in kinds:
            self._filter(new, views, kinds, signals, kind=kind)
        for signal in signals:
            self._filter(new, views, kinds, signals, signal=signal)
        latest = list(self.reads.changes_by_id(new.latest))
        self._write(
            "index.html",
            change_list(
                latest[:INDEX_LIMIT],
                views,
                kinds=kinds,
                months=new.months,
                site_url=self.site_url,
                told=self.told,
                signals=signals,
            ),
        )
        entries = (
            PageEntry(
                title, page_slug(url), _listed_state(states[url]) if url in states else PageState(url), last
            )
            for url, (title, _, last) in new.pages.items()
        )
        self._write_pieces("pages.html", pages_list(entries, site_url=self.site_url))
        self._write(
            "feed.xml", site_feed(latest[:SITE_FEED_LIMIT], views, site_url=self.site_url, told=self.told)
        )

    def _filter(
        self,
        new: Manifest,
        views: dict[str, SitePage],
        kinds: list[str],
        signals: list[str],
        *,
        kind: str | None = None,
        signal: str | None = None,
    ) -> None:
        """``kind/<kind>.html`` or ``signal/<kind>.html``, linking to the ``kinds`` and ``signals`` pages."""
        ids = new.signals[signal] if signal else new.kinds[kind or ""]
        self._write(
            f"signal/{signal}.html" if signal else f"kind/{kind}.html",
            change_list(
                list(self.reads.changes_by_id(ids)),
                views,
                kinds=kinds,
                months=new.months,
                kind=kind,
                site_url=self.site_url,
                told=self.told,
                signals=signals,
                signal=signal,
            ),
        )

    # ----------------------------------------------------------------------- files

    def _begin(self) -> None:
        """Mark the folder as being written, and sweep what a killed run left half-written."""
        marker = self.root / BUILDING
        if marker.exists():
            for path in self.root.rglob(f"{TEMP_PREFIX}*"):
                path.unlink(missing_ok=True)
        else:
            marker.write_text("guidance-monitor is writing this site\n", encoding="utf-8")

    def _write_pieces(self, relative: str, pieces: Iterator[str]) -> None:
        """Like :meth:`_write` for a long page, written as it is rendered: never held whole, and compared
        with the file already there by a digest."""
        path = self.root / relative
        self._folder(path)
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as out:
                for piece in pieces:
                    data = piece.encode("utf-8")
                    digest.update(data)
                    out.write(data)
                if self.in_place and _file_digest(path) == digest.digest():
                    os.unlink(temp)
                    return
                if self.in_place:
                    out.flush()
                    os.fsync(out.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def _folder(self, path: Path) -> None:
        """Make the file's folder once per build (a build writes thousands of files into a few)."""
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)

    def _write(self, relative: str, text: str) -> None:
        """Replace one file atomically, and only if its bytes change."""
        path = self.root / relative
        data = text.encode("utf-8")
        if self.in_place:
            with contextlib.suppress(OSError):
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return
        self._folder(path)
        if not self.in_place:  # a new folder nobody reads until it is swapped in whole
            _write_new(path, data)
            return
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise


def _write_new(path: Path, data: bytes) -> None:
    """Write a file with one open, write and close: the buffered file object ``Path.write_bytes`` makes
    asks the system four more questions of each of a build's thousands of files."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
    finally:
        os.close(handle)


def _file_digest(path: Path) -> bytes | None:
    try:
        with path.open("rb") as existing:
            return hashlib.file_digest(existing, "sha256").digest()
    except OSError:
        return None


# --------------------------------------------------------------------------- whole folders


def write_site(files: dict[str, str], target: Path) -> Path:
    """Write ``files`` into a new folder beside ``target``, then swap it for ``target``.

    A folder that guidance-monitor did not build is never replaced. The folder gets no manifest, so the
    next run rebuilds it whole.
    """
    target = target.expanduser().absolute()
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise SiteError(f"{target}: exists and is not a folder")
    _refuse_foreign(target)

    def fill(fresh: Path) -> None:
        for relative, content in files.items():
            path = fresh / relative
            if fresh.resolve() not in path.resolve().parents:
                raise SiteError(f"{relative}: outside the site")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        (fresh / SITE_MARKER).write_text("{}\n", encoding="utf-8")

    with _parent_lock(parent):
        _clear_leftovers(parent, target.name)
        _build_beside(target, fill)
    return target


def _swap_in(fresh: Path, target: Path) -> None:
    """Put ``fresh`` where ``target`` is, in one atomic exchange where the system offers it (Linux
    ``renameat2``), else two renames a moment apart."""
    for folder in [fresh, *(p for p in fresh.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    if not target.exists():
        os.rename(fresh, target)
    elif _exchange(fresh, target):
        shutil.rmtree(fresh)
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "site")
        os.rename(fresh, target)
        shutil.rmtree(old)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux's ``renameat2(RENAME_EXCHANGE)``; False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


@contextlib.contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    """Hold a lock on the site's parent folder while building: a second build waits, so the leftovers
    the first one finds are never another build's work in progress."""
    handle = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _clear_leftovers(parent: Path, name: str) -> None:
    """Remove the folders a killed build left behind (called with the parent folder locked)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(new|old)-")
    for path in parent.iterdir():
        if pattern.match(path.name):
            shutil.rmtree(path, ignore_errors=True)
