"""The parse stage: every page fixture reads into the Document GOV.UK shows, and nothing else does.

One row per page in parse_cases.yaml; the tests below it cover what a table cannot: equal Documents from
HTML and JSON, markup noise that must not move the hash, chrome, refusals, the other readers and the CLI.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import FIXTURES, Response

from monitor.model import ParseError
from monitor.parse import JSON_KEYS, describe, parse, to_json, to_text
from monitor.readers import REGISTRY
from monitor.readers.common import absolute_url, display_date, displayed_size, size_bytes, timestamp_date

CASES = yaml.safe_load((Path(__file__).parent / "parse_cases.yaml").read_text(encoding="utf-8"))
PAGE_PATTERNS = (
    "html_timeline/*/*/*.html",
    "html_legacy/*.html",
    "html_built/*.html",
    "html_built/*.json",
    "content_api/**/*.json",
)
SEED = "seed-govwire-mandatory-qualification-for-sencos.txt"
BUILT = "html_built/publication-2025-gem-published-dates"
SNOW_URL = "https://www.gov.uk/government/publications/temporary-snow-ploughs"
SEND_PAGE = "guidance-for-full-opening-special-schools-and-other-specialist-settings"
SEND = f"html_timeline/government~publications~{SEND_PAGE}"


def send_capture(folder: str) -> str:
    return f"{SEND}/{folder}/{SEND_PAGE}.html"


def read(relative: str, url: str = "https://www.gov.uk/page") -> object:
    return parse((FIXTURES / relative).read_bytes(), url)


def test_every_page_fixture_has_a_case() -> None:
    pages = {str(p.relative_to(FIXTURES)) for pattern in PAGE_PATTERNS for p in FIXTURES.glob(pattern)}
    assert pages | {SEED} == {
        case["file"] for case in CASES if not case["file"].startswith("content_schemas/")
    }


@pytest.mark.parametrize("case", CASES, ids=["/".join(case["file"].split("/")[-2:])[-70:] for case in CASES])
def test_fixture_reads_as_expected(case: dict) -> None:
    doc = read(case["file"], case.get("url", "https://www.gov.uk/page"))
    for key in ("title", "page_type", "organisations", "published", "last_updated"):
        assert getattr(doc, key) == case[key], key
    for key in ("people", "metadata"):
        assert getattr(doc, key) == case.get(key, type(getattr(doc, key))()), key
    assert len(doc.change_history) == case["history_count"]
    if case["history_count"]:
        first, last = doc.change_history[0], doc.change_history[-1]
        assert {"date": first.date, "note": first.note} == case["first_entry"]
        assert {"date": last.date, "note": last.note} == case["last_entry"]
    headings = [section.heading for section in doc.sections]
    if "sections" in case:
        assert headings == case["sections"]
    else:
        assert len(headings) == case["section_count"]
        assert headings[: len(case["sections_start"])] == case["sections_start"]
    assert [attachment.title for attachment in doc.attachments] == case["attachments"]
    assert (doc.sections or case.get("sections") == []) and all(section.heading for section in doc.sections)
    assert re.fullmatch(r"[0-9a-f]{64}", doc.content_hash)


def test_history_is_newest_first_with_iso_dates() -> None:
    for case in CASES:
        entries = read(case["file"], case.get("url", "https://www.gov.uk/page")).change_history
        dates = [entry.date for entry in entries if entry.date]
        assert dates == sorted(dates, reverse=True), case["file"]
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) for date in dates)
        assert all(entry.note == " ".join(entry.note.split()) and entry.note for entry in entries)


# --------------------------------------------------------------------------- the seed (mirrored text)


def test_senco_seed_text() -> None:
    doc = read(SEED)
    assert (doc.title, doc.published, doc.last_updated) == (
        "Mandatory qualification for SENCOs",
        "2023-07-05",
        "2024-02-02",
    )
    assert [entry.date for entry in doc.change_history] == ["2024-02-02", None, None, None, "2023-07-05"]
    assert doc.change_history[-1].note == "First published."
    assert doc.change_history[3].note.startswith("Added information about NASENCO for the 2023 to 2024")
    [details] = doc.sections
    assert details.heading == "Details"
    assert details.text.startswith("Special educational needs co-ordinators (SENCOs) lead")
    assert details.text.endswith("requirements that SENCOs must meet.")
    for chrome in ("Published", "Related Articles", "Comments", "Twitter", "GovWire"):
        assert chrome not in details.text


# --------------------------------------------------------------------------- sources agree, noise does not


def test_html_and_content_api_give_equal_documents() -> None:
    html = read(BUILT + ".html", SNOW_URL)
    api = read(
        BUILT + ".json", "https://www.gov.uk/api/content/government/publications/temporary-snow-ploughs"
    )
    assert html.visible() == api.visible()
    assert html.content_hash == api.content_hash
    assert api.attachments[0].size == html.attachments[0].size == 19968  # 20000 bytes shows as "19.5 KB"


def test_captures_differing_only_in_attribute_order_hash_the_same() -> None:
    first = read(send_capture("2021-09-27T1054_3fba4654fe"))
    second = read(send_capture("2021-09-28T0759_93a7388d39"))
    assert first.content_hash == second.content_hash
    assert first.to_dict() == second.to_dict()


def test_whitespace_entities_and_ids_do_not_reach_the_document() -> None:
    body = (FIXTURES / (BUILT + ".html")).read_bytes()
    noisy = body.replace(b"\n", b"\n\n    ").replace(b"vehicle&#8217;s", "vehicle\u2019s".encode())
    noisy = re.sub(rb' id="[^"]*"', b"", noisy).replace(b'class="govspeak"', b'class="govspeak" data-x="1"')
    assert parse(noisy, SNOW_URL).content_hash == parse(body, SNOW_URL).content_hash


def test_main_alone_reads_like_the_whole_page() -> None:
    body = (FIXTURES / (BUILT + ".html")).read_text(encoding="utf-8")
    main = body[body.index("<main") : body.index("</main>") + len("</main>")]
    assert parse(main.encode(), SNOW_URL).to_dict() == parse(body.encode(), SNOW_URL).to_dict()


def test_a_visible_change_moves_the_hash() -> None:
    body = (FIXTURES / (BUILT + ".html")).read_bytes()
    changed = body.replace(b"7.5 tonnes", b"8 tonnes")
    assert parse(changed, SNOW_URL).content_hash != parse(body, SNOW_URL).content_hash


# --------------------------------------------------------------------------- what a section holds


def test_chrome_never_enters_a_section() -> None:
    doc = read(BUILT + ".html", SNOW_URL)
    text = "\n".join(f"{section.heading}\n{section.text}" for section in doc.sections)
    for chrome in (
        "Cookies",
        "Skip to main content",
        "Home",
        "Get emails about this page",
        "Is this page useful?",
        "Explore the topic",
        "Updates to this page",
        "show all updates",
        "Documents",
        "Support links",
        "Department for Transport information asset register",
        "Guidance",
        "How highway authorities should fit",
    ):
        assert chrome not in text, chrome
    assert [(s.heading, s.level) for s in doc.sections] == [
        ("Details", 2),
        ("Fitting a plough", 2),
        ("Weights", 3),
    ]


def test_lists_and_tables_stay_readable() -> None:
    doc = read(BUILT + ".html", SNOW_URL)
    assert doc.sections[0].text == "This guidance applies to highway authorities in England."
    assert doc.sections[1].text == (
        "Check the vehicle\u2019s front axle weight before fitting:\n1. the axle limit\n2. the plough weight"
    )
    assert doc.sections[2].text == "Vehicle | Limit\nGritter | 7.5 tonnes"


def test_real_pages_leave_out_contents_lists_and_related_links() -> None:
    for case in CASES:
        if case["file"].endswith(".html"):
            doc = read(case["file"])
            headings = {section.heading for section in doc.sections}
            assert not headings & {"Contents", "Explore the topic", "Documents", "Applies to England"}
            assert all(
                "Print this page" not in s.text and "Get emails about" not in s.text for s in doc.sections
            )


def test_text_before_the_first_heading_is_kept_under_the_title() -> None:
    doc = read("html_legacy/eu-exit-secondary-legislation-2019-04.html")
    assert (doc.sections[0].heading, doc.sections[0].level) == (doc.title, 1)
    assert doc.sections[0].text.startswith("Please note that this list is meant as a guide only")


# --------------------------------------------------------------------------- attachments and other fields


def test_attachments_are_absolute_untracked_and_sized_in_bytes() -> None:
    doc = read(BUILT + ".html", SNOW_URL)
    pdf, csv, html = doc.attachments
    assert pdf.url == (
        "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/"
        "file/259634/temporary-snow-ploughs.pdf"
    )
    assert (pdf.kind, pdf.size, csv.kind, html.kind, html.size) == ("pdf", 19968, "csv", "html", None)
    assert html.url == SNOW_URL + "/fitting-temporary-snow-ploughs"
    send = read(send_capture("2021-02-04T0900_d820ded4a4"))
    assert (send.attachments[0].kind, send.attachments[0].size) == ("pdf", 367 * 1024)
    assert send.attachments[1].url.startswith("https://www.gov.uk/government/publications/")


def test_newest_markup_fields() -> None:
    doc = read("html_built/publication-2026-gem-metadata-history.html")
    assert doc.withdrawn == "This survey has been replaced by the 2006 survey."
    assert doc.summary == "Polling results from the first wave of the attitudes survey."
    assert [a.kind for a in doc.attachments] == ["txt", "ods", "external"]
    assert [a.size for a in doc.attachments] == [106 * 1024, 19968, None]
    assert doc.page_type == "publication"


def test_html_publication_points_to_its_publication() -> None:
    case = next(c for c in CASES if "rapid-asymptomatic" in c["file"])
    doc = read(case["file"], case["url"])
    assert doc.parent_url == case["url"].rsplit("/", 1)[0]
    api = read("content_api/fractions_and_unnumbered_headings.json")
    assert api.parent_url == (
        "https://www.gov.uk/government/publications/national-curriculum-in-england-mathematics-programmes-of-study"
    )


def test_content_api_details() -> None:
    older = read("content_api/best-practice-research.json")
    assert len(older.attachments) == 6 and all(
        a.url.startswith("https://www.gov.uk/") for a in older.attachments
    )
    guide = read("content_api/guide.json")
    parts = json.loads((FIXTURES / "content_api/guide.json").read_text())["details"]["parts"]
    assert [s.heading for s in guide.sections if s.level == 1] == [part["title"] for part in parts]
    featured = read("content_api/publication-with-featured-attachments.json")
    assert [(a.kind, a.size) for a in featured.attachments] == [("pdf", displayed_size(1932905))]
    assert featured.summary
    data_set = read("content_api/statistical_data_set_with_block_attachments.json")
    assert data_set.attachments and "may not be suitable" not in data_set.sections[0].text


def test_statistics_page_type() -> None:
    assert read("html_legacy/immigration-statistics-2018-10.html").page_type == "statistics"


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "body, content_type, missing",
    [
        (b"", "text/html", "empty"),
        (b"<html><body><h1>Page not found</h1></body></html>", "text/html", "selector"),
        (
            b'<html><body><main class="govuk-main-wrapper"><div class="gem-c-cookie-banner">Cookies</div>'
            b"</main></body></html>",
            "text/html",
            "title",
        ),
        (
            b'<main class="govuk-main-wrapper"><h1 class="gem-c-title__text">Sign in</h1>'
            b'<form><input name="email"></form></main>',
            "text/html",
            "no body text",
        ),
        (b'{"base_path": "/x", "title": "A page", "details": {}}', "application/json", "no body text"),
        (b'{"base_path": "/x", "details": {}}', "application/json", "no title"),
        (b"just some words", "text/plain", "no reader"),
    ],
)
def test_pages_without_a_document_are_refused(body: bytes, content_type: str, missing: str) -> None:
    with pytest.raises(ParseError, match=missing):
        parse(body, "https://www.gov.uk/x", content_type)


# --------------------------------------------------------------------------- other readers


OTHER_SITE = b"""<html><head><title>Exclusions policy | Example Trust</title>
<meta property="article:modified_time" content="2024-03-01T23:30:00Z"></head>
<body><nav>Menu</nav><div class="page"><article class="policy">
<h1>Exclusions policy</h1><p>Published 4 January 2023</p>
<h2>Scope</h2><p>All academies.</p><h3>Exceptions</h3><ul><li>Nurseries</li></ul>
</article></div><footer>Cookies</footer></body></html>"""


def test_selector_reader_reads_any_page() -> None:
    doc = parse(OTHER_SITE, "https://trust.example/policy", "text/html", selector="article.policy")
    assert doc.title == "Exclusions policy"
    assert (doc.published, doc.last_updated) == ("2023-01-04", "2024-03-01")
    assert [(s.heading, s.level, s.text) for s in doc.sections] == [
        ("Exclusions policy", 1, "Published 4 January 2023"),
        ("Scope", 2, "All academies."),
        ("Exceptions", 3, "- Nurseries"),
    ]
    with pytest.raises(ParseError, match="matches the selector"):
        parse(OTHER_SITE, "https://trust.example/policy", selector="#nothing")
    with pytest.raises(ParseError, match="not valid CSS"):
        parse(OTHER_SITE, "https://trust.example/policy", selector="article[")


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A small real PDF with one line of Helvetica text per page (offsets computed, no library)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
        content = len(objects) + 2
        kids.append(len(objects) + 1)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
            "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode('latin-1')}\nendstream")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    info = None
    if title:
        objects.append(f"<< /Title ({title}) >>")
        info = len(objects)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_reader() -> None:
    doc = parse(make_pdf(["Attendance codes", "Code X"], title="School attendance"), "https://a/x.pdf")
    assert (doc.title, doc.page_type, doc.page_count) == ("School attendance", "pdf", 2)
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("Page 1", "Attendance codes"),
        ("Page 2", "Code X"),
    ]
    untitled = parse(make_pdf(["First line here"]), "https://a/y.pdf", "application/pdf")
    assert untitled.title == "First line here"
    changed = parse(make_pdf(["Attendance codes", "Code Y"], title="School attendance"), "https://a/x.pdf")
    assert changed.content_hash != doc.content_hash
    with pytest.raises(ParseError, match="PDF"):
        parse(b"%PDF-1.4 broken", "https://a/z.pdf")


def test_every_reader_documents_itself() -> None:
    assert list(REGISTRY)[0] == "pdf" and list(REGISTRY)[-1] == "selector"
    assert set(REGISTRY) == {"pdf", "govuk-content-api", "govuk-html", "mirror-text", "selector"}
    assert all(len(text) > 40 for _, text in describe())


# --------------------------------------------------------------------------- normalisers


def test_dates_and_sizes() -> None:
    assert timestamp_date("2020-06-01T23:30:00Z") == "2020-06-02"  # London is an hour ahead in summer
    assert timestamp_date("2020-12-01T23:30:00+00:00") == "2020-12-01"
    assert display_date("Last updated 1st January 1990 — see all updates") == "1990-01-01"
    assert display_date("31 February 2020") is None
    assert size_bytes("245KB") == 245 * 1024 and size_bytes("1.84 MB") == round(1.84 * 1024**2)
    assert displayed_size(1932905) == round(1.84 * 1024**2) and displayed_size(300) == 300
    assert absolute_url("/a?utm_source=x&id=3#top", "https://www.gov.uk/b/c") == "https://www.gov.uk/a?id=3"


# --------------------------------------------------------------------------- the command


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "parse", *args], capture_output=True, text=True, timeout=60
    )


def test_cli_prints_json_with_the_documented_keys() -> None:
    result = run_cli(str(FIXTURES / SEED))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert tuple(data) == JSON_KEYS
    assert data["published"] == "2023-07-05" and len(data["change_history"]) == 5
    assert set(data["change_history"][0]) == {"date", "note"}
    assert set(data["sections"][0]) == {"heading", "level", "text"}
    built = run_cli(str(FIXTURES / (BUILT + ".html")), "--url", SNOW_URL)
    assert set(json.loads(built.stdout)["attachments"][0]) == {"title", "url", "kind", "size", "page_count"}


def test_cli_text_format() -> None:
    result = run_cli(str(FIXTURES / (BUILT + ".html")), "--format", "text", "--url", SNOW_URL)
    assert result.returncode == 0
    assert result.stdout == to_text(read(BUILT + ".html", SNOW_URL))
    assert "Last updated: 2016-10-20" in result.stdout


def test_cli_fetches_a_url(page_server) -> None:
    page_server.routes["/guidance/snow"] = Response(body=(FIXTURES / (BUILT + ".html")).read_bytes())
    result = run_cli(page_server.url("/guidance/snow"))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["url"] == page_server.url("/guidance/snow")
    assert data == to_json(
        parse((FIXTURES / (BUILT + ".html")).read_bytes(), page_server.url("/guidance/snow"))
    )


def test_cli_failures_are_one_line(tmp_path: Path, page_server) -> None:
    page = tmp_path / "error.html"
    page.write_text("<html><body><h1>Page not found</h1></body></html>")
    result = run_cli(str(page))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("guidance-monitor: ") and result.stderr.count("\n") == 1
    missing = run_cli(str(tmp_path / "nope.html"))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr
    gone = run_cli(page_server.url("/missing"))
    assert gone.returncode == 1 and gone.stderr.startswith("guidance-monitor: ")


def test_cli_saved_files_link_to_the_address_they_state_else_govuk() -> None:
    stated = (
        "https://www.gov.uk/government/statistics/immigration-statistics-october-to-december-2017-data-tables"
    )
    (file,) = [p for p in FIXTURES.glob("html_legacy/*.html") if stated.encode() in p.read_bytes()]
    data = json.loads(run_cli(str(file)).stdout)
    assert data["url"] == stated
    assert all(a["url"].startswith("https://www.gov.uk/government/uploads/") for a in data["attachments"])
    built = json.loads(run_cli(str(FIXTURES / (BUILT + ".html"))).stdout)
    assert built["url"] is None and "file:" not in json.dumps(built)  # it states no address of its own
    assert (
        "https://www.gov.uk/government/publications/temporary-snow-ploughs/fitting-temporary-snow-ploughs"
        in {a["url"] for a in built["attachments"]}
    )
    told = json.loads(run_cli(str(file), "--url", "https://mirror.example/stats").stdout)
    assert told["url"] == "https://mirror.example/stats"
    assert all(a["url"].startswith("https://mirror.example/government/") for a in told["attachments"])
    api = FIXTURES / "content_api" / "same_document_two_times" / "speech-with-updates.json"
    base_path = json.loads(api.read_text(encoding="utf-8"))["base_path"]
    assert json.loads(run_cli(str(api)).stdout)["url"] == "https://www.gov.uk" + base_path


def test_cli_help_gives_the_exit_statuses() -> None:
    text = " ".join(run_cli("--help").stdout.split())
    assert "1 when it could not be fetched or no reader can read it, 2 when the FILE cannot be read" in text


def test_cli_selector_and_pdf_failures_are_one_line(tmp_path: Path) -> None:
    page = tmp_path / "policy.html"
    page.write_text("<html><body><div id='doc'><h1>Policy</h1><p>Text.</p></div></body></html>")
    bad_css = run_cli(str(page), "--selector", "div[")
    assert bad_css.returncode == 1 and bad_css.stderr.count("\n") == 1
    assert bad_css.stderr.startswith(f"guidance-monitor: {page}: cannot be parsed (the selector 'div['")
    no_selector = run_cli(str(page))
    assert no_selector.returncode == 1 and no_selector.stderr.count("\n") == 1
    assert "--selector" in no_selector.stderr and "pages[]" not in no_selector.stderr
    assert json.loads(run_cli(str(page), "--selector", "#doc").stdout)["title"] == "Policy"
    truncated = tmp_path / "cut.pdf"
    truncated.write_bytes(make_pdf(["Attendance codes"])[:-60])
    result = run_cli(str(truncated))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("guidance-monitor: ") and result.stderr.count("\n") == 1


def test_cli_lists_readers_as_plain_text() -> None:
    listing = run_cli("--list-readers").stdout
    assert "``" not in listing and "pages[].selector" in listing and "<main>" in listing


def test_an_external_attachment_is_external_wherever_it_points():
    """The attachment component shows an external attachment's address as its only attribute."""
    body = (FIXTURES / "html_built" / "publication-2026-gem-metadata-history.html").read_bytes()
    url = "https://www.gov.uk/government/publications/attitudes-in-iraq"
    kinds = {a.title: a.kind for a in parse(body, url, "text/html").attachments}
    assert kinds["Attitudes survey results (external)"] == "external"
    on_govuk = body.replace(
        b"https://www.example.org/iraq/attitudes-survey", b"https://www.gov.uk/guidance/x"
    )
    kinds = {a.title: a.kind for a in parse(on_govuk, url, "text/html").attachments}
    assert kinds["Attitudes survey results (external)"] == "external", "a link to another GOV.UK page"


