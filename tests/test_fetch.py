"""The fetch stage against a real HTTP server on 127.0.0.1: every fault its own test."""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from email.utils import formatdate

import pytest
from conftest import FIXTURES, PageServer, Request, Response

from monitor.fetch import Fetcher, fetch_many
from monitor.govuk import api_url
from monitor.limits import AllowList, HostRate
from monitor.model import FetchRequest, FetchResult
from monitor.settings import FetchSettings

PAGE = (FIXTURES / "html_legacy" / "eu-exit-secondary-legislation-2019-04.html").read_bytes()


def settings(**overrides: object) -> FetchSettings:
    base = {"rate_per_host": 100.0, "concurrency": 4, "timeout": 2.0, "retries": 3, "user_agent": "gm-test/1"}
    return FetchSettings(**{**base, **overrides})  # type: ignore[arg-type]


def fetch(url: str, s: FetchSettings | None = None, **kwargs: str) -> FetchResult:
    async def run() -> FetchResult:
        async with Fetcher(s or settings()) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(run())


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- good answers


def test_good_page_fills_every_field(page_server: PageServer) -> None:
    page_server.routes["/guidance/x"] = Response(
        body=PAGE, headers={"ETag": '"v1"', "Last-Modified": "Wed, 03 Apr 2019 10:00:00 GMT"}
    )
    result = fetch(page_server.url("/guidance/x"))
    assert result.ok, result.error
    assert result.status == 200
    assert result.body == PAGE
    assert result.content_type.startswith("text/html")
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 03 Apr 2019 10:00:00 GMT"
    assert result.final_url == result.url and result.redirects == []
    assert result.attempts == 1
    assert result.fetched_at.endswith("Z") and result.fetched_at[:4].isdigit()
    assert 0 <= result.duration_ms < 2000


def test_duration_is_the_time_the_answer_took(page_server: PageServer) -> None:
    page_server.routes["/slow"] = Response(body=PAGE, delay=0.3)
    result = fetch(page_server.url("/slow"))
    assert result.ok and 300 <= result.duration_ms < 2000


def test_user_agent_and_accept_sent(page_server: PageServer) -> None:
    page_server.routes["/p"] = Response(body=PAGE)
    assert fetch(page_server.url("/p"), settings(user_agent="guidance-monitor (ops@example.org)")).ok
    assert fetch(page_server.url("/p"), accept="application/json").ok
    first, second = page_server.hits("/p")
    assert first.headers["User-Agent"] == "guidance-monitor (ops@example.org)"
    assert "text/html" in first.headers["Accept"]
    assert second.headers["Accept"] == "application/json"


