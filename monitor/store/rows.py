"""Rows to records and back: how pages, changes and bodies are kept in their tables.

Every read that needs named columns goes through :func:`dict_rows`; the model's dataclasses are built
from them here, and only here is a record turned back into a row.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from ..model import Change, ChangeSet, PageState
from ..notes import NoteCheck

BODY_COMPRESSION = 3
"""zlib level for stored bodies: a first run stores every page, and a lower level costs much less time
for bodies only a little larger (the figures are in benchmarks/README.md)."""


def body_hash(body: bytes) -> str:
    """The name a body is kept under: equal bodies are kept once."""
    return hashlib.sha256(body).hexdigest()


def compressed(body: bytes) -> bytes:
    return zlib.compress(body, BODY_COMPRESSION)


def dict_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
    """The rows of a query, each a dict of its columns by name."""
    cursor = conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def dict_row(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
    """The first row of a query as a dict, or None."""
    return next(dict_rows(conn, sql, params), None)


def insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> int:
    """Insert one row; return its id."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(row.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def update_page(conn: sqlite3.Connection, url: str, state: dict[str, Any]) -> None:
    """Set these columns of the page's row."""
    assignments = ", ".join(f"{column} = ?" for column in state)
    conn.execute(f"UPDATE pages SET {assignments} WHERE url = ?", [*state.values(), url])


def _fields(cls: type, row: dict[str, Any]) -> dict[str, Any]:
    """The columns of ``row`` that are fields of ``cls``: later migrations may add columns."""
    names = _field_names(cls)
    return {k: v for k, v in row.items() if k in names}


@functools.cache
def _field_names(cls: type) -> frozenset[str]:
    """Asked for every row read (every page of a large watch list, each run): worked out once a class."""
    return frozenset(f.name for f in dataclasses.fields(cls))


def page_from_row(row: dict[str, Any]) -> PageState:
    data = _fields(PageState, row)
    return PageState(
        **{**data, "title": data["title"] or "", "active": bool(data["active"]), "gone": bool(data["gone"])}
    )


def snapshot_meta(row: dict[str, Any]) -> dict[str, Any]:
    """A snapshot's row without its document, with what a list of versions shows of the document."""
    document = json.loads(row["document"])
    return {
        **{k: v for k, v in row.items() if k != "document"},
        "title": document.get("title", ""),
        "last_updated": document.get("last_updated"),
        "history_count": len(document.get("change_history", [])),
    }


_CHANGE_COLUMNS = tuple(f.name for f in dataclasses.fields(Change) if f.name != "id")
"""Change's stored fields, listed once: ``dataclasses.fields`` on every row would cost as much as the row."""


def row_from_change(change: Change) -> dict[str, Any]:
    row = {name: getattr(change, name) for name in _CHANGE_COLUMNS}
    row["changeset"] = (
        json.dumps(change.changeset.to_dict(), ensure_ascii=False) if change.changeset else None
    )
    row["backfilled"] = int(change.backfilled)
    row["note_check"] = json.dumps(change.note_check.to_dict()) if change.note_check else None
    return row


def change_from_row(row: dict[str, Any]) -> Change:
    data = _fields(Change, row)
    changeset = ChangeSet.from_dict(json.loads(data["changeset"])) if data["changeset"] else None
    check = NoteCheck.from_dict(json.loads(data["note_check"])) if data.get("note_check") else None
    return Change(
        **{**data, "changeset": changeset, "backfilled": bool(data["backfilled"]), "note_check": check}
    )
