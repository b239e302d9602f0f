"""Parse speed: median time to read the 136 KB HTML-publication capture, against a bare lxml parse.

Run: .venv/bin/python benchmarks/bench_parse.py [--repeat N]
Target: parse() under 4x ``lxml.html.fromstring`` of the same bytes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import lxml.html

from monitor.parse import parse

PAGE = (
    Path(__file__).resolve().parent.parent
    / "tests/fixtures/html_timeline"
    / "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
    "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
    / "2021-05-25T0759_f99114bcb7"
    / "send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19.html"
)
TARGET_RATIO = 4.0


def median_seconds(work, repeat: int) -> float:
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeat", type=int, default=50)
    repeat = options.parse_args().repeat
    body = PAGE.read_bytes()
    url = "https://www.gov.uk/government/publications/x/y"
    bare = median_seconds(lambda: lxml.html.fromstring(body), repeat)
    full = median_seconds(lambda: parse(body, url), repeat)
    ratio = full / bare
    print(f"page: {PAGE.name} ({len(body) / 1024:.0f} KB), {repeat} runs each, median")
    print(f"lxml.html.fromstring: {bare * 1000:.2f} ms")
    print(f"monitor.parse.parse:  {full * 1000:.2f} ms")
    verdict = "met" if ratio < TARGET_RATIO else "NOT met"
    print(f"ratio: {ratio:.2f}x (target under {TARGET_RATIO:.0f}x): {verdict}")
    return 0 if ratio < TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
