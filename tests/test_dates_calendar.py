"""The calendar of dates to act on, end to end: real captures served over HTTP on 127.0.0.1, checked by
the daily run into a real SQLite file, published as dates.ics and dates.html and read back with the
``icalendar`` package; and ``guidance-monitor dates`` on the demo's database."""

from __future__ import annotations

import functools
import json
import re
import shutil
import threading
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import Response
from icalendar import Calendar
from run_support import write_config
from test_site_browser import CHROMIUM, HARNESS, Quiet, chromium, pwned

from monitor import config as config_module
from monitor import pipeline
from monitor.cli import main
from monitor.deadlines import Move, PageDate, Tracked, Update, uid_of
from monitor.render.changelog import stylesheet
from monitor.render.dates import calendar_ics, dates_page
from monitor.store import Store

TIMELINE = Path(__file__).parent / "fixtures" / "deadline_timeline"
GRANT = "/government/publications/coronavirus-covid-19-testing-in-schools-and-colleges-grant-funding"
CAPTURES = (
    ("4425542ca8-before", datetime(2021, 3, 1, 7, tzinfo=UTC)),
    ("2021-04-07T1725_797bd754b2", datetime(2021, 4, 8, 7, tzinfo=UTC)),
    ("2021-06-02T1605_b1897518ff", datetime(2021, 6, 3, 7, tzinfo=UTC)),
)


def events(ics: bytes) -> dict[str, dict]:
    """Each event of a calendar file by UID, as a calendar client reads it."""
    calendar = Calendar.from_ical(ics)
    return {
        str(e["UID"]): {
            "start": e.decoded("DTSTART"),
            "sequence": int(e.get("SEQUENCE", 0)),
            "status": str(e.get("STATUS", "")),
            "description": str(e.get("DESCRIPTION", "")),
            "summary": str(e["SUMMARY"]),
        }
        for e in calendar.walk("VEVENT")
    }


def imported(*files: bytes) -> dict[str, dict]:
    """What a calendar client holds after importing each file in turn: an event replaces the one with its
    UID when its SEQUENCE is not lower, and a cancelled one is dropped (RFC 5546's rules for updates)."""
    held: dict[str, dict] = {}
    for ics in files:
        for uid, event in events(ics).items():
            if uid in held and event["sequence"] < held[uid]["sequence"]:
                continue
            held[uid] = event
    return {uid: e for uid, e in held.items() if e["status"] != "CANCELLED"}


def assert_rfc5545_lines(ics: bytes) -> None:
    assert ics.endswith(b"\r\n") and b"\n" not in ics.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in ics.split(b"\r\n")), "a line longer than 75 octets"


@pytest.fixture
def grant_site(tmp_path, page_server):
    """The grant page checked on three days, its calendar kept after each: ``[(ics, html)]``."""
    config = config_module.load(write_config(tmp_path, page_server.base_url, [GRANT]))
    kept = []
    with Store(config.database) as store:
        for name, day in CAPTURES:
            page_server.routes[GRANT] = Response(body=(TIMELINE / f"{name}.html").read_bytes())
            summary = pipeline.run(config, store, now=day, deliver=False)
            assert not summary.failures, summary.failures
            site = Path(config.site_dir)
            kept.append(((site / "dates.ics").read_bytes(), (site / "dates.html").read_text()))
    return kept


def test_a_run_that_moves_no_date_leaves_the_calendar_as_the_site_shows_it(tmp_path, page_server):
    """The calendar is written again only when its dates or titles move: a marker put in its place stays
    through a change that adds a sentence with no date, and goes when a date moves."""
    config = config_module.load(write_config(tmp_path, page_server.base_url, [GRANT]))
    first = (TIMELINE / f"{CAPTURES[0][0]}.html").read_bytes()
    undated = first.replace(b"</p>", b" Schools should read this with their local authority.</p>", 1)
    ics = Path(config.site_dir) / "dates.ics"
    with Store(config.database) as store:
        for body, (name, day) in [(first, CAPTURES[0]), (undated, CAPTURES[1]), (None, CAPTURES[2])]:
            page_server.routes[GRANT] = Response(body=body or (TIMELINE / f"{name}.html").read_bytes())
            summary = pipeline.run(config, store, now=day, deliver=False)
            assert not summary.failures and summary.changed == 1, summary
            if body is first:
                calendar = ics.read_bytes()
                ics.write_bytes(b"marker\r\n")
            elif body is undated:
                assert ics.read_bytes() == b"marker\r\n"
    assert ics.read_bytes() not in (b"marker\r\n", calendar)
    assert events(ics.read_bytes()).keys() >= events(calendar).keys()