def test_etag_sends_if_none_match_and_304_is_not_modified(page_server: PageServer) -> None:
    def answer(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"abc"':
            return Response(304, headers={"ETag": '"abc"'})
        return Response(body=PAGE, headers={"ETag": '"abc"'})

    page_server.routes["/p"] = answer
    first = fetch(page_server.url("/p"))
    assert first.ok and first.etag == '"abc"' and not first.not_modified
    second = fetch(page_server.url("/p"), etag=first.etag)
    assert second.ok and second.not_modified
    assert second.status == 304 and second.body == b"" and second.etag == '"abc"'
    assert "If-None-Match" not in page_server.requests[0].headers
    assert page_server.requests[1].headers["If-None-Match"] == '"abc"'


def test_last_modified_sends_if_modified_since(page_server: PageServer) -> None:
    stamp = formatdate(1_700_000_000, usegmt=True)

    def answer(request: Request) -> Response:
        if request.headers.get("If-Modified-Since") == stamp:
            return Response(304)
        return Response(body=PAGE, headers={"Last-Modified": stamp})

    page_server.routes["/p"] = answer
    first = fetch(page_server.url("/p"))
    assert first.last_modified == stamp
    second = fetch(page_server.url("/p"), last_modified=first.last_modified)
    assert second.not_modified and second.status == 304 and second.error is None
    assert second.last_modified == stamp, "a 304 keeps the validator that was sent"


def test_redirect_chain_recorded(page_server: PageServer) -> None:
    page_server.routes["/old"] = Response(301, headers={"Location": "/middle"})
    page_server.routes["/middle"] = Response(302, headers={"Location": page_server.url("/new")})
    page_server.routes["/new"] = Response(body=PAGE)
    result = fetch(page_server.url("/old"))
    assert result.ok and result.body == PAGE
    assert result.redirects == [page_server.url("/old"), page_server.url("/middle")]
    assert result.final_url == page_server.url("/new")
    assert result.status == 200


def test_a_cookie_set_on_a_redirect_goes_with_the_next_hop(page_server: PageServer) -> None:
    page_server.routes["/old"] = Response(302, headers={"Location": "/new", "Set-Cookie": "seen=1; Path=/"})
    page_server.routes["/new"] = Response(body=PAGE)
    assert fetch(page_server.url("/old")).ok
    assert "Cookie" not in page_server.hits("/old")[0].headers
    assert page_server.hits("/new")[0].headers["Cookie"] == "seen=1"


def test_a_gzipped_body_arrives_decoded(page_server: PageServer) -> None:
    page_server.routes["/p"] = Response(body=gzip.compress(PAGE), headers={"Content-Encoding": "gzip"})
    result = fetch(page_server.url("/p"))
    assert result.ok and result.body == PAGE
    assert "gzip" in page_server.hits("/p")[0].headers["Accept-Encoding"]


@pytest.mark.parametrize("status", [404, 410])
def test_gone_pages_keep_their_status(page_server: PageServer, status: int) -> None:
    page_server.routes["/gone"] = Response(status, b"<html><body>Gone</body></html>")
    result = fetch(page_server.url("/gone"))
    assert result.status == status
    assert result.error == f"HTTP {status}"
    assert result.body == b"" and result.attempts == 1


def test_fetch_many_keeps_order_and_sync_helper(page_server: PageServer) -> None:
    for i in range(6):
        page_server.routes[f"/p{i}"] = Response(body=PAGE + str(i).encode())
    requests = [FetchRequest(page_server.url(f"/p{i}")) for i in range(6)]
    results = fetch_many(settings(), requests)
    assert [r.url for r in results] == [r.url for r in requests]
    assert [r.body[-1:] for r in results] == [str(i).encode() for i in range(6)]


def test_api_url() -> None:
    assert api_url("https://www.gov.uk", "/guidance/x") == "https://www.gov.uk/api/content/guidance/x"
    assert api_url("https://www.gov.uk/", "https://www.gov.uk/guidance/x?y=1#z") == (
        "https://www.gov.uk/api/content/guidance/x"
    )
    assert api_url("http://127.0.0.1:8000", "government/publications/a") == (
        "http://127.0.0.1:8000/api/content/government/publications/a"
    )


# --------------------------------------------------------------------------- faults


def test_connection_refused() -> None:
    result = fetch(f"http://127.0.0.1:{closed_port()}/p", settings(retries=2))
    assert result.error == "connection refused (2 tries)"
    assert result.status is None and result.body == b"" and result.attempts == 2


def test_timeout(page_server: PageServer) -> None:
    page_server.routes["/slow"] = Response(body=PAGE, delay=1.0)
    started = time.monotonic()
    result = fetch(page_server.url("/slow"), settings(timeout=0.3, retries=1))
    assert result.error == "timed out after 0.3 s"
    assert result.body == b""
    assert time.monotonic() - started < 0.9


def test_500_then_200_is_retried(page_server: PageServer) -> None:
    page_server.routes["/flaky"] = [Response(500, b"oops"), Response(body=PAGE)]
    result = fetch(page_server.url("/flaky"))
    assert result.ok and result.body == PAGE
    assert result.attempts == 2 and len(page_server.hits("/flaky")) == 2


def test_500_every_time_gives_up_after_the_tries(page_server: PageServer) -> None:
    page_server.routes["/down"] = Response(503, b"down for maintenance")
    result = fetch(page_server.url("/down"), settings(retries=3))
    assert result.error == "HTTP 503 after 3 tries"
    assert result.status == 503 and result.attempts == 3 and len(page_server.hits("/down")) == 3


def test_429_honours_retry_after(page_server: PageServer) -> None:
    page_server.routes["/busy"] = [
        Response(429, b"slow down", headers={"Retry-After": "1"}),
        Response(body=PAGE),
    ]
    result = fetch(page_server.url("/busy"))
    assert result.ok and result.attempts == 2
    first, second = page_server.hits("/busy")
    assert 0.95 <= second.time - first.time < 1.6


def test_retry_after_as_http_date(page_server: PageServer) -> None:
    when = formatdate(time.time() + 2, usegmt=True)
    page_server.routes["/busy"] = [Response(503, b"busy", headers={"Retry-After": when}), Response(body=PAGE)]
    result = fetch(page_server.url("/busy"))
    assert result.ok and result.attempts == 2
    first, second = page_server.hits("/busy")
    assert 0.9 <= second.time - first.time < 2.6


def test_retry_after_beyond_the_budget_gives_up_at_once(page_server: PageServer) -> None:
    page_server.routes["/busy"] = Response(429, b"slow down", headers={"Retry-After": "3600"})
    started = time.monotonic()
    result = fetch(page_server.url("/busy"))
    assert result.error == "HTTP 429 (asked to retry after 3600 s)" and result.attempts == 1
    assert time.monotonic() - started < 1


def test_truncated_body(page_server: PageServer) -> None:
    page_server.routes["/cut"] = Response(body=PAGE, truncate=True)
    result = fetch(page_server.url("/cut"), settings(retries=1))
    assert result.error == f"truncated body: got {len(PAGE) // 2} of {len(PAGE)} bytes"
    assert result.body == b""


def test_a_connection_reset_mid_body_is_a_failed_fetch(page_server: PageServer) -> None:
    page_server.routes["/reset"] = Response(body=PAGE, reset=True)
    result = fetch(page_server.url("/reset"), settings(retries=1))
    assert result.error is not None and result.error.startswith("network error")
    assert result.body == b""


def test_a_body_slower_than_the_timeout_is_a_failed_fetch(page_server: PageServer) -> None:
    """Each piece comes well within the timeout; the whole body does not: the timeout is the attempt's."""
    page_server.routes["/slow"] = Response(body=PAGE, trickle=0.1)
    result = fetch(page_server.url("/slow"), settings(retries=1, timeout=0.5))
    assert result.error == "timed out after 0.5 s" and result.body == b""


def test_truncated_then_whole_is_retried(page_server: PageServer) -> None:
    page_server.routes["/cut"] = [Response(body=PAGE, truncate=True), Response(body=PAGE)]
    result = fetch(page_server.url("/cut"))
    assert result.ok and result.body == PAGE and result.attempts == 2


@pytest.mark.parametrize("body", [b"", b"  \n  "])
def test_empty_200(page_server: PageServer, body: bytes) -> None:
    page_server.routes["/empty"] = Response(body=body)
    result = fetch(page_server.url("/empty"))
    assert result.error == "empty body" and result.status == 200 and result.attempts == 1


CHALLENGES = [
    Response(
        403, b"<html><title>Access denied</title><body>Access denied | www.gov.uk used Cloudflare</body>"
    ),
    Response(503, b'<html><body><div id="cf-chl-widget"></div><script src="/cdn-cgi/x"></script></body>'),
    Response(429, b"<html><body><form><div class='g-recaptcha'>Please complete the CAPTCHA</div></form>"),
    Response(
        200, b'<html><script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script></html>'
    ),
    Response(403, b"<html>Just a moment...</html>", headers={"cf-mitigated": "challenge"}),
    Response(302, headers={"Location": "/users/sign-in?return_to=/guidance/x"}),
]


@pytest.mark.parametrize(
    "response", CHALLENGES, ids=["403-denied", "503-cf", "429-captcha", "200-cf", "header", "sign-in"]
)
def test_waf_or_login_challenge(page_server: PageServer, response: Response) -> None:
    page_server.routes["/guidance/x"] = response
    result = fetch(page_server.url("/guidance/x"))
    assert result.error == "blocked by a challenge page"
    assert result.body == b"" and result.attempts == 1


def test_plain_403_is_not_a_challenge(page_server: PageServer) -> None:
    page_server.routes["/x"] = Response(403, b"<html><body>Forbidden</body></html>")
    assert fetch(page_server.url("/x")).error == "HTTP 403"


def test_redirect_loop(page_server: PageServer) -> None:
    page_server.routes["/a"] = Response(301, headers={"Location": "/b"})
    page_server.routes["/b"] = Response(301, headers={"Location": "/a"})
    result = fetch(page_server.url("/a"))
    assert result.error == f"redirect loop at {page_server.url('/a')}"
    assert result.redirects == [page_server.url("/a"), page_server.url("/b")]
    assert len(page_server.requests) == 2


def test_too_many_redirects(page_server: PageServer) -> None:
    for i in range(15):
        page_server.routes[f"/r{i}"] = Response(302, headers={"Location": f"/r{i + 1}"})
    result = fetch(page_server.url("/r0"))
    assert result.error == "too many redirects (over 10)"
    assert len(page_server.requests) == 11


def test_body_over_the_size_limit(page_server: PageServer) -> None:
    page_server.routes["/big"] = Response(body=b"x" * 5000)
    result = fetch(page_server.url("/big"), settings(max_bytes=1000))
    assert result.error == "body over 1000 bytes"
    assert result.body == b"" and result.attempts == 1


def test_body_over_the_size_limit_without_content_length(page_server: PageServer) -> None:
    """A chunked body announces no size: the stream itself is cut off at the limit."""
    page_server.routes["/big"] = Response(body=b"y" * 50_000, chunked=True)
    page_server.routes["/small"] = Response(body=b"<html>" + b"y" * 500 + b"</html>", chunked=True)
    assert fetch(page_server.url("/big"), settings(max_bytes=1000)).error == "body over 1000 bytes"
    assert fetch(page_server.url("/small"), settings(max_bytes=1000)).ok


# --------------------------------------------------------------------------- politeness


def test_rate_limit_holds_per_host_on_a_fake_clock() -> None:
    """50 request starts at 5 a second: no one-second window holds more than 5, over about 10 s of a
    fake clock (the wait is the clock's, so the test takes no time)."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    rate = HostRate(5, clock=lambda: now[0], sleep=sleep)
    times: list[float] = []

    async def start() -> None:
        await rate.wait()
        times.append(now[0])

    async def run() -> None:
        await asyncio.gather(*(start() for _ in range(50)))

    asyncio.run(run())
    assert len(times) == 50
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 5
    assert busiest == 5
    assert 9.0 <= times[-1] - times[0] < 12.0


def test_rate_limit_holds_per_host(page_server: PageServer) -> None:
    """The limit is applied to real requests: 8 pages on one host at 5 a second, so the sixth waits for
    the first's second to pass. Counted at the server, where a busy machine can delay one arrival more
    than the next, so within 0.8 s rather than a whole second (unlimited, all 8 arrive at once); the
    fake-clock test above holds the exact rule."""
    for i in range(8):
        page_server.routes[f"/p{i}"] = Response(body=PAGE[:2000])
    requests = [FetchRequest(page_server.url(f"/p{i}")) for i in range(8)]
    results = fetch_many(settings(rate_per_host=5, concurrency=10), requests)
    assert all(r.ok for r in results)
    times = sorted(r.time for r in page_server.requests)
    assert len(times) == 8
    assert max(sum(1 for t in times if start <= t < start + 0.8) for start in times) <= 5
    assert 0.8 <= times[-1] - times[0] < 3.0


def test_concurrency_limit(page_server: PageServer) -> None:
    """12 slow pages, 3 at a time: never more than 3 arrive together, and they do overlap."""
    for i in range(12):
        page_server.routes[f"/c{i}"] = Response(body=b"<html>ok</html>", delay=0.2)
    results = fetch_many(
        settings(concurrency=3), [FetchRequest(page_server.url(f"/c{i}")) for i in range(12)]
    )
    assert all(r.ok for r in results)
    times = sorted(r.time for r in page_server.requests)
    assert max(sum(1 for t in times if start <= t < start + 0.15) for start in times) == 3
    assert 0.75 <= times[-1] - times[0] + 0.2 < 2.0


@pytest.mark.parametrize(
    "response",
    [
        Response(body=PAGE),
        Response(304, headers={"ETag": '"v1"'}),
        Response(301, b"<html>Moved</html>", headers={"Location": "/elsewhere"}),
    ],
    ids=["200", "304", "redirect"],
)
def test_one_connection_is_kept_alive_for_the_run(page_server: PageServer, response: Response) -> None:
    """HTTP/1.1 keep-alive: ten requests one after another share one connection, whatever the answer."""
    page_server.routes["/p"] = response
    page_server.routes["/elsewhere"] = Response(body=PAGE)
    accepted = []
    accept = page_server._server.get_request

    def counting() -> tuple[socket.socket, object]:
        accepted.append(time.monotonic())
        return accept()

    page_server._server.get_request = counting  # type: ignore[method-assign]
    results = fetch_many(settings(concurrency=1), [FetchRequest(page_server.url("/p"), etag='"v1"')] * 10)
    assert all(r.ok for r in results)
    assert len(accepted) == 1


# --------------------------------------------------------------------------- 304 without validators


def test_a_304_to_a_request_without_validators_is_asked_again_past_the_cache(page_server: PageServer) -> None:
    """A cache answering a conditional request the monitor never sent: asked again with no-cache."""

    def answer(request: Request) -> Response:
        if request.headers.get("Cache-Control") == "no-cache":
            return Response(body=PAGE)
        return Response(304, headers={"ETag": '"stale"'})

    page_server.routes["/p"] = answer
    result = fetch(page_server.url("/p"))
    assert result.ok and result.body == PAGE and not result.not_modified and result.attempts == 2
    first, second = page_server.hits("/p")
    assert "Cache-Control" not in first.headers and second.headers["Cache-Control"] == "no-cache"


def test_a_304_again_without_validators_is_a_failed_fetch(page_server: PageServer) -> None:
    page_server.routes["/p"] = Response(304)
    result = fetch(page_server.url("/p"))
    assert result.error is not None and result.error.startswith("unexpected 304")
    assert not result.not_modified and result.body == b"" and len(page_server.hits("/p")) == 2


# --------------------------------------------------------------------------- the allow-list


@pytest.fixture
def elsewhere() -> PageServer:
    """A second server on 127.0.0.1, on a port of its own: not on the allow-list, whether it is reached
    as ``localhost`` (another host) or as ``127.0.0.1`` (the allowed host, on another port)."""
    server = PageServer().start()
    server.routes["/secret"] = Response(body=b"<html><body><main>secret</main></body></html>")
    yield server
    server.stop()


ELSEWHERE = pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["other-host", "other-port"])


def at(server: PageServer, host: str, path: str) -> str:
    return f"http://{host}:{server.base_url.rsplit(':', 1)[1]}{path}"


def allow_listed(page_server: PageServer, listed: list[str] | None = None) -> Fetcher:
    return Fetcher(settings(), allowed_hosts=AllowList.of(page_server.base_url, listed or []))


def fetch_with(fetcher: Fetcher, url: str) -> FetchResult:
    async def run() -> FetchResult:
        async with fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(run())


@ELSEWHERE
def test_a_redirect_off_govuk_is_not_followed(
    page_server: PageServer, elsewhere: PageServer, host: str
) -> None:
    secret = at(elsewhere, host, "/secret")
    page_server.routes["/government/publications/x/doc.pdf"] = Response(302, headers={"Location": secret})
    url = page_server.url("/government/publications/x/doc.pdf")
    result = fetch_with(allow_listed(page_server), url)
    assert result.error == f"moved off GOV.UK to {secret}"
    assert result.redirects == [url] and result.final_url == secret and result.body == b""
    assert elsewhere.requests == []


def test_a_redirect_from_a_listed_page_elsewhere_names_the_host(
    page_server: PageServer, elsewhere: PageServer
) -> None:
    """A page the user listed on another site may not lead further than the hosts listed either."""
    elsewhere.routes["/page"] = Response(
        301, headers={"Location": page_server.url("/x").replace("127.0.0.1", "127.0.0.2")}
    )
    listed = at(elsewhere, "localhost", "/page")
    result = fetch_with(allow_listed(page_server, [listed]), listed)
    assert result.error == "redirected to a host that is not watched: " + page_server.url("/x").replace(
        "127.0.0.1", "127.0.0.2"
    )
    assert len(elsewhere.hits("/page")) == 1 and page_server.requests == []


def test_a_listed_page_may_not_lead_to_another_port_of_its_host(page_server: PageServer) -> None:
    """The page server is GOV.UK here; a listed page on a third server (``localhost``) redirects to
    itself on the page server's port: the same host, another origin, never asked."""
    listed_server = PageServer().start()
    try:
        listed = at(listed_server, "localhost", "/page")
        moved = at(page_server, "localhost", "/x")
        listed_server.routes["/page"] = Response(301, headers={"Location": moved})
        result = fetch_with(allow_listed(page_server, [listed]), listed)
    finally:
        listed_server.stop()
    assert result.error == f"redirected to a host that is not watched: {moved}"
    assert page_server.requests == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [("localhost", "localhost is not a watched host"), ("127.0.0.1", "{origin} is not a watched origin")],
    ids=["other-host", "other-port"],
)
def test_an_address_off_the_list_is_not_fetched(
    page_server: PageServer, elsewhere: PageServer, host: str, reason: str
) -> None:
    result = fetch_with(allow_listed(page_server), at(elsewhere, host, "/secret"))
    assert result.error == "not fetched: " + reason.format(origin=elsewhere.base_url)
    assert result.attempts == 1 and elsewhere.requests == []


