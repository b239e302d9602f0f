"""The full-text index of every stored version (``snapshot_text``, SQLite FTS5): where a phrase appeared
and where it went. The index is kept by the schema's triggers as snapshots are written; this module only
reads it.

:data:`PHRASE_EVENTS` is the one rule for "where a phrase appeared or disappeared": ``guidance-monitor
search`` runs it, and ``guidance-monitor explore`` offers it as a canned query, so the two always agree.
"""

from __future__ import annotations

from typing import Any

from .database import Database

PHRASE_EVENTS = """
WITH hits AS (
  SELECT rowid AS id FROM snapshot_text WHERE snapshot_text MATCH '"' || replace(:phrase, '"', '""') || '"'
),
versions AS (
  SELECT s.id, s.page_url, s.taken_at, s.id IN (SELECT id FROM hits) AS has,
    lag(s.id IN (SELECT id FROM hits), 1, 0) OVER (PARTITION BY s.page_url ORDER BY s.taken_at, s.id) AS had
  FROM snapshots s
  WHERE s.page_url IN (SELECT page_url FROM snapshot_text WHERE rowid IN (SELECT id FROM hits))
)
SELECT v.page_url, coalesce(nullif(p.title, ''), v.page_url) AS title, v.taken_at, v.id AS snapshot,
  CASE WHEN v.has THEN 'appeared' ELSE 'disappeared' END AS event
FROM versions v LEFT JOIN pages p ON p.url = v.page_url
WHERE v.has != v.had
ORDER BY v.taken_at, v.page_url, v.id
"""
"""Each stored version in which ``:phrase`` (its words in that order, case and accents ignored) is found
and the version before it was not (``appeared``: a page's first version counts), or the other way round
(``disappeared``), oldest first."""


class FullText:
    """Reads of the full-text index, on an open database."""

    def __init__(self, database: Database) -> None:
        self.db = database.db

    def phrase_events(self, phrase: str) -> list[dict[str, Any]]:
        """Where ``phrase`` appeared in, or went from, a stored version (see :data:`PHRASE_EVENTS`)."""
        cursor = self.db.execute(PHRASE_EVENTS, {"phrase": phrase})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]
