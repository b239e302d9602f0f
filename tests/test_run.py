"""``guidance-monitor run`` end to end: real captures served from 127.0.0.1, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PageServer, Request, Response
from run_support import (
    ATTENDANCE,
    SEND,
    SEND_ADDITIONAL,
    SEND_TESTING,
    SMHL,
    capture,
    open_store,
    page_path,
    write_config,
)

from monitor.cli import main

SMHL_V1 = capture(SMHL, "2022-07-11")
SMHL_V2 = capture(SMHL, "2022-08-18")
SMHL_PATH = page_path(SMHL)


def run(config: Path, *args: str):
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-deliver", "--no-site", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def counts(tmp_path: Path, url: str) -> tuple[int, int]:
    """(snapshots, changes) stored for a page."""
    with open_store(tmp_path) as store:
        return len(store.snapshots(url)), len(store.changes(page_url=url))


# --------------------------------------------------------------------------- good runs


def test_a_worker_process_reads_a_body_as_this_process_does_and_says_why_it_cannot():
    """Reading hands bodies to a worker process past its first few: the same Document comes back, and a
    body no reader knows is the same ParseError."""
    import asyncio

    from monitor.model import ParseError
    from monitor.parse import parse
    from monitor.pipeline import Reading

    body, url = capture(SMHL, "2022-07-11"), "https://www.gov.uk/guidance/x"

    async def read() -> tuple:
        reading = Reading(in_process=0, workers=1)
        try:
            document = await reading.parse(body, url, "text/html", None)
            with pytest.raises(ParseError, match="no reader recognises"):
                await reading.parse(b"\x00\x01 not a page", url, "application/octet-stream", None)
            return document, reading.pool
        finally:
            reading.close()

    document, pool = asyncio.run(read())
    assert pool is not None, "the worker was not used"
    assert document.to_dict() == parse(body, url, "text/html").to_dict()


def test_a_first_run_that_reads_in_a_worker_records_what_one_that_reads_here_does(
    tmp_path, page_server, monkeypatch
):
    from monitor import pipeline

    versions = {SMHL: "2022-07-11", ATTENDANCE: "2022-05-06", SEND: "2022-02-24"}
    for folder, stamp in versions.items():
        page_server.routes[page_path(folder)] = Response(body=capture(folder, stamp))
    paths = [page_path(f) for f in versions]
    pools = []

    class Counted(pipeline.ProcessPoolExecutor):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", Counted)
    monkeypatch.setattr(pipeline, "_spare_cores", lambda: 1)
    stored = {}
    for name, here in (("here", 100), ("worker", 0)):
        monkeypatch.setattr(pipeline, "PARSE_HERE", here)
        work = tmp_path / name
        work.mkdir()
        result = run(write_config(work, page_server.base_url, paths))
        assert result.output.startswith("Checked 3 pages: 3 changed, 0 failed."), result.output
        with open_store(work) as store:
            stored[name] = {
                p: (
                    store.last_snapshot(page_server.url(p))[1].to_dict(),
                    len(store.changes(page_url=page_server.url(p))),
                )
                for p in paths
            }
    assert len(pools) == 1, "only the second run reads in a worker"
    assert stored["worker"] == stored["here"]


def test_a_watch_list_longer_than_the_checks_started_at_once_is_checked_whole_once(tmp_path, page_server):
    """Checks start a window at a time (8 a request the Fetcher lets out): 30 pages at concurrency 1
    cross it several times, and each is still asked for once and recorded once."""
    from monitor.pipeline import IN_FLIGHT_PER_REQUEST

    body = capture(SMHL, "2022-07-11")
    paths = [f"/guidance/page-{i:02d}" for i in range(30)]
    assert len(paths) > 3 * IN_FLIGHT_PER_REQUEST
    for path in paths:
        page_server.routes[path] = Response(body=body)
    config = write_config(tmp_path, page_server.base_url, paths, concurrency=1)
    result = run(config)
    assert result.output.startswith("Checked 30 pages: 30 changed, 0 failed."), result.output
    assert sorted(r.path for r in page_server.requests) == paths
    with open_store(tmp_path) as store:
        assert all(len(store.snapshots(page_server.url(p))) == 1 for p in paths)


def test_first_run_keeps_one_snapshot_per_page_and_a_second_run_nothing(tmp_path, page_server):
    versions = {SMHL: "2022-07-11", ATTENDANCE: "2022-05-06", SEND: "2022-02-24"}
    folders = list(versions)
    for folder, stamp in versions.items():
        page_server.routes[page_path(folder)] = Response(body=capture(folder, stamp))
    config = write_config(tmp_path, page_server.base_url, [page_path(f) for f in folders])

    first = run(config)
    assert first.exit_code == 0, first.output
    assert first.output.startswith("Checked 3 pages: 3 changed, 0 failed.")
    with open_store(tmp_path) as store:
        for folder in folders:
            url = page_server.url(page_path(folder))
            [snapshot] = store.snapshots(url)
            _, document = store.last_snapshot(url)
            changes = store.changes(page_url=url)
            assert [c.kind for c in changes if not c.backfilled] == ["new"]
            backfilled = [c for c in changes if c.backfilled]
            assert len(backfilled) == len(document.change_history) > 0
            assert {(c.effective_date, c.note) for c in backfilled} == {
                (e.date, e.note) for e in document.change_history
            }
            assert all(c.new_snapshot_id == snapshot["id"] for c in changes if not c.backfilled)
        assert [c.kind for c in store.undelivered("email")] == ["new"] * 3

    before = {f: counts(tmp_path, page_server.url(page_path(f))) for f in folders}
    second = run(config)
    assert second.exit_code == 0, second.output
    assert second.output.startswith("Checked 3 pages: 0 changed, 0 failed.")
    assert {f: counts(tmp_path, page_server.url(page_path(f))) for f in folders} == before


def test_a_new_version_is_one_major_change_with_gov_uk_s_note(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(body=SMHL_V2)]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0
    result = run(config)
    assert result.output.startswith("Checked 1 page: 1 changed, 0 failed."), result.output
    with open_store(tmp_path) as store:
        first, second = store.snapshots(url)
        [change] = store.changes(page_url=url, include_backfilled=False, limit=1)
    assert change.kind == "major"
    assert change.note.startswith("List of of DfE assured senior mental health lead training courses")
    assert change.effective_date == "2022-08-18"
    assert (change.old_snapshot_id, change.new_snapshot_id) == (first["id"], second["id"])
    assert len(change.changeset.history_added) == 3


def test_the_same_content_in_other_markup_is_no_change(tmp_path, page_server):
    page_server.routes[page_path(SEND)] = [
        Response(body=capture(SEND, "2021-09-27")),
        Response(body=capture(SEND, "2021-09-28")),
    ]
    config = write_config(tmp_path, page_server.base_url, [page_path(SEND)])
    run(config)
    result = run(config)
    assert result.output.startswith("Checked 1 page: 0 changed, 0 failed."), result.output
    with open_store(tmp_path) as store:
        url = page_server.url(page_path(SEND))
        assert len(store.snapshots(url)) == 1
        assert len(store.fetches(url)) == 2
        assert store.db.execute("SELECT count(*) FROM bodies").fetchone()[0] == 2


def test_etag_makes_the_second_run_a_conditional_request(tmp_path, page_server):
    def answer(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"smhl-1"':
            return Response(304, headers={"ETag": '"smhl-1"'})
        return Response(body=SMHL_V1, headers={"ETag": '"smhl-1"'})

    page_server.routes[SMHL_PATH] = answer
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0
    result = run(config)
    assert result.exit_code == 0 and "0 changed" in result.output
    first, second = page_server.hits(SMHL_PATH)
    assert "If-None-Match" not in first.headers
    assert second.headers["If-None-Match"] == '"smhl-1"'
    with open_store(tmp_path) as store:
        latest, earlier = store.fetches(url)
        assert latest["not_modified"] and latest["status"] == 304 and latest["bytes"] == 0
        assert earlier["bytes"] == len(SMHL_V1)
        assert len(store.snapshots(url)) == 1
        assert store.validators(url) == ('"smhl-1"', None)


# --------------------------------------------------------------------------- faults


def test_no_network_reports_every_page_as_failed_and_stores_nothing_false(tmp_path):
    closed = PageServer().start()
    base = closed.base_url
    closed.stop()
    config = write_config(tmp_path, base, [SMHL_PATH, page_path(ATTENDANCE)])
    result = run(config)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Checked 2 pages: 0 changed, 2 failed."
    assert sorted(lines[1:]) == [
        f"  failed: {base}{page_path(ATTENDANCE)}: connection refused (2 tries)",
        f"  failed: {base}{SMHL_PATH}: connection refused (2 tries)",
    ]
    with open_store(tmp_path) as store:
        assert store.db.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 0
        assert store.db.execute("SELECT count(*) FROM changes").fetchone()[0] == 0
        assert all(p.consecutive_failures == 1 for p in store.pages())
        assert [f["error"] for f in store.fetches(base + SMHL_PATH)] == ["connection refused (2 tries)"]


CHALLENGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<noscript>Enable JavaScript and cookies to continue</noscript>"
    b'<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"></script></body></html>'
)
NO_LAYOUT = (
    b"<!DOCTYPE html><html><head><title>GOV.UK</title></head><body><h1>Sorry, we're experiencing "
    b"technical difficulties</h1><p>Please try again in a few moments.</p></body></html>"
)

FAULTS = [
    # (case, what the server answers during the faulty run, the reason the fetch row must give)
    ("timeout", Response(body=SMHL_V2, delay=1.5), "timed out after 0.5 s"),
    ("500 then 200", Response(500, b"<h1>Internal Server Error</h1>"), "HTTP 500 after 2 tries"),
    (
        "429 with Retry-After",
        Response(429, b"Too Many Requests", {"Retry-After": "1"}),
        "HTTP 429",
    ),
    ("truncated body", Response(body=SMHL_V2, truncate=True), "truncated body"),
    ("empty 200", Response(body=b""), "empty body"),
    ("WAF challenge", Response(403, CHALLENGE, {"cf-mitigated": "challenge"}), "blocked by a challenge page"),
    ("layout gone", Response(body=NO_LAYOUT), "not readable as a page: not a GOV.UK page"),
    ("redirect loop", Response(301, headers={"Location": "/loop-b"}), "redirect loop at"),
    ("body over the size limit", Response(body=SMHL_V2 + b" " * 100_000), "body over 100000 bytes"),
]


@pytest.mark.parametrize(("fault", "reason"), [pytest.param(f, r, id=c) for c, f, r in FAULTS])
def test_a_faulty_answer_stores_nothing_and_the_next_good_one_diffs_against_the_last_good(
    tmp_path, page_server, fault, reason
):
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    page_server.routes["/loop-b"] = Response(301, headers={"Location": SMHL_PATH})
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH], timeout=0.5, max_bytes=100_000)
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0
    page_server.routes[SMHL_PATH] = fault
    faulty = run(config)
    assert faulty.exit_code == 1, faulty.output
    assert f"  failed: {url}: " in faulty.output and reason in faulty.output
    with open_store(tmp_path) as store:
        assert len(store.snapshots(url)) == 1
        assert len(store.changes(page_url=url, include_backfilled=False)) == 1
        assert reason in store.fetches(url, limit=1)[0]["error"]
        assert store.page(url).consecutive_failures == 1
        [good] = store.snapshots(url)

    page_server.routes[SMHL_PATH] = Response(body=SMHL_V2)
    assert run(config).exit_code == 0
    with open_store(tmp_path) as store:
        [change, _new] = store.changes(page_url=url, include_backfilled=False)
        assert change.kind == "major" and change.old_snapshot_id == good["id"]
        assert len(change.changeset.history_added) == 3
        assert store.page(url).consecutive_failures == 0


def test_connection_refused_then_the_site_comes_back(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0
    port = int(page_server.base_url.rsplit(":", 1)[1])
    page_server.stop()
    refused = run(config)
    assert refused.exit_code == 1 and f"failed: {url}: connection refused" in refused.output
    back = PageServer(port).start()
    try:
        back.routes[SMHL_PATH] = Response(body=SMHL_V2)
        assert run(config).exit_code == 0
    finally:
        back.stop()
    with open_store(tmp_path) as store:
        assert [f["error"] is None for f in store.fetches(url)] == [True, False, True]
        [change, _new] = store.changes(page_url=url, include_backfilled=False)
        assert change.kind == "major" and change.old_snapshot_id == store.snapshots(url)[0]["id"]


def test_a_retry_within_the_run_is_no_failure(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = [Response(503), Response(body=SMHL_V1)]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    assert run(config).exit_code == 0
    with open_store(tmp_path) as store:
        [fetch] = store.fetches(page_server.url(SMHL_PATH))
    assert fetch["attempts"] == 2 and fetch["error"] is None


def test_failures_mount_up_for_the_alert(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(body=b"")]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH], alert_after_failures=2)
    for _ in range(3):
        run(config)
    with open_store(tmp_path) as store:
        page = store.page(page_server.url(SMHL_PATH))
    assert page.consecutive_failures == 2 and page.last_error == "empty body"


# --------------------------------------------------------------------------- moved, removed, followed


def test_a_redirect_is_recorded_as_moved_once(tmp_path, page_server):
    old = "/government/publications/national-award-for-sen-co-ordination-learning-outcomes"
    page_server.routes[old] = Response(301, headers={"Location": SMHL_PATH})
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    page_server.routes["/guidance/newer"] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [old])
    url = page_server.url(old)
    run(config)
    run(config)
    with open_store(tmp_path) as store:
        assert [c.new_url for c in store.changes(page_url=url) if c.kind == "moved"] == [
            page_server.url(SMHL_PATH)
        ]
        assert store.page(url).current_url == page_server.url(SMHL_PATH)
    page_server.routes[old] = Response(301, headers={"Location": "/guidance/newer"})
    run(config)
    run(config)
    with open_store(tmp_path) as store:
        moves = [c.new_url for c in store.changes(page_url=url) if c.kind == "moved"]
    assert moves == [page_server.url("/guidance/newer"), page_server.url(SMHL_PATH)]


def test_a_redirect_answered_with_304_is_still_recorded_as_moved_once(tmp_path, page_server):
    """The old address's ETag travels with the redirect; the new address answers 304 to it."""
    old = "/government/publications/national-award-for-sen-co-ordination-learning-outcomes"

    def answer(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"smhl-1"':
            return Response(304, headers={"ETag": '"smhl-1"'})
        return Response(body=SMHL_V1, headers={"ETag": '"smhl-1"'})

    page_server.routes[old] = answer
    page_server.routes[SMHL_PATH] = answer
    config = write_config(tmp_path, page_server.base_url, [old])
    url = page_server.url(old)
    assert run(config).exit_code == 0
    page_server.routes[old] = Response(301, headers={"Location": SMHL_PATH})
    for _ in range(2):
        result = run(config)
        assert result.exit_code == 0, result.output
    assert [h.headers.get("If-None-Match") for h in page_server.hits(SMHL_PATH)] == ['"smhl-1"'] * 2
    with open_store(tmp_path) as store:
        moves = [c for c in store.changes(page_url=url) if c.kind == "moved"]
        assert [c.new_url for c in moves] == [page_server.url(SMHL_PATH)]
        assert moves[0].title == "Senior mental health lead training"
        assert store.page(url).current_url == page_server.url(SMHL_PATH)
        assert len(store.snapshots(url)) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_removed_page_is_recorded_once_and_keeps_its_history(tmp_path, page_server, status):
    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(status, b"<h1>Page not found</h1>")]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    url = page_server.url(SMHL_PATH)
    run(config)
    for _ in range(2):
        result = run(config)
        assert result.exit_code == 0, result.output
    with open_store(tmp_path) as store:
        kinds = [c.kind for c in store.changes(page_url=url, include_backfilled=False)]
        assert kinds == ["removed", "new"]
        assert store.page(url).gone and store.page(url).active
        assert len(store.snapshots(url)) == 1
    history = CliRunner().invoke(main, ["history", SMHL_PATH, "--config", str(config), "--format", "json"])
    data = json.loads(history.output)
    assert data["page"]["gone"] is True and len(data["snapshots"]) == 1
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    assert run(config).exit_code == 0
    with open_store(tmp_path) as store:
        [back, *_] = store.changes(page_url=url, include_backfilled=False)
        assert back.kind == "new" and "after being removed" in back.note
        assert not store.page(url).gone


