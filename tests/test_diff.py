"""The diff stage: hand-built Documents for each rule, then real GOV.UK captures through ``parse()``.

Real pairs are rows of ``tests/diff_cases.yaml``: a new page pair is one row, no code.
"""

from __future__ import annotations

import json
from dataclasses import replace

from monitor.diff import attachment_url_key, diff, html_report, text_report, word_diff
from monitor.model import Attachment, ChangeSet, DiffOp, Document, HistoryEntry, Section

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
    assert "modified: Long (+1 -1 words)" in report
    assert "… w94 w95 w96 w97 w98 w99 [-w100-] {+CHANGED+} w101 w102 w103 w104 w105 w106 …" in report
    assert "w50" not in report and "w150" not in report
    assert text_report(diff(a, a)) == "No change.\n"


def test_html_view_escapes_page_text_and_marks_changes_two_ways():
    a = doc(sections=[Section("<b>Heading</b>", 2, "Keep <script>alert(1)</script> this.")])
    b = edit(a, sections=[Section("<b>Heading</b>", 2, "Keep <script>alert(2)</script> this.")])
    page = html_report(diff(a, b), old_name="old.html", new_name="new.html")
    assert "<script>" not in page and "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&lt;b&gt;Heading&lt;/b&gt;" in page
    assert "<ins>" in page and "<del>" in page
    assert "text-decoration: underline" in page and "text-decoration: line-through" in page
