"""What a page answers: fetched (the Content API first where it serves the page, then the HTML page),
put through the quality gate and parsed, for ``run`` and ``check`` alike.

One path for reading a page, so ``check --online`` shows exactly what ``run`` would record. A body byte
for byte the one a page was last read from, read the same way (its :func:`read_key`), is not gated or
parsed again. Parsing is pure and can run in worker processes beside the run (:class:`Reading`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from urllib.parse import urlsplit

from . import __version__, quality
from . import parse as parse_stage
from .fetch import Fetcher, allowed_hosts
from .govuk import api_url, same_origin
from .model import Answer, Document, FetchResult, ParseError
from .parse import parse
from .settings import Config
from .store import Store, body_hash
from .watchlist import Target

log = logging.getLogger(__name__)

API_ACCEPT = "application/json"
PARSE_HERE = 50
"""Bodies a run parses in this process before it starts workers to parse the rest (see :class:`Reading`)."""
CheckState = tuple[str | None, str | None, str | None]
"""A page's ETag, Last-Modified and last ``read_key``: what its check starts from."""

FRESH: CheckState = (None, None, None)
"""A check that starts from nothing: no conditional request, and the body is always read."""


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


def read_body(body: bytes, target: Target, content_type: str) -> Document:
    """The page's Document from its body, as this run reads bodies: a fresh answer and an earlier body read
    again with today's readers go through this one function."""
    return parse(body, target.url, content_type, selector=target.selector)


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
            document = read_body(fetch.body, target, fetch.content_type)
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
