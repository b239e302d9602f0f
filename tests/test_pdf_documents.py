"""A PDF a watched publication lists is followed, read page by page and told under the publication."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from conftest import PageServer, Response
from run_support import FIXTURES, SEND, capture, page_path, write_config
from test_parse import make_pdf

from monitor import config as config_module
from monitor import pipeline, render
from monitor.diff import diff
from monitor.parse import parse
from monitor.store import Store

ASSETS = b"https://assets.publishing.service.gov.uk"
TESTING = "mass-asymptomatic-testing-in-specialist-settings"
PDF_PATH = (
    "/government/uploads/system/uploads/attachment_data/file/963546/"
    "Special_and_AP_covid_guidance_-_additional_operational_guidance.pdf"
)
PAGES = [f"Page {n} of the additional operational guidance." for n in range(1, 7)]


def test_a_listed_pdf_is_read_page_by_page_and_its_changed_pages_are_named(
    tmp_path: Path, page_server: PageServer
) -> None:
    # The real publication of 22 February 2021, its PDF served from the same test server.
    publication = capture(SEND, "2021-02-22").replace(ASSETS, b"")
    page_server.routes[page_path(SEND)] = Response(200, publication)
    testing = FIXTURES / "publication_documents" / f"2021-02-22T1711_c1f659fc79_{TESTING}.html"
    page_server.routes[f"{page_path(SEND)}/{TESTING}"] = Response(200, testing.read_bytes())
    pdf = Response(200, make_pdf(PAGES), headers={"Content-Type": "application/pdf"})
    page_server.routes[PDF_PATH] = pdf
    file = write_config(tmp_path, page_server.base_url, [{"url": page_path(SEND), "follow_documents": True}])
    config = config_module.load(file)
    with Store(config.database) as store:
        first = pipeline.run(
            config, store, now=datetime(2021, 2, 22, 18, tzinfo=UTC), deliver=False, site=False
        )
        assert not first.failures, first.failures
        document = store.page(page_server.url(PDF_PATH))
        assert document is not None and document.parent_url == page_server.url(page_path(SEND))
        edited = [
            *PAGES[:2],
            PAGES[2] + " Schools must now test twice weekly.",
            "Page 4 was rewritten.",
            *PAGES[4:],
        ]
        page_server.routes[PDF_PATH] = Response(
            200, make_pdf(edited), headers={"Content-Type": "application/pdf"}
        )
        second = pipeline.run(
            config, store, now=datetime(2021, 2, 23, 9, tzinfo=UTC), deliver=False, site=False
        )
        assert not second.failures, second.failures
        [change] = [c for c in second.changes if not c.backfilled]
        assert change.page_url == page_server.url(PDF_PATH) and change.kind == "minor"
        assert [s.heading for s in change.changeset.sections] == ["Page 3", "Page 4"]
        subject, text, html = render.digest(second.changes, store.pages(active_only=False), since=None)
    # The publication's history did not move: a silent edit of the PDF, said plainly, pages named.
    assert subject.endswith("changed without a change note")
    flat = " ".join(text.split())
    assert "Pages 3 to 4 changed:" in flat and "[+Schools must now test twice weekly.+]" in flat
    assert "Pages 3 to 4 changed:" in html


def test_a_listed_pdf_replaced_by_a_longer_one_gives_its_page_counts_before_and_after() -> None:
    """The page lists the PDF as "PDF, 19.5 KB, 7 pages"; replaced by a longer file it lists "24.1 KB, 9
    pages": the attachment change carries both counts (and the ``diff`` JSON gives them)."""
    built = FIXTURES / "html_built" / "publication-2025-gem-published-dates.html"
    body = built.read_bytes()
    shown = b'attribute">19.5 KB</span>, <span class="gem-c-attachment__attribute">7 pages</span>'
    assert body.count(shown) == 1
    longer = body.replace(shown, shown.replace(b"19.5 KB", b"24.1 KB").replace(b"7 pages", b"9 pages"))
    url = "https://www.gov.uk/government/publications/temporary-snow-ploughs"
    [change] = diff(parse(body, url), parse(longer, url)).attachments
    assert (change.old_page_count, change.page_count) == (7, 9)
    assert (change.kind, change.old_size, change.size) == ("pdf", 19968, 24678)
    assert {"page_count": 9, "old_page_count": 7}.items() <= change.to_dict().items()
    only_pages = body.replace(shown, shown.replace(b"7 pages", b"8 pages"))
    [change] = diff(parse(body, url), parse(only_pages, url)).attachments
    assert (change.old_page_count, change.page_count, change.size) == (7, 8, 19968)
