"""The database's schema, as the ordered list of the migrations that built it.

Read top to bottom, ``MIGRATIONS`` is the schema's history: entry ``n`` (from 0) takes a database from
version ``n`` to ``n + 1``, and ``PRAGMA user_version`` says how many have run. The list only grows at
its end, and an entry never changes once released: a database made by any release opens with any later
one, which runs the entries it has not had yet, each in its own transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .errors import StoreError
from .transaction import transaction


@dataclass(frozen=True)
class Migration:
    """One step of the schema: why it exists, and the SQL statements that take it."""

    why: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "The first release: pages, their fetches, bodies, snapshots, changes and deliveries.",
        """
        CREATE TABLE pages (
            url TEXT PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            parent_url TEXT,
            source TEXT NOT NULL DEFAULT 'config',
            active INTEGER NOT NULL DEFAULT 1,
            added_at TEXT NOT NULL,
            current_url TEXT,
            gone INTEGER NOT NULL DEFAULT 0,
            etag TEXT,
            last_modified TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_checked TEXT,
            last_changed TEXT
        );
        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            time TEXT NOT NULL,
            url TEXT NOT NULL,
            final_url TEXT,
            status INTEGER,
            bytes INTEGER NOT NULL DEFAULT 0,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 1,
            not_modified INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            body_hash TEXT REFERENCES bodies(hash)
        );
        CREATE INDEX fetches_page ON fetches(page_url, id);
        CREATE TABLE bodies (
            hash TEXT PRIMARY KEY,
            content_type TEXT NOT NULL DEFAULT '',
            size INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            taken_at TEXT NOT NULL,
            body_hash TEXT REFERENCES bodies(hash),
            document_hash TEXT NOT NULL,
            document TEXT NOT NULL
        );
        CREATE INDEX snapshots_page ON snapshots(page_url, id);
        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            page_url TEXT NOT NULL REFERENCES pages(url),
            kind TEXT NOT NULL,
            detected_at TEXT NOT NULL,
            effective_date TEXT,
            title TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '',
            changeset TEXT,
            backfilled INTEGER NOT NULL DEFAULT 0,
            old_snapshot_id INTEGER REFERENCES snapshots(id),
            new_snapshot_id INTEGER REFERENCES snapshots(id),
            new_url TEXT
        );
        CREATE INDEX changes_page ON changes(page_url, id);
        CREATE INDEX changes_detected ON changes(detected_at);
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            change_id INTEGER NOT NULL REFERENCES changes(id),
            channel TEXT NOT NULL,
            delivered_at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            UNIQUE (change_id, channel)
        );
        """,
    ),
    Migration(
        "Discovery and ``add``: GOV.UK's ``public_timestamp`` when a search last led to a full check of "
        "the page, and whether a page added with ``add --follow-documents`` follows its documents.",
        """
        ALTER TABLE pages ADD COLUMN public_timestamp TEXT;
        ALTER TABLE pages ADD COLUMN follow_documents INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    Migration(
        "The page's ``read_key``: which body, read by which code and how, gave the Document that is the "
        "page's last snapshot. The same key again means the same Document, so the body is not parsed again.",
        """
        ALTER TABLE pages ADD COLUMN read_key TEXT;
        """,
    ),
    Migration(
        "Delivery attempts and each recipient's answer. An attempt is recorded before a message is handed "
        "over (before SMTP ``DATA``, before a webhook's POST) with the Message-ID it carries, so a run "
        "killed after the server accepted it resends that one message, with the same Message-ID, and "
        "nothing else twice. A recipient's answer is kept per change, so one refused or deferred address "
        "keeps the changes for that address alone.",
        """
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            message_id TEXT NOT NULL,
            change_ids TEXT NOT NULL,
            recipients TEXT NOT NULL DEFAULT '[]',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX delivery_attempts_open ON delivery_attempts(channel, finished_at);
        CREATE TABLE recipient_deliveries (
            change_id INTEGER NOT NULL REFERENCES changes(id),
            channel TEXT NOT NULL,
            recipient TEXT NOT NULL,
            status TEXT NOT NULL,
            code INTEGER,
            detail TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            PRIMARY KEY (change_id, channel, recipient)
        );
        """,
    ),
    Migration(
        "Subscribers (``digest.subscribers``): from when each one's changes count and when their message "
        "last went (their rhythm); and the search that found a page, which ``searches:`` subscriptions "
        "follow.",
        """
        CREATE TABLE subscribers (
            channel TEXT PRIMARY KEY,
            since TEXT NOT NULL,
            last_sent TEXT
        );
        ALTER TABLE pages ADD COLUMN search TEXT;
        """,
    ),
    Migration(
        "``add --selector``: the CSS selector of a page outside GOV.UK added from the command line.",
        """
        ALTER TABLE pages ADD COLUMN selector TEXT;
        """,
    ),
    Migration(
        "An index of the monitored changes only: what the outbox asks of every run. The backfilled history "
        "of each page is most of the changes table, and without it the outbox would read the whole table "
        "on every run, from disk on a cold start.",
        """
        CREATE INDEX IF NOT EXISTS changes_monitored ON changes(id) WHERE backfilled = 0;
        """,
    ),
    Migration(
        "Refusals tried again, and subscribers' start in detection order. A recipient's permanent refusal "
        "keeps the change for them until ``digest.give_up_after_days`` after its first refusal "
        "(``refused_since``), so an address the operator mends still gets it. A subscriber counts the "
        "changes recorded after ``after_change`` (the last change recorded before their start) whatever "
        "the clock read when they were recorded.",
        """
        ALTER TABLE recipient_deliveries ADD COLUMN refused_since TEXT;
        ALTER TABLE subscribers ADD COLUMN after_change INTEGER NOT NULL DEFAULT 0;
        UPDATE subscribers SET after_change = (
            SELECT coalesce(max(id), 0) FROM changes WHERE detected_at < subscribers.since
        );
        """,
    ),
    Migration(
        "A page that went back to an earlier version: the snapshot readers were last told about, kept until "
        "the next check says whether the return stayed (told as ``reverted``) or the page alternates.",
        """
        ALTER TABLE pages ADD COLUMN returned_from INTEGER REFERENCES snapshots(id);
        """,
    ),
    Migration(
        "The change note held against the text: for each edit, the kinds of signal that changed under no "
        "note and the sections with a signal its note does not name (JSON), worked out once when the "
        "change is recorded.",
        """
        ALTER TABLE changes ADD COLUMN note_check TEXT;
        """,
    ),
    Migration(
        "The full-text index of every stored version (``guidance-monitor search``, Datasette's phrase "
        "query): its title, summary, headings, text and change notes (the view ``snapshot_words`` says "
        "which), one row per snapshot (the same rowid). Triggers keep it as snapshots are written, so a "
        "run indexes only the versions it stores; the versions already stored are indexed once, here.",
        """
        CREATE VIEW snapshot_words AS
            SELECT s.id, s.page_url, coalesce(json_extract(s.document, '$.title'), '') AS title,
                (SELECT coalesce(group_concat(value, char(10)), '') FROM json_tree(s.document)
                 WHERE type = 'text' AND key IN ('title', 'summary', 'heading', 'text', 'note')) AS body
            FROM snapshots s;
        CREATE VIRTUAL TABLE snapshot_text USING fts5(
            page_url UNINDEXED, title, body, tokenize = 'unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER snapshot_text_insert AFTER INSERT ON snapshots BEGIN
            INSERT INTO snapshot_text (rowid, page_url, title, body)
                SELECT id, page_url, title, body FROM snapshot_words WHERE id = new.id;
        END;
        CREATE TRIGGER snapshot_text_delete AFTER DELETE ON snapshots BEGIN
            DELETE FROM snapshot_text WHERE rowid = old.id;
        END;
        INSERT INTO snapshot_text (rowid, page_url, title, body)
            SELECT id, page_url, title, body FROM snapshot_words;
        """,
    ),
    Migration(
        "The database's identity: a random id made once with the file, which the site and the run lock "
        "record. A run that finds a site or a lock file made from another database (or from one that "
        "vanished) refuses, rather than taking an empty file for a fresh start; and the file says it is "
        "guidance-monitor's (``PRAGMA application_id``), so no other application's file is taken for it.",
        """
        CREATE TABLE monitor_database (id TEXT NOT NULL, created_at TEXT NOT NULL);
        INSERT INTO monitor_database (id, created_at)
            VALUES (lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
        PRAGMA application_id = 1196248910;
        """,
    ),
    Migration(
        "Each page's dates to act on followed through its versions (``monitor.deadlines``), as of its "
        "snapshot ``snapshot_id`` and its last move or removal ``ended_change_id``: a run folds in only "
        "what was stored after them, so the calendar costs what changed, not the whole history, and an "
        "event keeps its identity and sequence.",
        """
        CREATE TABLE page_dates (
            page_url TEXT PRIMARY KEY REFERENCES pages(url),
            snapshot_id INTEGER NOT NULL DEFAULT 0,
            ended_change_id INTEGER NOT NULL DEFAULT 0,
            tracked TEXT NOT NULL DEFAULT '[]'
        );
        """,
    ),
)


def schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> int:
    """Run the migrations the file has not had yet, each in its own transaction; return the version.

    Each transaction takes the write lock before it reads the version, so two processes opening a new
    file at once run each migration once between them.
    """
    version = schema_version(conn)
    if version > len(migrations):
        raise StoreError(
            f"the database is at schema version {version}, newer than this guidance-monitor "
            f"understands ({len(migrations)}): upgrade guidance-monitor"
        )
    for number in range(version, len(migrations)):
        with transaction(conn):
            if schema_version(conn) != number:
                continue  # another process ran it meanwhile
            for statement in _statements(migrations[number].sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return len(migrations)


def _statements(script: str) -> Iterator[str]:
    """The script's statements one by one: sqlite3's ``executescript`` would commit the transaction the
    migration runs in. Each statement ends its line, as every script above is written."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement.strip()
            statement = ""
    if statement.strip():
        raise ValueError(f"a migration ends in an unfinished statement: {statement.strip()!r}")
