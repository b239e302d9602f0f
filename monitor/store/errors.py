"""Why a database cannot be used, in one plain line each."""

from __future__ import annotations

from pathlib import Path


class StoreError(RuntimeError):
    """A database this version cannot use (made by a newer version, or not a guidance-monitor store)."""


class StoreBusy(StoreError):
    """Another process held the database's write lock for longer than the busy timeout."""

    def __init__(self, path: Path, timeout_ms: int) -> None:
        self.path = path
        super().__init__(
            f"{path} is locked by another process (waited {timeout_ms / 1000:g} s to write); nothing "
            "was lost: the pages not recorded are checked again on the next run"
        )
