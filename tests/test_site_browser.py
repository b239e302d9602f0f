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
from conftest import DemoRun
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


def chromium(profile: Path, *args: str, timeout: float = 120) -> str:
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
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
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


# --------------------------------------------------------------------------- the demo's site, every page

DEMO_WIDTHS = [1280, 375]
AXE_EVERY_PAGE = 1280
"""axe runs on every page at this width; at the narrow one, on the largest page of each kind (see
:func:`kind_of`): a kind's pages share their template and stylesheet, and what the narrow width changes
is their layout, which the fit check measures on every page at both widths."""
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
"""axe-core's rules for WCAG 2.2 level AA (each version's A and AA rules)."""
AXE_CONTROL = "axe-control.html"
"""A page with an image without alternative text: axe must find it, or the sweep proves nothing."""


def axe_script() -> Path:
    """axe-core's browser script, from the npm package ``axe-core`` that .ci/run installs (or the file
    $AXE_CORE_JS names)."""
    root = Path(__file__).resolve().parent.parent
    candidates = [os.environ.get("AXE_CORE_JS", ""), str(root / ".ci/node/node_modules/axe-core/axe.min.js")]
    found = next((Path(c) for c in candidates if c and Path(c).is_file()), None)
    missing = (
        "axe-core is not installed: run `npm install --no-save --prefix .ci/node axe-core@4` (as .ci/run "
        "does) or set AXE_CORE_JS to its axe.min.js"
    )
    if found is None and not os.environ.get("CI"):
        pytest.skip(missing)  # as the Chromium tests are skipped where Chromium is absent; CI never skips
    assert found is not None, missing
    return found


def kind_of(page: str) -> str:
    """The kind of a demo page: a page at the site's top is a kind of its own; in a folder, its pages are
    one kind (``site/changes/#``), a change's side-by-side pages another."""
    folder, _, name = page.rpartition("/")
    if folder == "site" or "/" not in folder:
        return page
    return folder + ("/#-side-by-side" if name.endswith("-side-by-side.html") else "/#")


def axe_pages(root: Path, pages: list[str], width: int) -> list[str]:
    """The pages axe runs on at ``width``: every page at :data:`AXE_EVERY_PAGE`, else the largest of each
    kind (and the control page)."""
    if width == AXE_EVERY_PAGE:
        return pages
    largest: dict[str, str] = {}
    for page in pages:
        kind = kind_of(page)
        if kind not in largest or (root / page).stat().st_size > (root / largest[kind]).stat().st_size:
            largest[kind] = page
    return sorted({*largest.values(), AXE_CONTROL})


