"""The labelled table of real sentences (``tests/deadline_cases.yaml``) and how the dates found in one are
held against its labels. The tests and ``benchmarks/deadline_accuracy.py`` share this, so a figure in the
benchmark's README is the figure the tests assert.

A found date matches a label when its first day is the label's (both null for a date with no calendar
day) and one phrase holds the other's words ("8 March" in "From 8 March", "autumn 2020" in "autumn 2020
term"). Each date found matches at most one label, and each label at most one date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from signal_table import Score

from monitor.date_phrases import Found, dates_in

TABLE = Path(__file__).parent / "deadline_cases.yaml"


def load() -> list[dict]:
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def _words(text: str) -> str:
    words = (w.strip(".,;:!?()[]\"'‘’“”") for w in text.casefold().split())
    return " " + " ".join(w for w in words if w) + " "


def _alike(found: Found, label: list) -> bool:
    phrase, day = label
    said, labelled = _words(found.phrase), _words(phrase)
    return found.start == day and (labelled in said or said in labelled)


@dataclass
class Outcome:
    """One row: the labels matched, the labels missed, and the dates found that match no label."""

    matched: list[list]
    missed: list[list]
    wrong: list[Found]


def held(case: dict) -> Outcome:
    labels = [list(label) for label in case["dates"]]
    left = list(range(len(labels)))
    matched: list[list] = []
    wrong: list[Found] = []
    for found in dates_in(case["sentence"], case.get("section", "")):
        hit = next((n for n in left if _alike(found, labels[n])), None)
        if hit is None:
            wrong.append(found)
        else:
            left.remove(hit)
            matched.append(labels[hit])
    return Outcome(matched, [labels[n] for n in left], wrong)


def score(cases: list[dict]) -> Score:
    """Precision and recall of the dates found over the whole table (counted as the signals' are)."""
    labelled = found = right = 0
    for case in cases:
        outcome = held(case)
        labelled += len(case["dates"])
        right += len(outcome.matched)
        found += len(outcome.matched) + len(outcome.wrong)
    return Score(labelled, found, right)