def test_a_page_missing_from_the_start_is_a_failure_not_a_removal(tmp_path, page_server):
    config = write_config(tmp_path, page_server.base_url, ["/guidance/no-such-page"])
    result = run(config)
    assert result.exit_code == 1 and "HTTP 404" in result.output
    with open_store(tmp_path) as store:
        assert store.db.execute("SELECT count(*) FROM changes").fetchone()[0] == 0


def test_documents_of_a_publication_are_followed_in_the_same_run(tmp_path, page_server):
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2021-05-25"))
    page_server.routes[page_path(SEND_ADDITIONAL)] = Response(body=capture(SEND_ADDITIONAL, "2021-05-25"))
    page_server.routes[page_path(SEND_TESTING)] = Response(body=capture(SEND_TESTING, "2022-02-23"))
    config = write_config(
        tmp_path, page_server.base_url, [{"url": page_path(SEND), "follow_documents": True}]
    )
    result = run(config)
    assert result.output.startswith("Checked 3 pages: 3 changed, 0 failed."), result.output
    parent = page_server.url(page_path(SEND))
    with open_store(tmp_path) as store:
        documents = [p for p in store.pages() if p.source == "document"]
        assert sorted(p.url for p in documents) == sorted(
            [page_server.url(page_path(SEND_ADDITIONAL)), page_server.url(page_path(SEND_TESTING))]
        )
        assert all(p.parent_url == parent and p.title for p in documents)
        assert all(len(store.snapshots(p.url)) == 1 for p in documents)
    assert len(page_server.hits(page_path(SEND_TESTING))) == 1
    second = run(config)
    assert second.output.startswith("Checked 3 pages: 0 changed"), second.output
    assert len(page_server.hits(page_path(SEND_TESTING))) == 2


