"""The labelled table of real section changes (``tests/signal_cases.yaml``) and how the signals found in
one are held against its labels. The tests and ``benchmarks/signal_accuracy.py`` share this, so a figure
in the benchmark's README is the figure the tests assert.

A label names the words a reader points at ("should" -> "must", "£19" -> "£21", the first words of a
removed paragraph); a signal found matches a label of its kind when the label's old words are among the
signal's old phrase and its new words among its new phrase (an empty label side wants an empty phrase).
Each signal found matches at most one label, and each label at most one signal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitor.diff import word_diff
from monitor.model import SectionChange, Signal
from monitor.signals import section_signals

TABLE = Path(__file__).parent / "signal_cases.yaml"
KINDS = ("duty", "date", "amount", "removed-text")


def load() -> list[dict]:
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def found_in(case: dict) -> list[Signal]:
    """The signals of the case's section change, its text diffed as the diff does it."""
    change = SectionChange(
        case.get("section", "Section"), "modified", diff=word_diff(case["old"], case["new"])
    )
    return section_signals([change])[0]


def _words(text: str) -> str:
    """The words of a phrase, spaced, without the punctuation around them ("only." is "only")."""
    words = (w.strip(".,;:!?()[]\"'‘’“”") for w in text.casefold().split())
    return " " + " ".join(w for w in words if w) + " "


def _holds(phrase: str, label: str) -> bool:
    if not label:
        return not phrase
    return bool(phrase) and _words(label) in _words(phrase)


@dataclass
class Outcome:
    """One case: the labels matched, the labels missed and the signals found that match no label."""

    matched: list[list[str]]
    missed: list[list[str]]
    wrong: list[list[str]]


def held(case: dict, found: list[Signal]) -> Outcome:
    labels = [list(label) for label in case["signals"]]
    left = list(range(len(labels)))
    matched: list[list[str]] = []
    wrong: list[list[str]] = []
    for signal in found:
        hit = next(
            (
                n
                for n in left
                if labels[n][0] == signal.kind
                and _holds(signal.old, labels[n][1])
                and _holds(signal.new, labels[n][2])
            ),
            None,
        )
        if hit is None:
            wrong.append([signal.kind, signal.old, signal.new])
        else:
            left.remove(hit)
            matched.append(labels[hit])
    return Outcome(matched, [labels[n] for n in left], wrong)


@dataclass
class Score:
    labelled: int
    found: int
    right: int

    @property
    def precision(self) -> float:
        return self.right / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.labelled if self.labelled else 1.0


def score(cases: list[dict]) -> dict[str, Score]:
    """Precision and recall per kind over the whole table."""
    labelled: Counter[str] = Counter()
    found: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for case in cases:
        outcome = held(case, found_in(case))
        labelled.update(label[0] for label in case["signals"])
        right.update(label[0] for label in outcome.matched)
        found.update(label[0] for label in outcome.matched + outcome.wrong)
    return {kind: Score(labelled[kind], found[kind], right[kind]) for kind in KINDS}
