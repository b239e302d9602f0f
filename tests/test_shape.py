"""Word diffs that keep the page's shape, and attachment changes said exactly, on real pages."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from site_support import built

from monitor import demo, render
from monitor.diff import count_words, diff
from monitor.model import Change, Document, PageState, Section
from monitor.parse import parse
from monitor.textdiff import word_diff

FIXTURES = Path(__file__).parent / "fixtures"
TESTING = "rapid-asymptomatic-testing-in-specialist-settings"
STATISTICS = FIXTURES / "html_legacy" / "immigration-statistics-2018-10.html"
STATISTICS_URL = "https://www.gov.uk/government/statistics/immigration-statistics-october-to-december-2017"
SITE = "https://changes.example.org"


def recorded(old: Document, new: Document) -> tuple[Change, PageState]:
    changeset = diff(old, new)
    note = changeset.history_added[0].note if changeset.history_added else "Changed without a change note"
    change = Change(new.url, changeset.kind, "2026-11-27T07:00:00+00:00", new.title, changeset, note, id=1)
    return change, PageState(new.url, new.title)


def outputs(old: Document, new: Document) -> dict[str, str]:
    """The email's text and HTML parts and the site's change page for the diff of two captures."""
    change, page = recorded(old, new)
    _, text, html = render.digest([change], [page], since=None, site_url=SITE)
    site = built([page], [change], site_url=SITE)["changes/1.html"]
    return {"text": text, "html": html, "site": site}


def test_punctuation_is_its_own_token_and_counts_are_words_only() -> None:
    old = "All schools must appoint a SENCO (GCOs) by September."
    inserted = "Schools and colleges should follow the advice in this guidance for"
    new = f"All schools must appoint a SENCO ({inserted} GCOs) by September."
    ops = word_diff(old, new)
    assert [op.op for op in ops] == ["equal", "insert", "equal"]
    assert ops[1].text == "Schools and colleges should follow the advice in this guidance for"
    assert count_words(ops[1].text) == 11 and count_words("- (a) item, 2021-22: done.") == 4
    assert render.diff_text(ops) == (
        "All schools must appoint a SENCO ([+Schools and colleges should follow the advice in this guidance"
        " for+] GCOs) by September."
    )


def test_a_list_item_added_on_a_real_page_is_one_new_bullet() -> None:
    """ "Rapid asymptomatic testing": on 30 March 2021 GOV.UK added one item to a list."""
    state = {c.stamp: demo.TimelineState.on(c, demo.captures(), []) for c in demo.captures()}
    path = f"{demo.PAGE_PATH}/{TESTING}"
    url = f"https://www.gov.uk{path}"
    old, new = (
        parse(state[day].files[path].read_bytes(), url, "text/html")
        for day in ("2021-03-26T1710", "2021-03-30T1533")
    )
    shown = outputs(old, new)
    bullet = "DHSC guidance that a confirmatory PCR test is required"
    # The text part: the new item is a line of its own, marked as inserted whole, bullet and all.
    assert re.search(rf"^  \[\+- {bullet}", shown["text"], re.M), shown["text"]
    # The email's HTML: the item starts a line (after <br>) inside one insertion.
    assert re.search(rf"<br>\n<ins style=\"[^\"]*\">- {bullet}[^<]*</ins>", shown["html"])
    # The site: the same, in a block that keeps the page's line breaks.
    assert (
        re.search(rf"\n<ins>- {bullet}[^<]*</ins>", shown["site"])
        and "white-space: pre-line" in shown["site"]
    )
    # Read as text, the item is a line of its own after the list's last item, and is shown once.
    before = lxml.html.fromstring(shown["site"]).text_content().split(bullet)[0]
    assert before.endswith("(ATS)\n- ") and "- DHSC" not in before, before[-80:]


def test_a_table_row_changed_on_a_real_page_shows_as_that_row() -> None:
    """GOV.UK's national curriculum guide: one cell of its key stages table edited."""
    body = (FIXTURES / "content_api" / "guide.json").read_bytes()
    url = "https://www.gov.uk/national-curriculum"
    old = parse(body, url, "application/json")
    new = parse(
        body.replace(b"| Reception |", b"| Reception year |", 1).replace(
            b">Reception<", b">Reception year<", 1
        ),
        url,
        "application/json",
    )
    [section] = [s for s in diff(old, new).sections]
    assert section.heading == "Key stages" and (section.added_words, section.removed_words) == (1, 0)
    shown = outputs(old, new)
    assert re.search(r"^  4 to 5 \| Reception \[\+year\+\] \| Early years \|", shown["text"], re.M), shown[
        "text"
    ]
    assert re.search(
        r"<br>\n4 to 5 \| Reception <ins style=\"[^\"]*\">year</ins> \| Early years \|", shown["html"]
    )
    assert re.search(r"\n4 to 5 \| Reception <ins>year</ins> \| Early years \|", shown["site"])


