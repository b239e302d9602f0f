"""The static changelog as runs write it: only what changed, atomically, the same as a full rebuild.

Pages are real GOV.UK captures served from 127.0.0.1 as successive versions, run through the real
pipeline into a real SQLite file; the site folder is then compared, byte for byte and by inode, with
what a full ``guidance-monitor site`` builds from the same database.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from click.testing import CliRunner
from conftest import Response
from run_support import (
    ATTENDANCE,
    SEND,
    SEND_ADDITIONAL,
    SEND_TESTING,
    SMHL,
    captures,
    page_path,
    write_config,
)
from site_support import build_site, built

from monitor import demo, govuk, pipeline, publish, render
from monitor.cli import main
from monitor.config import load
from monitor.model import (
    Attachment,
    Change,
    ChangeSet,
    DiffOp,
    Document,
    HistoryEntry,
    PageState,
    Section,
    SectionChange,
    Signal,
)
from monitor.render import changelog
from monitor.store import SiteReads, Store

FOLDERS = [SEND, SEND_ADDITIONAL, SEND_TESTING, ATTENDANCE, SMHL]
START = datetime(2026, 1, 27, 6, 0, tzinfo=UTC)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_ino) for p in folder.rglob("*")}


def serve_day(server, day: int, folders: list[str] = FOLDERS) -> None:
    """Each page as it was on the ``day``-th capture (its last one once it has no later capture)."""
    for folder in folders:
        versions = captures(folder)
        server.routes[page_path(folder)] = Response(body=versions[min(day, len(versions) - 1)])


def assert_sound(folder: Path) -> int:
    """Every HTML file parses and each of its links inside the site names a file that is there; every
    feed is well-formed XML. Returns how many links were followed."""
    followed = 0
    for path in folder.rglob("*"):
        if path.suffix == ".xml":
            lxml.etree.fromstring(path.read_bytes())
        if path.suffix != ".html":
            continue
        tree_ = lxml.html.fromstring(path.read_bytes())
        for href in tree_.xpath("//a/@href | //link/@href"):
            if href.startswith(("http://", "https://", "#", "mailto:")):
                continue
            target = (path.parent / href.split("#")[0]).resolve()
            assert target.is_file(), f"{path.relative_to(folder)} links to {href}, which is not there"
            followed += 1
    return followed


@pytest.fixture
def replay(tmp_path, page_server):
    """A config watching five real pages on the test server, and a function running one simulated day."""
    config_path = write_config(tmp_path, page_server.base_url, [page_path(f) for f in FOLDERS])
    text = config_path.read_text() + "digest:\n  site_url: https://changes.example.org\n"
    config_path.write_text(text)
    config = load(config_path)

    def day(number: int) -> None:
        serve_day(page_server, number)
        with Store(tmp_path / "monitor.db") as store:
            summary = pipeline.run(config, store, now=START + timedelta(days=3 * number), deliver=False)
        assert ("site", "not published") not in [(k, v[:13]) for k, v in summary.failures]

    return config, day


@pytest.mark.slow
def test_the_site_after_every_run_is_the_full_rebuild_of_the_same_database(
    tmp_path, replay, page_server
) -> None:
    config, day = replay
    for number in range(8):
        day(number)
        with Store(tmp_path / "monitor.db") as store:
            rebuilt = publish.rebuild_site(config, store, tmp_path / f"rebuilt-{number}")
        assert tree(tmp_path / "site") == tree(rebuilt), f"day {number}"
    # a page that fails, one that is removed, then both back: the timelines show each state
    failing, removed = page_path(FOLDERS[0]), page_path(FOLDERS[1])
    for number, answers in enumerate([{failing: 503, removed: 404}, {}], start=8):
        serve_day(page_server, number)
        for path, status in answers.items():
            page_server.routes[path] = Response(status, b"<html><body>Gone</body></html>")
        with Store(tmp_path / "monitor.db") as store:
            pipeline.run(config, store, now=START + timedelta(days=3 * number), deliver=False)
            rebuilt = publish.rebuild_site(config, store, tmp_path / f"rebuilt-{number}")
        assert tree(tmp_path / "site") == tree(rebuilt), f"day {number}"
        timelines = tmp_path / "site" / "pages"
        gone = (
            "<dt>Status</dt><dd>No longer on GOV.UK</dd>"
            in (timelines / f"{govuk.page_slug(config.govuk_base_url + removed)}.html").read_text()
        )
        problem = (
            "We could not check"
            in (timelines / f"{govuk.page_slug(config.govuk_base_url + failing)}.html").read_text()
        )
        assert (gone, problem) == ((True, True) if answers else (False, False)), f"day {number}"
    built = tmp_path / "site"
    assert len(list((built / "archive").glob("*.html"))) >= 2  # the days spread over two months
    assert list((built / "signal").glob("*.html"))  # real edits carry signals: their pages are built too
    with Store(tmp_path / "monitor.db") as store:
        changes = store.changes()
        reads = SiteReads(store)
        snapshots = [(i, *reads.snapshot(i)) for i, _ in reads.snapshot_rows()]
    seen = {c.id for c in changes if not c.backfilled}
    # every stored snapshot has its page, linked from its page's timeline
    assert {int(p.stem) for p in (built / "snapshots").glob("*.html")} == {s[0] for s in snapshots}
    for snapshot_id, url, _, _ in snapshots:
        timeline = (built / "pages" / f"{govuk.page_slug(url)}.html").read_text()
        assert f'href="../snapshots/{snapshot_id}.html"' in timeline
    assert seen and {int(p.stem) for p in (built / "changes").glob("*.html") if p.stem.isdigit()} == seen
    assert {p.name for p in (built / "changes").glob("*-side-by-side.html")} == {
        f"{c.id}-side-by-side.html" for c in changes if not c.backfilled and c.kind != "new"
    }
    assert any(c.backfilled for c in changes)  # history before monitoring: on timelines, no page each
    assert assert_sound(built) > 100


def test_a_pages_own_run_is_its_changes_of_that_run_only(tmp_path: Path) -> None:
    """What the story index reads of a page in no story with another: that page's changes of one run
    (its backfilled history of the same run included, as the run's own read gives it), not another
    page's, not another run's, in the order they were recorded."""
    first, second = "2026-01-27T06:00:00+00:00", "2026-01-30T06:00:00+00:00"
    pages = [f"https://www.gov.uk/guidance/page-{n}" for n in range(3)]
    with Store(tmp_path / "monitor.db") as store:
        for url in pages:
            store.upsert_page(url, title=url)
        recorded = [
            store.add_change(Change(url, kind, when, url, backfilled=backfilled))
            for when in (first, second)
            for url in pages
            for kind, backfilled in (("major", True), ("new" if when == first else "major", False))
        ]
        reads = SiteReads(store)
        own = reads.page_run(pages[1], first)
        assert [c.id for c in own] == [
            c.id for c in recorded if c.page_url == pages[1] and c.detected_at == first
        ]
        assert [(c.kind, c.backfilled) for c in own] == [("major", True), ("new", False)]
        for url in pages:
            for when in (first, second):
                assert reads.page_run(url, when) == reads.run_changes(when, [url])


def test_an_unchanged_run_writes_no_file(tmp_path, replay) -> None:
    _, day = replay
    day(0)
    day(1)
    before = stats(tmp_path / "site")
    contents = tree(tmp_path / "site")
    day(1)  # the same versions again
    assert stats(tmp_path / "site") == before
    assert tree(tmp_path / "site") == contents


def test_a_run_writes_only_what_its_changes_touch(tmp_path, replay, page_server) -> None:
    config, day = replay
    day(0)
    before = stats(tmp_path / "site")
    serve_day(page_server, 1, FOLDERS[:2])  # two pages move on, the others are served as they were
    with Store(tmp_path / "monitor.db") as store:
        pipeline.run(config, store, now=START + timedelta(days=3), deliver=False)
    after = stats(tmp_path / "site")
    rewritten = {path for path, stat in after.items() if before.get(path) != stat}
    with Store(tmp_path / "monitor.db") as store:
        new = [c for c in store.changes() if not c.backfilled and c.detected_at.startswith("2026-01-30")]
        stored = [s for url in {p.url for p in store.pages()} for s in store.snapshots(url)]
        versions = {(s["id"], s["page_url"]) for s in stored if s["taken_at"].startswith("2026-01-30")}
    assert new, "day 1 changes some of the pages"
    slugs = {render.change_key(c) for c in new}
    assert {f"changes/{key}.html" for key in slugs} <= rewritten
    assert versions and {f"snapshots/{i}.html" for i, _ in versions} <= rewritten
    untouched_pages = {p for p in before if p.startswith("pages/")} - {
        f"pages/{govuk.page_slug(url)}.{ext}"
        for url in {c.page_url for c in new} | {u for _, u in versions}
        for ext in ("html", "xml")
    }
    assert untouched_pages and not (untouched_pages & rewritten)
    with Store(tmp_path / "monitor.db") as store:
        quiet = {c.page_url for c in store.changes()} - {c.page_url for c in new}
        old_change_pages = {f"changes/{c.id}.html" for c in store.changes() if c.page_url in quiet}
    assert old_change_pages & set(before) and not (old_change_pages & rewritten)


@pytest.mark.slow
def test_a_killed_site_write_leaves_a_sound_site_and_the_next_run_completes_it(tmp_path, page_server) -> None:
    """SIGKILL a real ``guidance-monitor run`` while it writes the site, at several moments: every page
    stays readable, every link resolves, and the run after it leaves the site a full rebuild would."""
    paths = [f"/guidance/watched-page-{n:02d}" for n in range(24)]
    versions = captures(SEND)
    config_path = write_config(tmp_path, page_server.base_url, paths, concurrency=8)
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config_path), "--no-deliver"]
    built = tmp_path / "site"

    def serve(version: int) -> None:
        for path in paths:
            page_server.routes[path] = Response(body=versions[version])

    serve(0)
    assert subprocess.run(command, capture_output=True).returncode == 0
    landed = 0
    rng = random.Random(7)
    for version in range(1, len(versions)):
        serve(version)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while not (built / publish.BUILDING).exists() and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
        time.sleep(rng.choice([0, 0, 0.002, 0.01, 0.03]))
        process.send_signal(signal.SIGKILL)
        process.wait()
        landed += (built / publish.BUILDING).exists()
        assert_sound(built)
    assert landed >= 3, "the kills should land while the site is being written"
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert not (built / publish.BUILDING).exists()
    assert not [p for p in built.rglob(f"{publish.TEMP_PREFIX}*")], "temporary files swept"
    with Store(tmp_path / "monitor.db") as store:
        rebuilt = publish.rebuild_site(load(config_path), store, tmp_path / "rebuilt")
    assert tree(built) == tree(rebuilt)


def test_leftovers_of_a_killed_rebuild_are_removed_by_the_next_build(tmp_path, replay) -> None:
    config, day = replay
    day(0)
    leftover = tmp_path / ".site.new-abc123"
    (leftover / "changes").mkdir(parents=True)
    (leftover / "changes" / "1.html").write_text("half")
    (tmp_path / ".site.old-def456").mkdir()
    with Store(tmp_path / "monitor.db") as store:
        publish.rebuild_site(config, store)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site")) == []


# --------------------------------------------------------------------------- feeds are XML

FORBIDDEN = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))
"""What XML 1.0 forbids and a page's text can hold; a lone surrogate cannot even be stored (SQLite keeps
UTF-8), so it is checked on the renderer alone."""


def test_a_feed_of_changes_full_of_control_characters_is_well_formed_xml() -> None:
    url = "https://www.gov.uk/guidance/controls"
    hostile = f"Rules{FORBIDDEN} apply\x1b[31m now\ufffe"
    changeset = ChangeSet(
        "major",
        history_added=[HistoryEntry("2026-11-27", hostile)],
        sections=[SectionChange(hostile, "modified", added_words=2, diff=[DiffOp("insert", hostile)])],
    )
    change = Change(url, "major", "2026-11-27T07:00:00Z", hostile, changeset, hostile, "2026-11-27", id=1)
    files = built([PageState(url=url, title=hostile)], [change], site_url="https://x.example")
    for path in ("feed.xml", f"pages/{govuk.page_slug(url)}.xml"):
        root = lxml.etree.fromstring(files[path].encode("utf-8"))  # strict: raises on any forbidden character
        text = "".join(root.itertext())
        assert "Rules apply[31m now" in text
    for content in files.values():
        assert not any(c in content for c in FORBIDDEN)
    assert changelog.xml_safe(f"Rules\ud800{FORBIDDEN} apply") == "Rules apply"


def test_a_page_full_of_control_characters_leaves_feed_xml_well_formed(tmp_path, page_server) -> None:
    path = page_path(SMHL)
    [first, second, *_] = captures(SMHL)
    controls = "".join(map(chr, [0x01, 0x08, 0x0B, 0x0C, 0x1B, 0x1F])) + "\ufffe\uffff"
    dirty = second.replace(b"</p>", f" Controls here{controls}.</p>".encode(), 3)
    page_server.routes[path] = Response(body=first)
    config = write_config(tmp_path, page_server.base_url, [path])
    run = ["run", "--config", str(config), "--no-deliver"]
    assert CliRunner().invoke(main, run).exit_code == 0
    page_server.routes[path] = Response(body=dirty)
    result = CliRunner().invoke(main, run)
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "monitor.db") as store:
        stored = [c for c in store.changes() if c.changeset and c.changeset.sections]
    assert not any("\x1b" in op.text for c in stored for s in c.changeset.sections for op in s.diff), (
        "the read drops control characters: none reaches the record"
    )
    built = tmp_path / "site"
    for feed in [built / "feed.xml", *(built / "pages").glob("*.xml")]:
        root = lxml.etree.fromstring(feed.read_bytes())
        assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert "Controls here" in (built / "feed.xml").read_text()


# --------------------------------------------------------------------------- whole folders


def test_site_is_swapped_in_whole_and_never_replaces_a_foreign_folder(tmp_path: Path) -> None:
    """A rebuild fills a new folder beside the site and swaps it in whole: nothing of the old folder is
    kept in it, nothing is left beside it, and a folder guidance-monitor did not build is refused."""
    url = "https://www.gov.uk/guidance/swapped"
    first = Change(url, "minor", "2026-11-27T07:00:00Z", "Swapped", ChangeSet("minor"), id=1)
    target = build_site(tmp_path / "site", [PageState(url=url, title="Swapped")], [first])
    (target / "pages" / "kept-by-hand.html").write_text("not the site's")
    inode = target.stat().st_ino
    later = Change(url, "minor", "2026-11-28T07:00:00Z", "Swapped", ChangeSet("minor"), id=2)
    assert build_site(target, [], [later]) == target  # the same database, one change more
    assert f'changes/{later.id}.html"' in (target / "index.html").read_text()
    assert (target / "pages").is_dir() and not (target / "pages" / "kept-by-hand.html").exists()
    assert target.stat().st_ino != inode
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    foreign = tmp_path / "home"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(publish.SiteError):
        build_site(foreign, [], [])
    assert (foreign / "notes.txt").read_text() == "mine"
    status = CliRunner().invoke(
        main, ["site", "--config", str(write_config(tmp_path, "http://x", [])), "--out", str(foreign)]
    )
    assert status.exit_code == 1 and "not built by guidance-monitor" in status.output
    assert os.listdir(foreign) == ["notes.txt"]


def test_a_reader_during_rebuilds_finds_a_whole_site_or_for_a_moment_none(tmp_path: Path) -> None:
    """What the swap promises: each rebuild is filled beside the site and renamed in, so a reader that
    keeps opening a page while the site is rebuilt gets the whole of an old or a new page, or (between
    the two renames) no page, and never a page half written."""
    url = "https://www.gov.uk/guidance/swapped"
    changes = [
        Change(url, "minor", f"2026-11-{day:02d}T07:00:00Z", "Swapped", ChangeSet("minor"), id=day)
        for day in range(1, 7)
    ]
    target = build_site(tmp_path / "site", [PageState(url=url, title="Swapped")], changes[:1])
    read: list[str | None] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                read.append((target / "index.html").read_text(encoding="utf-8"))
            except FileNotFoundError:
                read.append(None)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for change in changes[1:]:
            build_site(target, [], [change])
    finally:
        stop.set()
        thread.join()
    pages = [text for text in read if text is not None]
    assert pages and all(text.rstrip().endswith("</html>") for text in pages)
    assert f'changes/{changes[-1].id}.html"' in (target / "index.html").read_text(encoding="utf-8")


def test_site_command_builds_from_the_store(tmp_path: Path, page_server) -> None:
    serve_day(page_server, 0, [SMHL])
    config = write_config(tmp_path, page_server.base_url, [page_path(SMHL)])
    assert (
        CliRunner().invoke(main, ["run", "--config", str(config), "--no-site", "--no-deliver"]).exit_code == 0
    )
    serve_day(page_server, 1, [SMHL])
    assert (
        CliRunner().invoke(main, ["run", "--config", str(config), "--no-site", "--no-deliver"]).exit_code == 0
    )
    result = CliRunner().invoke(main, ["site", "--config", str(config), "--out", str(tmp_path / "public")])
    assert result.exit_code == 0, result.output
    built = tmp_path / "public"
    assert (built / "index.html").is_file() and (built / "feed.xml").is_file()
    with Store(tmp_path / "monitor.db") as store:
        ids = {c.id for c in store.changes() if not c.backfilled}
    pages = {int(p.stem) for p in (built / "changes").glob("*.html") if p.stem.isdigit()}
    assert len(ids) == 2 and pages == ids


@pytest.mark.slow
def test_a_publication_and_its_documents_are_told_as_one_story_run_by_run_as_in_a_full_rebuild(
    tmp_path: Path,
) -> None:
    """The demo's real captures of a DfE publication and its documents: each run's incremental site
    tells a document's change under its publication (label, the publication's note, the documents
    beneath the publication's change) and equals a full rebuild of the same database."""
    timeline = demo.captures()
    server = demo.TimelineServer()
    with server.running():
        file = tmp_path / "config.yaml"
        file.write_text(demo.demo_config_text(tmp_path), encoding="utf-8")
        config = load(file)
        for number, capture in enumerate(timeline):
            server.state = demo.TimelineState.on(capture, timeline, demo.redirects())
            with Store(config.database) as store:
                summary = pipeline.run(config, store, now=capture.taken_at, deliver=False)
                rebuilt = publish.rebuild_site(config, store, tmp_path / f"rebuilt-{number}")
            assert not [f for f in summary.failures if f[0] == "site"], summary.failures
            assert tree(Path(config.site_dir)) == tree(rebuilt), capture.folder.name
    built = Path(config.site_dir)
    pages = {p.name: p.read_text(encoding="utf-8") for p in (built / "changes").glob("*.html")}
    documents = [t for t in pages.values() if "This document belongs to a publication" in t]
    assert documents and any("Changed with its publication" in t for t in documents)
    assert any("In its document “" in t for t in pages.values())
    feed = (built / "feed.xml").read_text(encoding="utf-8")
    assert "Changed with its publication" in feed and "In its document" in feed
    assert_sound(built)


