"""Whether a diff stays bounded on a page far larger than GOV.UK serves: the "SEND and specialist settings"
capture (a real page) repeated until it weighs 3.4 MiB (3.6 MB), in two shapes, each against a
reordered copy and against a copy with one word edited:

- ``sections``: its h2 and h3 sections repeated, the copy's sections shuffled (1,400 sections);
- ``one section``: its headings made paragraphs, so the page is one long section whose former sections
  (runs of paragraphs and lists) are shuffled in the copy: the case that made the word diff quadratic.

The target is under 30 s for each pair, parse included, through ``guidance-monitor diff`` as a user runs
it; memory is shown as the command's peak resident size.

    .venv/bin/python benchmarks/bench_diff_large.py [--megabytes 3.4] [--keep DIR]

Prints, for each pair, the time of the whole command, its peak memory, its exit status and how many of
the sections it reports were shown paragraph by paragraph rather than word by word.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = (
    "government~publications~guidance-for-full-opening-special-schools-and-other-specialist-settings"
    "~send-and-specialist-settings-additional-operational-guidance-coronavirus-covid-19"
)
CAPTURE = "2021-05-25T0759_f99114bcb7"
TIMELINE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "html_timeline" / PAGE
URL = "https://www.gov.uk/" + PAGE.replace("~", "/")
BODY_START = '<div class="govspeak">'
EDITED = b"Social care services for disabled children which provide respite care can"
TARGET_SECONDS = 30.0


def pages(megabytes: float, one_section: bool) -> dict[str, bytes]:
    """The page scaled up, the same with its sections shuffled, and the same with one word edited.

    The body's h2 and h3 sections are repeated in order until the page reaches ``megabytes``; the
    shuffled copy keeps every section whole and only changes their order. With ``one_section`` every
    heading is made a paragraph under one heading, so the shuffled runs are items of one long section.
    """
    html = next((TIMELINE / CAPTURE).glob("*.html")).read_text(encoding="utf-8")
    start = html.index(BODY_START) + len(BODY_START)
    end = html.index("\n</div>", start)
    head, body, tail = html[:start], html[start:end], html[end:]
    chunks = [c for c in re.split(r"(?=<h[23]>)", body) if c.strip()]
    if one_section:
        chunks = [re.sub(r"<(/?)h[2-6]>", r"<\1p>", c) for c in chunks]
        head += "<h2>Guidance</h2>"
    copies = max(1, round(megabytes * 1024 * 1024 / len(body.encode())))
    scaled = chunks * copies
    shuffled = list(scaled)
    random.Random(0).shuffle(shuffled)
    old = (head + "".join(scaled) + tail).encode()
    assert old.count(EDITED) == copies
    return {
        "old": old,
        "reordered": (head + "".join(shuffled) + tail).encode(),
        "edited": old.replace(EDITED, EDITED[: -len(b"can")] + b"may", 1),
    }


def run(old: Path, new: Path) -> tuple[float, int, int, dict]:
    """Seconds, peak memory (KB), exit status and JSON of one ``guidance-monitor diff`` command."""
    command = [sys.executable, "-m", "monitor", "diff", str(old), str(new), "--url", URL, "--format", "json"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status), json.loads(out) if out.strip() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=3.4, help="size of the scaled page, in MiB")
    parser.add_argument("--keep", type=Path, help="write the generated pages to this folder")
    args = parser.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for shape, one_section in (("sections", False), ("one section", True)):
            folder = (args.keep or Path(scratch)) / shape.replace(" ", "-")
            folder.mkdir(parents=True, exist_ok=True)
            files = {}
            for name, body in pages(args.megabytes, one_section).items():
                files[name] = folder / f"{name}.html"
                files[name].write_bytes(body)
            print(f"{shape}: old {files['old'].stat().st_size / 1e6:.1f} MB")
            for name in ("reordered", "edited"):
                seconds, peak, status, data = run(files["old"], files[name])
                sections = data.get("sections", [])
                whole = sum(1 for s in sections if s.get("by_paragraph"))
                print(
                    f"  old -> {name:<10} {seconds:6.1f} s  {peak / 1024:5.0f} MB  exit {status}"
                    f"  {len(sections)} sections reported, {whole} shown paragraph by paragraph"
                )
                worst = max(worst, seconds)
    print(f"target < {TARGET_SECONDS:.0f} s:", "met" if worst < TARGET_SECONDS else "NOT met")


if __name__ == "__main__":
    main()
