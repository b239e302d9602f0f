"""All or nothing: one write transaction on a connection that leaves transactions to its caller.

The store's connection is opened with ``isolation_level=None``, so Python's sqlite3 never begins or
commits on its own: a statement outside :func:`transaction` is its own transaction, and every group of
writes that must land together goes through here.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .errors import StoreBusy


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, wait: bool = True, path: Path | None = None) -> Iterator[None]:
    """One write transaction that takes SQLite's write lock as it begins (``BEGIN IMMEDIATE``).

    A deferred transaction that reads and then writes fails at once in WAL mode when another process
    is writing, whatever the busy timeout; one that asks for the lock first waits for it. Past the
    timeout it says so (:class:`StoreBusy`) and nothing of the transaction is written. ``wait=False``
    says so at once, for a caller that waits in its own way (an event loop that must keep serving its
    other work). ``path`` names the file in that message as the user gave it.

    Inside a caller's transaction it is a savepoint: the inner block alone is undone when it fails, and
    the outer one decides the rest.
    """
    if conn.in_transaction:
        with _savepoint(conn):
            yield
        return
    _begin(conn, wait, path)
    try:
        yield
    except BaseException:
        _rollback(conn)
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise


def _begin(conn: sqlite3.Connection, wait: bool, path: Path | None) -> None:
    timeout_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        if not wait:
            conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreBusy(path or _path(conn), timeout_ms) from None
        raise
    finally:
        if not wait:
            conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")


@contextlib.contextmanager
def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    # SQLite resolves a savepoint name to the innermost one of that name, so one name serves every depth.
    conn.execute("SAVEPOINT inner_block")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # an error may already have ended the whole transaction
            conn.execute("ROLLBACK TO inner_block")
            conn.execute("RELEASE inner_block")
        raise
    conn.execute("RELEASE inner_block")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:  # an error may already have rolled it back
        conn.execute("ROLLBACK")


def _path(conn: sqlite3.Connection) -> Path:
    """The file of the connection's main database, for a message that names it."""
    for _, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file)
    return Path()
