"""The digest, the changelog and its feeds, rendered from real GOV.UK captures and from hostile pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import feedparser
import lxml.html
import pytest
from site_support import built

from monitor import govuk, render
from monitor.changes import changes_for
from monitor.diff import diff
from monitor.model import (
    AttachmentChange,
    Change,
    ChangeSet,
    DiffOp,
    Document,
    HistoryEntry,
    PageState,
    Section,
    SectionChange,
)
from monitor.parse import parse

TIMELINE = Path(__file__).parent / "fixtures" / "html_timeline"
GOVUK = "https://www.gov.uk/"
SITE = "https://changes.example.org/dfe"


@dataclass
class Case:
    """Two real captures of one page: the diff between them is what the outputs must show."""

    folder: str
    old: str
    new: str


CASES = [
    Case(
        "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings",
        "2021-02-04T0900_d820ded4a4",
        "2021-02-22T1711_c1f659fc79",
    ),
    Case(
        "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
        "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19",
        "2021-03-19T0915_7202b0efa4",
        "2021-05-25T0759_f99114bcb7",
    ),
    Case(
        "government~publications~school-attendance",
        "2022-05-06T1226_238e2b6e46",
        "2022-08-04T1405_55caf834a9",
    ),
    Case(
        "guidance~senior-mental-health-lead-training",
        "2022-07-11T0801_99406529e9",
        "2022-08-18T1109_ddcabac416",
    ),
]


def capture(case: Case, which: str) -> Document:
    url = GOVUK + case.folder.replace("~", "/")
    folder = TIMELINE / case.folder / which
    return parse(next(folder.glob("*.html")).read_bytes(), url, "text/html")


def recorded(case: Case, change_id: int = 1) -> tuple[Change, PageState]:
    """The change a run records between the case's two captures, by the change rules themselves."""
    old, new = capture(case, case.old), capture(case, case.new)
    page = PageState(url=new.url, title=new.title)
    [change] = changes_for(page, (1, old), new, None, f"{case.new[:10]}T09:00:00+00:00")
    change.id, change.old_snapshot_id = change_id, None  # the earlier capture is not stored here
    return change, page


def text_of(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.folder.rsplit("~", 1)[-1][:40])
def test_real_change_is_shown_in_digest_site_and_feed(case: Case) -> None:
    change, page = recorded(case)
    changeset = change.changeset
    assert changeset is not None and changeset.changed
    subject, text, html = render.digest(
        [change], [page], since=None, site_url=SITE, organisations={page.url: ["Department for Education"]}
    )
    # One page changed: the subject names it and says what GOV.UK said, within 78 characters.
    assert subject.startswith("“") and len(subject) <= render.SUBJECT_LIMIT
    told = ("” updated: ", "” changed without a change note", "” updated with its publication")
    assert any(what in subject for what in told), subject
    files = built([page], [change], site_url=SITE)
    change_page = files["changes/1.html"]
    visible = {"html": text_of(html), "text": " ".join(text.split()), "site": text_of(change_page)}
    for where, shown in visible.items():
        assert change.title in shown, where
        for entry in changeset.history_added:
            assert " ".join(entry.note.split()) in shown, where
        for section in changeset.sections:
            assert " ".join(section.heading.split()) in shown, where
        for attachment in changeset.attachments:
            assert " ".join(attachment.title.split()) in shown, where
    assert f"{SITE}/changes/1.html" in text and f"{SITE}/changes/1.html" in html
    inserted = [op.text.strip() for s in changeset.sections for op in s.diff if op.op == "insert"]
    for words in inserted[:3]:
        if words:
            assert "[+" + words.split()[0] in text
    if inserted:
        assert "<ins style=" in html and "text-decoration:underline" in html
    feed = feedparser.parse(files[f"pages/{govuk.page_slug(page.url)}.xml"])
    assert not feed.bozo, feed.get("bozo_exception")
    assert [e.id for e in feed.entries] == ["tag:changes.example.org,2026:dfe:change/1"]


