"""How often "Changed without a change note" and "Went back to an earlier version" are right: precision
and recall on the labelled table of real page timelines (``tests/silent_cases.yaml``), each row run
through parse, the change rules and the stories as a daily run tells it (``tests/silent_table.py``);
``tests/test_silent_table.py`` asserts the same outcome row by row.

    .venv/bin/python benchmarks/silent_accuracy.py [--cases]

With ``--cases``, also lists each row told otherwise than labelled (the known misses).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from signal_table import Score  # noqa: E402
from silent_table import (  # noqa: E402
    load,
    revert_rows,
    reverts_told,
    run_row,
    score_reverted,
    score_silent,
    silent_rows,
    watched_alone,
)


def figures(name: str, rows: list[dict], positives: int, score: Score) -> None:
    precision = f"{score.precision:.1%}" if score.found else "(none told)"
    recall = f"{score.recall:.1%}" if score.labelled else "(none to find)"
    print(
        f"| {name} | {len(rows)} | {positives} | {len(rows) - positives} | {score.found} | {score.right} "
        f"| {precision} | {recall} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="list the rows told otherwise than labelled")
    args = parser.parse_args()
    rows = load()
    silent, reverts = silent_rows(rows), revert_rows(rows)
    alone = [r for r in silent if watched_alone(r)]
    print("| rule | rows | positives | negatives | told | right | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    figures("silent edit", silent, sum(r["silent"] for r in silent), score_silent(silent))
    figures(
        "silent edit, of documents watched without their publication",
        alone,
        sum(r["silent"] for r in alone),
        score_silent(alone),
    )
    figures("reverted", reverts, sum(r["reverted"] for r in reverts), score_reverted(reverts))
    constructed = sum("constructed" in r for r in rows)
    print(f"\n{len(rows)} rows, {constructed} of them built from real captures (their `constructed` key)")
    if args.cases:
        for row in silent:
            told = run_row(row).silent
            if told != row["silent"]:
                print(f"\n{row['id']}: labelled silent={row['silent']}, told silent={told}")
                print(f"  {row.get('known_miss', '')}")
        for row in reverts:
            count = reverts_told(run_row(row))
            if count != (1 if row["reverted"] else 0):
                print(f"\n{row['id']}: labelled reverted={row['reverted']}, told reverted {count} times")


if __name__ == "__main__":
    main()