# --------------------------------------------------------------------------- sources


API_BODY = (Path(__file__).parent / "fixtures" / "content_api" / "detailed_guide.json").read_bytes()


def test_auto_reads_the_content_api_and_falls_back_to_html(tmp_path, page_server):
    api_path = "/api/content" + SMHL_PATH
    page_server.routes[api_path] = [
        Response(body=API_BODY, headers={"Content-Type": "application/json"}),
        Response(500, b"down"),
    ]
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH], source="auto", retries=1)
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0
    assert page_server.hits(SMHL_PATH) == []
    with open_store(tmp_path) as store:
        assert store.fetches(url)[0]["url"] == page_server.url(api_path)
    assert run(config).exit_code == 0
    assert len(page_server.hits(SMHL_PATH)) == 1
    with open_store(tmp_path) as store:
        assert store.fetches(url)[0]["url"] == url


SNOW = "/government/publications/temporary-snow-ploughs"
BUILT = Path(__file__).parent / "fixtures" / "html_built" / "publication-2025-gem-published-dates"


def test_switching_between_the_content_api_and_html_is_no_change(tmp_path, page_server):
    api = Response(body=BUILT.with_suffix(".json").read_bytes(), headers={"Content-Type": "application/json"})
    page_server.routes["/api/content" + SNOW] = [api, Response(503, b"down"), api]
    page_server.routes[SNOW] = Response(body=BUILT.with_suffix(".html").read_bytes())
    config = write_config(tmp_path, page_server.base_url, [SNOW], source="auto", retries=1)
    url = page_server.url(SNOW)
    outputs = [run(config).output for _ in range(3)]
    assert outputs[0].startswith("Checked 1 page: 1 changed")
    assert outputs[1:] == ["Checked 1 page: 0 changed, 0 failed.\n"] * 2
    with open_store(tmp_path) as store:
        api_url = page_server.url("/api/content" + SNOW)
        assert [f["url"] for f in store.fetches(url)] == [api_url, url, api_url]
        assert len(store.snapshots(url)) == 1
        assert len(store.changes(page_url=url, include_backfilled=False)) == 1