def test_a_flapping_change_reads_as_alternating_everywhere() -> None:
    url = "https://www.gov.uk/guidance/ab-test"
    changeset = ChangeSet(
        "minor", sections=[SectionChange("Who", "modified", added_words=1, diff=[DiffOp("insert", "x")])]
    )
    flap = Change(url, "flapping", "2026-11-27T07:00:00Z", "AB", changeset, "Alternating", "2026-11-27", id=3)
    files = built([PageState(url=url, title="AB guidance")], [flap], site_url="https://x.example")
    label = "Alternating between two versions"
    assert "kind/flapping.html" in files and label in files["kind/flapping.html"]
    for path in ("index.html", f"changes/{flap.id}.html", f"pages/{govuk.page_slug(url)}.html", "feed.xml"):
        assert label in files[path], path
        assert ">flapping<" not in files[path] and "Flapping" not in files[path], path
    assert "two versions by turns" in files[f"changes/{flap.id}.html"]
    subject, text, html = render.digest([flap], [PageState(url=url, title="AB guidance")], since=None)
    assert label in text and label in html


def test_signals_are_tagged_on_the_site_and_in_the_feeds_with_a_page_per_signal() -> None:
    url = "https://www.gov.uk/guidance/duties"
    hostile = "<script>alert(1)</script> must"
    signal = Signal("duty", "should", hostile)
    section = SectionChange(
        "Who <b>acts</b>",
        "modified",
        added_words=1,
        removed_words=1,
        diff=[DiffOp("insert", "must")],
        signals=[signal],
    )
    tagged = Change(url, "minor", "2026-11-27T07:00:00Z", "D", ChangeSet("minor", sections=[section]), id=1)
    plain = Change(url, "minor", "2026-11-28T07:00:00Z", "D", ChangeSet("minor", sections=[]), id=2)
    files = built([PageState(url=url, title="Duties")], [tagged, plain], site_url="https://x.example")
    assert set(k for k in files if k.startswith("signal/")) == {"signal/duty.html"}
    listed = lxml.html.fromstring(files["signal/duty.html"])
    assert [a.get("href") for a in listed.xpath('//p[@class="change-item__link"]/a')] == ["../changes/1.html"]
    assert "Tagged “Duty”" in listed.text_content()
    index = lxml.html.fromstring(files["index.html"])
    assert "signal/duty.html" in [a.get("href") for a in index.xpath('//nav[@class="filters"]//a')]
    assert [
        t.text for t in index.xpath('//p[@class="change-meta"]/strong[contains(@class, "tag--signal")]')
    ] == ["Duty"]
    page = lxml.html.fromstring(files["changes/1.html"])
    [item] = page.xpath('//ul[@class="signals"]/li')
    assert item.xpath("strong")[0].text == "Duty"
    assert item.xpath("del")[0].text == "should" and item.xpath("ins")[0].text == hostile
    assert "Who <b>acts</b>:" in item.text_content() and "<script>" not in files["changes/1.html"]
    assert not lxml.html.fromstring(files["changes/2.html"]).xpath('//ul[@class="signals"]')
    feed = lxml.etree.fromstring(files["feed.xml"].encode())
    entries = {
        e.findtext("{http://www.w3.org/2005/Atom}id").rsplit("/", 1)[1]: e.findtext(
            "{http://www.w3.org/2005/Atom}content"
        )
        for e in feed.iter("{http://www.w3.org/2005/Atom}entry")
    }
    assert "tag--signal" in entries["1"] and "should" in entries["1"] and "tag--signal" not in entries["2"]


