"""Bodies read into Documents for a run: in this process, or in worker processes beside it, and the key
that says a body was read before so that it need not be read again."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import __version__
from . import parse as parse_stage
from .model import Document

log = logging.getLogger(__name__)

PARSE_HERE = 50
"""Bodies a run parses in this process before it starts workers to parse the rest (see :class:`Reading`)."""


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
            # The parse stage's own function, by name: a worker cannot call a stand-in set on a module.
            work = functools.partial(parse_stage.parse, body, url, content_type, selector=selector)
            try:
                return await asyncio.get_running_loop().run_in_executor(self.pool, work)
            except BrokenProcessPool:
                log.warning("a parsing worker stopped; reading the rest of the run in this process")
                self.close()
                self.workers = 0
        return parse_stage.parse(body, url, content_type, selector=selector)

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
