"""Benchmark ``guidance-monitor run`` against urlwatch over the same pages served from 127.0.0.1.

    python3 -m venv /tmp/uw && /tmp/uw/bin/pip install urlwatch==2.29   # its own venv; not a dependency
    .venv/bin/python benchmarks/bench_run.py --pages 1000 --urlwatch /tmp/uw/bin/urlwatch
    .venv/bin/python benchmarks/bench_run.py --history --skip-urlwatch

The pages are the real GOV.UK captures in ``tests/fixtures`` (html_timeline and html_legacy), each served
at many addresses with a per-address variation (a reference number added to the first paragraph), so
every address is a distinct page. The server answers like a well-behaved web server: an ETag and a
Last-Modified with every page, 304 to a matching ``If-None-Match``.

Runs, each a fresh child process timed with ``os.wait4`` (wall time, CPU time, peak resident memory):

1. first run: every page new;
2. unchanged run: nothing changed (conditional requests answered 304);
3. 10% changed: one page in ten has a new sentence (and a new ETag);
4. unchanged, no validators: the server stops sending ETags and ignores conditional headers, so every
   page is downloaded and read again (the worst case, as with a server that sends no validators).

The series is repeated (``--repeat``, default 3), the two tools taking turns, and each figure reported is
the median of the repetitions: single runs on a shared machine vary by up to 2x.

guidance-monitor is measured twice: **fetch only** (``--no-deliver --no-site``, what urlwatch does) and the
**full run** as a user runs it (``guidance-monitor run``: the digest sent to an aiosmtpd SMTP server on
127.0.0.1, and the static changelog written).

``--floor`` adds a third tool, ``bare_httpx.py``: the same pages fetched with a bare ``httpx.AsyncClient``
at the monitor's concurrency, each body hashed and the ETags kept, nothing else. No monitor built on
httpx can be faster than it, so it shows how much of a run is httpx's own cost.

``--history`` measures instead what years of stored history cost: ``--history-pages`` pages (20,000) are
checked once by a real full run, then the database is given ``--history-days`` (365) days of past changes,
``--history-share`` (1%) of the pages a day, each a real ChangeSet from the captures, recorded with the
project's own ``Store.add_change`` (faster than real time), all marked sent, and the changelog rebuilt
once with ``guidance-monitor site``. Then, timed: an unchanged full run and a full run where 1% of the
pages changed. Its per-page time is compared with the 1,000-page unchanged full run.

guidance-monitor runs with ``fetch.source: html`` (urlwatch reads HTML too), its default ``concurrency``
(4; urlwatch uses a pool of 10 threads) and a ``rate_per_host`` of 100,000, i.e. no rate limit, because the
server is on localhost: a real GOV.UK run keeps to the default of 2 a second, and 1,000 pages then take
at least 500 s whatever the tool. urlwatch gets one ``url`` job per page with a ``css``
(``main``) and an ``html2text`` filter, and its own temporary config, cache and home directory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BIN = Path(sys.executable).parent


SELF_NAMES = re.compile(
    rb"""<link\b[^>]*\brel=["']?canonical["']?[^>]*>"""
    rb"""|<meta\b[^>]*\bname=["']govuk:content-id["'][^>]*>""",
    re.I,
)
"""A whole captured page names its own address and content id; served at a thousand other addresses it
would rightly be taken for another page's answer, so those marks are taken out (each address is then a
page of its own, as the benchmark means)."""


def captures() -> list[bytes]:
    files = sorted(FIXTURES.glob("html_timeline/*/*/*.html")) + sorted(FIXTURES.glob("html_legacy/*.html"))
    return [SELF_NAMES.sub(b"", f.read_bytes()) for f in files]


def visible_spot(page: bytes) -> int:
    """Where text added to the page lands in a paragraph a reader sees (checked with the project's parser)."""
    from monitor.parse import parse

    def read(body: bytes) -> str:
        return parse(body, "http://127.0.0.1/x", "text/html").content_hash

    main_end = page.rfind(b"</main>")
    first_text = next(
        (s.text[:40] for s in parse(page, "http://127.0.0.1/x", "text/html").sections if s.text), ""
    )
    candidates = [
        page.rfind(b"</p>", 0, main_end if main_end >= 0 else len(page)),
        page.find(b"</p>", page.find(b"govspeak")),
        page.find(first_text.encode()) if first_text else -1,
    ]
    before = read(page)
    for spot in candidates:
        if spot > 0 and read(page[:spot] + b" Reference 0. " + page[spot:]) != before:
            return spot
    raise ValueError("no visible place to vary this capture")