GUIDE = "/national-curriculum"
GUIDE_API = (Path(__file__).parent / "fixtures" / "content_api" / "guide.json").read_bytes()
GUIDE_PART_ONE = b"""<html><head><title>The national curriculum - GOV.UK</title></head><body><main>
<h1 class="gem-c-heading__text">The national curriculum</h1>
<div class="govspeak"><h2>Overview</h2><p>The national curriculum is a set of subjects.</p></div>
</main></body></html>"""


def test_an_api_failure_on_a_guide_is_no_change(tmp_path, page_server):
    """A guide's HTML page shows one part where the API gives all four: read as a fallback after the API
    failed, it must not be reported as three parts removed, nor their return as three added."""
    api = Response(body=GUIDE_API, headers={"Content-Type": "application/json"})
    page_server.routes["/api/content" + GUIDE] = [api, Response(503, b"down"), api]
    page_server.routes[GUIDE] = Response(body=GUIDE_PART_ONE)
    config = write_config(tmp_path, page_server.base_url, [GUIDE], source="auto", retries=1)
    outputs = [run(config).output for _ in range(3)]
    assert outputs[1:] == ["Checked 1 page: 0 changed, 0 failed.\n"] * 2
    url = page_server.url(GUIDE)
    assert len(page_server.hits(GUIDE)) == 1, "the second run read the HTML page"
    with open_store(tmp_path) as store:
        assert [c.kind for c in store.changes(page_url=url, include_backfilled=False)] == ["new"]
        assert len(store.snapshots(url)) == 1