# --------------------------------------------------------------------------- the rest of GOV.UK (issue 14)

SCHEMAS = FIXTURES / "content_schemas"
SAME_PAGE = [
    (
        "consultation_outcome_with_featured_attachments",
        "consultation/consultation_outcome_with_featured_attachments",
    ),
    ("best-practice-document-collection", "document_collection/best-practice-document-collection"),
    ("statistics_announcement_release_date_changed", "statistics_announcement/release_date_changed"),
    ("statistics_announcement_cancelled", "statistics_announcement/cancelled_official_statistics"),
]


def _item(relative: str) -> dict:
    return json.loads((SCHEMAS / f"{relative}.json").read_text(encoding="utf-8"))


def _api(item: dict) -> object:
    return parse(json.dumps(item).encode(), "https://www.gov.uk" + item["base_path"])


@pytest.mark.parametrize("page, item", SAME_PAGE, ids=[page for page, _ in SAME_PAGE])
def test_html_and_content_api_agree_on_other_formats(page: str, item: str) -> None:
    url = "https://www.gov.uk" + _item(item)["base_path"]
    html = read(f"html_built/{page}.html", url)
    api = read(f"content_schemas/{item}.json", url)
    assert html.visible() == api.visible()
    assert (html.page_type, html.summary, html.metadata) == (api.page_type, api.summary, api.metadata)
    assert html.content_hash == api.content_hash


