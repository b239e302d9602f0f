"""Fault trials for the whole run with email: ``guidance-monitor run`` against servers on 127.0.0.1.

    .venv/bin/python benchmarks/fault_run.py                 # every trial, 100 kills
    .venv/bin/python benchmarks/fault_run.py --kills 10 --hold 10 --hold-long 0   # a short version
    .venv/bin/python benchmarks/fault_run.py --only kills    # one trial: kills, sweep, smtp, hold or guards

- kills: ``--pages`` pages (fault_store's capture, a new revision of every page each round) and a real
  aiosmtpd server recording every message (recipients, Message-ID, the change ids it carries, checked
  against the change links in its text). Each round starts ``run`` and sends it SIGKILL at a random
  moment: half the rounds once a random number of pages are written (plus up to 40 ms), the other half
  when the SMTP server reaches a random step (MAIL, RCPT, DATA received before its 250, or a random 0 to
  80 ms after the 250, 800 ms with ``--site``: the outbox's marks and the site build). Then ``run``
  again to the end, and check:
  ``integrity_check`` ok, the run exit 0, no change lost or recorded twice in the database
  (``fault_store.check``), every change received by every recipient, and every copy received twice
  explained: the same Message-ID as its first copy, and an attempt left open by the kill after the
  server had the message (the one-message window).
- sweep: one page of every fault kind of issue 16 per kind, served by a fault-injecting server, over
  seven runs (good, fault, fault, good, fault, changed, good; half the pages start with the fault); counts
  false changes (more than the page's real revisions) and lost pages (a real revision not recorded),
  and requests to the host off the allow-list.
- smtp: 421 on QUIT after the 250, 550 and 450 for one recipient of two, 552 at DATA for a digest with a
  5 MB section, and a server advertising a small ``SIZE``: each recipient that the server accepts gets
  each change exactly once, none lost to another's refusal, a 552 never blocks later changes.
- hold: ``run`` while another process holds a write transaction ``--hold`` s (waits, succeeds) and
  ``--hold-long`` s, beyond the 30 s busy timeout (one failure line, exit 1, then nothing lost).
- guards: each guard of issue 23, on 6 pages and a real SMTP server: the database emptied, deleted or
  replaced beside its site (refused in one line, exit 2, no request, no email, the site byte for byte
  the same; the right database back, the next revision recorded and sent once), a zeroed page of the
  database, the disk filling up while a run records (a 4 MB tmpfs in a private mount namespace), another
  application's SQLite file, a page answered with another page's (whole, then a bare ``<main>``),
  ``demo --out`` a folder holding a real database, a site whose parent may not be written, commands that
  may not write their folder and reading commands on a read-only database (held to file permissions with
  setpriv when run as root), SIGINT and SIGTERM mid-run against a slow page, and ``serve --once``. Each
  case ends with the tally of fault_store: changes lost, doubled and false, and email lost and doubled.

Every loop is bounded (rounds, runs, a timeout on every process); everything listens on 127.0.0.1 only.
Prints one line per round or case and the totals; exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "tests")]

import fault_store  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from conftest import PageServer, Response  # noqa: E402
from run_support import SEND, SEND_ADDITIONAL, SEND_TESTING, capture, page_path  # noqa: E402
from test_deliver import free_port  # noqa: E402
from test_deliver_faults import Handler  # noqa: E402
from test_fetch import CHALLENGES  # noqa: E402
from test_quality import (  # noqa: E402
    BUILT,
    LEGACY,
    challenge,
    cut_in_main,
    invalid_utf8,
    not_found,
    technical_difficulties,  # noqa: E402
)

TO = ["senco@school.example", "head@school.example"]
SITE_URL = "https://changes.example.org"
RUN_TIMEOUT = 180  # seconds: no run may hang the trial


# --------------------------------------------------------------------------- the mail server


class Inbox(Handler):
    """test_deliver_faults' SMTP behaviours, plus a SIGKILL of the run at a chosen step."""

    def __init__(self) -> None:
        super().__init__()
        self.kill: tuple[str, float] | None = None
        """(step, delay): SIGKILL ``victim`` at MAIL, RCPT, DATA (before its 250) or ``after`` it."""
        self.victim: int | None = None
        self.lock = threading.Lock()

    def _strike(self, step: str) -> None:
        with self.lock:
            if self.kill is None or self.kill[0] != step or self.victim is None:
                return
            victim, delay = self.victim, self.kill[1]
            self.kill = None

        def fire() -> None:
            try:
                signal_process(victim)
            except ProcessLookupError:
                pass

        if delay:
            threading.Timer(delay, fire).start()
        else:
            fire()

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        self._strike("mail")
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        self._strike("rcpt")
        return await super().handle_RCPT(server, session, envelope, address, options)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if answer.startswith("250"):
            self._strike("data")
            self._strike("after")
        return answer

    def copies(self) -> list[tuple[str, str, list[int]]]:
        """(recipient, Message-ID, change ids) of every copy accepted, the ids checked against the text."""
        found = []
        for tos, message in list(self.messages):
            ids = [int(i) for i in (message["X-Guidance-Monitor-Changes"] or "").split(",") if i]
            text = message.get_body(preferencelist=("plain",)).get_content()
            linked = {int(i) for i in re.findall(re.escape(SITE_URL) + r"/changes/(\d+)\.html", text)}
            # Two changes of a page found in the same second are told as one story with one link, so a
            # carried change may have no link of its own; a link to a change not carried is a fault.
            if not linked <= set(ids) or (ids and not linked):
                raise AssertionError(f"{message['Message-ID']}: header {ids}, links {sorted(linked)}")
            found += [(to, message["Message-ID"], ids) for to in tos]
        return found