def test_subject_counts_distinct_pages_and_names_a_shared_organisation() -> None:
    when = "2026-11-27T08:00:00+00:00"
    changes = [
        Change(f"{GOVUK}a", "major", when, "A", note="x", id=1),
        Change(f"{GOVUK}a", "minor", when, "A", id=2),
        Change(f"{GOVUK}b", "minor", when, "B", id=3),
        Change(f"{GOVUK}c", "major", when, "C", id=4),
    ]
    dfe = {f"{GOVUK}{p}": ["Department for Education"] for p in "abc"}
    subject, _, _ = render.digest(changes, [], since="2026-11-27", organisations=dfe)
    assert subject.startswith("3 DfE guidance pages changed since 27 November")
    mixed = {**dfe, f"{GOVUK}c": ["Ofsted"]}
    assert render.digest(changes, [], since="2026-11-27", organisations=mixed)[0].startswith(
        "3 GOV.UK guidance pages changed since 27 November"
    )
    one = render.digest(changes[:2], [], since="2026-11-27", organisations=dfe)[0]
    assert one == "“A” updated: x"  # one page: named, with its newest note


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2026-11-27", "27 November 2026"),
        ("2026-07-01T23:30:00+00:00", "2 July 2026"),  # British Summer Time: already the next day
        ("2026-12-01T23:30:00Z", "1 December 2026"),  # GMT
        ("2026-03-29T00:30:00+00:00", "29 March 2026"),
    ],
)
def test_dates_are_shown_as_people_read_them_in_london(value: str, shown: str) -> None:
    assert render.london_date(value) == shown


def test_silent_edit_backfill_and_failing_pages() -> None:
    url = f"{GOVUK}guidance/x"
    silent = Change(
        url,
        "minor",
        "2026-11-27T07:00:00+00:00",
        "X guidance",
        ChangeSet(
            "minor",
            sections=[
                SectionChange(
                    "Who it applies to",
                    "modified",
                    added_words=1,
                    removed_words=1,
                    diff=[DiffOp("equal", "Schools "), DiffOp("delete", "may"), DiffOp("insert", "must")],
                )
            ],
        ),
        id=7,
    )
    old = Change(url, "major", "2026-11-20T07:00:00+00:00", "X guidance", note="First published.", id=3)
    old.backfilled, old.effective_date = True, "2023-07-05"
    failing = PageState(
        url=f"{GOVUK}guidance/y", title="Y guidance", consecutive_failures=3, last_error="HTTP 503"
    )
    fine = PageState(
        url=f"{GOVUK}guidance/z", title="Z guidance", consecutive_failures=2, last_error="timed out"
    )
    subject, text, html = render.digest([old, silent], [failing, fine], since=None, alert_after_failures=3)
    assert subject == "“X guidance” changed without a change note"
    for body in (text, text_of(html)):
        assert "Changed without a change note" in body
        assert "We could not check Y guidance for 3 runs: HTTP 503" in body
        assert "Z guidance" not in body
        assert "First published." not in body  # backfilled history is never emailed
    assert "Schools [-may-] [+must+]" in text
    files = built([PageState(url=url, title="X guidance")], [old, silent])
    timeline = text_of(files[f"pages/{govuk.page_slug(url)}.html"])
    assert "Published before monitoring began" in timeline and "5 July 2023" in timeline
    assert timeline.index("27 November 2026") < timeline.index("5 July 2023")  # newest first
    assert "Changed without a change note" in text_of(files[f"changes/{silent.id}.html"])
    assert f"changes/{silent.id}.html" in files["kind/minor.html"]
    assert f"changes/{old.id}.html" not in files["kind/minor.html"]
    assert "kind/minor.html" in files["index.html"]
    assert "kind/major.html" not in files["index.html"]  # backfilled history is on the timeline only


HOSTILE = '<script>document.title="PWNED"</script><img src=x onerror="alert(1)">" onmouseover="alert(2)'


def hostile_records() -> tuple[list[Change], list[PageState]]:
    url = f"{GOVUK}guidance/hostile"
    changeset = ChangeSet(
        "major",
        history_added=[HistoryEntry("2026-11-27", HOSTILE)],
        sections=[SectionChange(HOSTILE, "modified", added_words=1, diff=[DiffOp("insert", HOSTILE)])],
        attachments=[AttachmentChange(HOSTILE, "javascript:alert(3)", "added")],
    )
    change = Change(
        url, "major", "2026-11-27T07:00:00+00:00", HOSTILE, changeset, HOSTILE, "2026-11-27", id=9
    )
    moved = Change(url, "moved", "2026-11-28T07:00:00+00:00", HOSTILE, note=HOSTILE, id=10)
    moved.new_url = "javascript:alert(4)"
    return [change, moved], [PageState(url=url, title=HOSTILE, last_error=HOSTILE, consecutive_failures=5)]


