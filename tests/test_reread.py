"""A body byte for byte the one the last snapshot was read from is not parsed again, and nothing else is.

Real captures served from 127.0.0.1 with no validators (as GOV.UK serves its pages), so every run
downloads every page; the parse stage is wrapped to count its calls.
"""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from conftest import Response
from run_support import SMHL, capture, open_store, page_path, record, record_unchanged, write_config

from monitor import answers
from monitor.cli import main
from monitor.model import FetchResult
from monitor.parse import parse
from monitor.store import Store, body_hash

V1 = capture(SMHL, "2022-07-11")
PATH = page_path(SMHL)


def one_byte_more(body: bytes) -> bytes:
    """The page with one letter added to the first paragraph of its guidance, where a reader sees it."""
    spot = body.find(b"</p>", body.find(b"govspeak"))
    changed = body[:spot] + b"s" + body[spot:]
    url = "https://www.gov.uk" + PATH
    assert parse(changed, url, "text/html").content_hash != parse(body, url, "text/html").content_hash
    return changed


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The URLs the run parsed, in order."""
    calls: list[str] = []

    def counting(body, url, content_type="", *, selector=None):
        calls.append(url)
        return parse(body, url, content_type, selector=selector)

    monkeypatch.setattr(answers, "parse", counting)
    return calls


def run(config) -> str:
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-deliver", "--no-site"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_body_is_not_parsed_again_and_a_one_byte_change_is(tmp_path, page_server, parses):
    page_server.routes[PATH] = Response(body=V1)
    config = write_config(tmp_path, page_server.base_url, [PATH])
    url = page_server.url(PATH)
    run(config)
    assert parses == [url]
    with open_store(tmp_path) as store:
        key = store.last_read(url)
        assert key
        first_state = store.page(url)

    assert run(config) == ""  # nothing changed: nothing said
    assert parses == [url], "the byte-identical body was parsed again"
    assert len(page_server.hits(PATH)) == 2
    with open_store(tmp_path) as store:
        [snapshot] = store.snapshots(url)
        newest, first = store.fetches(url)
        assert newest["body_hash"] == first["body_hash"] == snapshot["body_hash"] == body_hash(V1)
        assert newest["bytes"] == len(V1) and newest["status"] == 200 and not newest["not_modified"]
        assert store.last_read(url) == key
        state = store.page(url)
        assert state.last_checked >= first_state.last_checked
        assert dataclasses.replace(state, last_checked=None) == dataclasses.replace(
            first_state, last_checked=None
        )
        changes = len(store.changes(page_url=url))

    page_server.routes[PATH] = Response(body=one_byte_more(V1))
    assert run(config).startswith("Checked 1 page: 1 changed, 0 failed.")
    assert parses == [url, url]
    with open_store(tmp_path) as store:
        assert len(store.snapshots(url)) == 2
        [change] = store.changes(page_url=url, include_backfilled=False, limit=1)
        assert change.kind == "minor" and len(store.changes(page_url=url)) == changes + 1
        assert store.last_read(url) not in (None, key)


def test_a_body_read_another_way_is_read_again_and_is_no_change(tmp_path, page_server, parses, monkeypatch):
    """A new reader, another selector or content type may read the same bytes differently."""
    page_server.routes[PATH] = Response(body=V1)
    config = write_config(tmp_path, page_server.base_url, [PATH])
    url = page_server.url(PATH)
    run(config)
    monkeypatch.setattr(answers, "reader_fingerprint", lambda: "a reader fixed in place")
    assert run(config) == ""  # nothing changed: nothing said
    assert len(parses) == 2
    page_server.routes[PATH] = Response(body=V1, headers={"Content-Type": "text/html; charset=windows-1252"})
    run(config)
    assert len(parses) == 3
    run(config)
    assert len(parses) == 3
    with open_store(tmp_path) as store:
        assert len(store.snapshots(url)) == 1
        assert len(store.fetches(url)) == 4


def test_a_page_that_follows_its_documents_is_always_read(tmp_path, page_server, parses):
    page_server.routes[PATH] = Response(body=V1)
    config = write_config(tmp_path, page_server.base_url, [{"url": PATH, "follow_documents": True}])
    run(config)
    run(config)
    assert parses.count(page_server.url(PATH)) == 2


@pytest.mark.parametrize("answer", ["the same body", "304"])
def test_record_unchanged_keeps_what_record_keeps(tmp_path, answer):
    """The short path leaves the page row and fetch row as a full record of the same answer would."""
    url = "https://www.gov.uk" + PATH
    document = parse(V1, url, "text/html")
    first = FetchResult(url, url, 200, V1, "text/html", etag='"a"', fetched_at="2024-01-01T07:00:00Z")
    again = dataclasses.replace(
        first, etag=None, last_modified="Mon, 01 Jan 2024", fetched_at="2024-01-02T07:00Z"
    )
    if answer == "304":
        again = dataclasses.replace(again, status=304, body=b"", not_modified=True)
    rows = []
    for short in (False, True):
        with Store(tmp_path / f"{short}.db") as store:
            record(store, url, first, document, V1, [], read_key="k")
            store.db.execute("UPDATE pages SET consecutive_failures = 3, last_error = 'x', current_url = 'y'")
            if short:
                record_unchanged(store, url, again, body_hash=None if again.not_modified else body_hash(V1))
            elif again.not_modified:
                record(store, url, again, None, None, [])
            else:
                record(store, url, again, document, V1, [], read_key="k")
            rows.append((store.page(url), store.validators(url), store.last_read(url), store.fetches(url)))
    full, short = rows
    assert short[:3] == full[:3]
    assert short[3] == full[3] and len(short[3]) == 2


def test_a_reader_improved_since_the_last_snapshot_reports_only_what_changed_on_the_page(
    tmp_path, page_server, monkeypatch
):
    """The last snapshot is read again with the new reader, so the reader's own improvement is no change."""
    page_server.routes[PATH] = Response(body=V1)
    config = write_config(tmp_path, page_server.base_url, [PATH])
    url = page_server.url(PATH)
    run(config)

    def improved(body, url, content_type="", *, selector=None):
        document = parse(body, url, content_type, selector=selector)
        return dataclasses.replace(document, title=document.title + " (read better)", content_hash="")

    monkeypatch.setattr(answers, "parse", improved)
    monkeypatch.setattr(answers, "reader_fingerprint", lambda: "an improved reader")
    page_server.routes[PATH] = Response(body=one_byte_more(V1))
    assert run(config).startswith("Checked 1 page: 1 changed, 0 failed.")
    with open_store(tmp_path) as store:
        [change] = store.changes(page_url=url, include_backfilled=False, limit=1)
        assert change.kind == "minor"
        assert change.changeset.metadata == [], "the reader's new title is not news"
        assert [s.status for s in change.changeset.sections] == ["modified"]
    page_server.routes[PATH] = Response(body=one_byte_more(V1))
    assert run(config) == ""  # nothing changed: nothing said