def test_the_html_source_chosen_in_config_is_compared(tmp_path, page_server):
    """Only a fallback waits for the API: a user who switches to html gets real comparisons."""
    page_server.routes["/api/content" + GUIDE] = Response(
        body=GUIDE_API, headers={"Content-Type": "application/json"}
    )
    page_server.routes[GUIDE] = Response(body=GUIDE_PART_ONE)
    run(write_config(tmp_path, page_server.base_url, [GUIDE], source="auto"))
    result = run(write_config(tmp_path, page_server.base_url, [GUIDE], source="html"))
    assert result.output.startswith("Checked 1 page: 1 changed")


def test_api_source_reads_only_the_content_api(tmp_path, page_server):
    page_server.routes["/api/content" + SMHL_PATH] = Response(500, b"down")
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH], source="api", retries=1)
    result = run(config)
    assert result.exit_code == 1 and "HTTP 500" in result.output
    assert page_server.hits(SMHL_PATH) == []


# --------------------------------------------------------------------------- history and show


def test_history_and_show(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(body=SMHL_V2)]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    run(config)
    run(config)
    runner = CliRunner()
    text = runner.invoke(main, ["history", SMHL_PATH, "--config", str(config)])
    assert text.exit_code == 0
    assert "Senior mental health lead training" in text.output and "Snapshots (2)" in text.output
    data = json.loads(
        runner.invoke(main, ["history", SMHL_PATH, "--config", str(config), "--format", "json"]).output
    )
    assert [s["last_updated"] for s in data["snapshots"]] == ["2022-07-11", "2022-08-18"]
    major = next(c for c in data["changes"] if c["kind"] == "major" and not c["backfilled"])

    shown = json.loads(
        runner.invoke(main, ["show", str(major["id"]), "--config", str(config), "--format", "json"]).output
    )
    assert shown == major
    assert shown["changeset"]["changed"] is True and len(shown["changeset"]["history_added"]) == 3
    text = runner.invoke(main, ["show", str(major["id"]), "--config", str(config)])
    assert text.exit_code == 0 and "List of of DfE assured" in text.output

    missing = runner.invoke(main, ["show", "9999", "--config", str(config)])
    assert missing.exit_code == 2 and "no change #9999" in missing.output
    unknown = runner.invoke(main, ["history", "/guidance/unknown", "--config", str(config)])
    assert unknown.exit_code == 2 and "not a watched page" in unknown.output


