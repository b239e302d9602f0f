"""How often the signals are right: precision and recall per kind on the labelled table of real section
changes (``tests/signal_cases.yaml``), and how often "the change note does not mention" is right on the
table of real change notes (``tests/note_cases.yaml``). Targets per kind: precision at least 95%,
recall at least 80% (issue 21); ``tests/test_signals.py`` asserts the same figures.

    .venv/bin/python benchmarks/signal_accuracy.py [--cases]

With ``--cases``, also lists each row where a label was missed or a signal matches no label.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from signal_table import found_in, held, load, score  # noqa: E402

from monitor.notes import names  # noqa: E402


def signal_figures(cases: list[dict]) -> None:
    pages = {c["page"] for c in cases if "page" in c}
    print(f"{len(cases)} section changes from {len(pages)} pages\n")
    print("| kind | labelled | cases with | cases without | found | right | precision | recall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for kind, figures in score(cases).items():
        positives = sum(1 for c in cases if any(label[0] == kind for label in c["signals"]))
        print(
            f"| {kind} | {figures.labelled} | {positives} | {len(cases) - positives} | {figures.found} "
            f"| {figures.right} | {figures.precision:.1%} | {figures.recall:.1%} |"
        )


def note_figures() -> None:
    rows = yaml.safe_load((TESTS / "note_cases.yaml").read_text(encoding="utf-8"))
    tally: Counter[str] = Counter()
    for row in rows:
        if not row["note"]:
            continue
        for (heading, _), named in zip(row["sections"], row["named"], strict=True):
            said = not names(row["note"], heading, row.get("title", ""))
            tally["pairs"] += 1
            tally["claims"] += said
            tally["right"] += said and not named
            tally["unnamed"] += not named
    print(
        f"\n{len(rows)} change notes, {tally['pairs']} note-and-heading pairs: 'does not mention' said "
        f"{tally['claims']} times, right {tally['right']} "
        f"(precision {tally['right'] / tally['claims']:.1%}, recall {tally['right'] / tally['unnamed']:.1%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", action="store_true", help="list the rows that miss or add a signal")
    args = parser.parse_args()
    cases = load()
    signal_figures(cases)
    note_figures()
    if args.cases:
        for case in cases:
            outcome = held(case, found_in(case))
            if outcome.missed or outcome.wrong:
                print(f"\n{case['id']}\n  missed: {outcome.missed}\n  wrong: {outcome.wrong}")


if __name__ == "__main__":
    main()