def edited_statistics(tmp_path: Path) -> tuple[Path, Path]:
    """A real statistics release, and the same with one attachment moved, one file grown, one renamed."""
    body = STATISTICS.read_bytes()
    new = (
        body.replace(
            b"683359/entry-visas1-oct-dec-2017-tables.ods", b"699999/entry-visas1-oct-dec-2017-tables-v2.ods"
        )
        .replace(b'<span class="file-size">459KB</span>', b'<span class="file-size">612KB</span>', 1)
        .replace(
            b">Admissions data tables immigration statistics October to December 2017<",
            b">Admissions data tables immigration statistics October to December 2017 (revised)<",
        )
    )
    assert new.count(b"699999") == 2 and b"612KB" in new and b"(revised)" in new
    paths = tmp_path / "old.html", tmp_path / "new.html"
    paths[0].write_bytes(body)
    paths[1].write_bytes(new)
    return paths


def test_an_attachment_moved_grown_or_renamed_says_exactly_that(tmp_path: Path) -> None:
    old_file, new_file = edited_statistics(tmp_path)
    old, new = (parse(p.read_bytes(), STATISTICS_URL, "text/html") for p in (old_file, new_file))
    files = "https://www.gov.uk/government/uploads/system/uploads/attachment_data/file"
    moved = (
        f"new address: {files}/683359/entry-visas1-oct-dec-2017-tables.ods"
        f" → {files}/699999/entry-visas1-oct-dec-2017-tables-v2.ods"
    )
    grown = "new file: ODS, 459 KB → 612 KB"
    renamed_from = "Admissions data tables immigration statistics October to December 2017"
    renamed = f"“{renamed_from}” to “{renamed_from} (revised)”"

    shown = outputs(old, new)
    for where in ("text", "html", "site"):
        body = (
            " ".join(lxml.html.fromstring(shown[where]).text_content().split())
            if where != "text"
            else " ".join(shown[where].split())
        )
        assert moved in body, where
        assert grown in body, where
        assert renamed in body, where
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "diff",
            str(old_file),
            str(new_file),
            "--format",
            "text",
            "--url",
            STATISTICS_URL,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 1, report.stderr
    assert moved in report.stdout and grown in report.stdout
    assert f"Renamed: {renamed_from} -> {renamed_from} (revised)" in report.stdout
    data = diff(old, new).to_dict()["attachments"]
    assert {(a["status"], a.get("old_url") is not None, a.get("old_size"), a.get("size")) for a in data} == {
        ("modified", True, None, None),
        ("modified", False, 470016, 626688),
        ("renamed", False, None, None),
    }


def test_a_pdf_read_page_by_page_says_which_pages_changed() -> None:
    """The pdf reader gives one section a page ("Page 3"); the digest says the pages as ranges."""
    old = Document(
        "https://assets.publishing.service.gov.uk/media/1/guidance.pdf",
        "guidance.pdf",
        sections=[Section(f"Page {n}", 2, f"Text of page {n}.") for n in range(1, 9)],
    )
    edited = [
        Section(s.heading, 2, s.text + " Added.") if s.heading in ("Page 3", "Page 4", "Page 7") else s
        for s in old.sections
    ]
    new = Document(old.url, old.title, sections=edited)
    assert render.pages_changed(diff(old, new)) == "Pages 3 to 4 and 7 changed"
    shown = outputs(old, new)
    assert "Pages 3 to 4 and 7 changed:" in shown["text"] and "Pages 3 to 4 and 7 changed:" in shown["html"]
    assert (
        render.pages_changed(diff(old, Document(old.url, old.title, sections=edited[:3] + old.sections[3:])))
        == "Page 3 changed"
    )


@pytest.mark.parametrize(
    ("old", "new", "shown"),
    [
        ("- one\n- three", "- one\n- two\n- three", "- one\n[+- two+]\n- three"),
        ("- one\n- two\n- three", "- one\n- three", "- one\n[-- two-]\n- three"),
        ("- one\n- two", "- one\n- two\n- three", "- one\n- two\n[+- three+]"),
        ("A | 1 | 2\nB | 3 | 4", "A | 1 | 2\nB | 3 | 5", "A | 1 | 2\nB | 3 | [-4-] [+5+]"),
        ("SENCOs (GCOs) must", "SENCOs (new GCOs) must", "SENCOs ([+new+] GCOs) must"),
        ("It ends here.", "It ends here, for now.", "It ends here[+, for now+]."),
        ("One paragraph.\nAnother one.", "One paragraph. Another one.", "One paragraph. Another one."),
    ],
    ids=[
        "item added",
        "item removed",
        "item appended",
        "table cell",
        "inside brackets",
        "before a full stop",
        "reflowed",
    ],
)
def test_word_diff_keeps_lines_and_punctuation(old: str, new: str, shown: str) -> None:
    assert render.diff_text(word_diff(old, new)) == shown
