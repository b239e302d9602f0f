"""The site's folder on disk: each file replaced atomically and only when its bytes change, a whole new
folder swapped in for a rebuild, a folder guidance-monitor did not make never touched, and what a killed
build left behind cleared by the next one."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

SITE_MARKER = ".guidance-monitor-site"
"""The manifest, left in every built site: a rebuild never replaces a folder guidance-monitor did not make."""
BUILDING = ".guidance-monitor-building"
"""Present while a run writes into the site in place: after a kill, the next run sweeps temporary files."""
TEMP_PREFIX = ".gm-tmp-"


class SiteError(OSError):
    """The site cannot be written there: the reason is one plain line."""


class SiteFolder:
    """The files of one site folder as a build writes them.

    ``in_place``: the folder is the live site, so each file goes through a temporary file in the same
    folder, fsync and ``os.replace``, and a file whose bytes would not change is not written at all.
    Otherwise the folder is new and nobody reads it until it is swapped in whole, so each file is simply
    written.
    """

    def __init__(self, root: Path, *, in_place: bool) -> None:
        self.root = root
        self.in_place = in_place
        self.folders: set[Path] = set()

    def begin(self) -> None:
        """Mark the folder as being written, and sweep what a killed run left half-written."""
        marker = self.root / BUILDING
        if marker.exists():
            for path in self.root.rglob(f"{TEMP_PREFIX}*"):
                path.unlink(missing_ok=True)
        else:
            marker.write_text("guidance-monitor is writing this site\n", encoding="utf-8")

    def finish(self) -> None:
        """The folder is whole again: the next run need not sweep it."""
        (self.root / BUILDING).unlink(missing_ok=True)

    def write(self, relative: str, text: str) -> None:
        """Replace one file atomically, and only if its bytes change."""
        path = self.root / relative
        data = text.encode("utf-8")
        if self.in_place:
            with contextlib.suppress(OSError):
                if path.stat().st_size == len(data) and path.read_bytes() == data:
                    return
        self._folder(path)
        if self.in_place:
            self._replace(path, [data], unless_same=False)
        else:
            _write_new(path, data)

    def write_pieces(self, relative: str, pieces: Iterator[str]) -> None:
        """Like :meth:`write` for a long page, written as it is rendered: never held whole, and compared
        with the file already there by a digest."""
        path = self.root / relative
        self._folder(path)
        self._replace(path, (piece.encode("utf-8") for piece in pieces), unless_same=self.in_place)

    def _replace(self, path: Path, chunks: Iterable[bytes], *, unless_same: bool) -> None:
        """Write ``chunks`` to a temporary file beside ``path`` and put it in its place in one rename
        (made durable first when the folder is live); ``unless_same``: leave a file with the same bytes."""
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            digest = hashlib.sha256()
            with os.fdopen(handle, "wb") as out:
                for data in chunks:
                    if unless_same:
                        digest.update(data)
                    out.write(data)
                if unless_same and _file_digest(path) == digest.digest():
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

    def exists(self, relative: str) -> bool:
        """Whether the folder already holds this file (a page new to the site does not)."""
        return (self.root / relative).exists()

    def _folder(self, path: Path) -> None:
        """Make the file's folder once per build (a build writes many files into a few folders)."""
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)


def _write_new(path: Path, data: bytes) -> None:
    """Write a file with one open, write and close: the buffered file object ``Path.write_bytes`` makes
    asks the system more questions of each of a build's many files."""
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


def refuse_foreign(target: Path) -> None:
    """A folder that guidance-monitor did not build is never replaced."""
    if target.is_dir() and any(target.iterdir()) and not (target / SITE_MARKER).exists():
        raise SiteError(f"{target}: not empty and not built by guidance-monitor; choose another folder")


