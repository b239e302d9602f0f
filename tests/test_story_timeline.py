"""The publication timeline (data/samples/publication-timeline: real captures of a DfE publication and
its HTML attachments) run through the real pipeline, and told as one story in every output."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import lxml.html
import pytest
from site_support import files_of, rebuild_from

from monitor import config as config_module
from monitor import demo, pipeline, render
from monitor.model import Change, PageState
from monitor.publish.dates import followed_dates
from monitor.settings import Config
from monitor.store import Store

TIMELINE = demo.captures()
MANIFEST = {
    row["commit"]: row["change_note"]
    for row in csv.DictReader((demo.TIMELINE_DIR / "MANIFEST.tsv").open(encoding="utf-8"), delimiter="\t")
}
GUIDANCE = "send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
SITE = "https://changes.example.org"


def capture(stamp: str) -> demo.Capture:
    [found] = [c for c in TIMELINE if c.folder.name.startswith(stamp)]
    return found


def note_of(stamp: str) -> str:
    return " ".join(MANIFEST[capture(stamp).folder.name.split("_", 1)[1]].split())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[demo.TimelineServer, Config, Store]]:
    """The demo's server (www.gov.uk as captured) and a monitor following the publication's documents."""
    server = demo.TimelineServer()
    with server.running():
        file = tmp_path / "config.yaml"
        file.write_text(demo.demo_config_text(tmp_path), encoding="utf-8")
        config = config_module.load(file)
        with Store(config.database) as store:
            yield server, config, store


def run(
    server: demo.TimelineServer, config: Config, store: Store, state: demo.TimelineState, day: str
) -> list[Change]:
    server.state = state
    summary = pipeline.run(config, store, now=capture(day).taken_at, deliver=False, site=False)
    assert not summary.failures, summary.failures
    return [c for c in summary.changes if not c.backfilled]


def state_on(stamp: str) -> demo.TimelineState:
    return demo.TimelineState.on(capture(stamp), TIMELINE, demo.redirects())


def words(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


@pytest.mark.parametrize(("before", "after"), [("2021-03-19", "2021-03-26"), ("2021-03-31", "2021-04-06")])
def test_the_documents_section_changes_are_told_under_the_publications_note(
    world: tuple[demo.TimelineServer, Config, Store], before: str, after: str, tmp_path: Path
) -> None:
    server, config, store = world
    run(server, config, store, state_on(before), before)
    changes = run(server, config, store, state_on(after), after)
    pages = store.pages(active_only=False)
    guidance = next(c for c in changes if c.page_url.endswith(GUIDANCE) and c.changeset)
    publication = next(c for c in changes if c.page_url.endswith(demo.PAGE_PATH))
    # What each page says of itself: the guidance's "Updated" line moved with the publication's update.
    assert guidance.kind == "major" and publication.kind == "major"
    sections = [s for s in guidance.changeset.sections if s.added_words and s.removed_words]
    assert sections, "the operational guidance's text changed"
    heading = sections[0].heading
    inserted = next(op.text for op in sections[0].diff if op.op == "insert").split("\n")[-1].strip()
    note = note_of(after)

    subject, text, html = render.digest(changes, pages, since=None, site_url=SITE)
    flat = " ".join(text.split())
    # One update: the subject names the page, its title shortened so that GOV.UK's note is read.
    assert subject.startswith("“Special schools") and len(subject) <= render.SUBJECT_LIMIT
    assert f"” updated: {' '.join(note.split()[:4])}" in subject
    assert f"GOV.UK's change note: {note}" in flat
    told = flat.split(f"GOV.UK's change note: {note}", 1)[1]
    assert 'In "SEND and specialist settings' in told and f'Section "{heading}"' in told
    assert "Changed in this update to the publication." in told and "WARNING" not in flat
    assert "[+" + inserted.split()[0] in text
    html_words = words(html)
    # The note, then what matters (which may name the section), then the document with its sections.
    assert html_words.index(note) < html_words.index("In SEND and specialist settings")
    assert heading in html_words.split("In SEND and specialist settings", 1)[1]
    assert "<ins style=" in html and "<del style=" in html

    files = files_of(rebuild_from(store, tmp_path / "public", site_url=SITE))
    page = words(files[f"changes/{publication.id}.html"])
    assert note in page and "In its document “SEND and specialist settings" in page
    assert page.index(note) < page.index(heading)
    document_page = words(files[f"changes/{guidance.id}.html"])
    assert f"GOV.UK's change note on the publication: {note}" in document_page
    assert "Changed without a change note" not in document_page
    # The list of changes names the documents under the publication's entry, and labels a
    # document's change as made with its publication, not as a silent edit.
    index = words(files["index.html"])
    entry = index.split(note, 1)[1]
    assert "SEND and specialist settings" in entry and "Changed with its publication: " in entry
    assert "GOV.UK did not say this page changed" not in index
    feed = feedparser.parse(files["feed.xml"])
    [entry] = [e for e in feed.entries if e.id.endswith(f"change/{publication.id}")]
    content = words(entry.content[0].value)
    assert note in content and heading in content and "In its document" in content


def test_a_document_edited_while_its_publication_did_not_move_is_a_silent_edit(
    world: tuple[demo.TimelineServer, Config, Store], tmp_path: Path
) -> None:
    server, config, store = world
    run(server, config, store, state_on("2021-03-26"), "2021-03-26")
    # The next day GOV.UK serves the guidance's 6 April text while the publication stays as it was, and
    # the guidance's own "Updated" line with it: an edit made without a word (built from the captures).
    state = state_on("2021-03-26")
    edited = tmp_path / "guidance.html"
    text = state_on("2021-04-06").files[f"{demo.PAGE_PATH}/{GUIDANCE}"].read_bytes()
    edited.write_bytes(text.replace(b"Updated 6 April 2021", b"Updated 26 March 2021"))
    state.files[f"{demo.PAGE_PATH}/{GUIDANCE}"] = edited
    changes = run(server, config, store, state, "2021-03-30")
    assert [c.kind for c in changes] == ["minor"] and changes[0].page_url.endswith(GUIDANCE)
    pages = store.pages(active_only=False)
    subject, text, html = render.digest(changes, pages, since=None, context=store.changes())
    assert subject.endswith("changed without a change note")
    # It leads with what changed under no note: the guidance's duties and dates.
    assert "WARNING: Silent change to a duty and a date." in text and "GOV.UK's change note" not in text
    assert ": Changed without a change note" in text
    page = words(files_of(rebuild_from(store, tmp_path / "public"))[f"changes/{changes[0].id}.html"])
    assert "Changed without a change note" in page and "on the publication" not in page


def test_a_document_that_moved_says_where_and_what_changed(
    world: tuple[demo.TimelineServer, Config, Store],
) -> None:
    """In September 2021 the guidance moved to a new address (GOV.UK redirects the old one)."""
    server, config, store = world
    run(server, config, store, state_on("2021-04-06"), "2021-04-06")
    changes = run(server, config, store, state_on("2021-09-27"), "2021-09-27")
    moved = [c for c in changes if c.kind == "moved"]
    assert moved and moved[0].new_url and moved[0].new_url.endswith("applies-after-step-4")
    _, text, _ = render.digest(changes, store.pages(active_only=False), since=None)
    assert f"Moved to {moved[0].new_url}" in text
    assert "http://www.gov.uk/" in text and "127.0.0.1" not in text


def test_a_moved_documents_dates_go_with_it_to_its_new_address(
    world: tuple[demo.TimelineServer, Config, Store],
) -> None:
    """The calendar follows a document GOV.UK moved: the events its old address held are kept under the
    new address (each with its UID), the old address keeps none, and following the same history from
    nothing in one go gives the same events."""
    server, config, store = world
    run(server, config, store, state_on("2021-04-06"), "2021-04-06")
    before = followed_dates(store)
    changes = run(server, config, store, state_on("2021-09-27"), "2021-09-27")
    [moved] = [c for c in changes if c.kind == "moved"]
    old = {t.uid for t in before if t.current.page_url == moved.page_url}
    after = followed_dates(store)
    kept = {
        url: {t["uid"] for t in json.loads(tracked)}
        for url, tracked in store.db.execute("SELECT page_url, tracked FROM page_dates")
    }
    assert old and old <= kept[moved.new_url or ""]
    assert not kept[moved.page_url]
    with store.writing():
        store.db.execute("DELETE FROM page_dates")
    assert followed_dates(store) == after


def test_pages_states_give_each_document_its_publication(
    world: tuple[demo.TimelineServer, Config, Store],
) -> None:
    server, config, store = world
    run(server, config, store, state_on("2021-03-19"), "2021-03-19")
    pages = {p.url: p for p in store.pages(active_only=False)}
    publication = f"{demo.SITE}{demo.PAGE_PATH}"
    assert {p.parent_url for p in pages.values() if p.url != publication} == {publication}
    assert isinstance(pages[publication], PageState)
