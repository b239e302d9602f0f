"""The site's search box, as a reader uses it: the demo's site served by a real ``http.server`` on
127.0.0.1, searched in headless Chromium (Debian's package), with Pagefind's index built at publish
time and no server code."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from test_site_browser import CHROMIUM, chromium

from monitor.publish import search_index

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary here (.ci/run installs it)"),
    pytest.mark.skipif(
        not search_index.available(), reason="no Pagefind here (pip install 'guidance-monitor[search]')"
    ),
]


HOLD_SECONDS = 12
"""How long the harness page keeps its load event back: Chromium dumps the DOM once a page has loaded,
and the search runs after the search page has, in Pagefind's own time."""
HARNESS = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title></head><body>
<iframe id="frame" title="search" src="search.html?q=face+coverings" style="width:800px"></iframe>
<pre id="result">[]</pre>
<script>
setInterval(function () {
  var doc = document.getElementById("frame").contentDocument;
  var links = doc ? Array.from(doc.querySelectorAll("#search a"), function (a) { return a.href; }) : [];
  document.getElementById("result").textContent = JSON.stringify(links);
}, 200);
</script>
<img src="__hold" alt="">
</body></html>
"""


class SiteAndHarness(SimpleHTTPRequestHandler):
    """The site's files as built, plus the test's harness page and a resource that answers late."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/__harness.html":
            body = HARNESS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/__hold":
            time.sleep(HOLD_SECONDS)
            self.send_response(204)
            self.end_headers()
        else:
            super().do_GET()


@pytest.fixture(scope="module")
def served_demo(demo_run) -> Iterator[str]:
    site = demo_run.out / "site"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SiteAndHarness, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def mentioning(site: Path, phrase: str) -> set[str]:
    """The change pages whose text says ``phrase``."""
    found = set()
    for page in (site / "changes").glob("*.html"):
        text = " ".join(lxml.html.fromstring(page.read_bytes()).text_content().split()).lower()
        if phrase in text:
            found.add(f"changes/{page.name}")
    return found


@pytest.mark.slow
def test_searching_the_served_site_lists_the_change_pages_that_mention_it(demo_run, served_demo, tmp_path):
    site = demo_run.out / "site"
    expected = mentioning(site, "face coverings")
    assert expected
    index = lxml.html.fromstring((site / "index.html").read_bytes())
    [box] = index.xpath("//form[@role='search']")
    assert box.get("action") == "search.html" and box.xpath(".//input[@name='q']")
    dom = chromium(tmp_path / "profile", "--dump-dom", f"{served_demo}/__harness.html")
    [result] = lxml.html.fromstring(dom).xpath("//pre[@id='result']/text()")
    results = {re.sub(r"^.*?/(changes/[^/?#]+\.html).*$", r"\1", href) for href in json.loads(result)}
    listed = {r for r in results if r.startswith("changes/")}
    assert listed, result
    assert listed <= expected
    assert len(listed) >= min(len(expected), 5)  # Pagefind shows five results, then "Load more"


def test_the_index_and_the_search_page_are_published_with_the_site(demo_run):
    site = demo_run.out / "site"
    entry = json.loads((site / search_index.FOLDER / "pagefind-entry.json").read_text())
    assert (site / "search.html").is_file()
    # Each change page and each page's timeline, once: a change's side-by-side page says the same again
    # and would make every change come up twice.
    changes = [p for p in (site / "changes").glob("*.html") if not p.name.endswith("-side-by-side.html")]
    timelines = list((site / "pages").glob("*.html"))
    assert changes and timelines and len(changes) < len(list((site / "changes").glob("*.html")))
    assert entry["languages"]["en"]["page_count"] == len(changes) + len(timelines)
