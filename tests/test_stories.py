"""One story everywhere, led by what matters, newest news first: asserted on the demo's real publication
timeline (one run a session, ``demo_run``) and on real captures of its operational guidance.

The demo replays eight captured days of "Special schools and other specialist settings: coronavirus
(COVID-19)" and its HTML documents; six of them changed something. Each such day is one update of the
publication, its documents' changes, moves and newly followed addresses folded inside it.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import feedparser
import lxml.html
from click.testing import CliRunner
from conftest import DemoRun
from site_support import build_site

from monitor import render
from monitor.changes import changes_for
from monitor.cli import main
from monitor.clock import london_day
from monitor.diff import diff
from monitor.model import Change, Document, PageState
from monitor.notes import NoteCheck
from monitor.parse import parse
from monitor.render import chat
from monitor.store import Store

GUIDANCE = (
    Path(__file__).parent
    / "fixtures"
    / "html_timeline"
    / (
        "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
        "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
    )
)
GUIDANCE_URL = (
    "https://www.gov.uk/government/publications/guidance-for-full-opening-special-schools-and-other-"
    "specialist-settings/send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
)


def entries(html_path: Path) -> list[lxml.html.HtmlElement]:
    """The entries of a list page of the site (the index, a kind, signal or month page, a timeline)."""
    page = lxml.html.parse(str(html_path)).getroot()
    return page.xpath('//ol[contains(@class, "change-list")]/li')


def words(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def link_of(entry: lxml.html.HtmlElement) -> str:
    """The change page an entry links to (``changes/<id>.html``): the update it tells."""
    hrefs = entry.xpath('.//p[@class="change-item__link"]/a/@href')
    return hrefs[0].rsplit("/", 1)[-1] if hrefs else ""


def lead_of(entry: lxml.html.HtmlElement) -> str:
    """What an entry leads with: GOV.UK's note (or that there was none), what the note leaves out and
    what matters."""
    parts = entry.xpath('./p[@class="change-note" or @class="warning"] | ./ul[@class="matters"]')
    return " | ".join(words(part) for part in parts)


def read(eml: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parse(eml.open("rb"))  # type: ignore[return-value]


def demo_days(db: sqlite3.Connection) -> list[str]:
    """The simulated days that recorded something, by GOV.UK's clock."""
    stamps = db.execute("SELECT DISTINCT detected_at FROM changes WHERE backfilled = 0 AND kind != 'none'")
    return sorted({london_day(stamp) or "" for (stamp,) in stamps})


def test_the_index_tells_one_update_per_day_that_changed_newest_news_first(demo_run: DemoRun) -> None:
    site = demo_run.out / "site"
    db = sqlite3.connect(demo_run.out / "monitor.db")
    days = demo_days(db)
    listed = entries(site / "index.html")
    assert len(listed) == len(days) == 6
    dated = [(e.xpath('.//p[@class="change-meta"]/time/@datetime')[0], words(e)) for e in listed]
    titles = [e.xpath('.//*[@class="change-item__title"]')[0].text_content() for e in listed]
    assert len(set(zip([d for d, _ in dated], titles, strict=True))) == len(listed)  # no date and title twice
    # Newest news first, by GOV.UK's date; the day the pages were first watched comes last.
    updates = [d for d, text in dated if "Now being watched" not in text]
    assert updates == sorted(updates, reverse=True) and len(updates) == 5
    assert "Now being watched" in dated[-1][1]
    # The update of 2 December 2021 is one entry: the note first, its documents folded inside, the
    # document moved and changed at once one item, its twin address (the same diff) not told again.
    newest = words(listed[0])
    assert newest.index("Converted to HTML to improve accessibility") < newest.index("What changed")
    documents = listed[0].xpath('.//ul[@class="story-documents"]/li')
    assert len(documents) == 1
    document = words(documents[0])
    assert document.count("Changed with its publication") == 1 and "moved to http" in document
    assert "Changed without a change note" not in newest


def test_archives_kind_and_timeline_pages_tell_each_update_as_the_index_does(demo_run: DemoRun) -> None:
    site = demo_run.out / "site"
    index = {link_of(e): words(e) for e in entries(site / "index.html")}
    leads = {link_of(e): lead_of(e) for e in entries(site / "index.html")}
    listed_elsewhere = [
        *(site / "archive").glob("*.html"),
        *(site / "kind").glob("*.html"),
        *(site / "signal").glob("*.html"),
        *(site / "pages").glob("*.html"),
    ]
    seen: set[str] = set()
    for path in listed_elsewhere:
        for entry in entries(path):
            key = link_of(entry)
            if key not in index:
                continue  # history from before monitoring began, on a page's timeline only
            seen.add(key)
            said = words(entry)
            # Never "Changed without a change note" where the index explains the change.
            for label in ("Changed without a change note", "Changed with its publication"):
                assert (label in said) == (label in index[key]), (path.name, key, label)
            assert lead_of(entry) == leads[key], (path.name, key)
    assert seen == set(index)
    # Only an update with a silent part is listed as changed without a note: none in the demo.
    assert not (site / "kind" / "minor.html").exists()
    assert len(entries(site / "kind" / "moved.html")) == 2