def test_collection_groups_are_sections_and_their_documents_attachments() -> None:
    doc = _api(_item("document_collection/document_collection_with_history"))
    assert [(s.heading, s.level, s.text) for s in doc.sections] == [("Documents", 3, "")]
    assert doc.attachments[2].url == "https://www.gov.uk/government/publications/financial-sanctions-somalia"
    assert {a.kind for a in doc.attachments} == {"html"}
    with_body = _api(_item("document_collection/document_collection_with_body"))
    assert with_body.sections and with_body.attachments


def test_consultation_reads_every_attachment_set_and_its_state() -> None:
    item = _item("consultation/consultation_outcome_with_featured_attachments")
    doc = _api(item)
    details = item["details"]
    ids = details["final_outcome_attachments"] + details["public_feedback_attachments"]
    ids += details["featured_attachments"]
    titles = {a["id"]: a["title"] for a in details["attachments"]}
    assert [a.title for a in doc.attachments] == [titles[key] for key in ids]
    assert doc.metadata == {
        "consultation_status": "outcome published",
        "opening_date": "2016-04-22",
        "closing_date": "2016-06-17",
    }
    open_one = _api(_item("consultation/open_consultation"))
    assert open_one.metadata["consultation_status"] == "open" and "opening_date" not in open_one.metadata
    assert (
        _api(_item("call_for_evidence/open_call_for_evidence")).metadata["call_for_evidence_status"] == "open"
    )