def signal_process(pid: int) -> None:
    import os

    os.kill(pid, signal.SIGKILL)


def mail_server(**controller: object) -> tuple[Inbox, Controller]:
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=free_port(), **controller)
    server.start()
    return inbox, server


def write_config(folder: Path, base: str, pages: list, smtp_port: int, **fetch: object) -> Path:
    settings = {"source": "html", "timeout": 2, "retries": 2, "rate_per_host": 1000, "concurrency": 4}
    data = {
        "database": "monitor.db",
        "site_dir": "site",
        "govuk_base_url": base,
        "pages": pages,
        "fetch": {**settings, **fetch},
        "digest": {
            "email": {"to": TO, "from": "monitor@school.example", "smtp_host": "127.0.0.1"}
            | {"smtp_port": smtp_port, "starttls": False},
            "site_url": SITE_URL,
        },
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run(config: Path, *extra: str, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "monitor", "run", "--config", str(config), *extra]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def recorded_changes(database: Path) -> list[tuple[int, str, str]]:
    """(id, page, kind) of every change found by a run (backfilled history is not news)."""
    from monitor.store import Store

    with Store(database, readonly=True) as store:
        return sorted((c.id, c.page_url, c.kind) for c in store.changes() if not c.backfilled)


def mail_check(database: Path, inbox: Inbox, to: list[str] = TO) -> tuple[int, Counter, list[str]]:
    """(pairs lost, copies per (recipient, change), problems) for every change against the inbox."""
    wanted = [i for i, _, kind in recorded_changes(database) if kind != "none"]
    got: Counter = Counter()
    by_pair: dict[tuple[str, int], set[str]] = defaultdict(set)
    carried: dict[str, set[tuple[int, ...]]] = defaultdict(set)
    for recipient, message_id, ids in inbox.copies():
        carried[message_id].add(tuple(ids))
        for i in ids:
            got[recipient, i] += 1
            by_pair[recipient, i].add(message_id)
    problems = [f"{m} carried different changes {sorted(c)}" for m, c in carried.items() if len(c) > 1]
    problems += [
        f"{r} got change {i} {got[r, i]} times under different Message-IDs"
        for (r, i), ids in by_pair.items()
        if len(ids) > 1
    ]
    lost = sum(1 for r in to for i in wanted if got[r, i] == 0)
    return lost, got, problems


def open_attempts(database: Path) -> set[str]:
    """The Message-IDs of attempts left open (the run was killed while handing them over)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT message_id FROM delivery_attempts WHERE finished_at IS NULL").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    return {r[0] for r in rows}


# --------------------------------------------------------------------------- (a) kills


def kill_trial(args: argparse.Namespace, rng: random.Random) -> int:
    pages = fault_store.Pages(args.delay)
    http = fault_store.serve(pages)
    inbox, smtp = mail_server()
    base = f"http://127.0.0.1:{http.server_address[1]}"
    paths = [f"/guidance/watched-page-{n:02d}" for n in range(args.pages)]
    urls = [base + p for p in paths]
    extra = () if args.site else ("--no-site",)
    failures = killed = ended = in_window = 0
    window_ids: set[str] = set()
    steps: Counter = Counter()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), base, paths, smtp.port, timeout=5, retries=1)
        database = Path(folder) / "monitor.db"
        first = run(config, *extra)
        assert first.returncode == 0, first.stdout + first.stderr
        for round_ in range(1, args.kills + 1):
            pages.revision = round_ + 1
            start = fault_store.fetch_rows(database)
            command = [sys.executable, "-m", "monitor", "run", "--config", str(config), *extra]
            if rng.random() < 0.5:
                rows, delay = rng.randrange(args.pages), rng.uniform(0, 2 * args.delay)
                where = f"after {rows:2d} pages + {delay * 1000:2.0f} ms"
                step = "fetch"
            else:
                step = rng.choice(["mail", "rcpt", "data", "after"])
                # after the 250: the outbox's marks, and with --site the site's build too
                delay = rng.uniform(0, 0.8 if args.site else 0.08) if step == "after" else 0.0
                where = f"at SMTP {step}" + (f" + {delay * 1000:2.0f} ms" if delay else "")
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
            )
            begun = time.monotonic()
            if step == "fetch":
                while fault_store.fetch_rows(database) < start + rows and process.poll() is None:
                    time.sleep(0.002)
                time.sleep(delay)
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
            else:
                inbox.victim, inbox.kill = process.pid, (step, delay)
            try:
                process.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            time.sleep(0.1 if step == "after" else 0)  # a timer may still be due
            inbox.kill = inbox.victim = None
            was_killed = process.returncode == -signal.SIGKILL
            killed += was_killed
            ended += not was_killed
            steps[step] += was_killed
            received = {m for _, m, _ in inbox.copies()}
            window = open_attempts(database) & received
            window_ids |= window
            in_window += len(window)
            after = run(config, *extra)
            integrity, lost, doubled, wrong = fault_store.check(database, urls, pages.revision)
            mail_lost, got, problems = mail_check(database, inbox)
            copies = Counter(m for _, m, _ in inbox.copies())
            dup_ids = {m for m, n in copies.items() if n > len(TO)}
            leftovers = len([*Path(folder).glob(".site.new-*"), *Path(folder).glob(".site.old-*")])
            unexplained = dup_ids - window_ids
            bad = (
                after.returncode != 0
                or integrity != "ok"
                or lost
                or doubled
                or wrong
                or mail_lost
                or problems
                or unexplained
            )
            failures += bool(bad)
            print(
                f"round {round_:3d}: kill {where:24s} ({'killed' if was_killed else 'had ended'}, "
                f"{time.monotonic() - begun:4.1f} s); next run exit {after.returncode}; "
                f"integrity {integrity}; "
                f"lost {lost}; doubled {doubled}; wrong {wrong}; email lost {mail_lost}; "
                f"in the window {len(window)}; received twice so far {len(dup_ids)}"
                + (f"; site build folders left {leftovers}" if args.site else "")
                + (f"  <-- FAILED {problems[:2]} {sorted(unexplained)[:2]}" if bad else ""),
                flush=True,
            )
    smtp.stop()
    http.shutdown()
    copies = Counter(m for _, m, _ in inbox.copies())
    dup_pairs = sum(n - 1 for n in got.values() if n > 1)
    print(
        f"\nkills: {args.kills} rounds, {killed} runs killed mid-way ({dict(steps)}), "
        f"{ended} had ended first; "
        f"{args.pages} pages, {len(urls) * pages.revision} page revisions, {len(inbox.messages)} messages "
        f"accepted ({sum(copies.values())} copies), {len(got)} (recipient, change) pairs; "
        f"kills inside the one-message window {in_window}; messages received twice "
        f"{sum(1 for n in copies.values() if n > len(TO))} (recipient-change copies doubled {dup_pairs}); "
        f"{failures} rounds failed a check; {time.monotonic() - started:.0f} s",
        flush=True,
    )
    return failures


# --------------------------------------------------------------------------- (b) the fault sweep


def fault_kinds(good: bytes, path: str, elsewhere: str) -> dict[str, Response]:
    """Every answer of issue 16 that is not the page, as served for a page whose real body is ``good``."""
    return {
        "500": Response(500, b"<h1>Internal Server Error</h1>"),
        "429 Retry-After": Response(429, b"Too many requests", headers={"Retry-After": "1"}),
        "503 Retry-After": Response(503, b"Service unavailable", headers={"Retry-After": "1"}),
        "reset mid-body": Response(body=good, reset=True),
        "truncated body": Response(body=good, truncate=True),
        "slow body": Response(body=good, trickle=0.5),
        "empty body": Response(body=b""),
        "Cloudflare challenge 403": CHALLENGES[0],
        "Cloudflare challenge 200": CHALLENGES[3],
        "redirect loop": Response(301, headers={"Location": path}),
        "half page 200": Response(body=cut_in_main(good)),
        "GOV.UK error page 200": Response(body=technical_difficulties(BUILT)),
        "not-found page 200": Response(body=not_found(LEGACY)),
        "checking your browser 200": Response(body=challenge(BUILT)),
        "invalid UTF-8": Response(body=invalid_utf8(good)),
        "304": Response(304),
        "gzip bomb": Response(body=gzip.compress(b" " * 30_000_000), headers={"Content-Encoding": "gzip"}),
        "document redirected off GOV.UK": Response(302, headers={"Location": elsewhere}),
    }


def sweep_trial(args: argparse.Namespace) -> int:
    pages = fault_store.Pages(0)
    http = PageServer().start()
    away = PageServer().start()  # reached as "localhost": not on the allow-list
    away.routes["/secret"] = Response(body=b"<html><body><main>secret</main></body></html>")
    secret = f"http://localhost:{away.base_url.rsplit(':', 1)[1]}/secret"
    inbox, smtp = mail_server()
    kinds = list(fault_kinds(pages.body(), "/", secret))
    # (name, path, kind, starts with the fault)
    watched = [
        (f"{kind}{' (first fetch)' if fresh else ''}", f"/guidance/sweep-{n:02d}-{int(fresh)}", kind, fresh)
        for n, kind in enumerate(kinds)
        if kind != "document redirected off GOV.UK"
        for fresh in (False, True)
    ]
    publication = page_path(SEND)  # the followed document of this publication redirects off GOV.UK
    documents = {page_path(SEND_ADDITIONAL): capture(SEND_ADDITIONAL, "2021-05-25")}
    alternating = "/guidance/sweep-alternating"
    schedule = ["good", "fault", "fault", "good", "fault", "changed", "good"]
    a_b = [pages.body(), pages.body().replace(b"aligned (revision 1)", b"aligned (version B)")]
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(
            Path(folder),
            http.base_url,
            [p for _, p, _, _ in watched] + [alternating, {"url": publication, "follow_documents": True}],
            smtp.port,
            max_bytes=5_000_000,
        )
        database = Path(folder) / "monitor.db"
        for number, step in enumerate(schedule):
            pages.revision = 2 if number >= schedule.index("changed") else 1
            good = pages.body()
            for _, path, kind, fresh in watched:
                faulty = step == "fault" or (fresh and number == 0)
                http.routes[path] = fault_kinds(good, path, secret)[kind] if faulty else Response(body=good)
            http.routes[alternating] = Response(body=a_b[number % 2])
            http.routes[publication] = Response(body=capture(SEND, "2021-05-25"))
            for doc, body in documents.items():
                http.routes[doc] = Response(body=body)
            http.routes[page_path(SEND_TESTING)] = Response(302, headers={"Location": secret})
            begun = time.monotonic()
            result = run(config, "--no-site")
            failed = result.stdout.count("  failed: ")
            print(
                f"sweep run {number + 1} ({step}): exit {result.returncode}, {failed} failed, "
                f"{time.monotonic() - begun:.1f} s",
                flush=True,
            )
        changes = recorded_changes(database)
        kinds_of: dict[str, list[str]] = defaultdict(list)
        for _, url, kind in changes:
            kinds_of[url.removeprefix(http.base_url)].append(kind)
        from monitor.store import Store

        with Store(database, readonly=True) as store:
            errors = {
                p: [f["error"] for f in store.fetches(http.base_url + p) if f["error"]]
                for _, p, _, _ in watched
            }
        false = lost = 0
        for name, path, _, _ in watched:
            got = kinds_of[path]
            extra, missing = max(0, len(got) - 2), int(got[:1] != ["new"]) + int("minor" not in got[1:])
            false, lost = false + extra, lost + missing
            ok = not extra and not missing
            failures += not ok
            reason = errors[path][-1][:70] if errors[path] else "no failure recorded"
            print(
                f"  {name:40s} changes {','.join(got):12s} failed fetches {len(errors[path])}: {reason}"
                + ("" if ok else "  <-- FAILED"),
                flush=True,
            )
        flips = kinds_of[alternating]
        flip_ok = flips == ["new", "minor", "flapping"]
        failures += not flip_ok
        false += max(0, len(flips) - 3)
        print(
            f"  {'A/B alternating, 7 runs':40s} changes {','.join(flips)}"
            + ("" if flip_ok else "  <-- FAILED")
        )
        document = http.base_url + page_path(SEND_TESTING)
        with Store(database, readonly=True) as store:
            stored = len(store.snapshots(document))
            reason = (store.fetches(document) or [{"error": "never fetched"}])[0]["error"]
        off = len(away.requests)
        failures += bool(off or stored)
        print(
            f"  {'document redirected off GOV.UK':40s} requests off the allow-list {off}, "
            f"snapshots {stored}: "
            f"{reason}" + ("  <-- FAILED" if off or stored else "")
        )
        mail_lost, got, problems = mail_check(database, inbox)
        doubled = sum(1 for n in got.values() if n > 1)
        failures += bool(mail_lost or doubled or problems)
    smtp.stop()
    http.stop()
    away.stop()
    print(
        f"\nsweep: {len(watched)} pages over {len(kinds) - 1} fault kinds (+ A/B, + a document redirected "
        f"off GOV.UK), {len(schedule)} runs: false changes {false}, lost pages {lost}, requests off the "
        f"allow-list {off}; email: lost {mail_lost}, doubled {doubled}; {failures} checks failed",
        flush=True,
    )
    return failures


# --------------------------------------------------------------------------- (c) SMTP faults


def smtp_case(
    name: str,
    inbox: Inbox,
    smtp: Controller,
    runs: list[dict],
    *,
    huge: bool = False,
    sections: bool = False,
    refused: str = "",
) -> int:
    """Runs of 4 changed pages (one with a 5 MB section when ``huge``) with the server's behaviour for each
    run set from ``runs``; then each recipient's copies are counted."""
    pages = fault_store.Pages(0)
    http = PageServer().start()
    paths = [f"/guidance/smtp-page-{n}" for n in range(4)]
    failures = 0
    outputs = []
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), http.base_url, paths, smtp.port, timeout=10, max_bytes=20_000_000)
        database = Path(folder) / "monitor.db"
        for number, behaviour in enumerate(runs):
            pages.revision = number + 1
            for path in paths:
                body = pages.body()
                if huge and path == paths[0] and number == 1:
                    words = b"word " * (300 if sections else 1_000_000)
                    many = b"".join(
                        b"</p><h2>Part %d</h2><p>%s" % (n, words) for n in range(400 if sections else 1)
                    )
                    body = body.replace(b"aligned (", b"aligned " + many + b"(")
                http.routes[path] = Response(body=body)
            for key, value in behaviour.items():
                setattr(inbox, key, value)
            time.sleep(1.1)  # runs in different seconds: each change its own story, with its own link
            result = run(config, "--no-site")
            outputs.append(f"exit {result.returncode}: " + " | ".join(result.stdout.strip().splitlines()[1:]))
        changes = recorded_changes(database)
        from monitor.store import Store

        with Store(database, readonly=True) as store:
            waiting = len(store.undelivered("email"))
            too_big = {
                r[0]
                for r in store.db.execute(
                    "SELECT change_id FROM recipient_deliveries WHERE status = 'refused' AND code = 552"
                )
            }
        lost, got, problems = mail_check(database, inbox, [t for t in TO if t != refused])
    http.stop()
    doubled = sum(1 for n in got.values() if n > 1)
    to_refused = sum(n for (r, _), n in got.items() if r == refused)
    # the 5 MB change and the one taking it out again
    big = [i for i, url, _ in changes if url == http.url(paths[0])][1:] if huge else []
    refused_for_size = set(too_big)
    # the 5 MB change goes cut short, or is refused for size and reported: never lost, never blocking
    lost -= sum(1 for r in TO for i in refused_for_size & set(big) if got[r, i] == 0)
    cut_short = sum(
        "cut short to fit the email" in m.get_body(preferencelist=("plain",)).get_content()
        for _, m in inbox.messages
    )
    bad = bool(lost or doubled or problems or to_refused or waiting or refused_for_size - set(big))
    failures += bad
    print(
        f"smtp {name}: {len(changes)} changes, {len(inbox.messages)} messages; lost {lost}, "
        f"doubled {doubled}, to the refused recipient {to_refused}, cut short {cut_short}, "
        f"refused for size {len(refused_for_size)}, still in the outbox "
        f"{waiting}" + ("  <-- FAILED " + "; ".join(problems[:2]) if bad else ""),
        flush=True,
    )
    for line in outputs:
        print(f"    {line[:240]}")
    return failures


