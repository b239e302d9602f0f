"""The SQLite store: every fetch, every distinct version of a page, every change, every delivery. The
only SQL in the project.

Plain ``sqlite3`` rather than a wrapper library: the store's hot paths (a run's writes, its reads of every
page's state) are hand-written statements either way, since a wrapper's table helpers read the table's
schema on each call; what a wrapper would add is a transaction helper, which is a few lines here
(:mod:`.transaction`), against the import and plugin loading it costs every run at start.

- :mod:`.schema`: every migration, in order (the schema's history).
- :mod:`.database`: opening the file, its transactions and the run lock (:mod:`.lock`).
- :mod:`.pages`: the watch list; :mod:`.history`: fetches, bodies, snapshots and changes.
- :mod:`.outbox`: what was delivered, to whom; :mod:`.site_reads`: what the static changelog reads.
- :mod:`.dates`: each page's dates to act on, followed through its versions.
- :mod:`.rows`: rows to records and back.
"""

from __future__ import annotations

from typing import Any

from ..deadlines import PageDate
from ..model import Change
from .dates import DateReads
from .errors import StoreBusy, StoreError
from .history import History
from .lock import LockHeld
from .outbox import Attempt, Outbox
from .pages import Pages
from .rows import body_hash
from .schema import MIGRATIONS, Migration, migrate, schema_version
from .site_reads import SiteReads

__all__ = [
    "MIGRATIONS",
    "Attempt",
    "LockHeld",
    "Migration",
    "Outbox",
    "SiteReads",
    "Store",
    "StoreBusy",
    "StoreError",
    "body_hash",
    "migrate",
    "schema_version",
]


class Store(Pages, History):
    """A monitor database: its pages and their history, and what a channel has left to send. Opening
    it creates the file or brings its schema up to date."""

    def undelivered(self, channel: str) -> list[Change]:
        """Changes not yet sent on ``channel``, oldest first (see :meth:`Outbox.undelivered`)."""
        return Outbox(self).undelivered(channel)

    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None:
        """Mark changes sent on ``channel`` by hand (a digest rebuilt and sent), with no attempt to close."""
        Outbox(self).sent(channel, change_ids, detail)

    def deliveries(self, change_id: int) -> list[dict[str, Any]]:
        return Outbox(self).deliveries(change_id)

    def coming_up(self, urls: list[str], since: str, days: int) -> list[PageDate]:
        """The dates to act on in these pages' current text from ``since`` for ``days`` days (see
        :meth:`DateReads.coming_up`)."""
        return DateReads(self).coming_up(urls, since, days)