def test_travel_advice_latest_update_is_its_change_note() -> None:
    item = _item("travel_advice/no-parts")
    doc = _api(item)
    assert item["details"]["change_description"] == "Latest update: Info about the cold."
    assert [(h.date, h.note) for h in doc.change_history] == [("2015-08-28", "Info about the cold.")]
    assert (doc.published, doc.last_updated, doc.page_type) == (None, "2015-08-28", "travel_advice")


def test_same_day_history_is_newest_first_by_time() -> None:
    item = _item("document_collection/document_collection_with_history")
    history = item["details"]["change_history"]
    history[:] = [
        {"public_timestamp": "2016-02-08T09:00:00+00:00", "note": "Morning update."},
        {"public_timestamp": "2016-02-08T17:36:26+00:00", "note": "Evening update."},
        *history[1:],
    ]
    assert [h.note for h in _api(item).change_history[:2]] == ["Evening update.", "Morning update."]
    body = (FIXTURES / "html_built/publication-2026-gem-metadata-history.html").read_bytes()
    shown = read("html_built/publication-2026-gem-metadata-history.html").change_history
    assert [h.date for h in shown] == sorted((h.date for h in shown), reverse=True) and b"<ol" in body


def test_every_example_of_a_page_format_reads_and_navigation_is_refused() -> None:
    """Every publishing-api example collected here: a format with a page of its own reads without a
    ParseError, a navigation page is refused by name, and no schema is left unclassified."""
    from monitor.readers.govuk_formats import FORMATS, NAVIGATION

    examples = sorted(SCHEMAS.glob("*/*.json"))
    assert len(examples) > 100
    for path in examples:
        schema = json.loads(path.read_text(encoding="utf-8"))["schema_name"]
        assert schema in FORMATS or schema in NAVIGATION, schema
        if schema in NAVIGATION:
            with pytest.raises(ParseError, match="navigation page"):
                parse(path.read_bytes(), "https://www.gov.uk/x")
        else:
            doc = parse(path.read_bytes(), "https://www.gov.uk/x")
            assert doc.title and doc.page_type, path.name