def assert_inert(html: str) -> None:
    tree = lxml.html.fromstring(html)
    assert not tree.xpath("//script"), "a <script> element was rendered"
    assert not tree.xpath("//img"), "an injected element was rendered"
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), f"event handler {name} on <{element.tag}>"
            if name in ("href", "src"):
                assert not value.strip().lower().startswith("javascript"), value
    assert "PWNED" in tree.text_content()  # shown, as text


def test_hostile_page_content_renders_as_text_everywhere() -> None:
    changes, pages = hostile_records()
    _, text, html = render.digest(changes, pages, since=None, site_url=SITE)
    assert_inert(html)
    assert HOSTILE in text  # the plain-text part is not HTML: shown exactly
    files = built(pages, changes, site_url=SITE)
    for path, content in files.items():
        if path == "search.html":  # the search box's own scripts, with nothing taken from a page
            assert HOSTILE not in content and "<script>alert" not in content
        elif path.endswith(".html") and path != "dates.html":  # no snapshot, no date: test_dates_calendar
            assert_inert(content)
    feed = feedparser.parse(files["feed.xml"])
    assert not feed.bozo and len(feed.entries) == 2
    assert "javascript:" not in " ".join(link.href for e in feed.entries for link in e.links)


def test_only_http_links_go_live() -> None:
    assert render.http_url("https://www.gov.uk/x") == "https://www.gov.uk/x"
    for bad in (
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,x",
        "//evil",
        "/relative",
        "",
        None,
    ):
        assert render.http_url(bad) is None


def test_feeds_have_one_entry_per_change_and_ids_that_survive_rebuilds() -> None:
    changes = [recorded(case, i + 1)[0] for i, case in enumerate(CASES)]
    pages = [recorded(case)[1] for case in CASES]
    first = built(pages, changes, site_url=SITE)
    again = built(pages, changes, site_url=SITE)
    feed = feedparser.parse(first["feed.xml"])
    assert not feed.bozo, feed.get("bozo_exception")
    assert sorted(e.id for e in feed.entries) == [
        f"tag:changes.example.org,2026:dfe:change/{i}" for i in (1, 2, 3, 4)
    ]
    assert [e.id for e in feedparser.parse(again["feed.xml"]).entries] == [e.id for e in feed.entries]
    assert all(e.link.startswith(f"{SITE}/changes/") for e in feed.entries)
    for page in pages:
        per_page = feedparser.parse(first[f"pages/{govuk.page_slug(page.url)}.xml"])
        assert not per_page.bozo and len(per_page.entries) == 1
    index = first["index.html"]
    dates = [render.change_date(c) for c in changes]
    positions = [index.index(f'changes/{c.id}.html"') for c in changes]
    assert [d for _, d in sorted(zip(positions, dates, strict=True))] == sorted(dates, reverse=True)


def test_changeset_html_from_the_diff_command_is_escaped() -> None:
    before = Document(url=f"{GOVUK}x", title="X", sections=[Section("Rules", 2, "Schools may do it.")])
    after = Document(url=f"{GOVUK}x", title="X", sections=[Section("Rules", 2, "Schools must <b>do</b> it.")])
    html = render.changeset_html(diff(before, after))
    assert "&lt;b&gt;" in html and re.search(r"<ins>[^<]*must", html)


def test_undated_history_stays_undated_and_a_move_links_only_to_http() -> None:
    url = f"{GOVUK}guidance/x"
    undated = Change(
        url, "major", "2026-11-20T07:00:00+00:00", "X", note="Updated annex A.", backfilled=True, id=1
    )
    moved = Change(url, "moved", "2026-11-21T07:00:00+00:00", "X", note=f"Now at {GOVUK}guidance/y", id=2)
    moved.new_url = f"{GOVUK}guidance/y"
    files = built([PageState(url=url, title="X")], [undated, moved])
    timeline = text_of(files[f"pages/{govuk.page_slug(url)}.html"])
    assert "No date given" in timeline and "20 November 2026" not in timeline
    assert "GOV.UK gives no date" not in timeline  # a mirror may have been the source
    assert f'href="{GOVUK}guidance/y"' in files["changes/2.html"]
    assert text_of(files["changes/2.html"]).count(f"{GOVUK}guidance/y") == 1
    assert not feedparser.parse(files["feed.xml"]).bozo