def smtp_trial(args: argparse.Namespace) -> int:
    failures = 0
    cases = [
        ("421 on QUIT after the 250", [{"quit": "421 4.3.0 Closing"}] * 3, {}),
        (
            # A permanent refusal is kept and tried again (until digest.give_up_after_days): once the
            # operator mends the address, that recipient gets every change, once.
            "550 for one recipient of two, then the address mended",
            [{"rcpt": {TO[1]: "550 5.1.1 No such user"}}] * 3 + [{"rcpt": {}}],
            {},
        ),
        (
            "450 for one recipient, then accepted",
            [{"rcpt": {TO[1]: "450 4.2.0 Mailbox busy"}}] * 2 + [{"rcpt": {}}],
            {},
        ),
        ("552 at DATA for a 5 MB section", [{"refuse_over": 1_000_000}] * 3, {"huge": True}),
        (
            "552 at DATA for 400 sections, too large cut short",
            [{"refuse_over": 300_000}] * 3,
            {"huge": True, "sections": True},
        ),
    ]
    for name, runs, options in cases:
        inbox, smtp = mail_server()
        try:
            failures += smtp_case(name, inbox, smtp, runs, **options)
        finally:
            smtp.stop()
    inbox, smtp = mail_server(data_size_limit=200_000)
    try:
        failures += smtp_case("SIZE 200000 advertised, a 5 MB section", inbox, smtp, [{}] * 3, huge=True)
    finally:
        smtp.stop()
    return failures


