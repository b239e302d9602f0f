"""Why a database cannot be used, in one plain line each."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


class StoreError(RuntimeError):
    """A database this version cannot use (made by a newer version, or not a guidance-monitor store).
    ``status``: the exit status a command gives for it."""

    status = 2


class StoreBusy(StoreError):
    """Another process held the database's write lock for longer than the busy timeout."""

    status = 1

    def __init__(self, path: Path, timeout_ms: int) -> None:
        self.path = path
        super().__init__(
            f"{path} is locked by another process (waited {timeout_ms / 1000:g} s to write); nothing "
            "was lost: the pages not recorded are checked again on the next run"
        )


EXIT_DAMAGED, EXIT_FULL = 2, 1
"""Exit statuses: a damaged file needs the operator (as a configuration mistake does); a full disk is a
run that failed, and the next one, with space, does the work again."""


class StoreDamaged(StoreError):
    """The file is damaged or the disk is full: what SQLite said, the file, and what to do, in one line."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


FULL_BELOW = 1 << 20
"""Free bytes below which an I/O error writing the database is taken for a full disk: SQLite says "disk
I/O error" when the disk fills as it makes its shared-memory file, and "full" only for the file itself."""


def _disk_full(path: Path) -> bool:
    try:
        usage = shutil.disk_usage(path.parent)
    except OSError:
        return False
    return usage.free < FULL_BELOW


def database_fault(path: Path | str, exc: sqlite3.DatabaseError) -> StoreDamaged | None:
    """What a SQLite error met while using the database means to the operator, when it is a damaged
    file or a full disk (None otherwise). Every write is one transaction, so whatever failed was undone:
    nothing recorded before is lost."""
    said = str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    io_error = name.startswith("SQLITE_IOERR") or "disk I/O error" in said
    if name.startswith("SQLITE_FULL") or "disk is full" in said or (io_error and _disk_full(Path(path))):
        return StoreDamaged(
            f"{path}: the disk is full ({said}): free some space and run again; what was recorded before "
            "is kept, and the pages not recorded are checked again on the next run",
            EXIT_FULL,
        )
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in said:
        return damaged(path, said)
    return None


def damaged(path: Path | str, said: str) -> StoreDamaged:
    """A damaged database, with what SQLite said of it and what to do."""
    return StoreDamaged(
        f"{path}: the database is damaged ({said}): restore it from a backup, or rescue what it "
        f"holds with `sqlite3 {path} .recover`, then run again",
        EXIT_DAMAGED,
    )