def test_page_type_of_news_speeches_and_case_studies() -> None:
    for schema in ("news_article", "speech", "case_study", "travel_advice"):
        for path in (SCHEMAS / schema).glob("*.json"):
            assert parse(path.read_bytes(), "https://www.gov.uk/x").page_type == schema
    caption = (FIXTURES / "html_built/publication-heading-caption-inside.html").read_bytes()
    for label, schema in (("News story", "news_article"), ("Speech", "speech"), ("Case study", "case_study")):
        page = re.sub(rb"(gem-c-heading__context\">)[^<]*", rb"\g<1>" + label.encode(), caption, count=1)
        assert parse(page.replace(b'class="publication"', b""), "https://www.gov.uk/x").page_type == schema


def test_people_are_kept_apart_from_organisations() -> None:
    doc = read("html_built/publication-2026-gem-metadata-history.html")
    assert doc.people == ["The Rt Hon William Hague"] and "The Rt Hon William Hague" not in doc.organisations
    unlinked = (
        b'<main><h1 class="gem-c-title__text">T</h1><dl><dt>From:</dt><dd>Ofqual and The Rt Hon Lord Nash'
    )
    unlinked += b"</dd></dl><p>Text.</p></main>"
    doc = parse(unlinked, "https://www.gov.uk/x")
    assert (doc.organisations, doc.people) == (["Ofqual"], ["The Rt Hon Lord Nash"])


