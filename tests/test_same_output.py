"""Same input, same output: the demo replayed twice, into two folders, records the same changes under the
same ids and leaves the same site and digests, whatever order the pages' answers came back in.

What may differ is only what is not the input: the time the files were made (a digest's ``Date``, and
the site's manifest identity, which names its database by when its first page was added, and the
database's random id the manifest records), the folder
written to (the demo's inbox is a channel named by its folder, which its digests' ``Message-ID`` is made
from) and the MIME boundary the email library draws at random."""

from __future__ import annotations

import json
import sqlite3
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from conftest import DemoRun

MANIFEST = ".guidance-monitor-site"
MADE_NOT_READ = {"Date", "Message-ID", "Content-Type"}
"""Headers that say when and where a digest was made (and its random boundary), not what it says."""


def files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def site_file(path: Path) -> bytes:
    """A site file's bytes; the manifest without its identity (when the database was made) and without
    the database's own random id (which tells one database from another, as two runs' are)."""
    if path.name != MANIFEST:
        return path.read_bytes()
    manifest = json.loads(path.read_bytes())
    manifest.pop("identity")
    manifest.pop("database")
    return json.dumps(manifest, sort_keys=True).encode()


def digest(path: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A digest's headers but those saying when and where it was made, and each part's type and text."""
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    headers = [(k, str(v)) for k, v in message.items() if k not in MADE_NOT_READ]
    parts = [(p.get_content_type(), p.get_content()) for p in message.walk() if not p.is_multipart()]
    return headers, parts


def recorded(database: Path) -> tuple[list[tuple], list[tuple]]:
    """Every change as stored, by id, and every snapshot's id, page and content."""
    with sqlite3.connect(database) as conn:
        changes = conn.execute("SELECT * FROM changes ORDER BY id").fetchall()
        snapshots = conn.execute("SELECT id, page_url, taken_at, document_hash FROM snapshots ORDER BY id")
        return changes, snapshots.fetchall()


@pytest.mark.slow
def test_two_demo_runs_give_the_same_change_ids_site_and_digests(
    demo_run: DemoRun, demo_again: DemoRun
) -> None:
    first, second = demo_run.out, demo_again.out
    assert first != second  # two runs, each into its own folder
    assert demo_again.stdout.replace(str(second), "OUT") == demo_run.stdout.replace(str(first), "OUT")

    changes, snapshots = recorded(first / "monitor.db")
    assert (changes, snapshots) == recorded(second / "monitor.db")
    assert len({row[2] for row in changes}) > 2  # changes of several kinds, across pages

    site = files(first / "site")
    assert site == files(second / "site") and len(site) > 20
    for name in site:
        assert site_file(first / "site" / name) == site_file(second / "site" / name), name

    digests = sorted(p.name for p in first.glob("*.eml"))
    assert digests == sorted(p.name for p in second.glob("*.eml")) and digests
    for name in digests:
        assert digest(first / name) == digest(second / name), name
