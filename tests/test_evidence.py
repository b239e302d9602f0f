"""Only what changed, email people can read, and evidence for every change: asserted on the demo's real
publication timeline (``guidance-monitor demo``: eight captures of a DfE publication and its documents,
March to December 2021), the database it leaves read back with sqlite3 and the stored bodies hashed
afresh."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import zlib
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from conftest import DemoRun
from site_support import built

from monitor import render
from monitor.diff import diff
from monitor.model import Attachment, Change, DiffOp, Document, PageState, Section
from monitor.tokens import diff_items

URL = re.compile(r"^(?:https?://)\S+$")
SHA256 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


@pytest.fixture
def demo_out(demo_run: DemoRun) -> Path:
    return demo_run.out


def read(eml: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parse(eml.open("rb"))  # type: ignore[return-value]


def test_every_demo_digest_fits_gmail_and_reads_in_plain_text(demo_out: Path) -> None:
    emails = sorted(demo_out.glob("*.eml"))
    assert len(emails) == 6
    cut = 0
    for eml in emails:
        message = read(eml)
        html, text = message.get_body(("html",)), message.get_body(("plain",))
        assert html is not None and text is not None
        for part in (html, text):
            assert part["Content-Transfer-Encoding"] in ("quoted-printable", "8bit", "7bit"), eml.name
        body = html.get_content()
        assert len(body.encode("utf-8")) < 100 * 1024, eml.name
        assert len(html.get_payload()) < 100 * 1024, eml.name  # as carried, escapes and all
        for line in text.get_content().splitlines():
            assert len(line) <= 78 or URL.match(line), (eml.name, line)
        if "more sections changed" in body or "This section goes on" in body:
            cut += 1
            # The cut says where the rest is: the change page, or without a site address, GOV.UK.
            found = re.search(r'<a href="https?://www\.gov\.uk/[^"]+"[^>]*>See the whole change on GOV', body)
            assert found, eml.name
    assert cut >= 1, "the September digest is past the limit: a change in it is cut"


def changes_of(db: sqlite3.Connection) -> list[tuple[int, str, str, str | None, str | None]]:
    """Each monitored change: id, kind, detection time and the SHA-256 of the old and new bodies, each
    worked out here from the body the store kept (None where the change has no such snapshot)."""

    def sha(snapshot_id: int | None) -> str | None:
        if snapshot_id is None:
            return None
        sql = "SELECT b.body FROM snapshots s JOIN bodies b ON b.hash = s.body_hash WHERE s.id = ?"
        (stored,) = db.execute(sql, [snapshot_id]).fetchone()
        return hashlib.sha256(zlib.decompress(stored)).hexdigest()

    rows = db.execute(
        "SELECT id, kind, detected_at, old_snapshot_id, new_snapshot_id FROM changes WHERE backfilled = 0"
    ).fetchall()
    return [(i, kind, when, sha(old), sha(new)) for i, kind, when, old, new in rows]


def folds_expected(changeset: dict) -> bool:
    """Whether any section has two or more unchanged items beyond one of context either side of a change:
    those must be folded away."""
    for section in changeset.get("sections", []):
        items = diff_items([DiffOp(op["op"], op["text"]) for op in section["diff"]])
        changed = [k for k, item in enumerate(items) if item.status != "unchanged"]
        if not changed:
            continue
        shown = {k + d for k in changed for d in (-1, 0, 1)}
        hidden = [k for k in range(len(items)) if k not in shown]
        if any(k + 1 in hidden for k in hidden):
            return True
    return False


def test_every_demo_change_page_has_its_side_by_side_folds_and_evidence(demo_out: Path) -> None:
    site = demo_out / "site"
    db = sqlite3.connect(demo_out / "monitor.db")
    changes = changes_of(db)
    assert len(changes) >= 15
    folded = 0
    for change_id, kind, detected_at, old_sha, new_sha in changes:
        page = site / "changes" / f"{change_id}.html"
        side = site / "changes" / f"{change_id}-side-by-side.html"
        html = page.read_text(encoding="utf-8")
        tree = lxml.html.fromstring(html)
        # A page first seen has no earlier text to set beside its own: no side-by-side page, no link.
        assert page.is_file() and side.is_file() == (kind != "new"), change_id
        assert bool(tree.xpath(f'//a[@href="{side.name}"]')) == side.is_file(), page.name
        evidence = tree.xpath('//dl[@class="evidence"]')
        assert evidence, page.name
        shown = SHA256.findall(" ".join(evidence[0].itertext()))
        # The digests on the page are those of the bodies as fetched, worked out again from the store.
        assert new_sha and new_sha in shown, page.name
        if kind != "new":  # a page first seen has no earlier body
            assert old_sha and old_sha in shown, page.name
        stamp = re.sub(r"\D", "", detected_at)[:14]
        archive = tree.xpath('//a[starts-with(@href, "https://webarchive.nationalarchives.gov.uk/ukgwa/")]/@href')
        assert archive and archive[0].startswith(
            f"https://webarchive.nationalarchives.gov.uk/ukgwa/{stamp}/https://www.gov.uk/"
        ), (page.name, archive)
        text = " ".join(tree.text_content().split())
        assert "(UK time)" in text and f"{detected_at} (UTC)" in text, page.name
        (row,) = db.execute("SELECT changeset FROM changes WHERE id = ?", [change_id]).fetchall()
        if row[0] and folds_expected(json.loads(row[0])):
            folded += 1
            assert '<details class="fold"><summary>' in html and "unchanged paragraphs" in html, page.name
    assert folded >= 5, "the demo's real edits leave long runs of unchanged paragraphs out"


def test_a_longer_pdf_says_its_page_counts_in_the_email_the_site_and_diff() -> None:
    url = "https://www.gov.uk/government/publications/sen-funding"
    pdf = "https://assets.publishing.service.gov.uk/media/1/funding.pdf"
    old = Document(
        url,
        "SEN funding",
        sections=[Section("Summary", 2, "Funding for 2026.")],
        attachments=[Attachment("SEN funding guide", pdf, "pdf", 250_000, page_count=12)],
    )
    new = Document(
        url,
        "SEN funding",
        sections=[Section("Summary", 2, "Funding for 2026.")],
        attachments=[Attachment("SEN funding guide", pdf, "pdf", 280_000, page_count=14)],
    )
    changeset = diff(old, new)
    change = Change(url, changeset.kind, "2026-11-27T07:00:00Z", "SEN funding", changeset, id=1)
    _, text, html = render.digest([change], [PageState(url=url, title="SEN funding")], since=None)
    site = built([PageState(url=url, title="SEN funding")], [change])
    said = "12 pages → 14 pages"
    assert said in text and said in html
    assert said in site["changes/1.html"]
    assert said in render.text_report(changeset)
    report = lxml.html.fromstring(render.html_report(changeset)).text_content()
    assert said in " ".join(report.split())


def test_show_gives_the_change_pages_evidence_as_json(demo_out: Path) -> None:
    """``show CHANGE_ID --format json`` has the evidence the change's page shows, beside its old keys."""
    from monitor.cli import main

    db = sqlite3.connect(demo_out / "monitor.db")
    for change_id, kind, _, old_sha, new_sha in changes_of(db):
        result = CliRunner().invoke(
            main, ["--config", str(demo_out / "config.yaml"), "show", str(change_id), "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        assert data["id"] == change_id and data["kind"] == kind and "changeset" in data
        evidence = data["evidence"]
        assert (evidence["old_sha256"], evidence["new_sha256"]) == (old_sha, new_sha)
        page = lxml.html.parse(demo_out / "site" / "changes" / f"{change_id}.html").getroot()
        assert evidence["web_archive"] in page.xpath("//a/@href")
        assert evidence["citation"] in " ".join(page.text_content().split())
        assert evidence["new_snapshot"]["path"] == f"snapshots/{data['new_snapshot_id']}.html"
        assert page.xpath(f'//a[@href="../{evidence["new_snapshot"]["path"]}"]')