# --------------------------------------------------------------------------- config and lock


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "pages:\n  - url: /guidance/x\n    folow_documents: true\n",
            "pages[0].folow_documents: unknown key",
        ),
        ("pages:\n  - url: /guidance/x\nfetch:\n  timeout: soon\n", "fetch.timeout: must be a number"),
        ("pages:\n  - name: Something\n", "pages[0].url: missing"),
    ],
)
def test_a_broken_config_is_one_line_naming_the_key(tmp_path, text, key):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, ["run", "--config", str(path)])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("guidance-monitor: config: ") and key in line
    assert not (tmp_path / "monitor.db").exists()


def test_a_second_run_while_one_holds_the_lock_exits_3(tmp_path, page_server):
    release = threading.Event()

    def held_open(request: Request) -> Response:
        release.wait(30)
        return Response(body=SMHL_V1)

    page_server.routes[SMHL_PATH] = held_open
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH], timeout=40)
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config), "--no-deliver", "--no-site"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        lock = Path(f"{tmp_path / 'monitor.db'}.lock")
        deadline = time.monotonic() + 15
        while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)
        assert second.returncode == 3
        message = f"another guidance-monitor run is in progress (lock {lock} held by pid {first.pid})"
        assert second.stderr.strip() == f"guidance-monitor: {message}"
    finally:
        release.set()
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err


def test_a_page_alternating_between_two_versions_is_reported_once(tmp_path, page_server):
    """A/B/A/B/A/C: B is news, the return to A is not, the second flip is reported once as flapping
    (naming both versions' snapshots), then quiet until C, a version not seen before."""
    edited = SMHL_V2.replace(b"are aligned with the principles", b"follow the principles")
    versions = {"A": SMHL_V1, "B": SMHL_V2, "C": edited}
    seen = "ABABAC"
    page_server.routes[SMHL_PATH] = [Response(body=versions[name]) for name in seen]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    url = page_server.url(SMHL_PATH)
    reported, known = [], set()
    for _ in seen:
        result = run(config)
        assert result.exit_code == 0, result.output
        with open_store(tmp_path) as store:
            found = store.changes(page_url=url, include_backfilled=False)
        reported.append(",".join(c.kind for c in found if c.id not in known) or "-")
        known |= {c.id for c in found}
    assert reported == ["new", "major", "-", "flapping", "-", "major"]  # C compared with A, the last
    with open_store(tmp_path) as store:
        snapshots = store.snapshots(url)
        [flapping] = [c for c in store.changes(page_url=url) if c.kind == "flapping"]
        assert [c.kind for c in store.undelivered("email")] == ["new", "major", "flapping", "major"]
    hashes = {s["id"]: s["document_hash"] for s in snapshots}
    assert len(snapshots) == 6 and len(set(hashes.values())) == 3
    assert hashes[flapping.old_snapshot_id] == hashes[snapshots[0]["id"]]  # A
    assert hashes[flapping.new_snapshot_id] == hashes[snapshots[1]["id"]]  # B
    assert flapping.note == "Alternating between two versions"


