"""The diff stage: hand-built Documents for each rule, then real GOV.UK captures through ``parse()``.

Real pairs are rows of ``tests/diff_cases.yaml``: a new page pair is one row, no code.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest
import yaml
from click.testing import CliRunner

from monitor import changes, model
from monitor.cli import main
from monitor.diff import attachment_url_key, diff, diff_sections
from monitor.model import Attachment, ChangeSet, DiffOp, Document, HistoryEntry, Section
from monitor.parse import parse
from monitor.render import diff_text, html_report, text_report
from monitor.textdiff import Effort, word_diff
from monitor.tokens import diff_items

FIXTURES = Path(__file__).parent / "fixtures"
TIMELINE = FIXTURES / "html_timeline"
ROWS = yaml.safe_load((Path(__file__).parent / "diff_cases.yaml").read_text(encoding="utf-8"))
CASES = [row for row in ROWS if "page" in row]
TEXTS = [row for row in ROWS if "old_text" in row]
SEND = "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
SEND_HTML = f"{SEND}~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"

ISSUE_KEYS = ["changed", "kind", "old", "new", "history_added", "sections", "attachments", "metadata"]


def doc(**fields) -> Document:
    base = {
        "url": "https://www.gov.uk/government/publications/example",
        "title": "Example guidance",
        "page_type": "guidance",
        "summary": "How schools should do a thing.",
        "organisations": ["Department for Education"],
        "published": "2023-07-05",
        "last_updated": "2024-02-02",
        "change_history": [HistoryEntry("2023-07-05", "First published.")],
        "sections": [
            Section("Overview", 2, "This guidance is for school leaders and staff in England."),
            Section("Who this is for", 2, "Special educational needs co-ordinators in maintained schools."),
            Section(
                "Funding", 2, "Schools receive funding each term to cover the cost of the qualification."
            ),
        ],
        "attachments": [
            Attachment(
                "Guidance for schools", "https://www.gov.uk/government/publications/example/guidance", "html"
            ),
            Attachment(
                "Annex A", "https://assets.publishing.service.gov.uk/media/1/annex-a.pdf", "pdf", 1000
            ),
        ],
    }
    base.update(fields)
    return Document(**base)


def edit(document: Document, **fields) -> Document:
    return replace(document, content_hash="", **fields)


# --------------------------------------------------------------------------- unchanged


def test_same_document_is_none():
    a = doc()
    changes = diff(a, doc())
    assert changes.kind == "none" and not changes.changed
    assert changes.to_dict() == {
        "changed": False,
        "kind": "none",
        "old": {
            "title": "Example guidance",
            "published": "2023-07-05",
            "last_updated": "2024-02-02",
            "history_count": 1,
        },
        "new": {
            "title": "Example guidance",
            "published": "2023-07-05",
            "last_updated": "2024-02-02",
            "history_count": 1,
        },
        "history_added": [],
        "sections": [],
        "attachments": [],
        "metadata": [],
    }


def test_whitespace_split_paragraphs_and_tracking_queries_are_no_change():
    a = doc()
    b = edit(
        a,
        title="  Example\n guidance ",
        sections=[
            Section("Overview", 2, "This guidance is for school leaders\n\nand staff in\u00a0England."),
            Section(" Who this  is for", 2, "Special educational needs co-ordinators in maintained schools."),
            Section(
                "Funding", 2, "Schools receive funding each term\nto cover the cost of the qualification."
            ),
        ],
        attachments=[
            Attachment(
                "Guidance for schools",
                "https://www.gov.uk/government/publications/example/guidance?utm_source=x#top",
            ),
            Attachment(
                "Annex A", "https://assets.publishing.service.gov.uk/media/1/annex-a.pdf", "pdf", 1000
            ),
        ],
    )
    assert diff(a, b).kind == "none"


def test_url_key_drops_only_what_does_not_name_the_file():
    assert attachment_url_key("https://www.gov.uk/a/b/?utm_campaign=x&b=2&a=1#f") == "/a/b?a=1&b=2"
    assert attachment_url_key("/a/b") == attachment_url_key("http://gov.uk/a/b")
    assert attachment_url_key("https://example.org/a") != attachment_url_key("https://www.gov.uk/a")


# --------------------------------------------------------------------------- kinds


def test_new_history_entry_is_major_with_its_note():
    a = doc()
    b = edit(
        a,
        last_updated="2024-04-24",
        change_history=[HistoryEntry("2024-04-24", "Added  annex B."), *a.change_history],
    )
    changes = diff(a, b)
    assert changes.kind == "major"
    assert [(h.date, h.note) for h in changes.history_added] == [("2024-04-24", "Added annex B.")]
    assert (changes.old.last_updated, changes.new.last_updated) == ("2024-02-02", "2024-04-24")
    assert (changes.old.history_count, changes.new.history_count) == (1, 2)


def test_last_updated_moving_alone_is_major():
    a = doc()
    assert diff(a, edit(a, last_updated="2024-03-01")).kind == "major"


def test_html_publication_date_moving_alone_is_none_with_new_date_reported():
    a = doc(page_type="html_publication", change_history=[])
    changes = diff(a, edit(a, last_updated="2024-03-01"))
    assert changes.kind == "none"
    assert changes.new.last_updated == "2024-03-01"


def test_silent_edit_is_minor():
    a = doc()
    sections = list(a.sections)
    sections[2] = Section("Funding", 2, "Schools receive funding each term to cover the cost of the course.")
    assert diff(a, edit(a, sections=sections)).kind == "minor"


def test_withdrawal_notice_appearing_is_withdrawn():
    a = doc()
    changes = diff(a, edit(a, withdrawn="This guidance was withdrawn on 4 August 2022."))
    assert changes.kind == "withdrawn"
    assert [(m.field, m.old, m.new) for m in changes.metadata] == [
        ("withdrawn", "", "This guidance was withdrawn on 4 August 2022.")
    ]


def test_edited_history_note_is_a_detail_not_a_new_update():
    a = doc()
    b = edit(a, change_history=[HistoryEntry("2023-07-05", "First published on GOV.UK.")])
    changes = diff(a, b)
    assert changes.kind == "minor" and changes.history_added == []
    assert [(m.field, m.old, m.new) for m in changes.metadata] == [
        ("change_history", "2023-07-05: First published.", "2023-07-05: First published on GOV.UK.")
    ]


# --------------------------------------------------------------------------- sections


def test_one_word_edit_is_one_modified_section_with_one_word_each_way():
    a = doc()
    sections = list(a.sections)
    sections[1] = Section("Who this is for", 2, "Special educational needs co-ordinators in academy schools.")
    changes = diff(a, edit(a, sections=sections))
    assert len(changes.sections) == 1
    section = changes.sections[0]
    assert (section.heading, section.status, section.added_words, section.removed_words) == (
        "Who this is for",
        "modified",
        1,
        1,
    )
    assert section.diff == [
        DiffOp("equal", "Special educational needs co-ordinators in"),
        DiffOp("delete", "maintained"),
        DiffOp("insert", "academy"),
        DiffOp("equal", "schools."),
    ]


def test_renamed_heading_with_similar_text_is_renamed_not_removed_and_added():
    a = doc()
    sections = list(a.sections)
    sections[1] = Section(
        "Who the guidance is for", 2, "Special educational needs co-ordinators in all maintained schools."
    )
    changes = diff(a, edit(a, sections=sections))
    assert [(s.status, s.heading, s.old_heading) for s in changes.sections] == [
        ("renamed", "Who the guidance is for", "Who this is for")
    ]
    assert changes.sections[0].added_words == 1


def test_renumbered_heading_is_the_same_section():
    a = doc(sections=[Section("1. Overview", 2, "One."), Section("2. Funding", 2, "Two words.")])
    b = edit(a, sections=[Section("1. Funding", 2, "Two words.")])
    assert [(s.status, s.heading) for s in diff(a, b).sections] == [("removed", "1. Overview")]


def test_moved_section_whose_heading_lost_its_number_keeps_its_old_heading():
    a = doc(sections=[Section("1. Attendance", 2, "Attend."), Section("2. Recording attendance", 2, "Mark.")])
    b = edit(
        a, sections=[Section("Attendance", 2, "Attend daily."), Section("Recording attendance", 3, "Mark.")]
    )
    assert [(s.status, s.heading, s.old_heading) for s in diff(a, b).sections] == [
        ("modified", "Attendance", "1. Attendance"),
        ("moved", "Recording attendance", "2. Recording attendance"),
    ]


def test_heading_changed_only_in_case_keeps_its_old_heading_and_same_heading_has_none():
    a = doc(sections=[Section("System of controls: annex A", 2, "Prevent.")])
    b = edit(a, sections=[Section("System of Controls: Annex A", 2, "Prevent it.")])
    assert [(s.status, s.old_heading) for s in diff(a, b).sections] == [
        ("modified", "System of controls: annex A")
    ]
    c = edit(a, sections=[Section("System of controls: annex A", 2, "Prevent it.")])
    assert [(s.status, s.old_heading) for s in diff(a, c).sections] == [("modified", None)]


def test_reordered_sections_are_moved():
    a = doc()
    s = a.sections
    changes = diff(a, edit(a, sections=[s[0], s[2], s[1]]))
    assert changes.kind == "minor"
    assert len(changes.sections) == 1 and changes.sections[0].status == "moved"
    assert changes.sections[0].added_words == changes.sections[0].removed_words == 0


def test_removed_section_is_listed_where_it_was():
    a = doc()
    s = a.sections
    new = Section("Applying", 2, "Apply online.")
    changes = diff(a, edit(a, sections=[s[0], new, s[2]]))
    assert [(c.status, c.heading, c.added_words, c.removed_words) for c in changes.sections] == [
        ("removed", "Who this is for", 0, 7),
        ("added", "Applying", 2, 0),
    ]
    assert changes.sections[1].diff == [DiffOp("insert", "Apply online.")]


def test_duplicate_headings_pair_in_order():
    a = doc(sections=[Section("Example", 3, "First example."), Section("Example", 3, "Second example.")])
    b = edit(a, sections=[Section("Example", 3, "First example."), Section("Example", 3, "Second case.")])
    changes = diff(a, b)
    assert [(c.status, c.removed_words, c.added_words) for c in changes.sections] == [("modified", 1, 1)]


def test_rewritten_sentence_reads_as_one_deletion_and_one_insertion():
    ops = word_diff("the quick brown fox jumps over the lazy dog", "a slow brown cat leaps over one lazy dog")
    assert [op.op for op in ops] == ["delete", "insert", "equal"]
    assert ops[0].text == "the quick brown fox jumps over the"
    assert ops[1].text == "a slow brown cat leaps over one"


# --------------------------------------------------------------------------- attachments


def test_attachment_renamed_modified_added_removed():
    a = doc()
    b = edit(
        a,
        attachments=[
            Attachment(
                "Guidance for SENCOs", "https://www.gov.uk/government/publications/example/guidance", "html"
            ),
            Attachment(
                "Annex A", "https://assets.publishing.service.gov.uk/media/2/annex-a.pdf", "pdf", 2000
            ),
            Attachment("Annex C", "https://assets.publishing.service.gov.uk/media/3/annex-c.pdf", "pdf", 10),
        ],
    )
    changes = diff(a, b)
    assert changes.kind == "minor"
    assert [(c.status, c.title, c.old_title) for c in changes.attachments] == [
        ("renamed", "Guidance for SENCOs", "Guidance for schools"),
        ("modified", "Annex A", None),
        ("added", "Annex C", None),
    ]


def test_same_url_new_size_or_hash_is_modified_and_same_hash_new_title_is_renamed():
    url = "https://assets.publishing.service.gov.uk/media/1/a.pdf"
    a = doc(attachments=[Attachment("A", url, "pdf", 10, "h1"), Attachment("B", "/b.pdf", "pdf", 5, "h2")])
    b = edit(
        a, attachments=[Attachment("A", url, "pdf", 10, "h9"), Attachment("B2", "/b2.pdf", "pdf", 5, "h2")]
    )
    assert [(c.status, c.title, c.old_title) for c in diff(a, b).attachments] == [
        ("modified", "A", None),
        ("renamed", "B2", "B"),
    ]


def test_a_title_listed_twice_pairs_twice():
    twice = [Attachment("Easy read", "/easy-read", "html"), Attachment("Easy read", "/easy-read", "html")]
    a = doc(attachments=twice)
    assert diff(a, edit(a, attachments=list(twice))).kind == "none"
    changes = diff(a, edit(a, attachments=twice[:1]))
    assert [(c.status, c.title) for c in changes.attachments] == [("removed", "Easy read")]


# --------------------------------------------------------------------------- metadata


def test_title_summary_and_organisations():
    a = doc()
    b = edit(
        a, title="New title", summary="New summary.", organisations=["Department for Education", "Ofsted"]
    )
    assert [(m.field, m.old, m.new) for m in diff(a, b).metadata] == [
        ("title", "Example guidance", "New title"),
        ("summary", "How schools should do a thing.", "New summary."),
        ("organisations", "Department for Education", "Department for Education; Ofsted"),
    ]


# --------------------------------------------------------------------------- output


def test_json_keys_are_the_issues_in_its_order_and_round_trip():
    a = doc()
    sections = [*a.sections[:2], Section("Funding", 2, "Schools get funding.")]
    attachments = [Attachment("Renamed guidance", a.attachments[0].url), a.attachments[1]]
    b = edit(a, sections=sections, attachments=attachments, title="T2")
    data = diff(a, b).to_dict()
    assert list(data) == ISSUE_KEYS
    assert list(data["old"]) == ["title", "published", "last_updated", "history_count"]
    assert list(data["sections"][0]) == [
        "heading",
        "old_heading",
        "status",
        "added_words",
        "removed_words",
        "diff",
        "by_paragraph",
        "signals",
    ]
    assert list(data["sections"][0]["diff"][0]) == ["op", "text"]
    assert list(data["attachments"][0]) == ["title", "old_title", "url", "status"]
    assert list(data["metadata"][0]) == ["field", "old", "new"]
    assert ChangeSet.from_dict(json.loads(json.dumps(data))).to_dict() == data


def test_text_report_shows_changed_words_with_a_little_context():
    long_text = " ".join(f"w{k}" for k in range(200))
    a = doc(sections=[Section("Long", 2, long_text)])
    b = edit(a, sections=[Section("Long", 2, long_text.replace("w100", "CHANGED"))])
    report = text_report(diff(a, b))
    assert "Text changed: Long (1 word added, 1 removed)" in report
    assert "… w94 w95 w96 w97 w98 w99 [-w100-] [+CHANGED+] w101 w102 w103 w104 w105 w106 …" in report
    assert "w50" not in report and "w150" not in report
    assert text_report(diff(a, a)) == "No change.\n"


def test_html_view_escapes_page_text_and_marks_changes_two_ways():
    a = doc(sections=[Section("<b>Heading</b>", 2, "Keep <script>alert(1)</script> this.")])
    b = edit(a, sections=[Section("<b>Heading</b>", 2, "Keep <script>alert(2)</script> this.")])
    page = html_report(diff(a, b), old_name="old.html", new_name="new.html")
    # Punctuation is its own token, so only the changed digit is marked, inside the escaped text.
    assert "<script>" not in page and "&lt;script&gt;alert(<del>1</del> <ins>2</ins>)&lt;/script&gt;" in page
    assert "&lt;b&gt;Heading&lt;/b&gt;" in page
    assert "<ins>" in page and "<del>" in page
    assert "text-decoration: underline" in page and "text-decoration: line-through" in page


# --------------------------------------------------------------------------- real captures


def capture(page: str, name: str) -> Path:
    (file,) = (TIMELINE / page / name).glob("*.html")
    return file


def parse_capture(page: str, name: str) -> Document:
    return parse(
        capture(page, name).read_bytes(), "https://www.gov.uk/" + page.replace("~", "/"), "text/html"
    )


def section_facts(change) -> list:
    facts = [change.status, change.heading]
    return [*facts, change.old_heading] if change.old_heading else facts


def test_cases_cover_every_consecutive_pair_of_every_timeline():
    listed = {(case["page"], case["old"], case["new"]) for case in CASES}
    for page in TIMELINE.iterdir():
        captures = sorted(p.name for p in page.iterdir() if p.is_dir())
        for old, new in zip(captures, captures[1:], strict=False):
            assert (page.name, old, new) in listed


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_timeline_pair(case):
    old = parse_capture(case["page"], case["old"])
    new = parse_capture(case["page"], case["new"])
    changes = diff(old, new)
    assert changes.kind == case["kind"]
    assert [changes.old.last_updated, changes.new.last_updated] == case["last_updated"]
    assert [[h.date, h.note] for h in changes.history_added] == case["history_added"]
    assert [
        [a.status, a.title, a.old_title] if a.old_title else [a.status, a.title] for a in changes.attachments
    ] == case["attachments"]
    assert [[m.field, m.old, m.new] for m in changes.metadata] == case["metadata"]
    if "sections" in case:
        assert [section_facts(c) for c in changes.sections] == case["sections"]
    if "sections_removed" in case:
        assert [c.heading for c in changes.sections if c.status == "removed"] == case["sections_removed"]
    facts = [section_facts(c) for c in changes.sections]
    for expected in case.get("sections_include", []):
        assert expected in facts
    if not changes.metadata:
        assert len(changes.history_added) == changes.new.history_count - changes.old.history_count


def test_attribute_order_only_pair_is_none_with_exit_0_in_every_format():
    old, new = capture(SEND, "2021-09-27T1054_3fba4654fe"), capture(SEND, "2021-09-28T0759_93a7388d39")
    assert old.read_bytes() != new.read_bytes()
    runner = CliRunner()
    for output in ("text", "json", "html"):
        result = runner.invoke(main, ["diff", str(old), str(new), "--format", output])
        assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert json.loads(result.output)["changed"] is False
    assert runner.invoke(main, ["diff", str(old), str(new)]).output == "No change.\n"


def test_cli_reports_a_change_with_exit_1_and_the_issues_json():
    old, new = capture(SEND, "2022-02-23T1359_b8343c3957"), capture(SEND, "2022-02-24T0948_47a2e43da9")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert list(data) == [*ISSUE_KEYS, "note_check"]  # the issue's keys, then the note held against them
    assert data["kind"] == "major" and data["new"]["history_count"] == data["old"]["history_count"] + 1
    text = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert text.exit_code == 1
    assert "24 February 2022: We’ve updated the guidance" in text.output
    assert "Changed: SEND and specialist settings: additional COVID-19 operational guidance" in text.output
    page = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "html"])
    assert page.exit_code == 1 and page.output.startswith("<!DOCTYPE html>")
    assert "What GOV.UK said changed" in page.output and "We’ve updated the guidance" in page.output


def test_cli_detects_content_api_json():
    folder = FIXTURES / "content_api" / "same_document_two_times"
    result = CliRunner().invoke(
        main,
        ["diff", str(folder / "best-practice-speaking-notes.json"), str(folder / "speech-with-updates.json")],
    )
    assert result.exit_code == 1
    assert "Updates listed: 1 -> 2" in result.output


def test_cli_names_the_file_it_cannot_read_or_parse(tmp_path):
    good = capture(SEND, "2022-02-24T0948_47a2e43da9")
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "missing.html"), str(good)])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"guidance-monitor: {tmp_path / 'missing.html'}: cannot be read")
    junk = tmp_path / "junk.json"
    junk.write_bytes(b'{"base_path": "/x"}')
    result = CliRunner().invoke(main, ["diff", str(good), str(junk)])
    assert result.exit_code == 2
    assert f"guidance-monitor: {junk}: cannot be parsed" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_saved_pages_link_to_govuk_not_the_disk_unless_told_otherwise():
    old, new = capture(SEND, "2021-02-04T0900_d820ded4a4"), capture(SEND, "2021-02-22T1711_c1f659fc79")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1 and "file:" not in result.output
    page = "/" + SEND.replace("~", "/") + "/" + SEND.rsplit("~", 1)[1]
    removed = [a["url"] for a in json.loads(result.output)["attachments"] if a["url"].endswith(page)]
    assert removed == ["https://www.gov.uk" + page]
    mirrored = CliRunner().invoke(
        main, ["diff", str(old), str(new), "--format", "json", "--url", "https://mirror.example/a/b"]
    )
    assert [a["url"] for a in json.loads(mirrored.output)["attachments"] if a["url"].endswith(page)] == [
        "https://mirror.example" + page
    ]


def test_two_saved_pages_outside_govuk_compare_with_a_selector(tmp_path):
    old, new = tmp_path / "old.html", tmp_path / "new.html"
    page = (
        "<html><body><nav>Menu</nav><div id='doc'><h1>Policy</h1><h2>Fees</h2><p>{}</p></div></body></html>"
    )
    old.write_text(page.format("Fees are due in May."))
    new.write_text(page.format("Fees are due in June."))
    refused = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1
    assert refused.output.startswith(f"guidance-monitor: {old}: not a GOV.UK page: give --selector CSS")
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--selector", "#doc", "--format", "json"])
    assert result.exit_code == 1, result.output
    (section,) = json.loads(result.output)["sections"]
    assert (section["heading"], section["status"], section["removed_words"], section["added_words"]) == (
        "Fees",
        "modified",
        1,
        1,
    )


@pytest.mark.parametrize(
    "path",
    [
        f"html_timeline/{SEND_HTML}/2021-05-25T0759_f99114bcb7",
        "html_legacy/ilr-publication-2016-11.html",
        "content_api/tagged_to_two_coronavirus_taxons.json",
        "seed-govwire-mandatory-qualification-for-sencos.txt",
    ],
)
def test_real_page_against_itself_is_none(path):
    file = FIXTURES / path
    if file.is_dir():
        (file,) = file.glob("*.html")
    body = file.read_bytes()
    assert diff(parse(body, "https://www.gov.uk/x"), parse(body, "https://www.gov.uk/x")).kind == "none"


def test_one_word_edited_in_a_real_page_is_one_modified_section_with_one_word_each_way():
    file = capture(SEND_HTML, "2021-05-25T0759_f99114bcb7")
    body = file.read_bytes()
    sentence = b"Social care services for disabled children which provide respite care can"
    assert body.count(sentence) == 1
    edited = body.replace(sentence, sentence[: -len(b"can")] + b"may")
    url = "https://www.gov.uk/" + SEND_HTML.replace("~", "/")
    changes = diff(parse(body, url), parse(edited, url))
    assert changes.kind == "minor"
    assert [(c.heading, c.status, c.removed_words, c.added_words) for c in changes.sections] == [
        ("Respite care", "modified", 1, 1)
    ]
    ops = changes.sections[0].diff
    assert [op.op for op in ops] == ["equal", "delete", "insert", "equal"]
    assert (ops[1].text, ops[2].text) == ("can", "may")
    assert ops[0].text.endswith("which provide respite care")
    report = text_report(changes)
    assert "which provide respite care [-can-] [+may+]" in report
    assert "Changed without a change note" in report and "update note" not in report
    assert "{+" not in report  # one notation everywhere: the email's and the README's


def test_diff_partial_alone_shows_the_sections_and_all_parts_on_request():
    from jinja2 import Environment, FileSystemLoader

    from monitor import TEMPLATES_DIR

    a = doc()
    sections = [*a.sections[:2], Section("Funding", 2, "Schools get funding.")]
    b = edit(a, sections=sections, title="Renamed guidance")
    from monitor.plurals import plural

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    env.filters["plural"] = plural
    partial = env.get_template("_diff.html")
    alone = partial.render(changeset=diff(a, b), heading_level=3)
    assert "<h3>" in alone and "Funding" in alone and "Renamed guidance" not in alone
    everything = partial.render(
        changeset=diff(a, b).to_dict(), diff_parts=["summary", "sections", "metadata"], heading_level=2
    )
    assert "Silent edit" in everything and "<ins>Renamed guidance</ins>" in everything


def test_text_report_shortens_a_long_insertion_and_says_by_how_much():
    a = doc(sections=[Section("Long", 2, "Start. End.")])
    added = " ".join(f"n{k}" for k in range(100))
    b = edit(a, sections=[Section("Long", 2, f"Start. {added} End.")])
    report = text_report(diff(a, b))
    assert "[+n0 n1" in report and "n39 … (60 more words)+]" in report and "n40" not in report
    assert diff(a, b).sections[0].diff[1].text == added


def test_markup_noise_on_a_real_page_is_no_change():
    """Entities for characters, ids, tracking query strings and re-flowed whitespace change no word."""
    body = capture(SEND, "2022-02-24T0948_47a2e43da9").read_bytes()
    noisy = (
        body.replace("’".encode(), b"&rsquo;")
        .replace(b"<p>", b'<p id="para-1">')
        .replace(b'.pdf"', b'.pdf?utm_source=govdelivery&amp;utm_medium=email"')
        .replace(b"\n", b"\n   \n")
    )
    assert noisy.count(b"&rsquo;") > 0 and noisy.count(b"utm_source") > 0 and noisy.count(b"para-1") > 0
    url = "https://www.gov.uk/" + SEND.replace("~", "/")
    assert diff(parse(body, url), parse(noisy, url)).kind == "none"


def test_a_date_that_vanishes_is_not_a_move():
    a = doc()
    assert diff(a, edit(a, last_updated=None)).kind == "none"


@pytest.mark.parametrize("case", TEXTS, ids=[case["id"] for case in TEXTS])
def test_text_pair(case):
    """Items (paragraphs, list items, table rows) are aligned before words: each changed item is shown on
    its own, a new or removed one whole; typography and re-cut paragraphs are no change."""
    a = doc(sections=[Section("Section", 2, case["old_text"])])
    changes = diff(a, edit(a, sections=[Section("Section", 2, case["new_text"])]))
    if not case["items"]:
        assert changes.kind == "none" and changes.sections == []
        return
    (section,) = changes.sections
    assert not section.by_paragraph
    shown = [[item.status, diff_text(item.ops)] for item in diff_items(section.diff)]
    assert [item for item in shown if item[0] != "unchanged"] == case["items"]


def test_a_list_with_one_bullet_reworded_and_one_inserted_reads_as_two_bullets(tmp_path):
    """The acceptance of issue 21: `diff --format text` shows one changed bullet and one new bullet, each on
    its own line, never the list run together."""
    (case,) = [case for case in TEXTS if case["id"] == "text/one-bullet-reworded-one-inserted"]
    page = "<html><body><div id='doc'><h1>Guidance</h1><h2>Summary</h2><ul>{}</ul></div></body></html>"
    files = []
    for name in ("old_text", "new_text"):
        bullets = "".join(f"<li>{html.escape(line[2:])}</li>" for line in case[name].splitlines())
        files.append(tmp_path / f"{name}.html")
        files[-1].write_text(page.format(bullets), encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", *map(str, files), "--selector", "#doc", "--format", "text"])
    assert result.exit_code == 1, result.output
    lines = result.output.split("Text changed: Summary (11 words added, 0 removed)\n", 1)[1].splitlines()
    assert lines == [
        "      … deployment, supply staff, other support, recruitment,"
        " [+initial teacher training (+] ITT [+)+] , performance management, staff leave)",
        "      [+- attendance (pupils who are abroad, travel and quarantine)+]",
    ]


# --------------------------------------------------------------------------- typography

_STRAIGHT_AND_CURLY = {
    "'": "’",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "-": "–",
    "–": "-",
    "—": "-",
    " ": "\u00a0",
}


def typeset(text: str) -> str:
    """``text`` as another publishing tool would set it: straight quotes curled and curly ones
    straightened, hyphens made en dashes and dashes hyphens, full stops run together made an ellipsis and
    one space in two made a non-breaking one."""
    out, opened, spaces = [], False, 0
    for char in text.replace("...", "…"):
        if char == '"':
            out.append("”" if opened else "“")
            opened = not opened
        elif char == " ":
            spaces += 1
            out.append(" " if spaces % 2 else "\u00a0")
        else:
            out.append(_STRAIGHT_AND_CURLY.get(char, char))
    return "".join(out)


def typeset_page(body: bytes) -> bytes:
    """A captured page with the text of every element (not its markup) typeset anew."""
    root = lxml.html.fromstring(body.decode("utf-8"))
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag not in ("script", "style"):
            element.text = element.text and typeset(element.text)
            element.tail = element.tail and typeset(element.tail)
    return lxml.html.tostring(root, encoding="utf-8")


def test_a_real_page_typeset_anew_is_no_change_and_records_nothing(tmp_path):
    """The acceptance of issue 21: quotes curled, hyphens turned to dashes (and the other way round),
    spaces made non-breaking; `diff` exits 0 and the change rules record nothing."""
    old = capture(SEND_HTML, "2021-05-25T0759_f99114bcb7")
    new = tmp_path / "typeset.html"
    new.write_bytes(typeset_page(old.read_bytes()))
    url = "https://www.gov.uk/" + SEND_HTML.replace("~", "/")
    before, after = parse(old.read_bytes(), url), parse(new.read_bytes(), url)
    # The copy reads differently, character by character, in its title, headings and text.
    assert before.content_hash != after.content_hash and before.title != after.title
    pairs = zip(before.sections, after.sections, strict=True)
    changed = sum(a != b for x, y in pairs for a, b in zip(x.text, y.text, strict=False))
    assert changed > 300
    changeset = diff(before, after)
    assert changeset.kind == "none" and changeset.sections == changeset.metadata == []
    assert changeset.attachments == changeset.history_added == []
    for output in ("text", "json", "html"):
        result = CliRunner().invoke(main, ["diff", str(old), str(new), "--url", url, "--format", output])
        assert result.exit_code == 0, result.output
    answer = model.Answer(model.FetchResult(url, url, status=200), after)
    recent = [model.SnapshotRef(1, before.content_hash)]
    assert (
        changes.decide(
            model.PageState(url), answer, "2024-03-01T07:00:00+00:00", last=before, recent=recent
        ).changes
        == []
    )


def test_a_real_edit_in_a_page_typeset_anew_marks_only_the_edit():
    """Within a real change, typography is not marked: one word edited in a typeset copy is one word."""
    body = capture(SEND_HTML, "2021-05-25T0759_f99114bcb7").read_bytes()
    sentence = b"Social care services for disabled children which provide respite care can"
    edited = typeset_page(body.replace(sentence, sentence[: -len(b"can")] + b"may"))
    url = "https://www.gov.uk/" + SEND_HTML.replace("~", "/")
    changeset = diff(parse(body, url), parse(edited, url))
    assert [(c.heading, c.status, c.removed_words, c.added_words) for c in changeset.sections] == [
        ("Respite care", "modified", 1, 1)
    ]
    assert [op.text for op in changeset.sections[0].diff if op.op != "equal"] == ["can", "may"]


def test_ellipses_and_compatibility_forms_are_typography():
    a = doc(sections=[Section("Overview", 2, "Schools must ... ﬁnd the 2021-22 funding")])
    b = edit(a, sections=[Section("Overview", 2, "Schools must … find the 2021–22 funding")])
    assert diff(a, b).kind == "none"
    c = edit(a, sections=[Section("Overview", 2, "Schools must … find the 2022–23 funding")])
    assert [op.text for op in diff(a, c).sections[0].diff if op.op != "equal"] == ["2021-22", "2022–23"]


# --------------------------------------------------------------------------- bounded


def test_a_diff_too_large_to_weigh_word_by_word_is_shown_item_by_item_and_says_so():
    """Items that repeat too often to anchor on, in a stretch too long to pair, are shown whole: deleted
    and inserted, flagged, and the report says why. Real bullets (the "Separate guidance is available for"
    list of the SEND and specialist settings page), repeated and shuffled."""
    bullets = ["- early years", "- schools", "- out-of-school settings"] * 1000
    shuffled = list(bullets)
    random.Random(0).shuffle(shuffled)
    old, new = (Section("Who this guidance is for", 2, "\n".join(items)) for items in (bullets, shuffled))
    (section,) = diff_sections([old], [new], Effort())
    changes = ChangeSet("minor", sections=[section])
    assert section.by_paragraph and changes.to_dict()["sections"][0]["by_paragraph"] is True
    statuses = {item.status for item in diff_items(section.diff)}
    assert "changed" not in statuses and {"inserted", "deleted"} <= statuses
    assert section.added_words == section.removed_words
    assert "(shown paragraph by paragraph: too large to compare word by word)" in text_report(changes)
    assert ChangeSet.from_dict(changes.to_dict()).sections[0].by_paragraph


def test_an_ordinary_change_is_weighed_word_by_word():
    old, new = (
        capture(SEND_HTML, "2021-03-19T0915_7202b0efa4"),
        capture(SEND_HTML, "2021-05-25T0759_f99114bcb7"),
    )
    url = "https://www.gov.uk/" + SEND_HTML.replace("~", "/")
    changes = diff(parse(old.read_bytes(), url), parse(new.read_bytes(), url))
    assert changes.sections and not any(section.by_paragraph for section in changes.sections)