def test_a_page_without_new_fields_keeps_its_hash() -> None:
    """Snapshots stored before people, metadata and attachments' page counts were read must not all read
    as changed: the hashes below are the ones the reader gave these pages before (commit 85c84b2). A page
    that shows none of them keeps its hash; one that does differs by them alone."""
    from monitor.model import Document

    stored = {
        SEED: "7b1632708efcaadb450e8b84a5037d3d7bcdfaf4a744d09306715d964f2490c6",
        BUILT + ".html": "4963b48607b07eaf64d20dc7abb56afa6d433cc13eb9cdd229e309a839785965",
    }
    for relative, content_hash in stored.items():
        doc = read(relative, SNOW_URL if relative.startswith(BUILT) else "https://www.gov.uk/page")
        old_json = {key: value for key, value in doc.to_dict().items() if key not in ("people", "metadata")}
        old_json["attachments"] = [
            {key: value for key, value in attachment.items() if key != "page_count"}
            for attachment in old_json["attachments"]
        ]
        assert Document.from_dict({**old_json, "content_hash": ""}).content_hash == content_hash
    assert read(SEED).content_hash == stored[SEED]
    built = read(BUILT + ".html", SNOW_URL)
    assert built.attachments[0].page_count == 7 and built.content_hash != stored[BUILT + ".html"]
    announced = read("content_schemas/statistics_announcement/release_date_changed.json")
    assert (
        announced.content_hash
        != Document.from_dict({**announced.to_dict(), "metadata": {}, "content_hash": ""}).content_hash
    )


def test_csv_attachments_offered_as_view_online_and_download_are_read() -> None:
    """The older block whose title is plain text: "View online" (the preview) and "Download CSV"."""
    item = _item("statistical_data_set/statistical_data_set_with_csv")
    api = _api(item)
    assert len(api.attachments) == item["details"]["body"].count('class="attachment embedded"') == 7
    first = api.attachments[0]
    assert (first.title, first.kind, first.size) == ("MOT test results by class of vehicle", "csv", 1782)
    assert first.url.endswith("/dvsa-mot-01-mot-test-results-by-class-of-vehicle.csv")
    page = (
        f'<main class="statistical-data-set"><h1 class="gem-c-title__text">{item["title"]}</h1>'
        f'<div class="gem-c-govspeak govuk-govspeak">{item["details"]["body"]}</div></main>'
    ).encode()
    html = parse(page, "https://www.gov.uk" + item["base_path"])
    assert html.attachments == api.attachments and html.sections == api.sections


def test_a_heading_with_only_images_under_it_keeps_its_place() -> None:
    doc = _api(_item("html_publication/best-practice-HC-paper-2"))
    headings = [s.heading for s in doc.sections]
    at = headings.index("Highlights for the year")
    assert doc.sections[at].text == "" and doc.sections[at + 1].text