def test_a_moved_date_keeps_its_uid_with_a_higher_sequence_and_its_old_date_said(grant_site):
    (first, _), (second, _), (third, _) = grant_site
    for ics in (first, second, third):
        assert_rfc5545_lines(ics)
    before, after = events(second), events(third)
    [uid] = [u for u, e in after.items() if e["summary"].startswith("Ends")]
    assert before[uid]["start"].isoformat() == "2021-03-05"
    assert after[uid]["start"].isoformat() == "2021-07-23"
    assert after[uid]["sequence"] > before[uid]["sequence"]
    assert after[uid]["status"] == "CONFIRMED"
    description = " ".join(after[uid]["description"].split())
    assert "Moved from 5 March 2021 (GOV.UK update of 2 June 2021)" in description
    assert "Moved from February 2021 (GOV.UK update of 7 April 2021)" in description
    assert "until 23 July 2021" in description  # the sentence as it now reads


def test_a_client_that_imported_the_first_file_then_the_second_ends_with_the_moved_date(grant_site):
    (_, _), (second, _), (third, _) = grant_site
    held = imported(second, third)
    ends = [e for e in held.values() if e["summary"].startswith("Ends")]
    assert [e["start"].isoformat() for e in ends] == ["2021-07-23"]
    assert sorted(e["start"].isoformat() for e in held.values()) == ["2021-01-04", "2021-07-23"]


def test_dates_html_lists_what_is_to_come_by_month_linked_to_the_change_that_moved_it(grant_site):
    *_, (_, html) = grant_site
    tree = lxml.html.fromstring(html)
    assert [h.text_content() for h in tree.xpath("//main//h2")] == ["July 2021"]
    [item] = tree.xpath("//main//li")
    text = " ".join(item.text_content().split())
    assert "23 July 2021" in text and "until 23 July 2021" in text
    assert "Moved from 5 March 2021 (GOV.UK update of 2 June 2021)" in text
    [link] = item.xpath(".//a[starts-with(@href, 'changes/')]")
    assert "moved it" in link.text_content()
    assert (Path(tree.base or ".") / link.get("href")).name.endswith(".html")
    assert tree.xpath("//a[@href='dates.ics']")


def test_the_demo_calendar_parses_and_keeps_the_dates_whose_sentence_went_as_cancelled(demo_run):
    ics = (demo_run.out / "site" / "dates.ics").read_bytes()
    assert_rfc5545_lines(ics)
    found = events(ics)
    assert found and len(found) == ics.count(b"BEGIN:VEVENT")  # every UID once
    cancelled = [e for e in found.values() if e["status"] == "CANCELLED"]
    # "Settings should aim for pupils to take 3 tests ..., starting from 8 March 2021." went on 6 April.
    [tests] = [e for e in cancelled if "take 3 tests" in e["description"]]
    assert tests["start"].isoformat() == "2021-03-08" and tests["sequence"] >= 1
    assert "Removed from the guidance (GOV.UK update of" in " ".join(tests["description"].split())


