"""An offline demonstration: replay real captures of a DfE publication and its documents, one a day.

The bundled timeline (``data/samples/publication-timeline``, see its README) holds eight captures, March
to December 2021, of "Special schools and other specialist settings: coronavirus (COVID-19)" and of the
HTML attachments it lists. Each simulated day the demo serves that day's captures and runs the same cycle
as ``guidance-monitor run``, with ``follow_documents`` on: the digests and change pages then show the
operational guidance's sections word by word under the publication's change notes.

The pages are watched at their real www.gov.uk addresses, so the digests, the site and its page names are
those of the real pages and the same on every run. The requests are answered by a small server on
127.0.0.1 which the demo names as the HTTP proxy for the length of the run (``http_proxy``, which the
fetcher honours as any proxy); nothing leaves the machine. The demo watches ``http://www.gov.uk``, since a
proxy cannot answer for an ``https`` address without a certificate for it.
"""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from . import SAMPLES_DIR

TIMELINE_DIR = SAMPLES_DIR / "publication-timeline"
SITE = "http://www.gov.uk"
"""The address the demo watches: GOV.UK's own (see the module's docstring for why not ``https``)."""
PAGE_PATH = "/government/publications/guidance-for-full-opening-special-schools-and-other-specialist-settings"
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY")
HOST = "127.0.0.1"
"""Where the demo's server listens: this machine only."""


@dataclass(frozen=True)
class Capture:
    """One alert's capture: when it was taken and the files it changed (``<name>.html``)."""

    taken_at: datetime
    folder: Path

    @property
    def label(self) -> str:
        """When it was taken, on the UK clock and labelled (``2021-05-25 08:59 BST``)."""
        from .clock import london_time

        return london_time(self.taken_at, zone=True)

    @property
    def stamp(self) -> str:
        return self.folder.name.split("_", 1)[0]


def captures(folder: Path = TIMELINE_DIR) -> list[Capture]:
    """The captures in time order; their folders are named ``<YYYY-MM-DDTHHMM>_<commit>``."""
    found = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        stamp = sub.name.split("_", 1)[0]
        found.append(Capture(datetime.strptime(stamp, "%Y-%m-%dT%H%M").replace(tzinfo=UTC), sub))
    if not found:
        raise FileNotFoundError(f"no captures in {folder}")
    return found


def redirects(folder: Path = TIMELINE_DIR) -> list[tuple[str, str, str]]:
    """``(from_capture, old_path, new_path)``: where GOV.UK answered an old address with a redirect."""
    table = folder / "REDIRECTS.tsv"
    if not table.is_file():
        return []
    with table.open(encoding="utf-8", newline="") as handle:
        return [
            (r["from_capture"], r["old_path"], r["new_path"]) for r in csv.DictReader(handle, delimiter="\t")
        ]


@dataclass
class TimelineState:
    """What GOV.UK served on one day: each page's latest capture up to it, and the redirects in force."""

    files: dict[str, Path] = field(default_factory=dict)
    moved: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on(cls, day: Capture, timeline: list[Capture], moves: list[tuple[str, str, str]]) -> TimelineState:
        state = cls()
        for capture in timeline:
            if capture.taken_at > day.taken_at:
                break
            for file in capture.folder.glob("*.html"):
                state.files[path_of(file.stem)] = file
        for since, old, new in moves:
            if since <= day.stamp:
                state.moved[old] = new
                state.files.pop(old, None)
        return state


def path_of(name: str) -> str:
    """A captured file's page path: the publication's own, or a document under it."""
    return PAGE_PATH if name == PAGE_PATH.rsplit("/", 1)[-1] else f"{PAGE_PATH}/{name}"


class TimelineServer:
    """Answers, as GOV.UK did on the current day, requests for ``www.gov.uk`` pages made through it as a
    proxy: a page, a redirect (301) to a document's new address, or a 404."""

    def __init__(self) -> None:
        self.state = TimelineState()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path.rstrip("/")
                file = server.state.files.get(path)
                moved = server.state.moved.get(path)
                if file is not None:
                    self._answer(200, file.read_bytes())
                elif moved is not None:
                    self._answer(301, b"", location=f"{SITE}{moved}")
                else:
                    self._answer(404, b"<html><body><h1>Page not found</h1></body></html>")

            def _answer(self, status: int, body: bytes, location: str = "") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer((HOST, 0), Handler)
        self._httpd.daemon_threads = True

    @property
    def proxy_url(self) -> str:
        return f"http://{HOST}:{self._httpd.server_port}"

    @contextmanager
    def running(self) -> Iterator[TimelineServer]:
        """Serve, and be the HTTP proxy of this process, until the block ends (the environment is put
        back as it was)."""
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        saved = {name: os.environ.get(name) for name in PROXY_VARIABLES}
        os.environ.update(http_proxy=self.proxy_url, HTTP_PROXY=self.proxy_url, no_proxy="", NO_PROXY="")
        try:
            yield self
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            self._httpd.shutdown()
            self._httpd.server_close()


def demo_config_text(out: Path) -> str:
    """The configuration the demo runs with: the real publication, its documents followed."""
    return f"""\
# Written by `guidance-monitor demo`: www.gov.uk as it was on each captured day, served offline.
database: {out / "monitor.db"}
site_dir: {out / "site"}
govuk_base_url: {SITE}
pages:
  - url: {PAGE_PATH}
    follow_documents: true
fetch:
  rate_per_host: 50
  timeout: 10
  retries: 1
  source: html
  user_agent: "guidance-monitor demo"
"""


@dataclass
class DemoDay:
    """What one simulated day found."""

    capture: Capture
    changes: list[str]
    digests: list[str]


def run_demo(out: Path, *, echo: Callable[[str], None] = print) -> list[DemoDay]:
    """Replay every capture through the daily run; leave the database, digests (``.eml``) and site in
    ``out``."""
    from . import config as config_module
    from . import pipeline
    from .deliver import FolderChannel, deliver
    from .settings import EmailSettings
    from .store import Store

    out.mkdir(parents=True, exist_ok=True)
    for stale in ("monitor.db", "monitor.db-wal", "monitor.db-shm", *(p.name for p in out.glob("*.eml"))):
        (out / stale).unlink(missing_ok=True)
    inbox = FolderChannel(
        EmailSettings(to=["you@example.org"], from_="guidance-monitor demo <demo@localhost>"), out
    )
    timeline = captures()
    moves = redirects()
    days = []
    server = TimelineServer()
    with server.running():
        config_file = out / "config.yaml"
        config_file.write_text(demo_config_text(out), encoding="utf-8")
        config = config_module.load(config_file)
        with Store(config.database) as store, store.lock():
            for capture in timeline:
                server.state = TimelineState.on(capture, timeline, moves)
                summary = pipeline.run(config, store, now=capture.taken_at, deliver=False)
                if summary.failures:
                    reasons = "; ".join(f"{url}: {why}" for url, why in summary.failures)
                    raise RuntimeError(f"the run of {capture.label} failed: {reasons}")
                sent = [d.detail for d in deliver(config, store, only=[inbox]) if d.sent]
                found = [f"{c.kind}: {c.note}" for c in summary.changes if not c.backfilled]
                days.append(DemoDay(capture, found, sent))
                echo(f"{capture.label}  {_day_line(found, sent)}")
    return days


def _day_line(found: list[str], sent: list[str]) -> str:
    if not found:
        return "no change"
    first = found[0] if len(found[0]) <= 90 else found[0][:89] + "…"
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    digest = f"  -> {Path(sent[0]).name}" if sent else ""
    return f"{first}{more}{digest}"
