"""One run: for every watched page, fetch -> quality gate -> parse -> changes (the rules) -> store.

Pages are fetched concurrently (the Fetcher keeps to the configured concurrency and per-host rate) and
each one is parsed and judged by ``monitor.changes`` as soon as its answer arrives; the answers that
arrived together are written in one store transaction. They are written in the order of the run's input
(the watch list, each publication's documents after it), not the order they arrived in, so the same
captures give the same change ids: an answer that came early waits, held in memory, for the pages before
it (at most until their fetches time out). This module only wires the stages: what an answer means is
decided in ``changes``. A run killed part-way loses only the pages in flight or not yet
committed; the next run checks them again, and since a change is only ever recorded together with the
snapshot it leads to, no change is recorded twice or lost.

A body byte for byte the same as the one the page's last snapshot was read from, read by the same code
in the same way (its ``read_key``), is the same Document: it is not parsed or compared again, and only
the fetch and the page's state are recorded, as for a 304.

Nothing that fails the quality gate (a fetch error, an empty or truncated body, a challenge page, a page
the parser cannot read) becomes a snapshot or a change: the next good answer is compared with the last
good snapshot.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import heapq
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from . import __version__, changes, discover, quality
from . import parse as parse_stage
from .clock import utc_timestamp
from .config import absolute_url
from .fetch import Fetcher, allowed_hosts
from .govuk import api_url, same_origin, same_site
from .model import Answer, Change, Document, FetchResult, PageState, PageUpdate, ParseError, RunSummary
from .parse import parse
from .settings import Config
from .store import Store, StoreBusy, body_hash
from .watchlist import Target, targets

log = logging.getLogger(__name__)
API_ACCEPT = "application/json"
BUSY_POLL = 0.05
"""Seconds between attempts to write while another process holds the database's write lock."""
BATCH = 50
"""At most this many answers are written in one transaction (each holds its page's body and Document)."""
HOLD = 0.1
"""Seconds an answer may wait for others to be written with it: answers written together share one
commit, and a kill loses at most this much work, which the next run does again."""
PARSE_HERE = 50
"""Bodies a run parses in this process before it starts workers to parse the rest (see :class:`Reading`)."""
IN_FLIGHT_PER_REQUEST = 8
"""Checks started ahead, per request the Fetcher lets out at once."""
DATABASE = "database"
"""Where a run's failure is reported when the database stayed locked by another process."""

Progress = Callable[[Target, Answer, RunSummary, int], None]
"""Told of each page once it is recorded: the page, its answer, the run so far, and how many pages are
still out."""

CheckState = tuple[str | None, str | None, str | None]
"""A page's ETag, Last-Modified and last ``read_key``: what its check starts from."""

FRESH: CheckState = (None, None, None)
"""A check that starts from nothing: no conditional request, and the body is always read."""

Place = tuple[int, ...]
"""Where a page's check stands in a run's input: ``(i,)`` for the i-th page due, and a followed
document's place is its publication's place and then its position among the publication's attachments.
A run writes its checks in this order, so the same captures give the same change ids."""

Answered = tuple[Place, Target, Answer] | tuple[Place, Exception]
"""One page's answer, or the exception that ended its check, with the page's place."""

Answers = asyncio.Queue[Answered]
"""The answers in the order they come."""

# --------------------------------------------------------------------------- the run


def run(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
    deliver: bool = True,
    site: bool = True,
    progress: Progress | None = None,
) -> RunSummary:
    """The whole job of ``guidance-monitor run`` and of each scheduled run: check, send, publish.

    The changes are stored before anything is sent, so a failed send leaves them in the outbox for the
    next run; a send or publish failure, or a recipient's refusal, is reported in ``failures`` under
    "digest" or "site".
    """
    summary = check_pages(config, store, now=now, should_stop=should_stop, progress=progress)
    if any(where == DATABASE for where, _ in summary.failures):
        return summary  # sending marks the outbox and would wait for the same lock again
    if deliver:  # each channel knows whether it is configured (digest.subscribers need no email.to)
        try:
            from .deliver import deliver_pending

            results = deliver_pending(config, store, now=now)
            summary.deliveries = [str(d) for d in results if not d.problem]
            summary.failures += [("digest", str(d)) for d in results if d.problem]
            summary.digest_sent = any(d.sent for d in results)
        except Exception as exc:  # a send failure must not lose the run's report
            summary.failures.append(("digest", f"not sent: {exc}"))
    if site:
        try:
            from .publish import update_site

            summary.site_dir = str(update_site(config, store))
        except Exception as exc:
            summary.failures.append(("site", f"not published: {exc}"))
    return summary