# --------------------------------------------------------------------------- (d) a busy database


def hold_trial(args: argparse.Namespace) -> int:
    pages = fault_store.Pages(0)
    http = PageServer().start()
    paths = [f"/guidance/held-page-{n:02d}" for n in range(args.pages)]
    inbox, smtp = mail_server()
    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(Path(folder), http.base_url, paths, smtp.port, timeout=5)
        database = Path(folder) / "monitor.db"
        for path in paths:
            http.routes[path] = lambda request: Response(body=pages.body())
        assert run(config, "--no-site").returncode == 0
        for seconds in [s for s in (args.hold, args.hold_long) if s]:
            pages.revision += 1
            holder = subprocess.Popen(
                [sys.executable, "-c", fault_store.HOLDER, str(database), str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            begun = time.monotonic()
            result = run(config, "--no-site")
            took = time.monotonic() - begun
            holder.wait(timeout=seconds + 30)
            lines = (result.stdout + result.stderr).strip().splitlines()
            print(f"hold {seconds:g} s: run exit {result.returncode} after {took:.1f} s, {len(lines)} lines")
            print("    " + "\n    ".join(line[:240] for line in lines))
            expect = 0 if seconds < 30 else 1
            again = run(config, "--no-site") if result.returncode else None
            if again is not None:
                print(f"    the next run: exit {again.returncode}: {again.stdout.splitlines()[0]}")
            integrity, lost, doubled, wrong = fault_store.check(
                database, [http.url(p) for p in paths], pages.revision
            )
            mail_lost, got, problems = mail_check(database, inbox)
            mail_doubled = sum(1 for n in got.values() if n > 1)
            tracebacks = "Traceback" in result.stdout + result.stderr
            bad = (
                result.returncode != expect
                or (expect and sum("is locked by another process" in line for line in lines) != 1)
                or tracebacks
                or (again is not None and again.returncode != 0)
                or integrity != "ok"
                or lost
                or doubled
                or wrong
                or mail_lost
                or mail_doubled
                or problems
            )
            failures += bool(bad)
            print(
                f"    integrity {integrity}; lost {lost}; doubled {doubled}; wrong {wrong}; "
                f"email lost {mail_lost}, "
                f"doubled {mail_doubled}" + ("  <-- FAILED" if bad else ""),
                flush=True,
            )
    smtp.stop()
    http.stop()
    return failures


# --------------------------------------------------------------------------- (e) the guards of issue 23


GUARD_PAGES = 6
OTHER_A = ROOT / "tests" / "fixtures" / "html_legacy" / "eu-exit-secondary-legislation-2019-04.html"
OTHER_A_PATH = "/guidance/eu-exit-secondary-legislation-laid-with-impacts-on-local-government"


class Bench:
    """One case's world: ``GUARD_PAGES`` pages on a real server (fault_store's capture, one revision a
    round), a real SMTP server, a config, its database and site, in a folder of their own."""

    def __init__(self, folder: Path, **fetch: object) -> None:
        self.folder = folder
        self.pages = fault_store.Pages(0)
        self.http = PageServer().start()
        self.paths = [f"/guidance/guard-{n:02d}" for n in range(GUARD_PAGES)]
        for path in self.paths:
            self.http.routes[path] = lambda request: Response(body=self.pages.body())
        self.inbox, self.smtp = mail_server()
        self.config = write_config(folder, self.http.base_url, self.paths, self.smtp.port, **fetch)
        self.database = folder / "monitor.db"
        self.site = folder / "site"

    def run(self, *extra: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        command = [*prefix, sys.executable, "-m", "monitor", "run", "--config", str(self.config), *extra]
        return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=RUN_TIMEOUT)

    def tally(self) -> dict[str, object]:
        """What the database and the inbox hold against the revisions served: integrity, changes lost,
        doubled and false (of the wrong kind or tied to the wrong snapshot), and email lost and doubled."""
        urls = [self.http.url(p) for p in self.paths]
        integrity, lost, doubled, false = fault_store.check(self.database, urls, self.pages.revision)
        mail_lost, got, problems = mail_check(self.database, self.inbox)
        mail_doubled = sum(1 for n in got.values() if n > 1) + len(problems)
        return {
            "integrity": integrity,
            "lost": lost,
            "doubled": doubled,
            "false": false,
            "mail lost": mail_lost,
            "mail doubled": mail_doubled,
        }

    def close(self) -> None:
        self.smtp.stop()
        self.http.stop()


def one_line(
    result: subprocess.CompletedProcess[str], status: int | tuple[int, ...], *words: str
) -> list[str]:
    """What is wrong with a refusal: its exit status, a traceback, more than one line, missing words."""
    wrong = []
    statuses = status if isinstance(status, tuple) else (status,)
    if result.returncode not in statuses:
        wrong.append(f"exit {result.returncode}, not {status}")
    lines = result.stderr.strip().splitlines()
    if "Traceback" in result.stderr or len(lines) != 1:
        wrong.append(f"{len(lines)} lines on stderr: {lines[-1:]}")
    wrong += [f"no {w!r} in {lines[:1]}" for w in words if not any(w in line for line in lines)]
    return wrong


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def vanished_case(bench: Bench, how: str) -> list[str]:
    """The database emptied, deleted or replaced beside its site: refused, touching nothing; the right one
    back, the next revision is recorded and sent once."""
    wrong = [] if (first := bench.run()).returncode == 0 else [f"first run: exit {first.returncode}"]
    saved = bench.folder / "saved.db"
    saved.write_bytes(bench.database.read_bytes())
    site, requests, mails = tree(bench.site), len(bench.http.requests), len(bench.inbox.messages)
    if how == "emptied":
        bench.database.write_bytes(b"")
    else:
        bench.database.unlink()
        if how == "replaced":
            from monitor.store import Store

            Store(bench.database).close()
    bench.pages.revision += 1
    for _ in range(2):
        wrong += one_line(bench.run(), 2, "--new-database")
    if tree(bench.site) != site or len(bench.http.requests) != requests or len(bench.inbox.messages) != mails:
        wrong.append("the refused run touched the site, fetched or sent")
    bench.database.write_bytes(saved.read_bytes())
    if (last := bench.run()).returncode:
        wrong.append(f"the run with its database back: exit {last.returncode}")
    return wrong


def damaged_case(bench: Bench) -> list[str]:
    """A zeroed page of the database: one line naming the file and what to do; a good copy back, nothing
    lost."""
    wrong = []
    bench.run()
    saved = bench.database.read_bytes()
    with bench.database.open("r+b") as handle:  # page 2: the root of the first table, `pages`
        handle.seek(4096)
        handle.write(b"\0" * 4096)
    bench.pages.revision += 1
    mails = len(bench.inbox.messages)
    wrong += one_line(bench.run(), (1, 2), "damaged", ".recover")
    if len(bench.inbox.messages) != mails:
        wrong.append("a damaged database sent email")
    bench.database.write_bytes(saved)
    if (last := bench.run()).returncode:
        wrong.append(f"the run with a good copy back: exit {last.returncode}")
    return wrong


def full_disk_case(bench: Bench) -> list[str]:
    """The database on a 4 MB disk filled up while a run records: one line; space back, nothing lost."""
    disk = bench.folder / "disk"
    disk.mkdir()
    text = bench.config.read_text().replace("database: monitor.db", f"database: {disk / 'monitor.db'}")
    bench.config.write_text(text)
    run = f"{sys.executable} -m monitor run --config {bench.config}"
    out = bench.folder
    script = f"""
        mount -t tmpfs -o size=4m tmpfs {disk} || exit 9
        cd {ROOT}
        {run} > {out}/1.out 2>&1; echo $? > {out}/1.rc
        kill -USR1 {os.getpid()}; sleep 1
        dd if=/dev/zero of={disk}/filler bs=4k 2>/dev/null
        {run} > {out}/2.out 2> {out}/2.err; echo $? > {out}/2.rc
        rm {disk}/filler
        {run} > {out}/3.out 2>&1; echo $? > {out}/3.rc
        cp {disk}/monitor.db {bench.database}
    """
    # Between the first run and the full one the pages move to their next revision (SIGUSR1 to us).
    signal.signal(signal.SIGUSR1, lambda *_: setattr(bench.pages, "revision", bench.pages.revision + 1))
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], timeout=3 * RUN_TIMEOUT)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    if done.returncode == 9:
        return ["no unprivileged mount namespace here (unshare -rm): not tried"]
    err = (out / "2.err").read_text()
    result = subprocess.CompletedProcess([], int((out / "2.rc").read_text()), "", err)
    wrong = one_line(result, 1, "the disk is full")
    if (out / "3.rc").read_text().strip() != "0":
        wrong.append("the run with space again failed: " + (out / "3.out").read_text()[-200:])
    return wrong