def test_change_page_dates_each_change_note_and_says_when_last_updated_moved() -> None:
    change, page = recorded(CASES[3])
    html = built([page], [change], site_url=SITE)["changes/1.html"]
    added = change.changeset.history_added
    assert len(added) == 3
    for entry in added:
        assert f'<time datetime="{entry.date}">{render.london_date(entry.date)}</time>' in html
    old, new = change.changeset.old.last_updated, change.changeset.new.last_updated
    assert old != new
    assert (
        f'moved from <time datetime="{old}">{render.london_date(old)}</time> to '
        f'<time datetime="{new}">{render.london_date(new)}</time>' in html
    )


def many_notes_change() -> tuple[Change, PageState]:
    """Five history entries GOV.UK added between two checks, each with its own date, one undated."""
    url = f"{GOVUK}guidance/send-code"
    entries = [
        HistoryEntry("2022-01-19", "Updated to reflect the new attendance rules."),
        HistoryEntry("2022-01-12", "Added annex B."),
        HistoryEntry("2022-01-05", "Corrected a link."),
        HistoryEntry(None, "Clarified the deadline."),
        HistoryEntry("2021-12-20", "Added a Welsh translation."),
    ]
    changeset = ChangeSet("major", history_added=entries)
    change = Change(
        url, "major", "2022-01-20T07:00:00+00:00", "SEND code", changeset, entries[0].note, "2022-01-19", id=5
    )
    return change, PageState(url=url, title="SEND code")


def test_each_change_note_is_shown_with_its_own_date_wherever_notes_are_listed() -> None:
    change, page = many_notes_change()
    _, text, html = render.digest([change], [page], since=None, site_url=SITE)
    files = built([page], [change], site_url=SITE)
    slug = govuk.page_slug(page.url)
    feed_html = " ".join(
        text_of(e.content[0].value)
        for path in ("feed.xml", f"pages/{slug}.xml")
        for e in feedparser.parse(files[path]).entries
    )
    shown = {
        "email text": " ".join(text.split()),
        "email html": text_of(html),
        "feeds": feed_html,
    }
    for where, body in shown.items():
        assert "19 January 2022: Updated to reflect the new attendance rules." in body, where
        assert "5 January 2022: Corrected a link." in body, where
        assert "20 December 2021: Added a Welsh translation." in body, where
        assert "(no date given): Clarified the deadline." in body or "No date given: Clarified" in body, where
    listed = {
        "timeline": text_of(files[f"pages/{slug}.html"]),
        "index": text_of(files["index.html"]),
        "kind page": text_of(files["kind/major.html"]),
    }
    for where, body in listed.items():
        assert "19 January 2022: Updated to reflect the new attendance rules." in body, where
        assert "12 January 2022: Added annex B." in body, where
        assert "and 2 earlier updates since the last check" in body, where
        assert "at the same time" not in body, where
    assert '<time datetime="2022-01-12">12 January 2022</time>' in files["index.html"]


def test_one_note_dated_as_its_change_is_not_dated_twice() -> None:
    change, page = recorded(CASES[0])
    assert len(change.changeset.history_added) == 1
    entry = change.changeset.history_added[0]
    _, text, _ = render.digest([change], [page], since=None)
    assert f"GOV.UK's change note: {' '.join(entry.note.split())}" in " ".join(text.split())
    timeline = text_of(built([page], [change])[f"pages/{govuk.page_slug(page.url)}.html"])
    assert (
        f"{render.london_date(entry.date)}: " not in timeline and render.london_date(entry.date) in timeline
    )


def test_counts_are_singular_for_one() -> None:
    url = f"{GOVUK}guidance/x"
    one = SectionChange("Rules", "modified", added_words=1, removed_words=1, diff=[DiffOp("insert", "must")])
    two = SectionChange("Scope", "modified", added_words=2, removed_words=0, diff=[DiffOp("insert", "a b")])
    change = Change(url, "minor", "2026-11-27T07:00:00+00:00", "X", ChangeSet("minor", sections=[one]), id=1)
    other = Change(url, "minor", "2026-11-28T07:00:00+00:00", "X", ChangeSet("minor", sections=[two]), id=2)
    failing = PageState(url=f"{GOVUK}y", title="Y", consecutive_failures=1, last_error="HTTP 503")
    _, text, html = render.digest([change, other], [failing], since=None, alert_after_failures=1)
    files = built([PageState(url=url, title="X")], [change, other])
    for where, body in {
        "text": text,
        "html": text_of(html),
        "site change": text_of(files["changes/1.html"]),
        "timeline": text_of(files[f"pages/{govuk.page_slug(url)}.html"]),
    }.items():
        assert "1 words" not in body and "1 runs" not in body, where
        assert "1 word added" in body and "2 words added" in body or where == "site change", where
    assert "(1 word added, 1 removed)" in text and "(2 words added, 0 removed)" in text
    assert "for 1 run: HTTP 503" in text