def test_welsh_pages_read_like_english_ones() -> None:
    """GOV.UK's Welsh terms (govuk_publishing_components' cy locale) and Welsh month names."""
    english = (FIXTURES / (BUILT + ".html")).read_text(encoding="utf-8")
    welsh = english.replace(">From:<", ">Gan:<").replace(">Published<", ">Cyhoeddwyd<")
    welsh = welsh.replace(">Last updated<", ">Diweddarwyd ddiwethaf<")
    welsh = welsh.replace("Published 1 January", "Cyhoeddwyd ar 1 Ionawr").replace(
        "Last updated 20", "Diweddarwyd ddiwethaf ar 20"
    )
    for month, mis in (("January", "Ionawr"), ("July", "Gorffennaf"), ("October", "Hydref")):
        welsh = welsh.replace(f" {month} ", f" {mis} ")
    assert "Ionawr" in welsh and "Hydref" in welsh and ">Gan:<" in welsh
    read_welsh, read_english = parse(welsh.encode(), SNOW_URL), parse(english.encode(), SNOW_URL)
    for key in ("organisations", "published", "last_updated", "change_history"):
        assert getattr(read_welsh, key) == getattr(read_english, key), key


def test_a_2014_history_line_is_the_last_updated_date() -> None:
    """The 2014 Whitehall header (as in html_legacy/ilr-publication-2014-08.html): "History: Updated ..."
    beside a "Published" date, with no "Last updated" term."""
    page = (
        b'<main id="content"><h1>Funding rules</h1><aside class="meta metadata-list"><dl>'
        b'<dt>From:</dt><dd><a href="/government/organisations/skills-funding-agency">'
        b"Skills Funding Agency</a></dd>"
        b'<dt class="change-notes-title">History:</dt><dd class="js-toggle-change-notes change-notes">'
        b'Updated <abbr class="published-at date" title="2014-06-13T10:00:00+01:00"> 13 June 2014</abbr></dd>'
        b'</dl></aside><div class="govspeak"><p>The rules for 2014 to 2015.</p></div>'
        b'<dl><dt>Published:</dt><dd><abbr title="2013-09-02T10:00:00+01:00">2 September 2013</abbr></dd>'
        b"</dl></main>"
    )
    doc = parse(page, "https://www.gov.uk/government/collections/funding-rules")
    assert (doc.published, doc.last_updated) == ("2013-09-02", "2014-06-13")


def test_travel_advice_page_and_api_agree_on_its_latest_update() -> None:
    """The travel advice page's metadata (frontend travel_advice/_first_part: "Still current at",
    "Updated", "Latest update") and the Content API item it is made from."""
    item = _item("travel_advice/full-country")
    api = _api(item)
    details = item["details"]
    page = (
        '<html><head><meta name="govuk:schema-name" content="travel_advice"></head><body><main>'
        f'<h1 class="gem-c-heading__text govuk-heading-l">{item["title"]}</h1>'
        '<div class="gem-c-metadata"><dl class="gem-c-metadata__list">'
        '<dt class="gem-c-metadata__term">Still current at:</dt><dd class="gem-c-metadata__definition">'
        "1 December 2026</dd>"
        '<dt class="gem-c-metadata__term">Updated:</dt>'
        '<dd class="gem-c-metadata__definition">14 February 2017</dd>'
        '<dt class="gem-c-metadata__term">Latest update:</dt><dd class="gem-c-metadata__definition">'
        f'<span class="metadata__update">{details["change_description"]}</span></dd></dl></div>'
        f'<div class="govspeak">{details["parts"][0]["body"]}</div></main></body></html>'
    )
    html = parse(page.encode(), "https://www.gov.uk" + item["base_path"])
    assert api.change_history and html.change_history == api.change_history
    assert (html.page_type, html.published, html.last_updated) == ("travel_advice", None, "2017-02-14")
    assert (api.published, api.last_updated) == (None, "2017-02-14")


def test_a_collection_leaves_out_withdrawn_documents_and_empty_groups() -> None:
    """As the frontend's DocumentCollectionPresenter does: a withdrawn document is not listed, and a
    group left with no document is not shown."""
    item = _item("document_collection/document_collection_with_withdrawn_links_documents")
    withdrawn = {doc["title"] for doc in item["links"]["documents"] if doc.get("withdrawn")}
    doc = _api(item)
    assert withdrawn and not withdrawn & {a.title for a in doc.attachments} and len(doc.attachments) == 2
    empty = _api(_item("document_collection/document_collection_with_no_documents"))
    assert not empty.attachments and not any(s.level == 3 for s in empty.sections)


def test_an_item_without_a_first_published_date_shows_neither_date() -> None:
    """GOV.UK's frontend shows "Last updated" only beside a first publication it can compare it with."""
    item = _item("working_group/short")
    assert item.get("first_published_at") is None and item["public_updated_at"]
    doc = _api(item)
    assert (doc.published, doc.last_updated) == (None, None)
    dated = copy.deepcopy(item)
    dated["first_published_at"] = "2014-01-10T09:00:00+00:00"
    assert (_api(dated).published, _api(dated).last_updated) == ("2014-01-10", "2015-04-15")


# ---------------------------------------------------------------------- what no page may carry (issue 23)

NOISE = "\u202e\x01\x07\x1b\x7f\x9b\u2067\u200f\u061c"
"""The right-to-left override, C0 and C1 controls and the other bidirectional controls: none is whitespace,
so each would stay inside a word."""
MARKED = ("Temporary", "should fit", "pupil premium", "Fitting a plough", "axle weight", "Department for")
MARKED += ("Gritter", "National Highways")
"""Words of the title, summary, a change note, a heading, section text, the organisations and an
attachment's name on the built page (and in its Content API JSON)."""


