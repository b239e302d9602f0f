"""Discovery from the GOV.UK Search API: the query, the answer, the 422 report, and the watch list."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FIXTURES, Request, Response
from run_support import SMHL, capture, open_store, write_config

from monitor import discover
from monitor.config import load
from monitor.discover import SearchResult
from monitor.fetch import Fetcher
from monitor.model import RunSummary
from monitor.pipeline import check_pages
from monitor.settings import Config, FetchSettings, SearchConfig

SEARCH_API = FIXTURES / "search_api"
SEND = SearchConfig(
    name="DfE SEND guidance",
    organisations=["department-for-education"],
    supergroup="guidance_and_regulation",
    query="special educational needs",
    max_pages=200,
)


def test_query_asks_for_newest_first_and_only_the_fields_used():
    url = discover.search_url("https://www.gov.uk/", SEND, start=100, count=50)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.gov.uk", "/api/search.json")
    assert parse_qs(parts.query) == {
        "count": ["50"],
        "start": ["100"],
        "order": ["-public_timestamp"],
        "filter_organisations": ["department-for-education"],
        "filter_content_purpose_supergroup": ["guidance_and_regulation"],
        "q": ["special educational needs"],
        "fields": ["link,title,public_timestamp,latest_change_note,format,content_store_document_type"],
    }


def test_query_leaves_out_what_the_search_does_not_set():
    plain = SearchConfig(name="all DfE", organisations=["department-for-education", "ofsted"])
    query = parse_qs(urlsplit(discover.search_url("https://www.gov.uk", plain, start=0, count=10)).query)
    assert query["filter_organisations"] == ["department-for-education", "ofsted"]
    assert "q" not in query and "filter_content_purpose_supergroup" not in query


def test_every_field_asked_for_is_a_search_api_field():
    text = (SEARCH_API / "field_definitions.json").read_text()
    for name in discover.FIELDS:
        assert f'"{name}":' in text


def test_reads_the_real_answer():
    results, total = discover.read_results(
        (SEARCH_API / "search-taxes-count-1.json").read_bytes(), "https://www.gov.uk"
    )
    assert total == 45118
    assert results == [
        SearchResult(
            url="https://www.gov.uk/vehicle-tax",
            title="Tax your vehicle",
            public_timestamp="2014-12-09T16:21:03+00:00",
            format="transaction",
        )
    ]


@pytest.mark.parametrize("body", [b"<html>Sorry</html>", b'{"results": "none"}', b"[]"])
def test_an_answer_of_another_shape_is_an_error(body):
    with pytest.raises(discover.SearchError):
        discover.read_results(body, "https://www.gov.uk")


def test_absolute_links_are_kept():
    body = json.dumps({"results": [{"link": "https://example.org/elsewhere", "title": "x"}], "total": 1})
    results, _ = discover.read_results(body.encode(), "https://www.gov.uk")
    assert results[0].url == "https://example.org/elsewhere"


# The messages are Search API's own (alphagov/search-api lib/parameter_parser).
REJECTIONS = [
    ('"content_purpose_supergroupx" is not a valid filter field', "filter_content_purpose_supergroupx"),
    ("Unexpected parameters: filter_organisation", "filter_organisation"),
    ('"published" is not a valid sort field', "order"),
    ('Invalid value "ten" for parameter "count" (expected positive integer)', "count"),
    ('Some requested fields are not valid return fields: ["change_note"]', "fields"),
    ("Something else entirely", None),
]


@pytest.mark.parametrize("message,parameter", REJECTIONS)
def test_422_names_the_parameter(message, parameter):
    assert discover.rejected_parameter(json.dumps({"error": message}).encode()) == parameter


def test_error_messages():
    body = json.dumps({"error": "Unexpected parameters: filter_organisation"}).encode()
    assert discover.error_message(422, body, "HTTP 422") == "GOV.UK rejected parameter filter_organisation"
    assert discover.error_message(422, b"", "HTTP 422") == "GOV.UK rejected the search (HTTP 422)"
    assert discover.error_message(503, b"", "HTTP 503 after 3 tries") == "GOV.UK answered HTTP 503"
    assert discover.error_message(None, b"", "connection refused") == "connection refused"


NOW = datetime(2026, 5, 11, 7, 0, tzinfo=UTC)
RESULT = SearchResult(url="https://www.gov.uk/x", public_timestamp="2026-05-01T09:00:00+00:00")
# stored timestamp, last checked, failures -> due?
DUE = [
    ("2026-05-01T09:00:00+00:00", "2026-05-10T07:00:00Z", 0, False),  # unmoved, checked yesterday
    ("2026-04-01T09:00:00+00:00", "2026-05-10T07:00:00Z", 0, True),  # timestamp moved
    (None, "2026-05-10T07:00:00Z", 0, True),  # never seen in a search
    ("2026-05-01T09:00:00+00:00", "2026-05-04T07:00:00Z", 0, True),  # unmoved, but a week old
    ("2026-05-01T09:00:00+00:00", "2026-05-04T07:00:01Z", 0, False),  # a second under a week
    ("2026-05-01T09:00:00+00:00", "2026-05-10T07:00:00Z", 1, True),  # last check failed
    ("2026-05-01T09:00:00+00:00", None, 0, True),  # never checked
]


@pytest.mark.parametrize("stored,last_checked,failures,expected", DUE)
def test_when_a_known_page_is_fetched(stored, last_checked, failures, expected):
    assert discover.due(stored, RESULT, last_checked, failures, NOW, recheck_days=7) is expected


# --------------------------------------------------------------------------- a fake Search API


def result(n: int, stamp: str = "2026-05-01T09:00:00+00:00") -> dict:
    return {
        "link": f"/guidance/send-{n}",
        "title": f"SEND guidance {n}",
        "public_timestamp": stamp,
        "latest_change_note": f"First published {n}.",
        "format": "detailed_guide",
        "content_store_document_type": "detailed_guide",
    }


class FakeSearchApi:
    """Pages through ``results`` as GOV.UK does: honours ``count`` and ``start``, and reports ``total``."""

    def __init__(self, results: list[dict]) -> None:
        self.results = results
        self.queries: list[dict[str, list[str]]] = []

    def __call__(self, request: Request) -> Response:
        query = parse_qs(urlsplit(request.path).query)
        self.queries.append(query)
        unknown = set(query) - {"count", "start", "order", "q", "fields"} - {"filter_organisations"}
        unknown -= {"filter_content_purpose_supergroup"}
        if unknown:
            body = {"error": f"Unexpected parameters: {', '.join(sorted(unknown))}"}
            return Response(422, json.dumps(body).encode(), {"Content-Type": "application/json"})
        start, count = int(query["start"][0]), int(query["count"][0])
        page = self.results[start : start + count]
        body = {
            "results": page,
            "total": len(self.results),
            "start": start,
            "facets": {},
            "suggested_queries": [],
        }
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def run_searches(config: Config, page_size: int) -> discover.Discovery:
    async def go() -> discover.Discovery:
        async with Fetcher(FetchSettings(rate_per_host=100, retries=1)) as fetcher:
            return await discover.search_all(fetcher, config, page_size=page_size)

    return asyncio.run(go())


def test_pages_through_the_results(page_server):
    api = FakeSearchApi([result(n) for n in range(7)])
    page_server.routes["/api/search.json"] = api
    config = Config(govuk_base_url=page_server.base_url, searches=[SEND])
    found = run_searches(config, page_size=3)
    assert [r.url for r in found.results] == [page_server.url(f"/guidance/send-{n}") for n in range(7)]
    assert [q["start"] for q in api.queries] == [["0"], ["3"], ["6"]]
    assert found.results[0].latest_change_note == "First published 0."
    assert found.errors == []


def test_stops_at_max_pages(page_server):
    api = FakeSearchApi([result(n) for n in range(7)])
    page_server.routes["/api/search.json"] = api
    few = SearchConfig(name="few", organisations=["department-for-education"], max_pages=4)
    found = run_searches(Config(govuk_base_url=page_server.base_url, searches=[few]), page_size=3)
    assert len(found.results) == 4
    assert [q["count"] for q in api.queries] == [["3"], ["1"]]


def test_a_rejected_search_is_reported_and_the_others_go_on(page_server):
    api = FakeSearchApi([result(1)])

    def no_supergroups(request: Request) -> Response:
        """GOV.UK as it would answer if it stopped knowing the supergroup filter."""
        if "filter_content_purpose_supergroup" in request.path:
            message = '"content_purpose_supergroup" is not a valid filter field'
            return Response(
                422, json.dumps({"error": message}).encode(), {"Content-Type": "application/json"}
            )
        return api(request)

    page_server.routes["/api/search.json"] = no_supergroups
    plain = SearchConfig(name="all DfE", organisations=["department-for-education"])
    found = run_searches(Config(govuk_base_url=page_server.base_url, searches=[SEND, plain]), page_size=10)
    assert found.errors == [
        ("search 'DfE SEND guidance'", "GOV.UK rejected parameter filter_content_purpose_supergroup")
    ]
    assert [r.url for r in found.results] == [page_server.url("/guidance/send-1")]


def test_a_failing_search_api_is_reported_with_its_status(page_server):
    page_server.routes["/api/search.json"] = Response(404, b"Not found")
    found = run_searches(Config(govuk_base_url=page_server.base_url, searches=[SEND]), page_size=10)
    assert found.errors == [("search 'DfE SEND guidance'", "GOV.UK answered HTTP 404")]


# --------------------------------------------------------------------------- through a whole run

SMHL_V1 = capture(SMHL, "2022-07-11")
SMHL_V2 = capture(SMHL, "2022-08-18")


def test_a_run_adds_found_pages_once_and_fetches_only_what_moved(tmp_path, page_server, monkeypatch):
    """Seven results over three pages of paging; the pages themselves are real captures."""
    monkeypatch.setattr(discover, "PAGE_SIZE", 3)
    api = FakeSearchApi([result(n) for n in range(7)])
    page_server.routes["/api/search.json"] = api
    for n in range(7):
        page_server.routes[f"/guidance/send-{n}"] = Response(body=SMHL_V1)
    config = load(write_config(tmp_path, page_server.base_url, []))
    config.searches = [SEND]
    url = [page_server.url(f"/guidance/send-{n}") for n in range(7)]

    def run(now: datetime) -> RunSummary:
        with open_store(tmp_path) as store:
            return check_pages(config, store, now=now)

    def fetched() -> list[int]:
        return [len(page_server.hits(f"/guidance/send-{n}")) for n in range(7)]

    today = datetime.now(UTC)
    first = run(today)
    assert first.checked == 7 and first.failures == []
    assert [q["start"] for q in api.queries] == [["0"], ["3"], ["6"]]
    assert fetched() == [1] * 7
    with open_store(tmp_path) as store:
        assert {p.url: p.source for p in store.pages()} == dict.fromkeys(url, "search")
        for n in range(7):
            [new] = store.changes(page_url=url[n], include_backfilled=False)
            assert (new.kind, new.note, new.effective_date) == ("new", f"First published {n}.", "2026-05-01")
            assert any(c.backfilled for c in store.changes(page_url=url[n]))  # its history, from day one
        assert len(store.undelivered("email")) == 7

    # The next day nothing has moved: the searches run, no page is fetched or added again.
    second = run(today + timedelta(days=1))
    assert second.checked == 0 and len(api.queries) == 6
    assert fetched() == [1] * 7

    # GOV.UK publishes a new version of one page: its timestamp moves, and only it is fetched.
    api.results[2] = result(2, stamp="2026-05-12T10:30:00+00:00")
    page_server.routes["/guidance/send-2"] = Response(body=SMHL_V2)
    third = run(today + timedelta(days=2))
    assert third.checked == 1 and fetched() == [1, 1, 2, 1, 1, 1, 1]
    with open_store(tmp_path) as store:
        assert [c.kind for c in store.changes(page_url=url[2], include_backfilled=False)] == ["major", "new"]
        assert [len(store.changes(page_url=u, include_backfilled=False)) for u in url] == [
            1,
            1,
            2,
            1,
            1,
            1,
            1,
        ]

    # A week after their last fetch, unmoved pages are fetched in full again, to catch silent edits;
    # the page fetched on day 2 waits for its own week.
    fourth = run(today + timedelta(days=7, hours=1))
    assert fourth.checked == 6 and fetched() == [2, 2, 2, 2, 2, 2, 2]
    fifth = run(today + timedelta(days=9, hours=1))
    assert fifth.checked == 1 and fetched() == [2, 2, 3, 2, 2, 2, 2]


def test_a_removed_page_is_not_brought_back_by_a_search(tmp_path, page_server):
    page_server.routes["/api/search.json"] = FakeSearchApi([result(0), result(1)])
    for n in range(2):
        page_server.routes[f"/guidance/send-{n}"] = Response(body=SMHL_V1)
    config = load(write_config(tmp_path, page_server.base_url, []))
    config.searches = [SEND]
    with open_store(tmp_path) as store:
        check_pages(config, store)
        store.set_active(page_server.url("/guidance/send-0"), False)
        summary = check_pages(config, store, now=datetime.now(UTC) + timedelta(days=8))
        assert summary.checked == 1
        assert not store.page(page_server.url("/guidance/send-0")).active
    assert len(page_server.hits("/guidance/send-0")) == 1


def test_a_failed_search_is_in_the_run_summary_and_the_pages_are_still_checked(tmp_path, page_server):
    page_server.routes["/api/search.json"] = Response(503, b"down")
    page_server.routes["/guidance/listed"] = Response(body=SMHL_V1)
    config = load(write_config(tmp_path, page_server.base_url, ["/guidance/listed"], retries=1))
    config.searches = [SEND]
    with open_store(tmp_path) as store:
        summary = check_pages(config, store)
    assert summary.checked == 1
    assert summary.failures == [("search 'DfE SEND guidance'", "GOV.UK answered HTTP 503")]