class Site:
    """The pages being served (path -> body), each a real capture plus a sentence of its own."""

    def __init__(self, count: int) -> None:
        pages = captures()
        spots = [visible_spot(page) for page in pages]
        self.paths = [f"/guidance/benchmark-page-{i:04d}" for i in range(count)]
        self._source = {
            p: (pages[i % len(pages)], spots[i % len(pages)], i) for i, p in enumerate(self.paths)
        }
        self.validators = True
        self.lock = threading.Lock()
        self.reset_pages()
        self.reset_counters()

    def _page(self, path: str, extra: str = "") -> bytes:
        page, spot, number = self._source[path]
        return page[:spot] + f" Reference {number}.{extra} ".encode() + page[spot:]

    def reset_counters(self) -> None:
        self.requests = self.full = self.not_modified = self.sent = 0

    def reset_pages(self) -> None:
        self.bodies = {path: self._page(path) for path in self.paths}

    def change(self, share: float) -> int:
        """Add a sentence to one page in ``1 / share``; returns how many pages changed."""
        changed = self.paths[:: round(1 / share)]
        for path in changed:
            self.bodies[path] = self._page(path, " This guidance was revised for the benchmark.")
        return len(changed)


def serve(site: Site) -> ThreadingHTTPServer:
    modified = formatdate(1_700_000_000, usegmt=True)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        """Headers and body go out in two writes: with Nagle on, the body waits for the client's delayed
        ACK of the headers (about 40 ms a page), which no real web server makes a client sit through."""

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            body = site.bodies.get(path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if site.validators and self.headers.get("If-None-Match") == etag:
                with site.lock:
                    site.requests += 1
                    site.not_modified += 1
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            with site.lock:
                site.requests += 1
                site.full += 1
                site.sent += len(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if site.validators:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 128
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


class Mailbox:
    """An aiosmtpd server on 127.0.0.1 that keeps count of the digests it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages = 0
        self.bytes = 0
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
                mailbox.messages += 1
                mailbox.bytes += len(envelope.content)
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class Figures:
    tool: str
    run: str
    wall: float
    cpu: float
    peak_mb: float
    requests: int
    full: int
    not_modified: int
    megabytes: float
    status: int
    note: str = ""
    tree_mb: float = 0.0
    """The most the tool's processes held together (sampled every 50 ms); peak_mb is its largest one."""


LAUNCHER = """
import json, os, sys, threading, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
page = os.sysconf("SC_PAGE_SIZE")
tree_peak = 0
done = threading.Event()

def tree_rss(root):
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total

def sample():
    global tree_peak
    while not done.wait(0.05):
        tree_peak = max(tree_peak, tree_rss(pid))

threading.Thread(target=sample, daemon=True).start()
_, status, usage = os.wait4(pid, 0)
done.set()
figures = {"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
           "peak_kb": usage.ru_maxrss, "tree_peak_kb": tree_peak // 1024,
           "status": os.waitstatus_to_exitcode(status)}
with open(sys.argv[1], "w") as out:
    json.dump(figures, out)
"""
"""Runs the tool as its own child and reports its rusage. Linux carries the forking process's peak
memory over into a child's ``ru_maxrss``, so the tool is started from this small launcher rather than from
the benchmark process, which holds every page in memory. ``ru_maxrss`` is the largest single process of
the tool's tree (a worker that parses beside a first run is its own process), so the launcher also
samples the whole tree's resident memory every 50 ms: ``tree_peak_kb``, the most the run held at once."""


def measure(
    tool: str, run: str, command: list[str], site: Site, env: dict[str, str], log: Path, summary: str
) -> Figures:
    site.reset_counters()
    # What earlier runs left for the disk to do (a rebuilt site's old folder, deleted) is done now, not
    # charged to this run.
    os.sync()
    offset = log.stat().st_size if log.exists() else 0
    rusage = log.with_suffix(".rusage.json")
    with log.open("ab") as out:
        out.write(f"\n=== {tool}: {run}\n$ {' '.join(command)}\n".encode())
        out.flush()
        launcher = [sys.executable, "-c", LAUNCHER, str(rusage), *command]
        subprocess.run(launcher, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    figures = json.loads(rusage.read_text())
    return Figures(
        tool,
        run,
        figures["wall"],
        figures["cpu"],
        figures["peak_kb"] / 1024,
        site.requests,
        site.full,
        site.not_modified,
        site.sent / 1e6,
        figures["status"],
        summary_line(log, offset, summary) if summary else "",
        figures.get("tree_peak_kb", 0) / 1024,
    )


def summary_line(log: Path, offset: int, prefix: str) -> str:
    """The tool's own summary of the run whose output starts at ``offset`` in ``log``."""
    text = log.read_bytes()[offset:].decode(errors="replace")
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return lines[-1] if lines else ""


def gm_config(site: Site, base: str, work: Path, smtp_port: int | None) -> Path:
    config: dict = {
        "database": str(work / "monitor.db"),
        "site_dir": str(work / "site"),
        "govuk_base_url": base,
        "fetch": {
            "source": "html",
            "rate_per_host": 100_000,
            "timeout": 30,
            "user_agent": "guidance-monitor-benchmark (benchmark@example.org)",
        },
        "pages": site.paths,
    }
    if smtp_port:
        config["digest"] = {
            "site_url": "https://changes.example.org",
            "email": {
                "to": ["senco@school.example"],
                "from": "monitor@school.example",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "starttls": False,
            },
        }
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def gm_command() -> list[str]:
    exe = BIN / "guidance-monitor"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "monitor"]


def guidance_monitor(
    site: Site, base: str, work: Path, env: dict[str, str], mailbox: Mailbox | None = None
) -> list[Figures]:
    """The fetch-only series, and with a mailbox the full run's series beside it."""
    (work / "fetch").mkdir(exist_ok=True)
    path = gm_config(site, base, work / "fetch", None)
    command = [*gm_command(), "run", "--config", str(path), "--no-deliver", "--no-site"]
    results = run_series("guidance-monitor fetch only", command, site, env, work / "gm.log", "Checked ")
    if mailbox is not None:
        (work / "full").mkdir(exist_ok=True)
        path = gm_config(site, base, work / "full", mailbox.port)
        command = [*gm_command(), "run", "--config", str(path)]
        results += run_series(
            "guidance-monitor full run", command, site, env, work / "gm-full.log", "Checked "
        )
    return results


def urlwatch(
    site: Site, base: str, work: Path, env: dict[str, str], exe: Path | None = None
) -> list[Figures]:
    jobs = [
        {"name": p.rsplit("/", 1)[1], "url": base + p, "filter": [{"css": "main"}, "html2text"]}
        for p in site.paths
    ]
    (work / "urls.yaml").write_text(yaml.safe_dump_all(jobs))
    (work / "urlwatch.yaml").write_text(
        yaml.safe_dump({"report": {"stdout": {"enabled": True, "color": False}}, "display": {"new": True}})
    )
    exe = exe or BIN / "urlwatch"
    command = [str(exe) if exe.exists() else "urlwatch"]
    command += ["--urls", str(work / "urls.yaml"), "--config", str(work / "urlwatch.yaml")]
    command += ["--cache", str(work / "cache.db"), "--hooks", str(work / "hooks.py")]
    log = work / "urlwatch.log"
    return run_series("urlwatch", command, site, env, log, "")


def bare_httpx(site: Site, base: str, work: Path, env: dict[str, str]) -> list[Figures]:
    """The floor: ``bare_httpx.py``, the least a monitor on httpx does, over the same pages."""
    (work / "urls.txt").write_text("\n".join(base + p for p in site.paths))
    command = [sys.executable, str(ROOT / "benchmarks" / "bare_httpx.py"), str(work / "etags.json")]
    command.append(f"@{work / 'urls.txt'}")
    return run_series("bare httpx (floor)", command, site, env, work / "bare.log", "Checked ")


def run_series(tool: str, command: list[str], site: Site, env: dict[str, str], log: Path, summary: str):
    site.reset_pages()
    site.validators = True
    results = [measure(tool, "first run", command, site, env, log, summary)]
    results.append(measure(tool, "unchanged", command, site, env, log, summary))
    changed = site.change(0.10)
    results.append(measure(tool, f"10% changed ({changed} pages)", command, site, env, log, summary))
    site.validators = False
    results.append(measure(tool, "unchanged, no validators", command, site, env, log, summary))
    site.validators = True
    return results


def table(results: list[Figures]) -> str:
    rows = [
        "| tool | run | wall s | CPU s | peak MB | all MB | requests | 200 | 304 | MB sent | exit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in results:
        rows.append(
            f"| {f.tool} | {f.run} | {f.wall:.2f} | {f.cpu:.2f} | {f.peak_mb:.0f} | {f.tree_mb:.0f} "
            f"| {f.requests} | {f.full} | {f.not_modified} | {f.megabytes:.1f} | {f.status} |"
        )
    return "\n".join(rows)


def median_figures(results: list[Figures]) -> list[Figures]:
    """Each (tool, run)'s median over the repetitions, in the order first measured."""
    groups: dict[tuple[str, str], list[Figures]] = {}
    for f in results:
        groups.setdefault((f.tool, f.run), []).append(f)
    medians = []
    for (tool, run), group in groups.items():
        middle = len(group) // 2

        def med(name: str, group: list[Figures] = group, middle: int = middle) -> float:
            return sorted(getattr(f, name) for f in group)[middle]

        medians.append(
            Figures(
                tool,
                run,
                med("wall"),
                med("cpu"),
                med("peak_mb"),
                int(med("requests")),
                int(med("full")),
                int(med("not_modified")),
                med("megabytes"),
                max(f.status for f in group),
                group[-1].note,
                med("tree_mb"),
            )
        )
    return medians


def ratios(results: list[Figures]) -> list[str]:
    by_run = {(f.tool, f.run): f for f in results}
    lines = []
    for tool in ("guidance-monitor fetch only", "guidance-monitor full run", "bare httpx (floor)"):
        for run in ("first run", "unchanged", "unchanged, no validators"):
            ours, theirs = by_run.get((tool, run)), by_run.get(("urlwatch", run))
            if ours and theirs:
                lines.append(
                    f"{tool}, {run}: {theirs.wall / ours.wall:.2f}x urlwatch's speed (wall), "
                    f"{theirs.cpu / ours.cpu:.2f}x (CPU time)"
                )
    return lines


def add_history(config_path: Path, site: Site, days: int, share: float) -> int:
    """Give the database ``days`` days of past changes, ``share`` of the pages a day, with the project's
    own store; mark them sent, as a deployment that has run for that long has."""
    from datetime import UTC, datetime, timedelta

    from monitor import deliver
    from monitor.clock import utc_timestamp
    from monitor.config import load
    from monitor.diff import diff
    from monitor.model import Change
    from monitor.parse import parse
    from monitor.store import Store

    config = load(config_path)
    sample = site.paths[0]
    address = f"http://127.0.0.1{sample}"
    before = parse(site._page(sample), address, "text/html")
    after = parse(site._page(sample, " A sentence added a while ago."), address, "text/html")
    changeset = diff(before, after)
    per_day = max(1, round(len(site.paths) * share))
    today = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
    with Store(config.database) as store:
        pages = store.pages()
        urls, titles = [p.url for p in pages], {p.url: p.title for p in pages}
        for day in range(days, 0, -1):
            stamp = utc_timestamp(today - timedelta(days=day))
            with store.writing():
                for k in range(per_day):
                    url = urls[(day * per_day + k) % len(urls)]
                    kind, note = ("major", "Updated the guidance.") if k % 3 == 0 else ("minor", "")
                    change = Change(url, kind, stamp, titles[url], changeset, note, stamp[:10])
                    store.add_change(change)
        for channel in deliver.channels(config):
            ids = [c.id for c in store.undelivered(channel.name) if c.id is not None]
            store.mark_delivered(channel.name, ids, "benchmark history")
    return days * per_day


def history(args: argparse.Namespace, work: Path, env: dict[str, str]) -> None:
    import time

    site = Site(args.history_pages)
    server = serve(site)
    base = "http://{}:{}".format(*server.server_address[:2])
    mailbox = Mailbox()
    print(f"{args.history_pages} pages with {args.history_days} days of history; work in {work}", flush=True)
    path = gm_config(site, base, work, mailbox.port)
    command = [*gm_command(), "run", "--config", str(path)]
    log = work / "history.log"
    tool = "guidance-monitor full run"
    try:
        results = [measure(tool, "first run (every page new)", command, site, env, log, "Checked ")]
        print(table(results), flush=True)
        started = time.perf_counter()
        count = add_history(path, site, args.history_days, args.history_share)
        print(f"history: {count} changes added in {time.perf_counter() - started:.0f} s", flush=True)
        rebuild = [*gm_command(), "site", "--config", str(path)]
        results.append(
            measure("guidance-monitor site", "full rebuild with the history", rebuild, site, env, log, "")
        )
        results.append(measure(tool, "unchanged", command, site, env, log, "Checked "))
        changed = site.change(args.history_share)
        results.append(
            measure(
                tool,
                f"{args.history_share:.0%} changed ({changed} pages)",
                command,
                site,
                env,
                log,
                "Checked ",
            )
        )
        results.append(measure(tool, "unchanged again", command, site, env, log, "Checked "))
    finally:
        server.shutdown()
        mailbox.stop()
    print(f"\n{table(results)}")
    for f in results:
        if f.note:
            print(f"{f.run}: {f.note}")
    per_page = {f.run: f.wall / args.history_pages * 1000 for f in results}
    print("ms per page: " + ", ".join(f"{run} {ms:.2f}" for run, ms in per_page.items()))
    print(f"digests received: {mailbox.messages} ({mailbox.bytes / 1e6:.1f} MB)")
    files = sum(1 for p in (work / "site").rglob("*") if p.is_file())
    print(f"site: {files} files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="how many addresses to serve (default 1000)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each series; medians reported")
    parser.add_argument("--skip-urlwatch", action="store_true", help="measure guidance-monitor only")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (logs, databases)")
    parser.add_argument("--urlwatch", metavar="PATH", type=Path, help="the urlwatch to run (its own venv)")
    parser.add_argument(
        "--floor", action="store_true", help="also time bare_httpx.py, the least a monitor on httpx does"
    )
    parser.add_argument("--no-full", action="store_true", help="leave out the full run (digest and site)")
    parser.add_argument("--history", action="store_true", help="the years-of-history case instead")
    parser.add_argument("--history-pages", type=int, default=20_000)
    parser.add_argument("--history-days", type=int, default=365)
    parser.add_argument("--history-share", type=float, default=0.01)
    args = parser.parse_args()

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="gm-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "NO_PROXY": "127.0.0.1",
    }
    env.pop("GUIDANCE_MONITOR_CONFIG", None)
    # An installed tool runs from compiled bytecode (pip compiles it); with this set, a tool installed in
    # editable mode (the project's own checkout) would compile its modules again on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.history:
        try:
            history(args, work, env)
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
        return
    site = Site(args.pages)
    server = serve(site)
    base = "http://{}:{}".format(*server.server_address[:2])
    mailbox = None if args.no_full else Mailbox()
    print(f"{args.pages} pages from {len(captures())} real captures at {base}; work in {work}", flush=True)
    results: list[Figures] = []
    try:
        # The tools take turns, so a burst of load on the shared machine falls on both alike.
        for rep in range(1, args.repeat + 1):
            (work / f"gm{rep}").mkdir(exist_ok=True)
            series = guidance_monitor(site, base, work / f"gm{rep}", env, mailbox)
            if args.floor:
                (work / f"bare{rep}").mkdir(exist_ok=True)
                series += bare_httpx(site, base, work / f"bare{rep}", env)
            if not args.skip_urlwatch:
                (work / f"uw{rep}").mkdir(exist_ok=True)
                series += urlwatch(site, base, work / f"uw{rep}", env, args.urlwatch)
            print(f"\nrepetition {rep}\n{table(series)}", flush=True)
            print("\n".join(ratios(series)), flush=True)
            results += series
    finally:
        server.shutdown()
        if mailbox is not None:
            mailbox.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    medians = median_figures(results)
    print(f"\nmedian of {args.repeat}")
    print(table(medians))
    for f in medians:
        if f.note:
            print(f"{f.tool}, {f.run}: {f.note}")
    print("\n".join(ratios(medians)))
    peak = max(f.peak_mb for f in results if f.tool.startswith("guidance-monitor"))
    tree = max(f.tree_mb for f in results if f.tool.startswith("guidance-monitor"))
    print(
        f"peak memory of guidance-monitor (highest of all runs): {peak:.0f} MB; all processes {tree:.0f} MB"
    )


if __name__ == "__main__":
    main()