def test_the_feed_has_one_entry_per_update_led_by_the_note(demo_run: DemoRun) -> None:
    site = demo_run.out / "site"
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert len(feed.entries) == 6 and len({e.id for e in feed.entries}) == 6
    index = [link_of(e).removesuffix(".html") for e in entries(site / "index.html")]
    assert [e.id.rsplit("/", 1)[-1] for e in feed.entries] == index
    newest = feed.entries[0]
    assert newest.title.startswith("Special schools and other specialist settings: coronavirus (COVID-19): ")
    assert "Converted to HTML to improve accessibility" in newest.title
    content = " ".join(lxml.html.fromstring(newest.content[0].value).text_content().split())
    # Two notes came with it, each dated; the newest leads.
    assert content.startswith("2 December 2021: Converted to HTML to improve accessibility")


def test_a_one_update_subject_names_the_page_and_the_notes_first_words(demo_run: DemoRun) -> None:
    db = sqlite3.connect(demo_run.out / "monitor.db")
    publication = db.execute("SELECT url FROM pages WHERE parent_url IS NULL").fetchone()[0]
    notes = {
        london_day(stamp): note
        for stamp, note in db.execute(
            "SELECT detected_at, note FROM changes WHERE page_url = ? AND kind = 'major' AND backfilled = 0",
            [publication],
        )
    }
    subjects = {
        london_day(m.group(1)): read(eml)["Subject"]
        for eml in demo_run.out.glob("*.eml")
        if (m := re.search(r"digest-(\d{8}T\d{4}Z)", eml.name))
    }
    assert len(notes) == 5
    for day, note in notes.items():
        subject = subjects[day]
        assert len(subject) <= render.SUBJECT_LIMIT and "1 pages" not in subject
        assert subject.startswith("“Special schools") and "” updated: " in subject
        # The note's first words, never cut to a handful for the sake of the title.
        first = " ".join(note.split()[:5])
        assert first in subject, (subject, note)


def test_the_json_webhook_holds_one_story_per_update(demo_run: DemoRun) -> None:
    with Store(demo_run.out / "monitor.db") as store:
        pages = store.pages(active_only=False)
        runs: dict[str, list] = {}
        for change in store.changes():
            if not change.backfilled and change.kind != "none":
                runs.setdefault(change.detected_at, []).append(change)
    assert len(runs) == 6
    for detected_at, changes in runs.items():
        body = chat.json_body(chat.Digest(changes, pages, site_url="https://changes.example.org"))
        assert len(body["changes"]) == len(changes)  # each change as before
        [story] = body["stories"]
        assert story["change_ids"] and story["site_link"].startswith("https://changes.example.org/changes/")
        assert sorted(story["all_change_ids"]) == sorted(c.id for c in changes), detected_at
        assert len(story["matters"]) <= 3
        if story["note"]:
            assert story["headline"].endswith(story["note"]) and not story["note_check"]["silent"]