def test_redirects_within_the_list_are_followed(page_server: PageServer) -> None:
    page_server.routes["/old"] = Response(301, headers={"Location": "/new"})
    page_server.routes["/new"] = Response(body=PAGE)
    result = fetch_with(allow_listed(page_server), page_server.url("/old"))
    assert result.ok and result.redirects == [page_server.url("/old")]


@ELSEWHERE
def test_a_followed_document_that_redirects_off_govuk_is_recorded_not_fetched(
    tmp_path, page_server: PageServer, elsewhere: PageServer, host: str
) -> None:
    """The whole run: a publication's document redirecting to another origin is a failed fetch whose
    reason says where it went; nothing is requested there, stored or published."""
    from run_support import SEND, SEND_ADDITIONAL, SEND_TESTING, capture, open_store, page_path, write_config

    from monitor.config import load
    from monitor.pipeline import check_pages

    secret = at(elsewhere, host, "/secret")
    page_server.routes[page_path(SEND)] = Response(body=capture(SEND, "2021-05-25"))
    page_server.routes[page_path(SEND_ADDITIONAL)] = Response(body=capture(SEND_ADDITIONAL, "2021-05-25"))
    page_server.routes[page_path(SEND_TESTING)] = Response(302, headers={"Location": secret})
    config = load(
        write_config(tmp_path, page_server.base_url, [{"url": page_path(SEND), "follow_documents": True}])
    )
    with open_store(tmp_path) as store:
        summary = check_pages(config, store)
        document = page_server.url(page_path(SEND_TESTING))
        assert summary.failures == [(document, f"moved off GOV.UK to {secret}")]
        assert store.snapshots(document) == []
        assert store.fetches(document)[0]["error"] == f"moved off GOV.UK to {secret}"
    assert elsewhere.requests == []


