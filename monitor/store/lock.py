"""The run lock: one run at a time per database. Its file also keeps the database's identity between
runs, so that a run finding the lock file of another database (or of one that vanished) can say so."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

IDENTITY_LINE = "database "
"""How the lock file names the database it was held for: ``database <id>`` on a line of its own."""


class LockHeld(RuntimeError):
    """Another process holds the run lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        held_by = f" held by pid {pid}" if pid else " held"
        super().__init__(f"another guidance-monitor run is in progress (lock {path}{held_by})")


def lock_path(database: Path) -> Path:
    """The lock file of a database: ``<database>.lock`` beside it."""
    return Path(f"{database}.lock")


def recorded_identity(lock_file: Path) -> str:
    """The identity of the database the lock file was last held for ("" when it names none, or when
    there is no lock file yet)."""
    try:
        text = lock_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line for line in text.splitlines() if line.startswith(IDENTITY_LINE)]
    return lines[0][len(IDENTITY_LINE) :].strip() if lines else ""


@contextlib.contextmanager
def run_lock(lock_path: Path, *, identity: str = "") -> Iterator[None]:
    """Hold the lock file ``lock_path`` for the block, writing this process's id in it for whoever is
    refused; released when the process dies. Once released, the file names ``identity`` (the
    database's) for the runs after.

    ``flock`` is tied to the open file, so a killed run never leaves a stale lock behind. While held, the
    file holds the process id alone, as it always has (``kill $(cat monitor.db.lock)``).
    """
    handle = open(lock_path, "a+")  # noqa: SIM115 (held for the whole block)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            raise LockHeld(lock_path, int(text) if text.isdigit() else None) from None
        _rewrite(handle, str(os.getpid()))
        try:
            yield
        finally:
            _rewrite(handle, f"{IDENTITY_LINE}{identity}\n" if identity else "")
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def _rewrite(handle: TextIO, text: str) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()
