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
from .errors import EXIT_FULL, StoreError, damaged, database_fault
from .lock import lock_path, run_lock
from .transaction import transaction

APPLICATION_ID = 0x474D4F4E
"""``PRAGMA application_id`` of a guidance-monitor database ("GMON"), set by the migration that gives the
database its identity: a file with another application's id is never taken for one."""

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
                self._refuse_foreign()
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                schema.migrate(self.db, schema.MIGRATIONS)
            elif (version := schema.schema_version(self.db)) != len(schema.MIGRATIONS):
                raise StoreError(f"{self.path}: schema version {version}, expected {len(schema.MIGRATIONS)}")
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if fault := database_fault(self.path, exc):
                raise fault from None
            raise StoreError(f"{self.path}: not a guidance-monitor database ({exc})") from None
        except BaseException:
            self.db.close()
            raise

    def _refuse_foreign(self) -> None:
        """A SQLite file that holds another application's tables is never given this one's: its tables
        would sit among theirs, and a later ``run`` would take their file for a monitor database."""
        application = self.db.execute("PRAGMA application_id").fetchone()[0]
        if application not in (0, APPLICATION_ID):
            raise StoreError(
                f"{self.path}: another application's database (application id {application:#x}): "
                "choose another file for `database:`"
            )
        if schema.schema_version(self.db) == 0:
            tables = [
                name
                for (name,) in self.db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
                    "ORDER BY name"
                )
            ]
            if tables:
                shown = ", ".join(tables[:3]) + (", …" if len(tables) > 3 else "")
                raise StoreError(
                    f"{self.path}: holds another application's tables ({shown}); guidance-monitor adds "
                    "its own to none but its own file: choose another file for `database:`"
                )

    @property
    def identity(self) -> str:
        """The database's random id, made with it: what the site and the run lock record of it."""
        row = self.db.execute("SELECT id FROM monitor_database").fetchone()
        return str(row[0]) if row else ""

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        """The connection, with one plain error for a file that cannot be opened or is not SQLite.

        ``isolation_level=None``: sqlite3 never begins a transaction on its own; :meth:`writing` does.
        """
        timeout = self.busy_timeout_ms / 1000
        conn: sqlite3.Connection | None = None
        try:
            if readonly:
                uri = f"file:{self.path}?mode=ro"
                if not os.access(self.path.parent, os.W_OK):
                    # SQLite cannot make its shared-memory file beside a database in a folder this user
                    # may not write, and without it cannot read a WAL database; nobody writes it either
                    # (no run can make its journal there), so it is read as it stands.
                    uri += "&immutable=1"
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
            if (fault := database_fault(self.path, exc)) and fault.status == EXIT_FULL:
                raise fault from None
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
        """Hold the run lock (``<database>.lock``): one run at a time per database. The lock file keeps
        the database's identity between runs (see :func:`.lock.recorded_identity`)."""
        return run_lock(lock_path(self.path), identity=self.identity)

    def refuse_damaged(self) -> None:
        """Raise :class:`StoreDamaged` when SQLite's ``quick_check`` finds the file damaged (it reads
        every page, so ``check`` asks it, never a run)."""
        try:
            rows = [row[0] for row in self.db.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            raise damaged(self.path, " ".join("; ".join(rows).split()))

    def integrity_check(self) -> str:
        result: str = self.db.execute("PRAGMA integrity_check").fetchone()[0]
        return result
