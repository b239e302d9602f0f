"""How often the dates to act on are right: precision and recall on the labelled table of real sentences
(``tests/deadline_cases.yaml``). Targets: precision at least 95%, recall at least 85% (issue 25);
``tests/test_deadlines.py`` asserts the same figures.

    .venv/bin/python benchmarks/deadline_accuracy.py [--cases]

With ``--cases``, also lists each row where a label was missed or a date matches no label.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from deadline_table import held, load, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="list the rows with a miss or a wrong date")
    args = parser.parse_args()
    cases = load()
    pages = {"/".join(c["page"].split("/")[:2]) for c in cases}
    with_dates = sum(1 for c in cases if c["dates"])
    figures = score(cases)
    print(
        f"{len(cases)} sentences from {len(pages)} pages: {with_dates} with a date to act on, "
        f"{len(cases) - with_dates} without\n"
    )
    print("| labelled | found | right | precision | recall |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {figures.labelled} | {figures.found} | {figures.right} "
        f"| {figures.precision:.1%} | {figures.recall:.1%} |"
    )
    if args.cases:
        for case in cases:
            outcome = held(case)
            if outcome.missed or outcome.wrong:
                print(f"\n{case['sentence']}")
                for label in outcome.missed:
                    print(f"  missed {label}")
                for found in outcome.wrong:
                    print(f"  wrong  {found.phrase!r} {found.start}")


if __name__ == "__main__":
    main()
