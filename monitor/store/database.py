"""Opening a monitor database: the file, its schema, its transactions and its run lock.

Plain ``sqlite3``, with no layer over it: every statement the store runs is its own SQL, its writes go
through one transaction helper (:mod:`.transaction`), and each run opens the database without the import
and plugin loading a wrapper library would cost it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Self

from . import schema
from .errors import StoreError
from .lock import run_lock
from .transaction import transaction

BUSY_TIMEOUT_MS = 30_000
"""How long a write waits for another process's transaction before the store says the file is busy."""


class Database:
    """A monitor database, open. Opening it creates the file or brings its schema up to date; opening it
    read-only refuses a file whose schema is not this version's."""

    def __init__(
        self, path: str | os.PathLike[str], *, readonly: bool = False, busy_timeout_ms: int | None = None
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
        self.db = self._connect(readonly)
        try:
            self.db.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
            self.db.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                schema.migrate(self.db, schema.MIGRATIONS)
            elif (version := schema.schema_version(self.db)) != len(schema.MIGRATIONS):
                raise StoreError(f"{self.path}: schema version {version}, expected {len(schema.MIGRATIONS)}")
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StoreError(f"{self.path}: not a guidance-monitor database ({exc})") from None
        except BaseException:
            self.db.close()
            raise

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        """The connection, with one plain error for a file that cannot be opened or is not SQLite.

        ``isolation_level=None``: sqlite3 never begins a transaction on its own; :meth:`writing` does.
        """
        timeout = self.busy_timeout_ms / 1000
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                uri = f"file:{self.path}?mode=ro"
                conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if not isinstance(exc, sqlite3.OperationalError):
                raise StoreError(f"{self.path}: not a guidance-monitor database ({exc})") from None
            raise StoreError(f"{self.path}: cannot be opened ({exc})") from None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if self.path.parent.exists() and not self.path.parent.is_dir():
                reason = f"{self.path.parent} is not a folder"
            raise StoreError(f"{self.path}: cannot be opened ({reason})") from None
        return conn

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def writing(self, *, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        """One write transaction, all or nothing, that waits for another process's to end (see
        :func:`.transaction.transaction`); ``wait=False`` raises :class:`StoreBusy` at once instead."""
        return transaction(self.db, wait=wait, path=self.path)

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold the run lock (``<database>.lock``): one run at a time per database."""
        return run_lock(Path(f"{self.path}.lock"))

    def integrity_check(self) -> str:
        result: str = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        return result
