"""The built changelog in a real browser: Debian's headless Chromium, driven by its command line.

The site is served from 127.0.0.1 exactly as built (nothing injected into it). Layout is measured by a
harness page of the test's own, served from the same origin, that loads a site page in an iframe 320 px
wide and writes what it measured into its DOM, which ``--dump-dom`` prints.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from site_support import build_site
from test_render import CASES, recorded

from monitor import govuk
from monitor.model import AttachmentChange, Change, ChangeSet, DiffOp, HistoryEntry, PageState, SectionChange

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and os.path.exists(p)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary here (.ci/run installs Debian's chromium package)"
)

MARK = "document.documentElement.setAttribute('data-pwned', '{}')"
HOSTILE = (
    f"<script>{MARK.format('script')}</script>"
    f'<img src="x" onerror="{MARK.format("img")}">'
    f'"><svg onload="{MARK.format("svg")}"></svg>'
    f'<a href="javascript:{MARK.format("link")}">click</a>'
)
HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>harness</title></head>
<body style="margin:0">
<iframe id="frame" style="width:320px;height:900px;border:0"></iframe>
<script>
const page = new URLSearchParams(location.search).get("page");
const frame = document.getElementById("frame");
frame.addEventListener("load", () => {
  const doc = frame.contentDocument, root = doc.documentElement;
  const wide = [...doc.body.querySelectorAll("*")]
    .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
    .map(el => el.tagName + "." + el.className);
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide});
  document.body.appendChild(out);
});
frame.src = page;
</script>
</body></html>
"""


def chromium(profile: Path, *args: str) -> str:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


HOSTILE_ID = len(CASES) + 1
"""The hostile change's id: the store numbers the changes in order, and it comes after the real ones."""


def hostile_change() -> tuple[Change, PageState]:
    url = "https://www.gov.uk/guidance/hostile"
    changeset = ChangeSet(
        "major",
        history_added=[HistoryEntry("2026-11-27", HOSTILE)],
        sections=[SectionChange(HOSTILE, "modified", added_words=3, diff=[DiffOp("insert", HOSTILE)])],
        attachments=[AttachmentChange(HOSTILE, f"javascript:{MARK.format('attachment')}", "added")],
    )
    change = Change(
        url, "major", "2026-11-27T07:00:00+00:00", HOSTILE, changeset, HOSTILE, "2026-11-27", id=HOSTILE_ID
    )
    return change, PageState(url=url, title=HOSTILE, consecutive_failures=4, last_error=HOSTILE)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The site built from real captures (and one hostile page), served over HTTP with the harness."""
    root = tmp_path_factory.mktemp("served")
    records = [recorded(case, i + 1) for i, case in enumerate(CASES)]
    hostile, hostile_page = hostile_change()
    changes = [c for c, _ in records] + [hostile]
    pages = [p for _, p in records] + [hostile_page]
    build_site(root / "site", pages, changes, site_url="https://changes.example.org")
    (root / "harness.html").write_text(HARNESS, encoding="utf-8")
    (root / "control.html").write_text(
        f"<!DOCTYPE html><html><body>{HOSTILE}</body></html>", encoding="utf-8"
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


PAGES = {"index": "site/index.html", "change": "site/changes/2.html"}


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize("name", sorted(PAGES))
def test_screenshots(served, tmp_path: Path, name: str, width: int) -> None:
    base, _ = served
    keep = Path(os.environ.get("GM_SCREENSHOTS", tmp_path))
    keep.mkdir(parents=True, exist_ok=True)
    shot = keep / f"{name}-{width}.png"
    chromium(
        tmp_path / "profile", f"--screenshot={shot}", f"--window-size={width},900", f"{base}/{PAGES[name]}"
    )
    assert png_size(shot)[0] == width
    assert shot.stat().st_size > 5000  # not a blank page


@pytest.mark.parametrize(
    "page",
    [
        "site/index.html",
        "site/changes/2.html",
        f"site/changes/{HOSTILE_ID}.html",
        "site/pages.html",
        "site/kind/major.html",
        "site/dates.html",
        "archive",
    ]
    + [f"site/pages/{govuk.page_slug(recorded(CASES[0])[1].url)}.html"],
)
def test_no_horizontal_scroll_at_320px(served, tmp_path: Path, page: str) -> None:
    base, root = served
    if page == "archive":  # the month page of the latest change, whatever month the captures were read
        page = str(max((root / "site" / "archive").glob("*.html")).relative_to(root))
    dom = chromium(
        tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", f"{base}/harness.html?page=/{page}"
    )
    result = lxml.html.fromstring(dom).xpath('//pre[@id="result"]')
    assert result, "the harness did not report (the page did not load)"
    measured = json.loads(result[0].text_content())
    assert measured["clientWidth"] <= 320
    assert measured["scrollWidth"] <= measured["clientWidth"], measured["wide"][:10]


def pwned(dom: str) -> str | None:
    return lxml.html.fromstring(dom).getroottree().getroot().get("data-pwned")


def test_hostile_page_runs_no_script(served, tmp_path: Path) -> None:
    base, _ = served
    control = chromium(tmp_path / "p1", "--virtual-time-budget=5000", "--dump-dom", f"{base}/control.html")
    assert pwned(control), "the control page should have run its script: the check would prove nothing"
    for page in (
        f"site/changes/{HOSTILE_ID}.html",
        "site/index.html",
        "site/archive/2026-11.html",
        f"site/pages/{govuk.page_slug(hostile_change()[1].url)}.html",
    ):
        dom = chromium(tmp_path / "p2", "--virtual-time-budget=5000", "--dump-dom", f"{base}/{page}")
        tree = lxml.html.fromstring(dom)
        assert pwned(dom) is None, page
        assert not tree.xpath("//script | //svg | //img"), page
        assert not [a for a in tree.xpath("//a/@href") if a.strip().lower().startswith("javascript")], page
        assert "data-pwned" in tree.text_content()  # the hostile text is shown, as text