def test_a_run_waits_for_another_writer_and_says_so_in_one_line_past_the_timeout(
    tmp_path, page_server, monkeypatch
):
    from test_store import hold_write_lock, released_at

    from monitor.store import database as store_module

    page_server.routes[SMHL_PATH] = [Response(body=SMHL_V1), Response(body=SMHL_V2)]
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    database = tmp_path / "monitor.db"
    url = page_server.url(SMHL_PATH)
    assert run(config).exit_code == 0

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 300)
    holder = hold_write_lock(database, 3)
    locked = run(config)
    gave_up = time.time()
    assert gave_up < released_at(holder), "the run gave up while the other transaction still held the lock"
    assert locked.exit_code == 1
    assert "Traceback" not in locked.output
    [line] = locked.output.splitlines()  # one line, whatever else the run got to
    assert (
        line
        == f"guidance-monitor: database: {database} is locked by another process (waited 0.3 s to write); "
        + ("nothing was lost: the pages not recorded are checked again on the next run")
    )
    assert counts(tmp_path, url)[0] == 1

    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 10_000)
    holder = hold_write_lock(database, 1.5)
    waited = run(config)
    done = time.time()
    assert released_at(holder) <= done, "the run wrote only once the other transaction ended"
    assert waited.exit_code == 0 and waited.output.startswith("Checked 1 page: 1 changed, 0 failed."), (
        waited.output
    )
    with open_store(tmp_path) as store:
        assert [c.kind for c in store.changes(page_url=url, include_backfilled=False)] == ["major", "new"]
        assert store.integrity_check() == "ok"


def test_fetches_in_flight_carry_on_while_a_write_waits_for_the_database(tmp_path, page_server, monkeypatch):
    """The wait for another writer must not stall the run's fetches: each answer takes 0.3 s against a
    1 s fetch timeout while the first write waits 2 s for the lock; none of them may time out."""
    from test_store import hold_write_lock, released_at

    from monitor.store import database as store_module

    paths = [f"/guidance/page-{n}" for n in range(8)]
    for path in paths:
        page_server.routes[path] = [Response(body=SMHL_V1), Response(body=SMHL_V2, delay=0.3)]
    config = write_config(tmp_path, page_server.base_url, paths, timeout=1, retries=1, concurrency=4)
    assert run(config).exit_code == 0
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 10_000)
    holder = hold_write_lock(tmp_path / "monitor.db", 2)
    result = run(config)
    done = time.time()
    assert released_at(holder) <= done
    assert result.exit_code == 0 and result.output.startswith("Checked 8 pages: 8 changed, 0 failed."), (
        result.output
    )


# --------------------------------------------------------------------------- the pure rules


def test_a_withdrawal_notice_newly_present_is_a_withdrawn_change_with_the_notice():
    from dataclasses import replace

    from monitor.changes import changes_for
    from monitor.model import PageState
    from monitor.parse import parse

    url = "https://www.gov.uk" + SMHL_PATH
    old = parse(SMHL_V1, url, "text/html")
    notice = "This guidance was withdrawn on 1 September 2022: the training grant has closed."
    new = replace(old, withdrawn=notice, content_hash="")
    [change] = changes_for(PageState(url), (1, old), new, None, "2022-09-01T08:00:00Z")
    assert (change.kind, change.note, change.old_snapshot_id) == ("withdrawn", notice, 1)
    assert change.changeset.kind == "withdrawn"
    assert changes_for(PageState(url), (2, new), new, None, "2022-09-02T08:00:00Z") == []


def test_first_sight_backfills_history_oldest_first_and_dates_in_london():
    from monitor.changes import changes_for
    from monitor.model import PageState
    from monitor.parse import parse

    url = "https://www.gov.uk" + SMHL_PATH
    document = parse(SMHL_V1, url, "text/html")
    changes = changes_for(PageState(url), None, document, None, "2022-07-11T23:30:00Z")
    *backfilled, new = changes
    assert new.kind == "new" and new.note == "First seen" and new.effective_date == "2022-07-12"
    dates = [c.effective_date for c in backfilled]
    assert dates == sorted(dates) and all(c.backfilled and c.kind == "major" for c in backfilled)
    announced = changes_for(PageState(url), None, document, None, "2022-07-11T23:30:00Z", announced=True)
    assert [c.kind for c in announced if not c.backfilled] == []