def test_a_snapshot_page_shows_the_page_as_it_read_that_day_escaped() -> None:
    url = "https://www.gov.uk/guidance/versions"
    hostile = "<script>alert(1)</script>"
    document = Document(
        url,
        f"Versions {hostile}",
        published="2024-01-05",
        last_updated="2024-03-12",
        sections=[Section("Who must act", 2, f"Schools must act.\nThen {hostile}")],
        attachments=[Attachment("Form A", "https://assets.publishing.service.gov.uk/a.pdf", "pdf")],
        change_history=[HistoryEntry("2024-03-12", "Added the form.")],
    )
    files = built(
        [PageState(url=url, title="Versions")], [], snapshots=[(url, "2024-03-12T08:00:00Z", document)]
    )
    html = files["snapshots/1.html"]  # the store numbers snapshots from 1
    assert "<script>" not in html
    text = " ".join(" ".join(lxml.html.fromstring(html).itertext()).split())
    assert "The page as it read on 12 March 2024" in text and f"Versions {hostile}" in text
    assert "First published 5 January 2024" in text and "Last updated 12 March 2024" in text
    assert "Who must act Schools must act. Then <script>" in text and "Form A (PDF)" in text
    [entry] = lxml.html.fromstring(html).xpath('//ol[@class="history"]/li')
    assert entry.text_content() == "12 March 2024: Added the form."
    timeline = lxml.html.fromstring(files[f"pages/{govuk.page_slug(url)}.html"])
    [link] = timeline.xpath('//ol[@class="versions"]/li/a')
    assert link.get("href") == "../snapshots/1.html" and link.text == "The page as it read on 12 March 2024"
