"""The quality gate on real GOV.UK pages and on answers that are not the page: one row a case.

The error, not-found and challenge pages are built from real pages' layouts (a 2018 GOV.UK page and the
2025 layout) with their content swapped for what GOV.UK's error templates (alphagov/static) put there, so
each case is recognised by the layout's structure in two eras, not by one page's text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import FIXTURES

from monitor import quality
from monitor.model import FetchResult
from monitor.quality import check, refusal

LEGACY = (FIXTURES / "html_legacy" / "immigration-statistics-2018-10.html").read_bytes()
BUILT = (FIXTURES / "html_built" / "publication-2025-gem-published-dates.html").read_bytes()
MAIN_ONLY = next(
    (FIXTURES / "html_timeline" / "guidance~senior-mental-health-lead-training").glob("*/*.html")
)
MAIN_2026 = (FIXTURES / "html_built" / "publication-2026-gem-metadata-history.html").read_bytes()
API = (FIXTURES / "content_api" / "detailed_guide.json").read_bytes()
HTML = "text/html; charset=utf-8"
JSON = "application/json"


def swapped(page: bytes, title: str, main: str, body_class: str | None = None) -> bytes:
    """``page`` with its title and ``<main>`` replaced (and its body's class, when given)."""
    page = re.sub(rb"<title>.*?</title>", f"<title>{title}</title>".encode(), page, count=1, flags=re.S)
    page = re.sub(rb"<main.*?</main>", main.encode(), page, count=1, flags=re.S)
    if body_class is not None:
        page = re.sub(rb"<body[^>]*>", f'<body class="{body_class}">'.encode(), page, count=1)
    return page


def not_found(page: bytes) -> bytes:
    return swapped(
        page,
        "Page not found - GOV.UK",
        '<main id="content" role="main" class="govuk-main-wrapper govuk-main-wrapper--l">'
        '<h1 class="gem-c-title__text govuk-heading-l">Page not found</h1>'
        '<p class="govuk-body">If you entered a web address, check it is correct.</p>'
        "<pre>Status code: 404</pre></main>"
        "<script>window.httpStatusCode = '404';</script>",
        "govuk-template__body mainstream error",
    )


def technical_difficulties(page: bytes) -> bytes:
    return swapped(
        page,
        "Sorry, we are experiencing technical difficulties (500 error) - GOV.UK",
        '<main id="content" role="main" class="group"><h1>Sorry, we are experiencing technical '
        "difficulties</h1><p>Please try again in a few moments.</p></main>",
        "mainstream error",
    )


def error_by_title_only(page: bytes) -> bytes:
    """No status line, no error class: the title alone, in GOV.UK's "<heading> - GOV.UK" form."""
    return swapped(
        page,
        "Sorry, we&#39;re experiencing technical difficulties - GOV.UK",
        "<main><h1>Sorry, we're experiencing technical difficulties</h1></main>",
    )


def challenge(page: bytes) -> bytes:
    return swapped(
        page,
        "Just a moment...",
        '<main id="content" class="govuk-main-wrapper"><h1 class="govuk-heading-l">Checking your browser '
        "before accessing www.gov.uk</h1><p>This process is automatic.</p></main>",
    )


def cut_in_main(page: bytes) -> bytes:
    """The first half of the page, as a CDN serving a partial object with valid framing sends it."""
    middle = (page.index(b"<main") + page.index(b"</main>")) // 2
    return page[:middle]


def without_footer(page: bytes) -> bytes:
    """Cut after the content, and closed again: only the footer tells it is not whole."""
    return page[: page.index(b"</main>") + len(b"</main>")] + b"</div></body></html>"


def cut_in_footer(page: bytes) -> bytes:
    return page[: page.index(b"<footer") + 200]


def invalid_utf8(page: bytes) -> bytes:
    spot = page.index(b"</p>", page.index(b"<main"))
    return page[:spot] + b" caf\xe9 \xff" + page[spot:]


CASES = [
    # (case, body, content type, the reason's start, or None for a page to read)
    ("2018 page", LEGACY, HTML, None),
    ("2025 layout", BUILT, HTML, None),
    ("main only, 2021 capture", MAIN_ONLY.read_bytes(), HTML, None),
    ("main only, no html element", MAIN_2026, HTML, None),
    ("Content API JSON", API, JSON, None),
    (
        "error words inside a real page",
        invalid_utf8(LEGACY).replace(b" caf\xe9 \xff", b" Page not found"),
        HTML,
        None,
    ),
    (
        "an API guide showing a status line",
        invalid_utf8(BUILT).replace(b" caf\xe9 \xff", b"<pre>Status code: 404</pre>"),
        HTML,
        None,
    ),
    ("another site leaving out </html>, as HTML allows", b"<html><body><main>Text</main>", HTML, None),
    ("no layout at all: left to the reader", b"<html><body><h1>Sorry</h1></body></html>", HTML, None),
    ("half page, 2018", cut_in_main(LEGACY), HTML, "incomplete page: <main> is never closed"),
    ("half page, 2025", cut_in_main(BUILT), HTML, "incomplete page: <main> is never closed"),
    ("half of a main-only page", cut_in_main(MAIN_ONLY.read_bytes()), HTML, "incomplete page: <main>"),
    ("footer missing, 2018", without_footer(LEGACY), HTML, "incomplete page: GOV.UK's footer is missing"),
    ("footer missing, 2025", without_footer(BUILT), HTML, "incomplete page: GOV.UK's footer is missing"),
    ("cut in the footer", cut_in_footer(LEGACY), HTML, "incomplete page: the document ends before </html>"),
    ("half of the API JSON", API[: len(API) // 2], JSON, "incomplete JSON: "),
    (
        "not found, 2018",
        not_found(LEGACY),
        HTML,
        'GOV.UK error page instead of the page ("Page not found", status 404)',
    ),
    (
        "not found, 2025",
        not_found(BUILT),
        HTML,
        'GOV.UK error page instead of the page ("Page not found", status 404)',
    ),
    (
        "technical difficulties, 2018",
        technical_difficulties(LEGACY),
        HTML,
        "GOV.UK error page instead of the page",
    ),
    (
        "technical difficulties, 2025",
        technical_difficulties(BUILT),
        HTML,
        "GOV.UK error page instead of the page",
    ),
    ("error named by its title", error_by_title_only(BUILT), HTML, "GOV.UK error page instead of the page"),
    ("checking your browser, 2018", challenge(LEGACY), HTML, "blocked by a challenge page"),
    ("checking your browser, 2025", challenge(BUILT), HTML, "blocked by a challenge page"),
    ("invalid UTF-8, declared by the server", invalid_utf8(LEGACY), HTML, "not valid UTF-8 (byte "),
    ("invalid UTF-8, declared by meta", invalid_utf8(BUILT), "text/html", "not valid UTF-8 (byte "),
    ("the same bytes declared windows-1252", invalid_utf8(BUILT), "text/html; charset=windows-1252", None),
    ("a spreadsheet in its own encoding", b"name,caf\xe9\n", "text/csv; charset=utf-8", None),
    ("a PDF", b"%PDF-1.4\n\xff", "application/pdf", None),
    ("invalid UTF-8 in a mirror's text", b"Guidance caf\xe9", "text/plain; charset=utf-8", "not valid UTF-8"),
    ("invalid UTF-8 in JSON", API.replace(b'"title"', b'"t\xffitle"', 1), JSON, "not valid UTF-8"),
]


@pytest.mark.parametrize(("body", "content_type", "reason"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_quality_gate(body: bytes, content_type: str, reason: str | None) -> None:
    got = refusal(body, content_type)
    if reason is None:
        assert got is None
    else:
        assert got is not None and got.startswith(reason), got


def test_every_whole_fixture_page_passes() -> None:
    """Every real page in the fixtures, whole or main-only, in every era, is read, not refused."""
    pages = [*FIXTURES.glob("html_*/*.html"), *FIXTURES.glob("html_timeline/*/*/*.html")]
    assert len(pages) > 20
    for path in pages:
        assert refusal(path.read_bytes(), HTML) is None, path.name
    for path in FIXTURES.glob("content_api/**/*.json"):
        assert refusal(path.read_bytes(), JSON) is None, path.name


@pytest.mark.parametrize(
    ("fetch", "reason"),
    [
        (FetchResult("u", "u", status=503, error="HTTP 503 after 3 tries"), "HTTP 503 after 3 tries"),
        (FetchResult("u", "u", status=304, not_modified=True), None),
        (FetchResult("u", "u", status=200, body=b" \n "), "empty body"),
        (FetchResult("u", "u", status=200, body=LEGACY, content_type=HTML), None),
        (FetchResult("u", "u", status=200, body=not_found(LEGACY), content_type=HTML), "GOV.UK error page"),
    ],
    ids=["fetch error kept", "not modified", "empty", "page", "error page"],
)
def test_check_takes_the_fetchers_verdict_first(fetch: FetchResult, reason: str | None) -> None:
    got = check(fetch)
    assert (got is None) if reason is None else (got is not None and got.startswith(reason))


# --------------------------------------------------------------------------- whole runs: never a change


def _run(tmp_path, base_url: str, path: str):
    from run_support import open_store, write_config

    from monitor.config import load
    from monitor.pipeline import check_pages

    config = load(write_config(tmp_path, base_url, [path]))
    with open_store(tmp_path) as store:
        return check_pages(config, store)


RUN_FAULTS = [
    ("half page", cut_in_main(LEGACY), "incomplete page"),
    ("GOV.UK error page", technical_difficulties(LEGACY), "GOV.UK error page"),
    ("not-found page", not_found(LEGACY), "GOV.UK error page"),
    ("checking your browser", challenge(LEGACY), "blocked by a challenge page"),
    ("invalid UTF-8", invalid_utf8(LEGACY), "not valid UTF-8"),
]


@pytest.mark.parametrize(("fault", "reason"), [pytest.param(f, r, id=c) for c, f, r in RUN_FAULTS])
def test_an_answer_that_is_not_the_page_is_no_change_in_a_run(tmp_path, page_server, fault, reason) -> None:
    """Good, not the page, good again: one snapshot, one change ("new"), the failure recorded, and no
    false change either way (before the gate, each was a change and then a second one back)."""
    from conftest import Response
    from run_support import open_store

    path = "/government/statistics/immigration-statistics-october-to-december-2018"
    url = page_server.url(path)
    page_server.routes[path] = Response(body=LEGACY)
    assert _run(tmp_path, page_server.base_url, path).changed == 1
    page_server.routes[path] = Response(body=fault)
    faulty = _run(tmp_path, page_server.base_url, path)
    assert faulty.changed == 0 and [why[: len(reason)] for _, why in faulty.failures] == [reason]
    page_server.routes[path] = Response(body=LEGACY)
    again = _run(tmp_path, page_server.base_url, path)
    assert again.changed == 0 and again.failures == []
    with open_store(tmp_path) as store:
        assert len(store.snapshots(url)) == 1
        assert [c.kind for c in store.changes(page_url=url, include_backfilled=False)] == ["new"]
        assert store.fetches(url)[1]["error"].startswith(reason)


def test_a_304_on_the_first_fetch_is_a_failure_and_the_page_is_read_next_time(tmp_path, page_server) -> None:
    """A cache answering 304 to the first request (the monitor sent no validators) used to leave the page
    with no snapshot and no error, never to be read."""
    from conftest import Response
    from run_support import open_store

    path = "/government/statistics/immigration-statistics-october-to-december-2018"
    page_server.routes[path] = Response(304)
    first = _run(tmp_path, page_server.base_url, path)
    assert [why for _, why in first.failures][0].startswith("unexpected 304")
    assert page_server.hits(path)[-1].headers["Cache-Control"] == "no-cache"
    page_server.routes[path] = Response(body=LEGACY)
    assert _run(tmp_path, page_server.base_url, path).changed == 1
    with open_store(tmp_path) as store:
        assert len(store.snapshots(page_server.url(path))) == 1


def test_each_body_is_gated_and_hashed_once_and_a_body_read_before_is_not_gated_again(
    tmp_path, page_server, monkeypatch
) -> None:
    """Served without validators, a page comes back whole on every run. The first run gates its body once
    and hashes it once (the store keeps it under the hash the run worked out); a later run that gets the
    very bytes the page was read from knows them by their hash and does not judge them again. A refused
    body is hashed once too."""
    import hashlib

    from conftest import Response
    from run_support import open_store

    gated: list[bytes] = []
    hashed: list[bytes] = []
    real_check, real_sha256 = quality.check, hashlib.sha256

    def counting_check(fetch: FetchResult) -> str | None:
        gated.append(fetch.body)
        return real_check(fetch)

    def counting_sha256(data: bytes = b"", **kwargs: bool) -> Any:
        hashed.append(bytes(data))
        return real_sha256(data, **kwargs)

    monkeypatch.setattr(quality, "check", counting_check)
    monkeypatch.setattr(hashlib, "sha256", counting_sha256)
    path = "/government/statistics/immigration-statistics-october-to-december-2018"
    page_server.routes[path] = Response(body=LEGACY)
    assert _run(tmp_path, page_server.base_url, path).changed == 1
    assert gated.count(LEGACY) == 1 and hashed.count(LEGACY) == 1
    assert _run(tmp_path, page_server.base_url, path).failures == []
    assert gated.count(LEGACY) == 1 and hashed.count(LEGACY) == 2
    refused = not_found(LEGACY)
    page_server.routes[path] = Response(body=refused)
    failures = _run(tmp_path, page_server.base_url, path).failures
    assert [why[:17] for _, why in failures] == ["GOV.UK error page"]
    assert gated.count(refused) == 1 and hashed.count(refused) == 1
    with open_store(tmp_path) as store:
        kept = [row["body_hash"] for row in store.fetches(page_server.url(path))]  # newest first
    assert kept == [real_sha256(refused).hexdigest()] + [real_sha256(LEGACY).hexdigest()] * 2
