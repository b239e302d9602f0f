"""The outbox: which change went out on which channel, to whom, what is being sent right now, and each
subscriber's rhythm. Every query on the delivery tables is here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..clock import utc_now
from ..model import Change
from .database import Database
from .rows import change_from_row, dict_rows, insert

UNDELIVERED = """
SELECT * FROM changes WHERE id IN (
    SELECT c.id FROM changes c
    WHERE c.backfilled = 0
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.change_id = c.id AND d.channel = ?)
)
ORDER BY detected_at, id
"""
"""A channel's outbox: the monitored changes it has not sent, found through ``changes_monitored``."""

BATCH = 500
"""Ids asked for in one query, well under SQLite's limit on a statement's parameters."""


@dataclass
class Refusal:
    """A recipient whose server refused changes that still wait for them (tried again at each run)."""

    channel: str
    recipient: str
    changes: int
    since: str
    """When the refusals began (UTC): they are given up ``digest.give_up_after_days`` later."""
    reply: str
    """The server's last answer: its code and text."""


@dataclass
class Attempt:
    """A message handed to a channel whose outcome was not recorded (the run was killed meanwhile)."""

    id: int
    channel: str
    message_id: str
    change_ids: list[int]
    recipients: list[str]


class Outbox:
    """The outbox of a store."""

    def __init__(self, store: Database) -> None:
        self.store = store
        self.db = store.db

    def undelivered(self, channel: str) -> list[Change]:
        """Changes not yet sent on ``channel``, oldest first. Backfilled history is never sent."""
        return [change_from_row(r) for r in dict_rows(self.db, UNDELIVERED, [channel])]

    def deliveries(self, change_id: int) -> list[dict[str, Any]]:
        """Where one change went: a row a channel."""
        return list(
            dict_rows(self.db, "SELECT * FROM deliveries WHERE change_id = ? ORDER BY id", [change_id])
        )

    def adopt(self, channel: str, old_names: list[str]) -> None:
        """Carry what was delivered under a channel's earlier names (``webhook:<url>`` before channels had
        names) over to ``channel``, and forget those names: they may hold a token."""
        old = [n for n in old_names if n != channel]
        if not old:
            return
        marks = ", ".join("?" * len(old))
        with self.store.writing():
            for table in ("deliveries", "recipient_deliveries"):
                self.db.execute(
                    f"UPDATE OR IGNORE {table} SET channel = ? WHERE channel IN ({marks})", [channel, *old]
                )
                self.db.execute(f"DELETE FROM {table} WHERE channel IN ({marks})", old)
            self.db.execute(
                f"UPDATE delivery_attempts SET channel = ? WHERE channel IN ({marks})", [channel, *old]
            )

    # ----------------------------------------------------------------------- one message at a time

    def start(self, channel: str, message_id: str, change_ids: list[int], recipients: list[str]) -> int:
        """Record that a message is about to be handed over; returns the attempt's id."""
        with self.store.writing():
            return insert(
                self.db,
                "delivery_attempts",
                {
                    "channel": channel,
                    "message_id": message_id,
                    "change_ids": json.dumps(change_ids),
                    "recipients": json.dumps(recipients),
                    "started_at": utc_now(),
                },
            )

    def finish(self, attempt_id: int, outcome: str, detail: str = "") -> None:
        with self.store.writing():
            self._finish(attempt_id, outcome, detail)

    def _finish(self, attempt_id: int, outcome: str, detail: str) -> None:
        self.db.execute(
            "UPDATE delivery_attempts SET finished_at = ?, outcome = ?, detail = ? WHERE id = ?",
            [utc_now(), outcome, detail, attempt_id],
        )

    def unfinished(self, channel: str) -> list[Attempt]:
        """Attempts on ``channel`` whose outcome was never recorded, oldest first."""
        rows = self.db.execute(
            "SELECT id, channel, message_id, change_ids, recipients FROM delivery_attempts"
            " WHERE channel = ? AND finished_at IS NULL ORDER BY id",
            [channel],
        ).fetchall()
        return [Attempt(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows]

    def sent(self, channel: str, change_ids: list[int], detail: str, attempt_id: int | None = None) -> None:
        """Mark the changes delivered on ``channel`` (once each: marking again keeps the first) and close
        the attempt, in one transaction."""
        when = utc_now()
        with self.store.writing():
            self.db.executemany(
                "INSERT OR IGNORE INTO deliveries (change_id, channel, delivered_at, detail)"
                " VALUES (?, ?, ?, ?)",
                [(change_id, channel, when, detail) for change_id in change_ids],
            )
            if attempt_id is not None:
                self._finish(attempt_id, "sent", detail)

    # ----------------------------------------------------------------------- each email recipient

    def record_recipients(
        self,
        channel: str,
        change_ids: list[int],
        answers: dict[str, tuple[str, int | None, str]],
        attempt_id: int | None = None,
        *,
        give_up_before: str | None = None,
    ) -> list[str]:
        """Each recipient's answer for these changes: ``{address: (status, code, detail)}`` with status
        ``sent``, ``deferred`` (try again) or ``refused`` (refused for good, tried again all the same: an
        operator may mend the address). A refusal keeps the time of the first one in a row; one that
        began before ``give_up_before`` (a UTC timestamp) becomes ``given_up``, and is never tried again.
        Returns the recipients given up now."""
        when = utc_now()
        with self.store.writing():
            self.db.executemany(
                "INSERT INTO recipient_deliveries"
                " (change_id, channel, recipient, status, code, detail, at, refused_since)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (change_id, channel, recipient) DO UPDATE SET status = excluded.status,"
                " code = excluded.code, detail = excluded.detail, at = excluded.at,"
                " refused_since = CASE WHEN excluded.status = 'refused'"
                " THEN coalesce(recipient_deliveries.refused_since, excluded.refused_since) END",
                [
                    (change_id, channel, recipient, status, code, detail, when, refused_at)
                    for recipient, (status, code, detail) in answers.items()
                    for refused_at in [when if status == "refused" else None]
                    for change_id in change_ids
                ],
            )
            given_up: set[str] = set()
            refused = [r for r, (status, _, _) in answers.items() if status == "refused"]
            if give_up_before is not None and refused and change_ids:
                for start in range(0, len(change_ids), BATCH):
                    chunk = change_ids[start : start + BATCH]
                    rows = self.db.execute(
                        "UPDATE recipient_deliveries SET status = 'given_up' WHERE channel = ?"
                        " AND status = 'refused' AND refused_since <= ?"
                        f" AND change_id IN ({', '.join('?' * len(chunk))})"
                        f" AND recipient IN ({', '.join('?' * len(refused))}) RETURNING recipient",
                        [channel, give_up_before, *chunk, *refused],
                    ).fetchall()
                    given_up.update(r[0] for r in rows)
            if attempt_id is not None:
                outcomes = {status for status, _, _ in answers.values()}
                self._finish(attempt_id, "/".join(sorted(outcomes)), "")
        return sorted(given_up)

    def recipient_answers(self, channel: str, change_ids: list[int]) -> dict[tuple[int, str], str]:
        """``{(change_id, recipient): status}`` recorded for these changes on ``channel``."""
        found: dict[tuple[int, str], str] = {}
        for start in range(0, len(change_ids), BATCH):
            chunk = change_ids[start : start + BATCH]
            rows = self.db.execute(
                "SELECT change_id, recipient, status FROM recipient_deliveries WHERE channel = ?"
                f" AND change_id IN ({', '.join('?' * len(chunk))})",
                [channel, *chunk],
            ).fetchall()
            found.update({(r[0], r[1]): r[2] for r in rows})
        return found

    def refusals(self, channel: str, change_ids: list[int]) -> list[tuple[str, int | None, str]]:
        """The recipients given up on for these changes: ``(address, code, detail)``."""
        if not change_ids:
            return []
        rows = self.db.execute(
            "SELECT DISTINCT recipient, code, detail FROM recipient_deliveries WHERE channel = ?"
            f" AND status = 'given_up' AND change_id IN ({', '.join('?' * len(change_ids))})",
            [channel, *change_ids],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def waiting_refusals(self) -> list[Refusal]:
        """Every recipient whose server refused changes still waiting for them, by channel and address:
        what ``notify`` shows, so an operator sees which address to mend before it is given up."""
        rows = self.db.execute(
            "SELECT channel, recipient, count(*), min(refused_since),"
            " (SELECT coalesce(code, '') || ' ' || detail FROM recipient_deliveries last"
            "  WHERE last.channel = r.channel AND last.recipient = r.recipient AND last.status = 'refused'"
            "  ORDER BY at DESC LIMIT 1)"
            " FROM recipient_deliveries r WHERE status = 'refused' AND NOT EXISTS"
            " (SELECT 1 FROM deliveries d WHERE d.change_id = r.change_id AND d.channel = r.channel)"
            " GROUP BY channel, recipient ORDER BY channel, recipient"
        ).fetchall()
        return [Refusal(r[0], r[1], r[2], r[3], r[4] or "") for r in rows]

    # ----------------------------------------------------------------------- subscribers

    def subscriber(self, channel: str) -> tuple[str, str | None, int] | None:
        """``(since, last_sent, after_change)`` of the subscriber on ``channel``; None before their first
        run. Their changes are those detected from ``since`` or recorded after change ``after_change``."""
        row = self.db.execute(
            "SELECT since, last_sent, after_change FROM subscribers WHERE channel = ?", [channel]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def subscribe(self, channel: str, since: str) -> tuple[str, int]:
        """When the subscriber on ``channel`` counts changes from: ``since`` the first time, kept after,
        with the last change recorded before it (in detection order, whatever the clock said)."""
        with self.store.writing():
            self.db.execute(
                "INSERT OR IGNORE INTO subscribers (channel, since, after_change)"
                " VALUES (?, ?, (SELECT coalesce(max(id), 0) FROM changes WHERE detected_at < ?))",
                [channel, since, since],
            )
        found = self.subscriber(channel)
        assert found is not None
        return found[0], found[2]

    def set_last_sent(self, channel: str, when: str) -> None:
        """Their message went at ``when`` (a UTC timestamp): their rhythm counts from it."""
        with self.store.writing():
            self.db.execute("UPDATE subscribers SET last_sent = ? WHERE channel = ?", [when, channel])