def _unshown_in(doc: object) -> set[str]:
    from monitor.model import UNSHOWN

    printed = json.dumps(to_json(doc), ensure_ascii=False) + to_text(doc)
    return set(printed) & set(UNSHOWN)


def test_controls_and_bidirectional_overrides_never_reach_a_document() -> None:
    """A page holding U+202E and C0 characters (raw and as character references) in every kind of text
    reads as the same page without them: the same Document, the same hash, none of them printed."""
    body = (FIXTURES / (BUILT + ".html")).read_bytes()
    noisy = body
    for word in MARKED:
        marked = word[:3].encode() + NOISE.encode() + b"&#x202E;&#1;&#x1B;" + word[3:].encode()
        noisy = noisy.replace(word.encode(), marked)
    assert noisy.count("\u202e".encode()) >= len(MARKED)
    clean, read_noisy = parse(body, SNOW_URL), parse(noisy, SNOW_URL)
    assert read_noisy.to_dict() == clean.to_dict() and not _unshown_in(read_noisy)

    item = json.loads((FIXTURES / (BUILT + ".json")).read_text(encoding="utf-8"))
    text = json.dumps(item)
    for word in MARKED:
        text = text.replace(word, word[:3] + json.dumps(NOISE)[1:-1] + word[3:])  # escaped: "\u0001"
    assert "\\u202e" in text and "\\u0001" in text
    api_url = "https://www.gov.uk/api/content/government/publications/temporary-snow-ploughs"
    from_api = parse(text.encode(), api_url)
    assert from_api.visible() == parse((FIXTURES / (BUILT + ".json")).read_bytes(), api_url).visible()
    assert not _unshown_in(from_api)


def test_text_no_file_can_hold_is_dropped_where_it_used_to_stop_the_read() -> None:
    """U+FFFE in a heading (lxml refuses it in text the reader sets) and a lone surrogate in Content API
    JSON (UTF-8 cannot encode it, so the hash could not be made) each failed the read with a traceback."""
    heading = "<h2>Head\ufffeing</h2>".encode()
    page = parse(b'<main><h1 class="gem-c-title__text">T</h1>' + heading + b"<p>x</p></main>", "u")
    assert [s.heading for s in page.sections] == ["Heading"]
    item = {"base_path": "/x", "schema_name": "answer", "title": "T\ud800", "details": {"body": "<p>x</p>"}}
    assert parse(json.dumps(item).encode(), "https://www.gov.uk/x").title == "T"


def test_a_document_keeps_tabs_and_line_breaks_and_drops_every_other_control() -> None:
    from monitor.model import UNSHOWN, Document, HistoryEntry, Section

    doc = Document(
        url="https://www.gov.uk/x",
        title="Pay \u202eyb 5 May",
        change_history=[HistoryEntry("2024-05-01", "Note\x00\x1f\x80\x9f")],
        sections=[Section("Head\u2066ing", 2, "line one\tcell\nline two\u200e")],
        metadata={"closing_date": "2024-05-05\u061c"},
    )
    assert (doc.title, doc.change_history[0].note) == ("Pay yb 5 May", "Note")
    assert doc.sections == [Section("Heading", 2, "line one\tcell\nline two")]
    assert doc.metadata == {"closing_date": "2024-05-05"}
    # C0 but tab and newline, DEL, C1, the bidirectional controls, surrogates, U+FFFE and U+FFFF.
    assert len(UNSHOWN) == 9 + 21 + 1 + 32 + 12 + 2048 + 2
    assert (
        doc.content_hash
        == Document(
            url="https://www.gov.uk/x",
            title="Pay yb 5 May",
            change_history=[HistoryEntry("2024-05-01", "Note")],
            sections=[Section("Heading", 2, "line one\tcell\nline two")],
            metadata={"closing_date": "2024-05-05"},
        ).content_hash
    )


# ------------------------------------------------------------------ attachments' page counts (issue 26)


def test_attachments_give_the_page_count_gov_uk_shows_beside_them() -> None:
    """ "PDF, 19.5 KB, 7 pages" in the attachment component, Whitehall's ``span.page-length`` (2014-16) and
    the Content API's ``number_of_pages`` all read as the attachment's page count; no count, no number."""
    html, api = read(BUILT + ".html", SNOW_URL), read(BUILT + ".json", SNOW_URL)
    assert (
        [a.page_count for a in html.attachments] == [a.page_count for a in api.attachments] == [7, None, None]
    )
    body = (FIXTURES / "html_legacy/ilr-publication-2016-11.html").read_text(encoding="utf-8")
    shown = [int(n) for n in re.findall(r'page-length">(\d+) pages?<', body)]
    counted = [a.page_count for a in read("html_legacy/ilr-publication-2016-11.html").attachments]
    assert [n for n in counted if n is not None] == shown and len(shown) >= 3
    item = _item("consultation/consultation_outcome_with_featured_attachments")
    pages = {a["title"]: a.get("number_of_pages") for a in item["details"]["attachments"]}
    assert {a.title: a.page_count for a in _api(item).attachments} == {
        a.title: pages[a.title] for a in _api(item).attachments
    }
    assert "temporary snow ploughs: guidance note (pdf, 19.5KB, 7 pages)" in to_text(html)
