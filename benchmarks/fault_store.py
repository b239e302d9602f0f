"""Fault trials for the store: ``guidance-monitor run`` killed with SIGKILL at random moments.

    .venv/bin/python benchmarks/fault_store.py --kills 100 --pages 40

Serves ``--pages`` GOV.UK pages (a real capture from ``tests/fixtures``) from 127.0.0.1, each answer a
little slow so a run lasts long enough to be killed anywhere in it. Each round publishes a new revision
of every page (one sentence changed), starts ``guidance-monitor run`` as a real process, sends it SIGKILL
at a random moment (once a random number of pages, 0 to all but one, are written, plus up to two answer
delays: so kills land at start-up, mid-fetch and mid-write), then runs it again to the end, and checks
the database:

- ``PRAGMA integrity_check`` is ``ok``;
- no change lost: every page has exactly one snapshot per revision and one change per revision
  (``new`` for the first, then one ``minor`` each), each tied to the snapshot of its revision;
- no change recorded twice: no two changes of a page lead to the same snapshot;
- the run after a kill exits 0.

Prints one line per round and the totals; exits 1 if any check failed.

    .venv/bin/python benchmarks/fault_store.py --hold 10

instead holds a write transaction in another process (a plain ``sqlite3`` connection) for 10 s while a
run of changed pages starts, and reports how the run ended and how long it took (and, if it gave up, how
the next run did), then checks the database as above.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = next(
    (ROOT / "tests" / "fixtures" / "html_timeline").glob(
        "guidance~senior-mental-health-lead-training/2022-08-18*/*.html"
    )
)
SPOT = b"are aligned with the principles"


class Pages:
    """The served revision of every page: round ``n`` serves revision ``n``."""

    def __init__(self, delay: float) -> None:
        self.base = CAPTURE.read_bytes()
        assert self.base.count(SPOT) == 1
        self.revision = 1
        self.delay = delay

    def body(self) -> bytes:
        return self.base.replace(
            SPOT, SPOT.replace(b"aligned", f"aligned (revision {self.revision})".encode())
        )


def serve(pages: Pages) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            time.sleep(pages.delay)
            body = pages.body()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a killed run resets its connections: expected here

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor", "run", "--config", str(config), "--no-deliver", "--no-site"]


def fetch_rows(database: Path) -> int:
    """Pages written so far (one fetch row each), read as another process would."""
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT count(*) FROM fetches").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def check(database: Path, urls: list[str], revisions: int) -> tuple[str, int, int, int]:
    """(integrity, changes lost, changes recorded twice, changes tied to the wrong snapshot or of the
    wrong kind) over every page after ``revisions`` revisions."""
    from monitor.store import Store

    lost = doubled = wrong = 0
    expected = ["new"] + ["minor"] * (revisions - 1)
    with Store(database, readonly=True) as store:
        integrity = store.integrity_check()
        for url in urls:
            snapshots = [s["id"] for s in store.snapshots(url)]
            found = [c for c in reversed(store.changes(page_url=url)) if not c.backfilled]
            leads_to = [c.new_snapshot_id for c in found]
            lost += max(0, len(expected) - len(found))
            doubled += max(0, len(found) - len(expected)) + len(leads_to) - len(set(leads_to))
            wrong += [c.kind for c in found] != expected or leads_to != snapshots
    return integrity, lost, doubled, wrong


HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE pages SET title = title")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def hold_trial(config: Path, database: Path, pages: Pages, urls: list[str], seconds: float) -> int:
    """A run while another process holds the write lock for ``seconds``: it should wait, then record."""
    pages.revision += 1
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    begun = time.monotonic()
    result = subprocess.run(command(config), capture_output=True, text=True, cwd=ROOT)
    took = time.monotonic() - begun
    holder.wait()
    print(f"write lock held {seconds:g} s: run exit {result.returncode} after {took:.1f} s")
    print("  " + "\n  ".join((result.stdout + result.stderr).strip().splitlines()))
    if result.returncode != 0:
        again = subprocess.run(command(config), capture_output=True, text=True, cwd=ROOT)
        print(f"the next run, lock released: exit {again.returncode}: {again.stdout.splitlines()[0]}")
    integrity, lost, doubled, wrong = check(database, urls, pages.revision)
    print(f"  integrity {integrity}; lost {lost}; doubled {doubled}; wrong {wrong}")
    return 0 if integrity == "ok" and not (lost or doubled or wrong) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each answer waits")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--hold", type=float, metavar="SECONDS", help="the busy-database trial instead")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    pages = Pages(args.delay)
    server = serve(pages)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    paths = [f"/guidance/watched-page-{n:02d}" for n in range(args.pages)]
    urls = [base + p for p in paths]
    failures = 0
    killed = finished_first = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        database = Path(folder) / "monitor.db"
        config.write_text(
            yaml.safe_dump(
                {
                    "database": "monitor.db",
                    "site_dir": "site",
                    "govuk_base_url": base,
                    "pages": paths,
                    "fetch": {
                        "source": "html",
                        "timeout": 5,
                        "retries": 1,
                        "rate_per_host": 1000,
                        "concurrency": 4,
                    },
                }
            ),
            encoding="utf-8",
        )
        first = subprocess.run(command(config), capture_output=True, text=True, cwd=ROOT)
        assert first.returncode == 0, first.stdout + first.stderr
        if args.hold is not None:
            return hold_trial(config, database, pages, urls, args.hold)
        for round_ in range(1, args.kills + 1):
            pages.revision = round_ + 1
            rows = rng.randrange(args.pages)  # kill once this many more pages are written ...
            delay = rng.uniform(0, 2 * args.delay)  # ... and then a moment later, whatever is under way
            start = fetch_rows(database)
            process = subprocess.Popen(
                command(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
            )
            while fetch_rows(database) < start + rows and process.poll() is None:
                time.sleep(0.002)
            time.sleep(delay)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            else:
                finished_first += 1
            process.wait()
            after = subprocess.run(command(config), capture_output=True, text=True, cwd=ROOT)
            integrity, lost, doubled, wrong = check(database, urls, pages.revision)
            bad = after.returncode != 0 or integrity != "ok" or lost or doubled or wrong
            failures += bool(bad)
            print(
                f"round {round_:3d}: kill after {rows:2d} pages + {delay * 1000:2.0f} ms "
                f"({'killed' if process.returncode < 0 else 'had ended'}); "
                f"next run exit {after.returncode}; integrity {integrity}; lost {lost}; doubled {doubled}; "
                f"wrong {wrong}" + ("  <-- FAILED" if bad else "")
            )
    server.shutdown()
    print(
        f"\n{args.kills} rounds, {killed} runs killed mid-way ({finished_first} had ended first), "
        f"{args.pages} pages, {len(urls) * pages.revision} page revisions: "
        f"{failures} rounds failed a check; {time.monotonic() - started:.0f} s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
