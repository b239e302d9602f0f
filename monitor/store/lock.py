"""The run lock: one run at a time per database."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class LockHeld(RuntimeError):
    """Another process holds the run lock."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        held_by = f" held by pid {pid}" if pid else " held"
        super().__init__(f"another guidance-monitor run is in progress (lock {path}{held_by})")


@contextlib.contextmanager
def run_lock(lock_path: Path) -> Iterator[None]:
    """Hold the lock file ``lock_path`` for the block, writing this process's id in it for whoever is
    refused; released when the process dies.

    ``flock`` is tied to the open file, so a killed run never leaves a stale lock behind.
    """
    handle = open(lock_path, "a+")  # noqa: SIM115 (held for the whole block)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            text = handle.read().strip()
            raise LockHeld(lock_path, int(text) if text.isdigit() else None) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
