"""The least any monitor built on httpx does: fetch every address once with ``httpx.AsyncClient``, sending
the ETag kept from the last run, hash each body, keep the new ETags. No parsing, no diff, no database.

    .venv/bin/python benchmarks/bare_httpx.py STATE.json URL [URL ...]
    .venv/bin/python benchmarks/bare_httpx.py STATE.json @urls.txt      # one address a line

``bench_run.py --floor`` runs it as a tool of its own beside guidance-monitor and urlwatch, with the same
concurrency and connection limits as the monitor's Fetcher, so that the cost of httpx itself (interpreter
start and imports included) is measured in the same run as the tools it bounds: a monitor on httpx can be
no faster than this.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from pathlib import Path

import httpx

CONCURRENCY = 4
"""The monitor's default ``fetch.concurrency``."""


async def check(urls: list[str], etags: dict[str, str]) -> tuple[dict[str, str], int, int]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    gate = asyncio.Semaphore(CONCURRENCY)
    fresh: dict[str, str] = {}
    changed = unchanged = 0
    async with httpx.AsyncClient(limits=limits, timeout=30, follow_redirects=True) as client:

        async def one(url: str) -> None:
            nonlocal changed, unchanged
            headers = {"If-None-Match": etags[url]} if url in etags else {}
            async with gate:
                response = await client.get(url, headers=headers)
            if response.status_code == 304:
                unchanged += 1
            else:
                hashlib.sha256(response.content).hexdigest()
                changed += 1
            if etag := response.headers.get("ETag"):
                fresh[url] = etag

        await asyncio.gather(*(one(url) for url in urls))
    return fresh, changed, unchanged


def main() -> None:
    state = Path(sys.argv[1])
    urls = sys.argv[2:]
    if len(urls) == 1 and urls[0].startswith("@"):
        urls = Path(urls[0][1:]).read_text().split()
    etags = json.loads(state.read_text()) if state.exists() else {}
    fresh, changed, unchanged = asyncio.run(check(urls, etags))
    state.write_text(json.dumps(fresh))
    print(f"Checked {len(urls)} addresses: {changed} with a body, {unchanged} not modified")


if __name__ == "__main__":
    main()
