"""What the Fetcher costs on top of httpx: CPU a request of ``monitor.fetch.Fetcher`` against a bare
``httpx.AsyncClient``, on the same local server, in the same process, turn about.

    .venv/bin/python benchmarks/bench_fetch_overhead.py --requests 2000 --rounds 5

The server runs in a process of its own, so the CPU time measured (``time.process_time`` of this process)
is the client's alone. It serves one real GOV.UK page (a test fixture) with an ETag, and answers 304 to a
request that carries it. Each round makes ``--requests`` requests through each client, with the same
concurrency and connection limits, first conditional ones (304s), then plain ones (full bodies); the
figures are the median of the rounds. To measure another version of the code, put its tree first on the
path: ``PYTHONPATH=/tmp/before .venv/bin/python benchmarks/bench_fetch_overhead.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

import monitor.fetch
from monitor.fetch import Fetcher
from monitor.model import FetchRequest
from monitor.settings import FetchSettings

PAGE = (Path(__file__).parent.parent / "tests/fixtures/html_legacy/ilr-publication-2014-08.html").read_bytes()
ETAG = '"' + hashlib.sha1(PAGE).hexdigest() + '"'
CONCURRENCY = 4
SETTINGS = FetchSettings(rate_per_host=1_000_000, concurrency=CONCURRENCY, timeout=30)


def serve(pipe: Connection) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if self.headers.get("If-None-Match") == ETAG:
                self.send_response(304)
                self.send_header("ETag", ETAG)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.send_header("ETag", ETAG)
            self.end_headers()
            self.wfile.write(PAGE)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    pipe.send(server.server_address[1])
    server.serve_forever()


async def bare(urls: list[str], etag: str | None) -> None:
    """What any httpx user writes: one client, the same limits, a semaphore for the concurrency."""
    headers = {"If-None-Match": etag} if etag else {}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    gate = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, follow_redirects=True) as client:

        async def one(url: str) -> None:
            async with gate:
                response = await client.get(url, headers=headers)
                assert response.status_code == (304 if etag else 200)

        await asyncio.gather(*(one(url) for url in urls))


async def fetcher(urls: list[str], etag: str | None) -> None:
    async with Fetcher(SETTINGS) as client:
        results = await client.fetch_many([FetchRequest(url, etag=etag) for url in urls])
    assert all(r.ok and r.not_modified == bool(etag) for r in results), results[0].error


def cpu(run: Callable[[list[str], str | None], Awaitable[None]], urls: list[str], etag: str | None) -> float:
    """CPU seconds a request, client set-up and closing included."""

    async def timed() -> float:
        started = time.process_time()
        await run(urls, etag)
        return (time.process_time() - started) / len(urls)

    return asyncio.run(timed())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests a client a round (default 2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each client in turn (default 5)")
    args = parser.parse_args()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(theirs,), daemon=True)
    server.start()
    try:
        port = ours.recv()
        urls = [f"http://127.0.0.1:{port}/guidance/page-{i}" for i in range(args.requests)]
        print(f"monitor.fetch from {monitor.fetch.__file__}, httpx {httpx.__version__}", flush=True)
        for label, etag in (("304s", ETAG), ("full bodies", None)):
            cpu(bare, urls[:50], etag), cpu(fetcher, urls[:50], etag)  # warm: imports, first connections
            figures: dict[str, list[float]] = {"bare httpx.AsyncClient": [], "Fetcher": []}
            for _ in range(args.rounds):
                figures["bare httpx.AsyncClient"].append(cpu(bare, urls, etag))
                figures["Fetcher"].append(cpu(fetcher, urls, etag))
            medians = {name: statistics.median(values) * 1000 for name, values in figures.items()}
            for name, value in medians.items():
                spread = ", ".join(f"{v * 1000:.3f}" for v in figures[name])
                print(f"{label}: {name}: {value:.3f} ms CPU a request (rounds: {spread})", flush=True)
            ratio = medians["Fetcher"] / medians["bare httpx.AsyncClient"]
            print(f"{label}: Fetcher / bare = {ratio:.2f}", flush=True)
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