SWEEP = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>sweep</title></head>
<body style="margin:0">
<iframe id="frame" style="width:WIDTHpx;height:900px;border:0"></iframe>
<script>
const params = new URLSearchParams(location.search);
const axeWanted = params.get("axe") === "1";
const frame = document.getElementById("frame");
function loaded(page) {
  return new Promise(resolve => { frame.onload = () => resolve(); frame.src = page; });
}
async function sweep() {
  const pages = await (await fetch("pages.json")).json();
  const axeSource = axeWanted ? await (await fetch("axe.min.js")).text() : "";
  const axePages = new Set(axeWanted ? await (await fetch("axe-WIDTH.json")).json() : []);
  const results = {};
  for (const page of pages) {
    await loaded(page);
    const doc = frame.contentDocument, root = doc.documentElement;
    const wide = [...doc.body.querySelectorAll("*")]
      .filter(el => el.getBoundingClientRect().right > root.clientWidth + 0.5)
      .map(el => el.tagName + "." + el.className).slice(0, 10);
    const result = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide, violations: [],
                    axe: axePages.has(page)};
    if (axePages.has(page)) {
      const script = doc.createElement("script");
      script.textContent = axeSource;
      doc.head.appendChild(script);
      const found = await frame.contentWindow.axe.run(doc, {runOnly: {type: "tag", values: TAGS}});
      result.violations = found.violations.map(v => ({id: v.id, help: v.help,
        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
    }
    results[page] = result;
  }
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify(results);
  document.body.appendChild(out);
}
sweep().catch(error => {
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({error: String(error)});
  document.body.appendChild(out);
});
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def demo_served(tmp_path_factory, demo_run: DemoRun) -> Iterator[tuple[str, Path]]:
    """The demo's site (``guidance-monitor demo``, the real publication timeline) served over HTTP, with
    a sweep page per width and axe-core beside it (the demo's folder is only read)."""
    root = tmp_path_factory.mktemp("demo-served")
    site = root / "site"
    site.symlink_to(demo_run.out / "site", target_is_directory=True)
    pages = sorted(str(p.relative_to(root)) for p in site.rglob("*.html"))
    (root / AXE_CONTROL).write_text(
        '<!DOCTYPE html><html lang="en"><head><title>control</title></head>'
        '<body><main><img src="missing.png"></main></body></html>',
        encoding="utf-8",
    )
    (root / "pages.json").write_text(json.dumps([*pages, AXE_CONTROL]), encoding="utf-8")
    for width in DEMO_WIDTHS:
        (root / f"axe-{width}.json").write_text(json.dumps(axe_pages(root, [*pages, AXE_CONTROL], width)))
        sweep = SWEEP.replace("WIDTH", str(width)).replace("TAGS", json.dumps(AXE_TAGS))
        (root / f"sweep-{width}.html").write_text(sweep, encoding="utf-8")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()


def sweep(base: str, profile: Path, width: int, *, axe: bool) -> dict[str, dict]:
    """Every demo page loaded in turn in a frame ``width`` px wide: its layout measured and, with ``axe``,
    axe-core's WCAG 2.2 AA rules run on it."""
    dom = chromium(
        profile,
        f"--window-size={width + 100},1000",
        "--virtual-time-budget=600000",
        "--dump-dom",
        f"{base}/sweep-{width}.html?axe={int(axe)}",
        timeout=900,
    )
    result = lxml.html.fromstring(dom).xpath('//pre[@id="result"]')
    assert result, "the sweep did not report (a page did not load)"
    measured: dict[str, dict] = json.loads(result[0].text_content())
    assert "error" not in measured, measured
    return measured


@pytest.mark.slow
@pytest.mark.parametrize("width", DEMO_WIDTHS)
def test_every_demo_page_fits_and_passes_axe_wcag22_aa(demo_served, tmp_path: Path, width: int) -> None:
    """Every page of the demo's site (its change pages and their side-by-side pages among them) at 1280
    and 375 px: no horizontal scroll, and no violation of axe-core's WCAG 2.2 AA rules (at 375 px, on the
    largest page of each kind)."""
    base, root = demo_served
    shutil.copyfile(axe_script(), root / "axe.min.js")
    measured = sweep(base, tmp_path / "profile", width, axe=True)
    control = measured.pop(AXE_CONTROL)
    assert "image-alt" in [v["id"] for v in control["violations"]], "axe did not run: it proves nothing"
    pages = [p for p in json.loads((root / "pages.json").read_text()) if p != AXE_CONTROL]
    assert sorted(measured) == pages and len(pages) >= 60
    changes = [p for p in pages if p.startswith("site/changes/") and p[len("site/changes/") :][0].isdigit()]
    # Each change page that links to a side-by-side page has it swept too (a page first seen has none).
    sides = {p for p in changes if p.endswith("-side-by-side.html")}
    linking = {p for p in changes if p not in sides and '-side-by-side.html"' in (root / p).read_text()}
    assert sides and sides == {p.removesuffix(".html") + "-side-by-side.html" for p in linking}
    checked = {page for page, result in measured.items() if result["axe"]}
    assert (
        checked == set(pages)
        if width == AXE_EVERY_PAGE
        else {kind_of(p) for p in checked} == {kind_of(p) for p in pages}
    )
    for page, result in measured.items():
        assert result["clientWidth"] <= width, page
        assert result["scrollWidth"] <= result["clientWidth"], (page, result["wide"])
    violations = {page: result["violations"] for page, result in measured.items() if result["violations"]}
    assert violations == {}
