"""The offline demo, as a newcomer runs it: one command, a database, digests and a site."""

from __future__ import annotations

import re
import sqlite3
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from conftest import DemoRun

from monitor.govuk import page_slug

OPERATIONAL_GUIDANCE = "SEND and specialist settings"


def read(eml: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parse(eml.open("rb"))  # type: ignore[return-value]


def document_part(text: str, title_start: str) -> str:
    """The digest's text about one document: from its 'In "<title>' line to the next document or end."""
    found = re.search(
        rf'^  In "{re.escape(title_start)}.*?(?=^  In "|^Earlier notes|^--$)', text, re.M | re.S
    )
    return found.group(0) if found else ""


def test_demo_tells_the_publication_and_its_documents_as_one_story(demo_run: DemoRun) -> None:
    out = demo_run.out
    assert str(out / "site" / "index.html") in demo_run.stdout

    db = sqlite3.connect(out / "monitor.db")
    days = [
        day
        for (day,) in db.execute(
            "SELECT DISTINCT substr(detected_at, 1, 10) FROM changes WHERE backfilled = 0 ORDER BY 1"
        )
    ]
    # Eight captured days; 2021-03-31 and 2021-09-28 repeat the day before and record nothing.
    assert days == ["2021-03-19", "2021-03-26", "2021-03-30", "2021-04-06", "2021-09-27", "2021-12-02"]
    documents = db.execute("SELECT count(*) FROM pages WHERE source = 'document'").fetchone()[0]
    assert documents == 4, "the rapid testing guidance and the operational guidance at its three addresses"

    emails = sorted(out.glob("*.eml"))
    assert len(emails) == 6
    subjects = [read(e)["Subject"] for e in emails]
    assert subjects[0] == "Now watching 1 DfE guidance page"
    for subject in subjects[1:]:
        # One page changed each day (its documents are part of its story): the subject names it.
        # shortened, so that GOV.UK's note is read
        assert subject.startswith("“Special schools") and "” updated: " in subject, subject
        assert len(subject) <= 78

    with_words = 0
    for eml in emails:
        message = read(eml)
        text = message.get_body(preferencelist=("plain",)).get_content()
        part = document_part(text, OPERATIONAL_GUIDANCE)
        if "[+" in part and "[-" in part:
            with_words += 1
            # Under the publication's change note, never called a silent edit.
            assert "GOV.UK's change note" in text.split(part)[0]
            assert "Changed in this update to the publication." in part
            assert "WARNING" not in part
            html = message.get_body(preferencelist=("html",)).get_content()
            assert "<ins style=" in html and "<del style=" in html
    assert with_words >= 4, "the operational guidance's words, inserted and deleted, in four digests"

    shown = [*(out / "site").rglob("*.html"), *(out / "site").rglob("*.xml"), *emails]
    assert shown and not [p for p in shown if b"127.0.0.1" in p.read_bytes()]
    index = (out / "site" / "index.html").read_text()
    assert "Special schools and other specialist settings" in index and "2 December 2021" in index


def test_demo_run_again_starts_afresh_and_names_pages_by_their_gov_uk_addresses(demo_run: DemoRun) -> None:
    """A run in a folder an earlier run used keeps nothing of it; the pages are GOV.UK's, whatever port
    the demo's server had, so every run gives the same page names and the same database."""
    out = demo_run.out
    db = sqlite3.connect(out / "monitor.db")
    urls = [url for (url,) in db.execute("SELECT url FROM pages")]
    assert urls and all(url.startswith("http://www.gov.uk/") for url in urls), urls
    pages = sorted(p.name for p in (out / "site" / "pages").iterdir())
    assert pages == sorted(f"{page_slug(url)}.{ext}" for url in urls for ext in ("html", "xml"))
    assert all("127-0-0-1" not in name for name in pages)
    stored = db.execute("SELECT count(*) FROM changes WHERE backfilled = 0").fetchone()[0]
    assert stored == 20, "the same changes as every earlier run of the demo"
    emails = sorted(p.name for p in out.glob("*.eml"))
    assert len(emails) == 6 and not set(emails) & set(demo_run.leftovers), emails
