"""What ``explore`` gives Datasette: every table and column described, canned queries that run on a real
store, and one plain error for each thing it cannot do. Serving is tested end to end in test_cli."""

from __future__ import annotations

import json

import pytest

from monitor import explore
from monitor.store import Store


def test_every_table_and_column_is_described_for_explore(tmp_path):
    with Store(tmp_path / "m.db") as store:
        names = [r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in names:
            assert table in explore.TABLES, f"describe table {table} in explore.TABLES"
            described = explore.TABLES[table][1]
            for _, column, *_ in store.db.execute(f"PRAGMA table_info({table})"):
                assert column in described, f"describe {table}.{column} in explore.TABLES"
        assert set(explore.TABLES) == set(names), "a described table the store does not make"


def test_metadata_names_the_database_and_holds_every_canned_query_that_runs(tmp_path):
    described = explore.metadata("monitor")
    queries = described["databases"]["monitor"]["queries"]
    assert set(queries) == set(explore.QUERIES)
    assert described["databases"]["monitor"]["tables"]["changes"]["columns"]["backfilled"].startswith("1 for")
    with Store(tmp_path / "monitor.db") as store:
        for name, query in queries.items():
            cursor = store.db.execute(query["sql"], {"url": "https://www.gov.uk/x", "date": "2024-01-01"})
            assert cursor.fetchall() == [], name


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