def check_pages(
    config: Config,
    store: Store,
    *,
    now: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Check every watched page once and record what changed.

    ``should_stop`` (a SIGTERM, say) is asked after each page: once it says yes, the fetches in flight
    are abandoned and the pages already answered are all recorded. ``progress`` is told of each page
    once it is recorded (the command line's progress and ``--verbose``).
    """
    summary = RunSummary()
    try:
        asyncio.run(_run(config, store, now, should_stop or (lambda: False), summary, progress))
    except StoreBusy as exc:
        # Every page already answered is recorded; the one whose write waited in vain and those still
        # out are checked again next run, as after a kill.
        summary.failures.append((DATABASE, str(exc)))
    return summary


async def _run(
    config: Config,
    store: Store,
    now: datetime | None,
    should_stop: Callable[[], bool],
    summary: RunSummary,
    progress: Progress | None = None,
) -> RunSummary:
    # One time for the whole run: its changes were found together, and a publication and the documents
    # it changed are told as one story by that time, whichever page's answer came first.
    run_time = now or datetime.now(UTC)
    async with Fetcher(config.fetch, allowed_hosts=allowed_hosts(config, store)) as fetcher:
        skip = await discover.refresh(fetcher, config, store, summary, now=now)
        store.register_pages([(absolute_url(config, page.url), page.name) for page in config.pages])
        due = [t for t in targets(config, store) if t.url not in skip]
        scheduled = {t.url for t in due} | skip
        states = store.check_states()
        returning = frozenset(store.returning_pages())
        reading = Reading()
        # Answers are taken from a queue as they come: waiting on the set of pending tasks after each
        # answer costs time in proportion to the pages still out, quadratic over a run.
        answers: Answers = asyncio.Queue()
        pending: set[asyncio.Task[None]] = set()
        # Checks are started a window at a time, not all at once: the Fetcher lets only `concurrency`
        # requests out anyway, and a task a page held memory for every page of a large watch list.
        waiting: deque[tuple[Place, Target]] = deque(((i,), t) for i, t in enumerate(due))
        # The places of the pages not yet answered, smallest first (answered ones are dropped lazily).
        unanswered: list[Place] = [place for place, _ in waiting]
        answered: set[Place] = set()
        window = IN_FLIGHT_PER_REQUEST * max(1, config.fetch.concurrency)
        in_flight = 0

        def start(place: Place | None = None, target: Target | None = None) -> None:
            nonlocal in_flight
            if place is not None and target is not None:
                waiting.append((place, target))
                heapq.heappush(unanswered, place)
            while waiting and in_flight < window:
                place_, target_ = waiting.popleft()
                task = asyncio.create_task(
                    _read_and_queue(fetcher, config, store, place_, target_, states, answers, reading)
                )
                in_flight += 1
                pending.add(task)
                task.add_done_callback(pending.discard)

        start()
        outstanding = len(due)

        def take(item: Answered) -> None:
            """An answer has come: its page is answered, and a publication's documents are scheduled at
            once, so that their places are known before anything after the publication is written."""
            nonlocal outstanding
            answered.add(item[0])
            if len(item) == 3:
                place, target, answer = item
                for n, document in enumerate(_documents_to_follow(config, store, target, answer, scheduled)):
                    scheduled.add(document.url)
                    start((*place, n), document)
                    outstanding += 1

        def writable() -> list[Answered]:
            """Take from `held` the answers that no unanswered page comes before, in place order."""
            while unanswered and unanswered[0] in answered:
                answered.discard(heapq.heappop(unanswered))
            first = unanswered[0] if unanswered else None
            ready = []
            while held and (first is None or held[0][0] < first):
                ready.append(heapq.heappop(held))  # places are unique: only they are compared
            return ready

        async def record(ready: list[Answered]) -> None:
            for at in range(0, len(ready), BATCH):  # many may be ready at once when a slow page answers
                recorded = await _record_answers(store, ready[at : at + BATCH], run_time, now, returning)
                for target, answer, update, saved in recorded:
                    _add_to_summary(summary, target.url, update, saved)
                    if progress is not None:
                        progress(target, answer, summary, outstanding)

        # Answers taken but not yet written wait in `held`, a heap by place: they are written together once
        # BATCH of them wait, the first has waited HOLD seconds, or no page is still out; each batch holds
        # only the answers that no unanswered page comes before, in their places' order, so that the run
        # writes its checks (and numbers its changes) in the order of its input, whatever order the
        # answers came in.
        loop = asyncio.get_running_loop()
        held: list[Answered] = []
        held_since = 0.0
        try:
            while outstanding and not should_stop():
                try:
                    async with asyncio.timeout_at(held_since + HOLD if held else None):
                        answer = await answers.get()
                except TimeoutError:
                    pass
                else:
                    held_since = held_since if held else loop.time()
                    taken = [answer]
                    while not answers.empty() and len(held) + len(taken) < BATCH:
                        taken.append(answers.get_nowait())
                    for item in taken:
                        take(item)
                        heapq.heappush(held, item)
                    outstanding -= len(taken)
                    in_flight -= len(taken)
                    start()
                    if len(held) < BATCH and outstanding and loop.time() < held_since + HOLD:
                        continue
                batch = writable()
                held_since = loop.time()
                if batch:
                    await record(batch)
            if held:  # told to stop: every page already answered is recorded
                await record(sorted(held))
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            reading.close()
    return summary


async def _read_and_queue(
    fetcher: Fetcher,
    config: Config,
    store: Store,
    place: Place,
    target: Target,
    states: dict[str, CheckState],
    answers: Answers,
    reading: Reading,
) -> None:
    """Read one page and queue its answer; a page registered since the run began (a followed document)
    has its state read from the store here."""
    try:
        state = states.get(target.url)
        if state is None:
            state = (*store.validators(target.url), store.last_read(target.url))
        answers.put_nowait((place, target, await read_page(fetcher, config, target, state, reading)))
    except Exception as exc:  # raised in the run, as an awaited task's exception would be
        answers.put_nowait((place, exc))


# --------------------------------------------------------------------------- fetch, gate, parse


def uses_api(config: Config, target: Target) -> bool:
    """The Content API serves only GOV.UK pages, and a selector names an element of the HTML page."""
    return (
        config.fetch.source != "html"
        and target.selector is None
        and same_origin(target.url, config.govuk_base_url)
        and not urlsplit(target.url).path.lower().endswith(".pdf")
    )


async def read_page(
    fetcher: Fetcher,
    config: Config,
    target: Target,
    state: CheckState = FRESH,
    reading: Reading | None = None,
) -> Answer:
    """Fetch a page and read it, from the Content API first where it serves the page and from the HTML
    page when that fails (``fetch.source: auto``); ``state`` is its validators and last ``read_key``."""
    etag, last_modified, last_read = state
    # A page that follows its documents is always read: its attachments are registered from the Document.
    if target.follow_documents:
        last_read = None
    if uses_api(config, target):
        address = api_url(config.govuk_base_url, urlsplit(target.url).path)
        fetch = await fetcher.fetch(address, etag=etag, last_modified=last_modified, accept=API_ACCEPT)
        answer = await _gate_and_parse(target, fetch, last_read, reading)
        if config.fetch.source == "api" or answer.reason is None:
            return answer
        fetch = await fetcher.fetch(target.url, etag=etag, last_modified=last_modified)
        return dataclasses.replace(await _gate_and_parse(target, fetch, last_read, reading), fallback=True)
    fetch = await fetcher.fetch(target.url, etag=etag, last_modified=last_modified)
    return await _gate_and_parse(target, fetch, last_read, reading)


def read_once(config: Config, pages: list[Target], store: Store | None = None) -> list[Answer]:
    """Each page read once as a run reads it, but from nothing (no validators, no earlier reading), for
    ``check --online``. Nothing is stored."""

    async def read_all() -> list[Answer]:
        async with Fetcher(config.fetch, allowed_hosts=allowed_hosts(config, store)) as fetcher:
            return list(await asyncio.gather(*(read_page(fetcher, config, page) for page in pages)))

    return asyncio.run(read_all())


def quality_gate(fetch: FetchResult) -> str | None:
    """Why an answer cannot be trusted as the page's content, or None (see :mod:`monitor.quality`)."""
    return quality.check(fetch)


async def _gate_and_parse(
    target: Target, fetch: FetchResult, last_read: str | None = None, reading: Reading | None = None
) -> Answer:
    """The quality gate, then the parser, unless the body is the one last read the same way."""
    hashed = key = None
    if fetch.ok and fetch.body:
        hashed = body_hash(fetch.body)
        key = read_key(hashed, target.selector, fetch.content_type)
        if key == last_read and not fetch.redirects:
            # The very bytes the page was last read from, which passed the gate then.
            return Answer(fetch, read_key=key, body_hash=hashed, same=True)
    reason = quality_gate(fetch)
    if reason is not None or key is None:
        return Answer(fetch, reason=reason, body_hash=hashed)
    try:
        if reading is None:
            document = parse(fetch.body, target.url, fetch.content_type, selector=target.selector)
        else:
            document = await reading.parse(fetch.body, target.url, fetch.content_type, target.selector)
    except ParseError as exc:
        return Answer(fetch, reason=f"not readable as a page: {exc}")
    return Answer(fetch, document=document, read_key=key, body_hash=hashed)


class Reading:
    """Reads a run's bodies into Documents: in this process, or, once a run has read ``in_process``
    bodies and the machine has a core to spare, in worker processes beside it.

    Parsing is pure and costs far more CPU than sending a body to a worker and bringing its Document back
    (pickled): a first run of many pages then parses on a second core while this one fetches, judges and
    stores. A daily run reads a handful of changed pages and never starts a worker. Workers are fresh
    interpreters ("spawn"), never forks of a process with threads; if one dies, the rest of the run
    parses here.
    """

    def __init__(self, in_process: int | None = None, workers: int | None = None) -> None:
        self.in_process = PARSE_HERE if in_process is None else in_process
        self.workers = _spare_cores() if workers is None else workers
        self.parsed = 0
        self.pool: ProcessPoolExecutor | None = None

    async def parse(self, body: bytes, url: str, content_type: str, selector: str | None) -> Document:
        self.parsed += 1
        if self.pool is None and self.workers and self.parsed > self.in_process:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        if self.pool is not None:
            # The parse stage's own function, by name: a worker cannot call a stand-in set on this module.
            work = functools.partial(parse_stage.parse, body, url, content_type, selector=selector)
            try:
                return await asyncio.get_running_loop().run_in_executor(self.pool, work)
            except BrokenProcessPool:
                log.warning("a parsing worker stopped; reading the rest of the run in this process")
                self.close()
                self.workers = 0
        return parse(body, url, content_type, selector=selector)

    def close(self) -> None:
        pool, self.pool = self.pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _spare_cores() -> int:
    """Cores this process may use beyond its own, at most 2 (the run's own work is the limit then)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(0, min(2, cores - 1))


def read_key(body_hash: str, selector: str | None, content_type: str) -> str:
    """Names a reading of a body: the same key is the same Document, so that body need not be parsed."""
    parts = (reader_fingerprint(), selector or "", content_type, body_hash)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@functools.cache
def reader_fingerprint() -> str:
    """The code that turns a body into a Document: this release and the source of the parse stage, so
    that a reader changed in place (a fix, a new field) reads every page afresh once."""
    digest = hashlib.sha256(__version__.encode())
    here = Path(__file__).parent
    for path in [here / "model.py", here / "parse.py", *sorted((here / "readers").glob("*.py"))]:
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(path.name.encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- rules and store


async def _record_answers(
    store: Store,
    batch: list[Answered],
    run_time: datetime,
    now: datetime | None,
    returning: frozenset[str] = frozenset(),
) -> list[tuple[Target, Answer, PageUpdate, list[Change]]]:
    """Decide what each answer of a batch means by the change rules, then write them all in one
    transaction.

    A batch is the answers that were waiting together, in their pages' places' order; each is a different
    page, so deciding one never depends on another's write. Writing them together saves a commit a page
    (most of what an unchanged check costs the store); a run killed before the commit loses that batch's
    checks, which the next run makes again: a change is still only ever written with the snapshot it
    leads to. An answer that is an exception (a page's check that broke) is raised once the answers
    before it are written. ``returning``: the pages that went back to an earlier version at their last
    check, judged even when unchanged.
    """
    decided: list[tuple[Target, Answer, PageUpdate]] = []
    try:
        for item in batch:
            if len(item) == 2:
                raise item[1]
            _, target, answer = item
            if now is not None:
                # A run on a given clock (the demo's simulated days) records its fetches on it too.
                answer.fetch = dataclasses.replace(answer.fetch, fetched_at=utc_timestamp(now))
            update = _page_update(store, target, answer, utc_timestamp(run_time), returning)
            decided.append((target, answer, update))
    finally:
        saved = await _write_many(store, [update for _, _, update in decided])
    return [(*item, changes_) for item, changes_ in zip(decided, saved, strict=True)]


def _page_update(
    store: Store, target: Target, answer: Answer, when: str, returning: frozenset[str] = frozenset()
) -> PageUpdate:
    """What a page's answer means, by ``monitor.changes``. The store is read only for what the rules
    need: nothing for an unchanged page, unless it went back to an earlier version at its last check
    (``returning``); the page's state and its latest snapshots' hashes otherwise; its last Document only
    when there is one to compare with, and the version readers were last told about for a return."""
    url = target.url
    if changes.unchanged(answer) and url not in returning:
        return changes.unchanged_update(url, answer, when)
    page = store.page(url) or PageState(url)
    recent = store.recent_snapshots(url, changes.recent_needed())
    last = None
    compared = answer.document is not None or answer.fetch.status in changes.GONE_STATUSES
    if recent and (compared or page.returned_from is not None):
        last = store.last_snapshot(url)
        if last is not None and answer.document is not None:
            last = _as_read_now(store, target, answer, last)
    told = store.snapshot(page.returned_from) if page.returned_from is not None else None
    return changes.decide(
        page,
        answer,
        when,
        last=last[1] if last else None,
        recent=recent,
        told=told[1] if told else None,
        announced=answer.document is not None
        and not recent
        and bool(store.changes(page_url=url, include_backfilled=False, limit=1)),
        last_from_api=answer.fallback and bool(recent) and _read_from_api(store, url),
    )


def _add_to_summary(summary: RunSummary, url: str, update: PageUpdate, saved: list[Change]) -> None:
    summary.checked += 1
    if update.fetch.error:
        summary.failed += 1
        summary.failures.append((url, update.fetch.error))
        log.info("%s: failed: %s", url, update.fetch.error)
        return
    found = [c for c in saved if not c.backfilled]
    if found:
        summary.changed += 1
    log.info("%s: %s", url, ", ".join(c.kind for c in found) or "no change")
    summary.changes.extend(found)


async def _write_many(store: Store, updates: list[PageUpdate]) -> list[list[Change]]:
    """Write checks in one transaction, waiting for another process's write transaction without blocking
    the loop: SQLite's own wait would stall every fetch in flight until their timeouts fired."""
    deadline = time.monotonic() + store.busy_timeout_ms / 1000
    while True:
        try:
            return store.write_many(updates, wait=False)
        except StoreBusy:
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(BUSY_POLL)


def _read_from_api(store: Store, url: str) -> bool:
    stored = store.last_snapshot_body(url)
    return stored is not None and "json" in stored[2]


def _as_read_now(
    store: Store, target: Target, answer: Answer, previous: tuple[int, Document]
) -> tuple[int, Document]:
    """The last snapshot as this release reads it.

    A reader fixed or improved since the snapshot was taken would otherwise show its own improvement as a
    change on every page. The snapshot's body is kept, so it is read again with the current code,
    unless the page's ``read_key`` says the current code read it already.
    """
    stored = store.last_snapshot_body(target.url)
    if stored is None:
        return previous
    hashed, body, content_type = stored
    if store.last_read(target.url) == read_key(hashed, target.selector, content_type):
        return previous
    if answer.document is not None and (hashed, content_type) == (
        answer.body_hash,
        answer.fetch.content_type,
    ):
        return previous[0], answer.document  # the same bytes, just read by the current code
    try:
        return previous[0], parse(body, target.url, content_type, selector=target.selector)
    except ParseError:
        return previous


# --------------------------------------------------------------------------- followed documents


def is_followed_document(parent_url: str, url: str, kind: str) -> bool:
    """An HTML publication or PDF of the same site, which changes without its parent page saying so."""
    if not same_site(url, parent_url) or url == parent_url:
        return False
    path = urlsplit(url).path.lower()
    return (
        kind.lower() in ("html", "pdf")
        or path.endswith(".pdf")
        or (path.startswith("/government/publications/") and path.count("/") >= 4)
    )


def _documents_to_follow(
    config: Config, store: Store, target: Target, answer: Answer, scheduled: set[str]
) -> list[Target]:
    """Register the documents of a page that follows them; those not yet due this run are checked now."""
    if not target.follow_documents or answer.document is None:
        return []
    parent = target.url
    found = []
    for attachment in answer.document.attachments:
        url = absolute_url(config, attachment.url)
        if not is_followed_document(parent, url, attachment.kind):
            continue
        store.upsert_page(url, title=attachment.title, parent_url=parent, source="document")
        if url not in scheduled:
            found.append(Target(url))
    return found