# --------------------------------------------------------------------------- answers that are not the page


def _faults() -> list[tuple[str, Response, str]]:
    from test_quality import (
        BUILT,
        LEGACY,
        challenge,
        cut_in_main,
        invalid_utf8,
        not_found,
        technical_difficulties,
    )

    return [
        # (case, what the server answers, how the reason the gate gives begins)
        ("half page 200", Response(body=cut_in_main(LEGACY)), "incomplete page: <main> is never closed"),
        ("GOV.UK error page 200", Response(body=technical_difficulties(BUILT)), "GOV.UK error page"),
        ("not-found page 200", Response(body=not_found(LEGACY)), "GOV.UK error page"),
        ("checking your browser 200", Response(body=challenge(BUILT)), "blocked by a challenge page"),
        ("invalid UTF-8", Response(body=invalid_utf8(LEGACY)), "not valid UTF-8"),
        ("304 on the first fetch", Response(304), "unexpected 304"),
        ("500", Response(500, b"<h1>Internal Server Error</h1>"), "HTTP 500 after 3 tries"),
        ("truncated", Response(body=LEGACY, truncate=True), "truncated body"),
        ("empty 200", Response(body=b""), "empty body"),
        ("vendor challenge 403", CHALLENGES[0], "blocked by a challenge page"),
        ("sign-in redirect", CHALLENGES[-1], "blocked by a challenge page"),
        (
            "gzip bomb",
            Response(body=gzip.compress(b" " * 3_000_000), headers={"Content-Encoding": "gzip"}),
            "body over 1000000 bytes",
        ),
    ]