def foreign_case(bench: Bench) -> list[str]:
    """Another application's SQLite file named as the database: refused, the file unchanged."""
    import sqlite3 as sqlite

    with sqlite.connect(bench.database) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.close()
    before = bench.database.read_bytes()
    wrong = one_line(bench.run(), 2, "another application")
    if bench.database.read_bytes() != before:
        wrong.append("the other application's file was changed")
    bench.database.unlink()  # the tally reads a database of the pages: this case recorded none
    bench.pages.revision = 1
    bench.run()
    return wrong


def other_page_case(bench: Bench) -> list[str]:
    """One page answered with another's: whole (canonical link, content id), then a bare ``<main>``, then
    itself again. One change (new) for it; each wrong answer a failure, never a change."""
    from monitor.store import Store

    bench.paths.append(OTHER_A_PATH)
    text = yaml.safe_load(bench.config.read_text())
    text["pages"].append(OTHER_A_PATH)
    bench.config.write_text(yaml.safe_dump(text))
    good, other = OTHER_A.read_bytes(), LEGACY
    bare = re.search(rb"<main\b.*?</main>", other, re.S).group(0)  # type: ignore[union-attr]
    wrong = []
    for answer in (good, other, bare, good):
        bench.http.routes[OTHER_A_PATH] = Response(body=answer)
        bench.run()
    with Store(bench.database, readonly=True) as store:
        url = bench.http.url(OTHER_A_PATH)
        kinds = [c.kind for c in store.changes(page_url=url, include_backfilled=False)]
        errors = [f["error"] for f in store.fetches(url) if f["error"]]
    if kinds != ["new"]:
        wrong.append(f"changes {kinds}")
    if len(errors) != 2 or not errors[1].startswith("answered with another page"):
        wrong.append(f"failures {errors}")
    bench.paths.remove(OTHER_A_PATH)
    return wrong


