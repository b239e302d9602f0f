"""``guidance-monitor search``: where a phrase appeared in, or went from, the stored versions, over the
full-text index the store keeps as versions are written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

from monitor.store import MIGRATIONS, Store


def search(demo_run, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(demo_run.out / "config.yaml"), "search", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_search_lists_the_days_a_phrase_appeared(demo_run):
    done = search(demo_run, "Face Coverings", "--format", "json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)
    with Store(demo_run.out / "monitor.db", readonly=True) as store:
        rows = store.db.execute("SELECT page_url, taken_at, document FROM snapshots").fetchall()
        having = {(url, taken_at) for url, taken_at, document in rows if "face coverings" in document.lower()}
        first = {url: min(t for u, t in having if u == url) for url, _ in having}
    appeared = {(e["page_url"], e["taken_at"]) for e in events if e["event"] == "appeared"}
    assert appeared and {(url, t) for url, t in first.items()} <= appeared
    assert all(e["day"] == e["taken_at"][:10] for e in events)  # the demo's captures are all by day, UK time
    text = search(demo_run, "face coverings")
    assert text.returncode == 0 and all(e["day"] in text.stdout for e in events)


def test_a_phrase_never_seen_is_said_and_exits_1(demo_run):
    done = search(demo_run, "no such words anywhere here")
    assert done.returncode == 1
    assert done.stdout == "“no such words anywhere here” is in no stored version of any page.\n"


def test_an_older_database_is_indexed_once_when_it_is_opened(demo_run, tmp_path):
    path = tmp_path / "monitor.db"
    shutil.copy(demo_run.out / "monitor.db", path)
    with Store(path) as store:
        before = store.db.execute("SELECT rowid, title, body FROM snapshot_text ORDER BY rowid").fetchall()
        # The file as the release before the index left it: the index's migration and those after it undone.
        fts = next(i for i, m in enumerate(MIGRATIONS) if "CREATE VIRTUAL TABLE snapshot_text" in m.sql)
        later = [
            name
            for m in MIGRATIONS[fts + 1 :]
            for name in re.findall(r"CREATE TABLE (\w+)", m.sql)
        ]
        store.db.executescript(
            "DROP TRIGGER snapshot_text_insert; DROP TRIGGER snapshot_text_delete; DROP TABLE snapshot_text;"
            "DROP VIEW snapshot_words;"
            + "".join(f"DROP TABLE {name};" for name in later)
            + f"PRAGMA user_version = {fts};"
        )
    with Store(path) as store:
        after = store.db.execute("SELECT rowid, title, body FROM snapshot_text ORDER BY rowid").fetchall()
        count = store.db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert after == before and len(after) == count > 0
