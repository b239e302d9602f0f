"""Fetch only: the benchmark's pages through ``monitor.fetch.Fetcher`` in one process, no parse or store.

    .venv/bin/python benchmarks/bench_fetch.py --pages 1000

Serves the pages of ``bench_run.py`` (the real captures, each address a distinct page, ETags and 304s)
from 127.0.0.1 and times two passes of ``Fetcher.fetch_many`` over every address, without a rate limit
(the server is on localhost): conditional requests answered 304, and full bodies (no validators sent).
Wall and CPU time of the pass alone, not the interpreter's start. To compare with another version of the
code, put its tree first on the path: ``PYTHONPATH=/tmp/before .venv/bin/python benchmarks/bench_fetch.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench_run import Site, serve

from monitor.fetch import Fetcher
from monitor.model import FetchRequest
from monitor.settings import FetchSettings

SETTINGS = FetchSettings(rate_per_host=100_000, timeout=30)


async def one_pass(requests: list[FetchRequest]) -> tuple[float, float, list]:
    async with Fetcher(SETTINGS) as fetcher:
        wall, cpu = time.perf_counter(), time.process_time()
        results = await fetcher.fetch_many(requests)
        return time.perf_counter() - wall, time.process_time() - cpu, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="how many addresses to serve (default 1000)")
    args = parser.parse_args()
    site = Site(args.pages)
    server = serve(site)
    base = "http://{}:{}".format(*server.server_address[:2])
    try:
        urls = [base + path for path in site.paths]
        _, _, first = asyncio.run(one_pass([FetchRequest(url) for url in urls]))
        etags = {r.url: r.etag for r in first}
        for label, requests in (
            ("304s", [FetchRequest(url, etag=etags[url]) for url in urls]),
            ("full bodies", [FetchRequest(url) for url in urls]),
        ):
            wall, cpu, results = asyncio.run(one_pass(requests))
            failed = [r.error for r in results if not r.ok]
            assert not failed, failed[:3]
            print(f"{len(results)} pages, {label}: wall {wall:.2f} s, CPU {cpu:.2f} s", flush=True)
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
