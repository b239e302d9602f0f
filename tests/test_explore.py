"""What ``explore`` gives Datasette: every table and column described, canned queries that run on a real
store, and one plain error for each thing it cannot do. Serving is tested end to end in test_cli."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from monitor import explore
from monitor.clock import utc_now
from monitor.config import load as load_config
from monitor.model import Change, ChangeSet, DiffOp, SectionChange
from monitor.render.labels import SILENT_WARNING
from monitor.search import phrase_events
from monitor.store import Store


def test_every_table_and_column_is_described_for_explore(tmp_path):
    with Store(tmp_path / "m.db") as store:
        tables = list(store.db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        indexes = [n for n, sql in tables if sql.upper().startswith("CREATE VIRTUAL TABLE")]
        shadows = {f"{n}_{part}" for n in indexes for part in ("data", "idx", "content", "docsize", "config")}
        names = [n for n, _ in tables if n not in shadows]  # FTS5's own tables: Datasette hides them
        for table in names:
            assert table in explore.TABLES, f"describe table {table} in explore.TABLES"
            described = explore.TABLES[table][1]
            for _, column, *_ in store.db.execute(f"PRAGMA table_info({table})"):
                assert column in described, f"describe {table}.{column} in explore.TABLES"
        assert set(explore.TABLES) == set(names), "a described table the store does not make"


def test_metadata_names_the_database_and_holds_every_canned_query_that_runs(tmp_path):
    pytest.importorskip("datasette")
    described = explore.metadata("monitor")
    queries = described["databases"]["monitor"]["queries"]
    assert set(queries) == set(explore.QUERIES)
    assert described["databases"]["monitor"]["tables"]["changes"]["columns"]["backfilled"].startswith("1 for")
    Store(tmp_path / "monitor.db").close()
    datasette = explore.explorer(tmp_path / "monitor.db", described)
    params = {"url": "https://www.gov.uk/x", "date": "2024-01-01", "phrase": "must", "_shape": "array"}
    for name in queries:
        answer = asyncio.run(datasette.client.get(f"/monitor/{name}.json", params=params))
        assert answer.status_code == 200 and answer.json() == [], (name, answer.text[:300])


def served_demo(demo_run, private: bool = False) -> tuple[object, dict]:
    """The demo's database as ``explore`` serves it (``--private`` or not), with its configuration."""
    pytest.importorskip("datasette")
    config = load_config(demo_run.out / "config.yaml")
    path = Path(config.database)
    described = explore.metadata(
        path.stem,
        silent=explore.silent_edit_ids(path),
        private=private,
        govuk_base_url=config.govuk_base_url,
    )
    return explore.explorer(path, described, private=private), config


def get(datasette, path: str, **params: str):
    return asyncio.run(datasette.client.get(path, params=params or None))


def test_published_explorer_shows_no_subscriber_no_file_and_runs_no_sql(demo_run):
    public, _ = served_demo(demo_run)
    refused = [
        "/monitor/subscribers",
        "/monitor/subscribers.json",
        "/monitor/delivery_attempts.json",
        "/monitor/recipient_deliveries.json",
        "/monitor/deliveries.csv",
        "/monitor.db",
    ]
    for path in refused:
        assert get(public, path).status_code in (403, 404), path
    assert get(public, "/monitor.json", sql="SELECT * FROM subscribers").status_code in (403, 404)
    assert get(public, "/monitor", sql="SELECT 1").status_code in (403, 404)
    assert get(public, "/monitor/changes.json").status_code == 200
    assert get(public, "/monitor/silent-edits.json").status_code == 200
    private, _ = served_demo(demo_run, private=True)
    for path in ["/monitor/subscribers.json", "/monitor/delivery_attempts.json", "/monitor.db"]:
        assert get(private, path).status_code == 200, path
    assert get(private, "/monitor.json", sql="SELECT count(*) FROM subscribers").status_code == 200


def test_silent_edits_are_those_the_site_calls_silent(demo_run):
    public, _ = served_demo(demo_run)
    rows = get(public, "/monitor/silent-edits.json", _shape="array").json()
    on_site = set()
    for page in (demo_run.out / "site" / "changes").glob("*.html"):
        if f"<strong>{SILENT_WARNING}.</strong>" in page.read_text(encoding="utf-8"):
            on_site.add(int(page.stem))
    assert {r["id"] for r in rows} == on_site


def test_a_change_without_a_note_that_nothing_explains_is_a_silent_edit(demo_run, tmp_path):
    """The demo's document edits all came with their publication's updates, so it has no silent edit: one
    is recorded beside them, on a page of its own, with an announced edit that is not silent."""
    db = tmp_path / "monitor.db"
    with sqlite3.connect(demo_run.out / "monitor.db") as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    before = explore.silent_edit_ids(db)
    url, title = "https://www.gov.uk/guidance/a-page-edited-silently", "A page edited silently"
    edit = SectionChange("Part", "modified", added_words=3, diff=[DiffOp("insert", "three new words")])
    with Store(db) as store:
        store.upsert_page(url, title=title)
        silent = store.add_change(Change(url, "minor", utc_now(), title, ChangeSet("minor", sections=[edit])))
        store.add_change(
            Change(url, "major", utc_now(), title, ChangeSet("major", sections=[edit]), note="Updated.")
        )
    assert explore.silent_edit_ids(db) == sorted([*before, silent.id])


def test_a_page_on_a_date_answers_to_any_spelling_of_its_address(demo_run):
    public, config = served_demo(demo_run)
    with Store(config.database, readonly=True) as store:
        stored = store.pages()[0].url
    path = urlsplit(stored).path
    answers = [
        get(public, "/monitor/page-on-a-date.json", url=spelling, date="2021-06-01", _shape="array").json()
        for spelling in (stored, path + "/", f"HTTPS://WWW.GOV.UK{path}?utm_source=x#top")
    ]
    assert answers[0] and answers[1] == answers[0] and answers[2] == answers[0]


def test_the_phrase_query_lists_what_search_lists(demo_run):
    public, config = served_demo(demo_run)
    rows = get(public, "/monitor/phrase.json", phrase="face coverings", _shape="array").json()
    with Store(config.database, readonly=True) as store:
        events = phrase_events(store, "face coverings")
    assert events and [(r["page_url"], r["taken_at"], r["event"]) for r in rows] == [
        (e.page_url, e.taken_at, e.event) for e in events
    ]


def test_metadata_out_writes_the_metadata_and_serves_nothing(tmp_path, capsys):
    out = tmp_path / "metadata.json"
    explore.serve(str(tmp_path / "monitor.db"), host="127.0.0.1", port=0, base_url="/", metadata_out=str(out))
    assert json.loads(out.read_text(encoding="utf-8")) == explore.metadata("monitor")
    assert capsys.readouterr().out == f"Wrote {out}\n"
    assert not (tmp_path / "monitor.db").exists()


def test_metadata_that_cannot_be_written_is_a_failure_not_a_usage_error(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "metadata.json"
    with pytest.raises(explore.ExploreError, match=f"--metadata {target}: cannot be written") as caught:
        explore.serve("monitor.db", host="127.0.0.1", port=0, base_url="/", metadata_out=str(target))
    assert not caught.value.usage


def test_no_database_yet_is_one_plain_line(tmp_path):
    pytest.importorskip("datasette")
    missing = tmp_path / "monitor.db"
    with pytest.raises(explore.ExploreError, match="no database yet at .*`guidance-monitor run` creates it"):
        explore.serve(str(missing), host="127.0.0.1", port=0, base_url="/", metadata_out=None)
    assert not missing.exists()