@pytest.mark.parametrize(
    ("response", "reason"), [pytest.param(r, why, id=case) for case, r, why in _faults()]
)
def test_an_answer_that_is_not_the_page_is_a_failed_fetch(
    page_server: PageServer, response: Response, reason: str
) -> None:
    """Served over a real socket, fetched and put through the pipeline's gate: never a page to read."""
    from monitor.answers import quality_gate

    page_server.routes["/guidance/x"] = response
    result = fetch(page_server.url("/guidance/x"), settings(max_bytes=1_000_000))
    got = quality_gate(result)
    assert got is not None and got.startswith(reason), got


def test_a_whole_page_passes_the_gate(page_server: PageServer) -> None:
    from monitor.answers import quality_gate

    page_server.routes["/guidance/x"] = Response(
        body=gzip.compress(PAGE), headers={"Content-Encoding": "gzip"}
    )
    assert quality_gate(fetch(page_server.url("/guidance/x"))) is None


# --------------------------------------------------------------------------- https and proxies


@pytest.fixture
def tls_server(tmp_path):
    """A real HTTPS server on 127.0.0.1 with a certificate made for this test (openssl), and its path."""
    import http.server
    import shutil
    import ssl
    import subprocess
    import threading

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (.ci/run installs it)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_https_certificates_are_verified_and_ssl_cert_file_is_trusted(tls_server, monkeypatch) -> None:
    base, cert = tls_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    refused = fetch(f"{base}/guidance/x", settings(retries=1))
    assert not refused.ok and "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # a company's own certificate authority, say
    trusted = fetch(f"{base}/guidance/x", settings(retries=1))
    assert trusted.ok, trusted.error
    assert trusted.body == PAGE and trusted.status == 200


def test_a_proxy_named_in_the_environment_carries_the_requests(page_server: PageServer, monkeypatch) -> None:
    """HTTP_PROXY is honoured as httpx documents it: the request goes to the proxy with the whole address."""
    page_server.routes["http://www.gov.uk/guidance/x"] = Response(body=PAGE)
    monkeypatch.setenv("HTTP_PROXY", page_server.url(""))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    result = fetch("http://www.gov.uk/guidance/x")
    assert result.ok, result.error
    assert result.body == PAGE
    assert [r.path for r in page_server.requests] == ["http://www.gov.uk/guidance/x"]