def demo_case(bench: Bench) -> list[str]:
    """``demo --out`` a folder holding a real database: refused, the folder unchanged."""
    bench.run()
    before = tree(bench.folder)
    demo = subprocess.run(
        [sys.executable, "-m", "monitor", "demo", "--out", str(bench.folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=RUN_TIMEOUT,
    )
    wrong = one_line(demo, 2, "give --out an empty or new folder")
    if tree(bench.folder) != before:
        wrong.append("the folder was changed")
    return wrong


def site_inside_case(bench: Bench) -> list[str]:
    """The site's parent may not be written (a /var/www set-up): every run publishes, built inside."""
    from run_support import UNPRIVILEGED

    prefix = UNPRIVILEGED if os.geteuid() == 0 else ()
    www = bench.folder / "www"
    (www / "site").mkdir(parents=True)
    bench.config.write_text(bench.config.read_text().replace("site_dir: site", f"site_dir: {www / 'site'}"))
    www.chmod(0o555)
    wrong = []
    try:
        for revision in (1, 2, 3):
            bench.pages.revision = revision
            result = bench.run(prefix=prefix)
            if result.returncode or "not published" in result.stdout:
                wrong.append(f"run {revision}: exit {result.returncode} {result.stdout[-200:]}")
        checked = subprocess.run(
            [*prefix, sys.executable, "-m", "monitor", "check", "--config", str(bench.config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=RUN_TIMEOUT,
        )
        if "note: site folder's parent" not in checked.stdout:
            wrong.append("check did not report the unwritable site parent")
    finally:
        www.chmod(0o755)
    pages = sum(not p.name.endswith("-side-by-side.html") for p in (www / "site" / "changes").glob("*.html"))
    if pages != 3 * GUARD_PAGES:
        wrong.append(f"{pages} change pages in the site, not {3 * GUARD_PAGES}")
    return wrong


def interrupt_case(bench: Bench, signum: int) -> list[str]:
    """SIGINT or SIGTERM while a slow page is fetched: one line, 130 or 143; the next run ends the job."""
    slow = bench.paths[GUARD_PAGES // 2]
    bench.http.routes[slow] = lambda request: Response(body=bench.pages.body(), delay=20)
    command = [sys.executable, "-m", "monitor", "run", "-v", "--config", str(bench.config)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + RUN_TIMEOUT
    while not bench.http.hits(slow) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signum)
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    result = subprocess.CompletedProcess(command, process.returncode, out, err.splitlines()[-1] + "\n")
    wrong = one_line(result, 128 + signum, "recorded", "the digest and the site were skipped")
    if "Traceback" in err:
        wrong.append("a traceback")
    bench.http.routes[slow] = lambda request: Response(body=bench.pages.body())
    if (last := bench.run()).returncode:
        wrong.append(f"the next run: exit {last.returncode}")
    return wrong


def serve_once_case(bench: Bench) -> list[str]:
    """``serve --once`` runs once and exits (from cron, never piling up)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "serve", "--once", "--config", str(bench.config)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return ["serve --once did not exit"]
    return [] if done.returncode == 0 else [f"serve --once: exit {done.returncode}"]


def permissions_case(bench: Bench) -> list[str]:
    """Held to file permissions: each command that cannot write says so in one line naming the path;
    reading commands read a database they may not write."""
    from run_support import UNPRIVILEGED

    prefix = UNPRIVILEGED if os.geteuid() == 0 else ()
    bench.run("--no-deliver")  # a digest waiting, for digest --dry-run to write
    locked = bench.folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    config = ["--config", str(bench.config)]
    commands = [
        ["site", "--out", f"{locked}/site", *config],
        ["digest", "--dry-run", "--out", f"{locked}/out", *config],
        ["demo", "--out", f"{locked}/demo"],
        ["init", f"{locked}/new"],
    ]
    wrong = []
    try:
        for command in commands:
            result = subprocess.run(
                [*prefix, sys.executable, "-m", "monitor", *command],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=RUN_TIMEOUT,
            )
            wrong += [f"{command[0]}: {w}" for w in one_line(result, (1, 2), str(locked))]
        bench.database.chmod(0o444)
        bench.folder.chmod(0o555)
        for command in (["pages"], ["history", bench.paths[0]], ["site", "--out", f"{locked}/../s2"]):
            result = subprocess.run(
                [*prefix, sys.executable, "-m", "monitor", *command, *config],
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=RUN_TIMEOUT,
            )
            if command[0] != "site" and result.returncode:
                wrong.append(f"{command[0]} on a read-only database: exit {result.returncode}")
    finally:
        bench.folder.chmod(0o755)
        bench.database.chmod(0o644)
        locked.chmod(0o755)
    if (last := bench.run()).returncode:  # sends the digest the dry run only wrote
        wrong.append(f"the run after: exit {last.returncode}")
    return wrong


GUARD_CASES: dict[str, Callable[[Bench], list[str]]] = {
    "database emptied": lambda b: vanished_case(b, "emptied"),
    "database deleted": lambda b: vanished_case(b, "deleted"),
    "database replaced": lambda b: vanished_case(b, "replaced"),
    "database damaged (a zeroed page)": damaged_case,
    "disk full while recording": full_disk_case,
    "another application's file": foreign_case,
    "answered with another page": other_page_case,
    "demo --out a real folder": demo_case,
    "site parent not writable": site_inside_case,
    "folders that may not be written": permissions_case,
    "SIGINT mid-run": lambda b: interrupt_case(b, signal.SIGINT),
    "SIGTERM mid-run": lambda b: interrupt_case(b, signal.SIGTERM),
    "serve --once": serve_once_case,
}


def guards_trial(args: argparse.Namespace) -> int:
    failures = 0
    totals: Counter = Counter()
    for name, case in GUARD_CASES.items():
        begun = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            bench = Bench(Path(folder))
            try:
                wrong = case(bench)
                tally = bench.tally()
            finally:
                bench.close()
        counts = {k: v for k, v in tally.items() if k != "integrity"}
        totals.update(counts)
        bad = bool(wrong) or tally["integrity"] != "ok" or any(counts.values())
        failures += bad
        shown = ", ".join(f"{k} {v}" for k, v in tally.items())
        print(
            f"  {name:34s} {shown}; {time.monotonic() - begun:.1f} s"
            + (f"  <-- FAILED {wrong[:3]}" if bad else ""),
            flush=True,
        )
    print(f"guards: {len(GUARD_CASES)} cases; " + ", ".join(f"{k} {totals[k]}" for k in totals), flush=True)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["kills", "sweep", "smtp", "hold", "guards"], action="append")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds each answer waits (kills)")
    parser.add_argument("--site", action="store_true", help="publish the site in the kill trial's runs too")
    parser.add_argument("--hold", type=float, default=10, help="seconds the write lock is held (0: skip)")
    parser.add_argument("--hold-long", type=float, default=40, help="beyond the 30 s busy timeout (0: skip)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    trials = {
        "kills": kill_trial,
        "sweep": sweep_trial,
        "smtp": smtp_trial,
        "hold": hold_trial,
        "guards": guards_trial,
    }
    failures = 0
    for name in args.only or ["sweep", "smtp", "hold", "guards", "kills"]:
        print(f"== {name}", flush=True)
        trial = trials[name]
        failures += trial(args, random.Random(args.seed)) if name == "kills" else trial(args)
    print(f"\n{failures} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