def build_beside(target: Path, fill: Callable[[Path], object]) -> None:
    """Fill a new folder beside ``target`` and swap it in whole; a failure leaves ``target`` as it was
    and takes the new folder away (one a kill leaves is cleared by the next build)."""
    fresh = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        fill(fresh)
        swap_in(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def swap_in(fresh: Path, target: Path) -> None:
    """Put the finished folder ``fresh`` where ``target`` is, with two renames: ``target`` into a new
    folder of leftovers beside it, then ``fresh`` to ``target``; then the old site is removed.

    What it guarantees: each ``os.rename`` of a folder is atomic on POSIX, so whoever opens a file under
    ``target`` finds either the whole old site or the whole new one, never a mixture and never a file
    half written; a failure of the second rename puts the old site back; a file a reader already has
    open stays readable until closed.

    What it does not: ``target`` is not there for the moment between the two renames, so a request in
    that moment is answered "not found". A kill in that moment leaves no site, and the old one in a
    ``.<name>.old-`` folder that the next build clears; that build, finding no site, builds it whole
    again from the database. It does not work across file systems (the new folder is made beside
    ``target`` so that it never has to).
    """
    for folder in [fresh, *(p for p in fresh.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    if not target.exists():
        os.rename(fresh, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / "site")
    try:
        os.rename(fresh, target)
    except BaseException:
        os.rename(old / "site", target)
        old.rmdir()
        raise
    shutil.rmtree(old)


def can_build_beside(target: Path) -> bool:
    """Whether a new folder can be made beside ``target`` (its parent writable by this user): else the
    site is built inside it (a ``/var/www/site`` given to the monitor in a parent it may not write)."""
    return os.access(target.parent, os.W_OK | os.X_OK)


INSIDE_PREFIXES = (".gm-new-", ".gm-old-")
"""The folders a build inside the site makes in it: the new site, and the old one while it is taken away."""


def build_inside(target: Path, fill: Callable[[Path], object]) -> None:
    """Fill a new folder inside ``target`` and move its files in, for a site whose parent this user may
    not write (so no folder can be made beside it).

    Each file is moved with one rename, so a reader never finds a half-written file; but the site is
    changed a name at a time (each top-level file and folder), not swapped whole, so a request in that
    moment may find a page of the old site beside one of the new. A kill in that moment leaves the old
    site's names in a ``.gm-old-`` folder and the new one's in a ``.gm-new-`` folder, which the next
    build clears, finding no manifest and building the site whole again.
    """
    if not target.exists():
        try:
            target.mkdir()
        except OSError as exc:
            raise SiteError(
                f"{target}: cannot be made ({exc.strerror or exc}): make it yourself, writable by this "
                f"user, or let it write {target.parent}"
            ) from None
    fresh = Path(tempfile.mkdtemp(prefix=INSIDE_PREFIXES[0], dir=target))
    try:
        fill(fresh)
        for folder in [fresh, *(p for p in fresh.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)
        old = Path(tempfile.mkdtemp(prefix=INSIDE_PREFIXES[1], dir=target))
        try:
            for path in list(target.iterdir()):
                if not path.name.startswith(INSIDE_PREFIXES):
                    os.rename(path, old / path.name)
            for path in sorted(fresh.iterdir(), key=lambda p: p.name == SITE_MARKER):  # the manifest last
                os.rename(path, target / path.name)
        except BaseException:
            for path in old.iterdir():  # the old site's names back where no new one took their place
                if not (target / path.name).exists():
                    os.rename(path, target / path.name)
            raise
        shutil.rmtree(old)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


@contextlib.contextmanager
def parent_lock(parent: Path) -> Iterator[None]:
    """Hold a lock on the site's parent folder while building: a second build waits, so the leftovers
    the first one finds are never another build's work in progress."""
    handle = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def clear_leftovers(parent: Path, name: str) -> None:
    """Remove the folders a killed build left behind, beside the site or inside it (called with the
    parent folder locked)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(new|old)-")
    for path in parent.iterdir():
        if pattern.match(path.name):
            shutil.rmtree(path, ignore_errors=True)
    site = parent / name
    if site.is_dir() and os.access(site, os.W_OK | os.X_OK):
        for path in site.iterdir():
            if path.name.startswith(INSIDE_PREFIXES):
                shutil.rmtree(path, ignore_errors=True)