def test_subject_abbreviates_an_organisation_however_it_is_capitalised() -> None:
    changes = [Change(f"{GOVUK}a", "new", "2026-11-27T08:00:00+00:00", "A", note="First seen", id=1)]
    for name in ("Department For Education", "department  for education", " Department for Education "):
        subject = render.digest(changes, [], since=None, organisations={f"{GOVUK}a": [name]})[0]
        assert subject == "Now watching 1 DfE guidance page", name


def test_the_word_diff_key_is_shown_only_when_words_are_diffed() -> None:
    url = f"{GOVUK}guidance/x"
    new = Change(url, "new", "2026-11-27T07:00:00+00:00", "X", note="First seen", id=1)
    _, text, html = render.digest([new], [], since=None)
    assert "[+like this+]" not in text and "Inserted words" not in html
    case_change, page = recorded(CASES[3], 2)
    _, text, html = render.digest([new, case_change], [page], since=None)
    assert "[+like this+]" in text and "Inserted words" in html


def test_a_backfilled_first_published_entry_is_labelled_first_published() -> None:
    url = f"{GOVUK}guidance/x"
    first = Change(url, "major", "2026-11-20T07:00:00+00:00", "X", note="First published.", id=1)
    first.backfilled, first.effective_date = True, "2023-07-05"
    later = Change(url, "major", "2026-11-20T07:00:00+00:00", "X", note="Added annex A.", id=2)
    later.backfilled, later.effective_date = True, "2024-01-10"
    files = built([PageState(url=url, title="X")], [first, later], site_url=SITE)
    assert first.kind == "major"
    timeline_html = files[f"pages/{govuk.page_slug(url)}.html"]
    assert re.search(r'tag--major">First published<', timeline_html)
    assert re.search(r'tag--major">Updated with a change note<', timeline_html)
    # history from before monitoring began is on the timeline, not a page each nor a new feed entry
    assert "changes/1.html" not in files and "changes/2.html" not in files
    assert feedparser.parse(files["feed.xml"]).entries == []
    timeline = text_of(timeline_html)
    assert "5 July 2023 First published" in timeline


def test_pages_list_says_a_page_could_not_be_checked_and_why() -> None:
    never = PageState("https://www.gov.uk/guidance/never-read", title="Never read", consecutive_failures=2)
    never.last_error = "HTTP 503 after 3 tries"
    failing = PageState("https://www.gov.uk/guidance/failing", title="Failing now", consecutive_failures=1)
    failing.last_error = "timed out after 30 s"
    quiet = PageState("https://www.gov.uk/guidance/quiet", title="Quiet")
    changed = Change(failing.url, "minor", "2026-11-27T07:00:00Z", "Failing now", id=1)
    listing = text_of(built([never, failing, quiet], [changed])["pages.html"])
    assert "Never read not read yet: it could not be checked (HTTP 503 after 3 tries)" in listing
    assert "could not be checked on the last 1 run (timed out after 30 s)" in listing
    assert "Quiet no changes recorded" in listing
    assert "Never read no changes recorded" not in listing


def test_a_change_page_shows_the_word_diff_key_only_when_words_are_diffed() -> None:
    page = PageState("https://www.gov.uk/guidance/x", title="X")
    renamed = ChangeSet("minor", attachments=[AttachmentChange("B", "https://www.gov.uk/b", "renamed", "A")])
    worded = ChangeSet(
        "minor",
        sections=[
            SectionChange("Intro", "modified", diff=[DiffOp("delete", "old"), DiffOp("insert", "new")])
        ],
    )
    changes = [
        Change(page.url, "minor", "2026-11-27T07:00:00Z", "X", changeset=renamed, id=1),
        Change(page.url, "minor", "2026-11-28T07:00:00Z", "X", changeset=worded, id=2),
    ]
    files = built([page], changes)
    assert "Renamed" in text_of(files["changes/1.html"])
    assert "Inserted words are" not in text_of(files["changes/1.html"])
    assert "Inserted words are" in text_of(files["changes/2.html"])