@pytest.mark.parametrize(
    ("url", "kind", "followed"),
    [
        ("https://www.gov.uk/government/publications/school-attendance/framework", "html", True),
        ("https://www.gov.uk/government/publications/school-attendance/framework", "", True),
        ("https://www.gov.uk/media/5f/guidance.pdf", "", True),
        ("https://assets.publishing.service.gov.uk/media/5f/guidance.pdf", "pdf", True),
        ("https://assets.publishing.service.gov.uk/media/5f/figures.csv", "csv", False),
        ("https://example.org/media/5f/guidance.pdf", "pdf", False),
        ("https://www.gov.uk/government/publications/school-attendance", "html", False),
        ("https://www.gov.uk/government/publications/other-publication", "", False),
        ("https://www.gov.uk/media/5f/figures.csv", "csv", False),
    ],
)
def test_which_documents_are_followed(url, kind, followed):
    from monitor.pipeline import is_followed_document

    parent = "https://www.gov.uk/government/publications/school-attendance"
    assert is_followed_document(parent, url, kind) is followed


def test_the_asset_host_is_followed_only_from_govuk():
    from monitor.pipeline import is_followed_document

    pdf = "https://assets.publishing.service.gov.uk/media/5f/guidance.pdf"
    assert not is_followed_document("https://example.org/guidance/send", pdf, "pdf")
    assert not is_followed_document("http://127.0.0.1:8000/government/publications/x", pdf, "pdf")


def test_run_publishes_the_site(tmp_path, page_server):
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-deliver"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").exists()
    assert "Senior mental health lead training" in (tmp_path / "site" / "index.html").read_text()


def test_a_page_dropped_from_config_or_removed_is_no_longer_fetched(tmp_path, page_server):
    attendance_path = page_path(ATTENDANCE)
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    page_server.routes[attendance_path] = Response(body=capture(ATTENDANCE, "2022-05-06"))
    config = write_config(tmp_path, page_server.base_url, [SMHL_PATH, attendance_path])
    assert CliRunner().invoke(main, ["run", "--config", str(config), "--no-site"]).exit_code == 0

    write_config(tmp_path, page_server.base_url, [SMHL_PATH])
    removed = CliRunner().invoke(main, ["remove", "--config", str(config), SMHL_PATH])
    assert removed.exit_code == 0, removed.output
    before = len(page_server.requests)
    result = CliRunner().invoke(main, ["run", "--config", str(config), "--no-site"])
    assert result.exit_code == 0, result.output
    assert "Checked 0 pages" in result.output
    assert len(page_server.requests) == before
    with open_store(tmp_path) as store:
        assert len(store.changes(page_url=page_server.url(attendance_path))) > 0, "history is kept"


def test_a_run_writes_its_changes_in_the_order_of_its_input_whatever_order_the_answers_come_in(
    tmp_path, page_server
):
    """The first page of the watch list answers last, and a publication's first document after its
    second: the changes (and their ids) still follow the watch list (as the store lists it: by when each
    page was added, then its address), each publication's documents after it in the order it lists them,
    so the same captures always give the same ids."""
    from monitor.parse import parse

    send = capture(SEND, "2021-05-25")
    listed = [a.url for a in parse(send, page_server.url(page_path(SEND))).attachments]
    first, second = sorted(
        [SEND_ADDITIONAL, SEND_TESTING], key=lambda d: listed.index(page_server.url(page_path(d)))
    )
    bodies = {
        SEND_ADDITIONAL: capture(SEND_ADDITIONAL, "2021-05-25"),
        SEND_TESTING: capture(SEND_TESTING, "2022-02-23"),
    }
    page_server.routes[page_path(SEND)] = Response(body=send, delay=0.8)
    page_server.routes[page_path(first)] = Response(body=bodies[first], delay=0.4)
    page_server.routes[page_path(second)] = Response(body=bodies[second])
    page_server.routes[page_path(ATTENDANCE)] = Response(body=capture(ATTENDANCE, "2022-05-06"))
    page_server.routes[SMHL_PATH] = Response(body=SMHL_V1)
    pages = [SMHL_PATH, {"url": page_path(SEND), "follow_documents": True}, page_path(ATTENDANCE)]
    config = write_config(tmp_path, page_server.base_url, pages)
    result = run(config)
    assert result.output.startswith("Checked 5 pages: 5 changed, 0 failed."), result.output
    with open_store(tmp_path) as store:
        written = [c.page_url for c in sorted(store.changes(), key=lambda c: c.id or 0) if c.kind == "new"]
    expected = [SEND, first, second, ATTENDANCE, SMHL]  # the publications by address, then the guide
    assert written == [page_server.url(page_path(p)) for p in expected]
