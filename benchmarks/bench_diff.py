"""How long one diff takes on a real, large page: the two captures of "SEND and specialist settings:
additional operational guidance" (about 130 KB of HTML each, 40-odd sections, most of them edited),
parse of both included, as the daily run does it. Target: median under 150 ms.

    .venv/bin/python benchmarks/bench_diff.py [--runs 21]

Also times the diff alone, and the worst case of a page against a copy of itself (the common case).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from monitor.diff import diff
from monitor.parse import parse

PAGE = (
    "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
    "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
)
TIMELINE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "html_timeline" / PAGE
URL = "https://www.gov.uk/" + PAGE.replace("~", "/")


def timed(label: str, work: Callable[[], object], runs: int) -> float:
    work()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append((time.perf_counter() - start) * 1000)
    median = statistics.median(samples)
    print(f"{label:<40} median {median:7.1f} ms   min {min(samples):7.1f} ms   max {max(samples):7.1f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    old_body, new_body = (
        next(folder.glob("*.html")).read_bytes() for folder in sorted(TIMELINE.iterdir()) if folder.is_dir()
    )
    print(f"old {len(old_body) / 1024:.0f} KB, new {len(new_body) / 1024:.0f} KB, {args.runs} runs")
    old, new = parse(old_body, URL), parse(new_body, URL)
    changes = diff(old, new)
    print(f"{changes.kind}: {len(changes.sections)} of {len(new.sections)} sections changed")
    total = timed("parse both + diff", lambda: diff(parse(old_body, URL), parse(new_body, URL)), args.runs)
    timed("diff alone", lambda: diff(old, new), args.runs)
    timed("diff of a page against itself", lambda: diff(new, parse(new_body, URL)), args.runs)
    print("target < 150 ms:", "met" if total < 150 else "NOT met")


if __name__ == "__main__":
    main()