def test_dates_json_on_the_demo_lists_every_upcoming_date_with_page_section_and_sentence(demo_run, tmp_path):
    work = tmp_path / "demo"
    shutil.copytree(demo_run.out, work)
    config = work / "config.yaml"
    config.write_text(config.read_text().replace(str(demo_run.out), str(work)))
    dates = ["--config", str(config), "dates", "--format", "json"]
    result = CliRunner().invoke(main, [*dates, "--from", "2021-03-20"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed and all(d["page"] and d["section"] and d["sentence"] for d in listed)
    assert all(d["date"] >= "2021-03-20" for d in listed)
    assert [d["date"] for d in listed] == sorted(d["date"] for d in listed)
    tutoring = [d for d in listed if d["section"] == "Tutoring" and d["date"] == "2021-09-01"]
    assert tutoring and tutoring[0]["sentence"].startswith("This academic year 2021 to 2022")
    later = CliRunner().invoke(main, [*dates, "--from", "2030-01-01"])
    assert json.loads(later.output) == []
    every = json.loads(CliRunner().invoke(main, [*dates, "--all"]).output)
    assert {d["date"] for d in listed} < {d["date"] for d in every}


def hostile_event() -> Tracked:
    """A date whose page, section, sentence and title are hostile markup (and text RFC 5545 escapes)."""
    from test_site_browser import HOSTILE

    text = HOSTILE + "; a, b\\ c\nd from 1 September 2031."
    item = PageDate(
        f"javascript:{HOSTILE}", HOSTILE, text, HOSTILE, "2031-09-01", "day", "start", True, "k#0"
    )
    moved = Move(HOSTILE, "2031-03-01", Update("2030-12-02", 5), "day")
    return Tracked(uid_of(item.page_url, item.key), item, Update("2030-11-01", 4), 1, [moved])


def hostile_dates_page() -> str:
    event = hostile_event()
    return dates_page([event], {event.current.page_url: event.current.section}, since="2030-12-03")


def test_hostile_text_in_dates_html_and_dates_ics_is_text():
    from test_render import assert_inert

    assert_inert(hostile_dates_page().replace("data-pwned", "PWNED"))
    event = hostile_event()
    ics = calendar_ics([event], {event.current.page_url: "Title"}).encode()
    assert_rfc5545_lines(ics)
    [read] = Calendar.from_ical(ics).walk("VEVENT")
    assert event.current.sentence in str(read["DESCRIPTION"])  # escaped on the way out, whole on the way in
    assert "URL" not in read  # a javascript: page is never a link


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary here (.ci/run installs it)")
def test_dates_html_in_chromium_fits_320px_and_runs_no_script(grant_site, tmp_path):
    """The grant page's dates.html (with its style sheet) and a hostile one, in headless Chromium."""
    *_, (_, html) = grant_site
    root = tmp_path / "served"
    (root / "site").mkdir(parents=True)
    (root / "site" / "dates.html").write_text(html, encoding="utf-8")
    (root / "site" / "hostile.html").write_text(hostile_dates_page(), encoding="utf-8")
    (root / "site" / "style.css").write_text(stylesheet(), encoding="utf-8")
    (root / "harness.html").write_text(HARNESS, encoding="utf-8")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        for page in ("site/dates.html", "site/hostile.html"):
            dom = chromium(
                tmp_path / "p",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{base}/harness.html?page=/{page}",
            )
            [result] = lxml.html.fromstring(dom).xpath('//pre[@id="result"]')
            measured = json.loads(result.text_content())
            assert measured["scrollWidth"] <= measured["clientWidth"] <= 320, measured["wide"][:10]
        dom = chromium(
            tmp_path / "q", "--virtual-time-budget=5000", "--dump-dom", f"{base}/site/hostile.html"
        )
        assert pwned(dom) is None
        assert "data-pwned" in lxml.html.fromstring(dom).text_content()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_weekly_digest_ends_with_the_dates_coming_up_in_the_next_30_days(tmp_path, page_server):
    """The grant page's updates sent through a real SMTP server on Wednesday 30 June 2021: the weekly
    subscriber's digest ends with the end of testing on 23 July; the daily one's has no such section."""
    import yaml
    from test_deliver import MailServer, free_port, parts, shown

    from monitor.deliver import deliver

    mail = MailServer(free_port())
    mail.start()
    path = write_config(tmp_path, page_server.base_url, [GRANT])
    raw = yaml.safe_load(path.read_text())
    raw["digest"] = {
        "email": {
            "from": "m@school.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "starttls": False,
        },
        "subscribers": [
            {"email": "head@school.example", "frequency": "weekly", "day": "wednesday"},
            {"email": "senco@school.example", "frequency": "daily"},
        ],
    }
    path.write_text(yaml.safe_dump(raw))
    config = config_module.load(path)
    try:
        with Store(config.database) as store:
            for name, day in CAPTURES:
                page_server.routes[GRANT] = Response(body=(TIMELINE / f"{name}.html").read_bytes())
                assert not pipeline.run(config, store, now=day, deliver=False, site=False).failures
                if day == CAPTURES[0][1]:  # the subscribers count changes from their first run
                    deliver(config, store, now=day)
            mail.inbox.messages.clear()
            assert all(d.sent for d in deliver(config, store, now=datetime(2021, 6, 30, 7, tzinfo=UTC)))
    finally:
        mail.stop()
    received = {m["To"]: parts(m) for m in mail.inbox.messages}
    assert set(received) == {"head@school.example", "senco@school.example"}
    weekly_text, weekly_html = received["head@school.example"]
    heading = "Coming up in the next 30 days"
    assert weekly_text.index(heading) > weekly_text.index("23 July 2021")  # it ends the digest
    coming = weekly_text[weekly_text.index(heading) :]
    assert re.search(r"23 July 2021\s+Ends: ", coming) and "“These conditions of grant funding" in coming
    assert "4 January" not in coming.split("“")[0]  # a date already past is not coming up
    assert f"{heading} 23 July 2021 Ends" in shown(weekly_html)
    assert heading not in received["senco@school.example"][0]


def test_following_dates_run_by_run_gives_what_following_the_whole_history_at_once_gives(
    grant_site, tmp_path
):
    """Each run folded in only its new snapshot; the same history followed from nothing in one go (a
    database whose dates were never followed) gives the same events, and a second call changes nothing."""
    from monitor.publish.dates import followed_dates

    with Store(tmp_path / "monitor.db") as store:
        run_by_run = followed_dates(store)
        kept = store.db.execute("SELECT page_url, snapshot_id, tracked FROM page_dates").fetchall()
        assert followed_dates(store) == run_by_run
        assert store.db.execute("SELECT page_url, snapshot_id, tracked FROM page_dates").fetchall() == kept
        with store.writing():
            store.db.execute("DELETE FROM page_dates")
        assert followed_dates(store) == run_by_run
