"""An offline demonstration: replay real captures of a DfE page, one a simulated day.

The bundled timeline (``data/samples/send-timeline``) holds seven captures of "Guidance for full opening:
special schools and other specialist settings" taken between February 2021 and February 2022. A small
server on 127.0.0.1 serves one capture at the page's real path; each simulated day the demo moves to the
next capture and runs the same cycle as ``guidance-monitor run``. Nothing leaves the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import SAMPLES_DIR

PAGE_PATH = "/government/publications/guidance-for-full-opening-special-schools-and-other-specialist-settings"
TIMELINE_DIR = SAMPLES_DIR / "send-timeline"


@dataclass(frozen=True)
class Capture:
    """One capture of the page: when it was taken and the HTML served for it."""

    taken_at: datetime
    path: Path

    @property
    def label(self) -> str:
        """When it was taken, on the UK clock and labelled (``2021-05-25 08:59 BST``)."""
        from .clock import london_time

        return london_time(self.taken_at, zone=True)


def captures(folder: Path = TIMELINE_DIR) -> list[Capture]:
    """The captures in time order; their names are ``<YYYY-MM-DDTHHMM>_<commit>.html``."""
    found = []
    for file in sorted(folder.glob("*.html")):
        stamp = file.stem.split("_", 1)[0]
        found.append(Capture(datetime.strptime(stamp, "%Y-%m-%dT%H%M").replace(tzinfo=UTC), file))
    if not found:
        raise FileNotFoundError(f"no captures in {folder}")
    return found


class TimelineServer:
    """Serves the current capture at :data:`PAGE_PATH` (and a 404 elsewhere) on 127.0.0.1."""

    def __init__(self) -> None:
        self.body = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = self.path.split("?", 1)[0] == PAGE_PATH
                body = server.body if found else b"<html><body><h1>Page not found</h1></body></html>"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @contextmanager
    def running(self) -> Iterator[TimelineServer]:
        thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()


def demo_config_text(base_url: str, out: Path) -> str:
    """The configuration the demo runs with: the real page path, served from 127.0.0.1."""
    return f"""\
# Written by `guidance-monitor demo`: the bundled captures are served from {base_url}.
database: {out / "monitor.db"}
site_dir: {out / "site"}
govuk_base_url: {base_url}
pages:
  - url: {PAGE_PATH}
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
    """Replay every capture through the daily run; leave the database, digests and site in ``out``."""
    from . import config as config_module
    from . import pipeline
    from .deliver import FolderChannel, deliver
    from .model import EmailSettings
    from .store import Store

    out.mkdir(parents=True, exist_ok=True)
    for stale in ("monitor.db", "monitor.db-wal", "monitor.db-shm"):
        (out / stale).unlink(missing_ok=True)
    inbox = FolderChannel(
        EmailSettings(to=["you@example.org"], from_="guidance-monitor demo <demo@localhost>"),
        out / "emails",
    )
    days = []
    server = TimelineServer()
    with server.running():
        config_file = out / "config.yaml"
        config_file.write_text(demo_config_text(server.base_url, out), encoding="utf-8")
        config = config_module.load(config_file)
        with Store(config.database) as store, store.lock():
            for capture in captures():
                server.body = capture.path.read_bytes()
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