def test_each_edit_is_stored_with_its_note_held_against_it(demo_run: DemoRun) -> None:
    db = sqlite3.connect(demo_run.out / "monitor.db")
    rows = db.execute(
        "SELECT id, kind, note_check FROM changes WHERE backfilled = 0 AND changeset IS NOT NULL"
    ).fetchall()
    assert rows and all(check is not None for _, _, check in rows)
    checks = {i: json.loads(check) for i, _, check in rows}
    # A document's edit, its note on its publication's page: nothing held against it on its own.
    change_id = max(i for i, kind, _ in rows if kind == "major" and checks[i] == NoteCheck().to_dict())
    shown = CliRunner().invoke(
        main, ["show", str(change_id), "--format", "json", "--config", str(demo_run.out / "config.yaml")]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["note_check"] == checks[change_id]


def test_a_noted_update_says_which_sections_its_note_leaves_out_and_nothing_when_it_covers_them(
    demo_run: DemoRun,
) -> None:
    listed = {
        e.xpath('.//p[@class="change-meta"]/time/@datetime')[0]: words(e)
        for e in entries(demo_run.out / "site" / "index.html")
    }
    # 26 March 2021: "Guidance updated on advice for those who are clinically extremely vulnerable, LFD
    # testing ..., Test and Trace support payments", while the guidance's employers' duty under health
    # and safety law changed too.
    assert "The change note does not mention: Health and safety legislation." in listed["2021-03-26"]
    # 30 March 2021: the note is about confirmatory PCR tests, and so is the duty that changed.
    assert "does not mention" not in listed["2021-03-30"] and "Silent change" not in listed["2021-03-30"]


def guidance_change(*, silently: bool = False) -> tuple[Change, PageState, Document]:
    """The operational guidance's change from 19 March to 25 May 2021, recorded as a run records it: an
    HTML document of a publication, watched alone, where "should" became "must". Its "Updated" line
    moved with its publication's announced update; ``silently`` keeps the old date, the same edit made
    without a word (built from the real captures: no capture shows this document edited silently). With
    the page's earlier snapshot, which the change compares with."""
    old_folder, new_folder = sorted(p for p in GUIDANCE.iterdir() if p.is_dir())
    old = parse(next(old_folder.glob("*.html")).read_bytes(), url=GUIDANCE_URL)
    new = parse(next(new_folder.glob("*.html")).read_bytes(), url=GUIDANCE_URL)
    if silently:
        new = dataclasses.replace(new, last_updated=old.last_updated)
    page = PageState(url=GUIDANCE_URL, title=new.title)
    [change] = changes_for(page, (1, old), new, None, "2021-05-25T07:59:00+00:00")
    change.id = 1
    return change, page, old


def test_a_document_updated_with_its_publication_is_not_told_as_silent(tmp_path: Path) -> None:
    change, page, old = guidance_change()
    assert change.kind == "major" and change.effective_date == "2021-05-24"
    assert change.note == (
        "Updated with its publication on 24 May 2021: the change note is on the publication’s page"
    )
    assert change.note_check is not None and not change.note_check.sentence
    subject, text, html = render.digest([change], [page], since=None)
    flat = " ".join(text.split())
    assert "Silent change" not in flat and "without a change note" not in flat
    assert "Updated with its publication on 24 May 2021" in flat
    assert "In Health and safety legislation, ‘should’ became ‘must’" in flat


def test_a_silent_change_from_should_to_must_leads_with_silent_change_to_a_duty(tmp_path: Path) -> None:
    change, page, old = guidance_change(silently=True)
    assert change.kind == "minor" and change.note_check is not None
    subject, text, html = render.digest([change], [page], since=None)
    flat = " ".join(text.split())
    assert "WARNING: Silent change to a duty, a date and an amount." in flat
    assert "In Health and safety legislation, ‘should’ became ‘must’" in flat
    lead = flat.index("Silent change to a duty")
    assert lead < flat.index("‘should’ became ‘must’") < flat.index('Section "Health and safety legislation"')
    email = " ".join(lxml.html.fromstring(html).text_content().split())
    assert email.index("Silent change to a duty") < email.index("‘should’ became ‘must’")
    site = build_site(
        tmp_path / "site", [page], [change], snapshots=[(GUIDANCE_URL, "2021-03-19T09:15:00+00:00", old)]
    )
    [entry] = entries(site / "index.html")
    said = words(entry)
    assert said.index("Silent change to a duty") < said.index("‘should’ became ‘must’")
    assert "and 4 more" in said  # seven lines of what matters (two of them dates to act on): three shown
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    [item] = feed.entries
    assert item.title.endswith(": Silent change to a duty, a date and an amount")


def test_diff_json_adds_the_note_check_and_keeps_every_key() -> None:
    old_folder, new_folder = sorted(p for p in GUIDANCE.iterdir() if p.is_dir())
    old, new = next(old_folder.glob("*.html")), next(new_folder.glob("*.html"))
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    before = parse(old.read_bytes(), url=GUIDANCE_URL)
    after = parse(new.read_bytes(), url=GUIDANCE_URL)
    assert list(data) == [*diff(before, after).to_dict(), "note_check"]
    assert data["note_check"] == {
        "sentence": "Silent change to a duty, a date and an amount",
        "silent": ["duty", "date", "amount"],
        "unmentioned": [],
    }


def test_a_digest_of_several_updates_counts_pages_and_updates(demo_run: DemoRun) -> None:
    with Store(demo_run.out / "monitor.db") as store:
        changes = [c for c in store.changes() if not c.backfilled]
        pages = store.pages(active_only=False)
    subject, _, _ = render.digest(changes, pages, since="2021-03-19")
    # A publication and its documents are one page; the day they were first watched is no update.
    assert subject == "1 GOV.UK guidance page changed since 19 March 2021: 5 updates"
