"""The change note held against the text: real GOV.UK change notes against the real headings of the
sections where a duty, date or amount signal fell (``tests/note_cases.yaml``, one row a case), then the
wording a reader is given."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from monitor.model import SectionChange, Signal
from monitor.notes import HELD, NoteCheck, held_against, names
from monitor.signals import with_signals
from monitor.textdiff import word_diff

CASES = yaml.safe_load((Path(__file__).parent / "note_cases.yaml").read_text(encoding="utf-8"))
CLAIMS_RIGHT = 0.9
"""At least this share of "does not mention" claims on the table must be right (precision first)."""


def sections_of(case: dict) -> list[SectionChange]:
    return [
        SectionChange(heading, "modified", signals=[Signal(kind, "old", "new") for kind in kinds])
        for heading, kinds in case["sections"]
    ]


def read_by_rule(case: dict) -> list[bool]:
    """The row's labels, with the sections where the rule is known to read the note otherwise flipped."""
    differs = set(case.get("differs", []))
    return [
        named != (heading in differs)
        for (heading, _), named in zip(case["sections"], case["named"], strict=True)
    ]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_real_note_held_against_real_headings(case):
    check = held_against(case["note"], sections_of(case), case.get("title", ""))
    if not case["note"]:
        kinds = {kind for _, found in case["sections"] for kind in found}
        assert check == NoteCheck(silent=tuple(kind for kind in HELD if kind in kinds))
        return
    labels = zip(case["sections"], read_by_rule(case), strict=True)
    expected = [heading for (heading, _), named in labels if not named]
    assert check == NoteCheck(unmentioned=tuple(expected))
    for heading in case.get("differs", []):
        assert heading in [h for h, _ in case["sections"]]


def test_claims_that_a_note_does_not_mention_a_section_are_right():
    """Precision of "does not mention" over the table, and that the rule makes such claims at all."""
    made = right = 0
    for case in CASES:
        if not case["note"]:
            continue
        for (heading, _), named in zip(case["sections"], case["named"], strict=True):
            if not names(case["note"], heading, case.get("title", "")):
                made += 1
                right += not named
    assert made >= 10 and right / made >= CLAIMS_RIGHT


@pytest.mark.parametrize(
    ("kinds", "sentence"),
    [
        (["duty"], "Silent change to a duty"),
        (["date", "duty"], "Silent change to a duty and a date"),
        (["amount", "removed-text", "date", "duty"], "Silent change to a duty, a date and an amount"),
        (["removed-text"], ""),
    ],
)
def test_a_silent_change_names_each_kind_that_changed(kinds, sentence):
    section = SectionChange("Cost", "modified", signals=[Signal(kind, "a", "b") for kind in kinds])
    assert held_against(None, [section]).sentence == sentence
    assert held_against("  ", [section]).sentence == sentence


NPQ = "SENCOs should complete the NPQ for SENCOs within 3 years of taking up post."


def signalled(heading: str, old: str, new: str) -> SectionChange:
    [section] = with_signals([SectionChange(heading, "modified", diff=word_diff(old, new))])
    return section


def test_a_silent_should_becoming_must_leads_with_a_silent_change_to_a_duty():
    section = signalled("Mandatory qualification", NPQ, NPQ.replace("should", "must"))
    assert [g.kind for g in section.signals] == ["duty"]
    assert held_against(None, [section]).sentence == "Silent change to a duty"


def test_a_note_naming_another_section_says_which_it_does_not_mention():
    changed = signalled("Mandatory qualification", NPQ, NPQ.replace("should", "must"))
    cost = signalled("Cost", "£19 per pupil, per year", "£21 per pupil, per year")
    note = "Updated the costs for academies."
    assert held_against(note, [changed, cost]).sentence == (
        "The change note does not mention: Mandatory qualification"
    )
    covering = "Clarified the mandatory qualification for new SENCOs and the costs."
    assert held_against(covering, [changed, cost]) == NoteCheck()
    assert held_against(covering, [changed, cost]).sentence == ""


def test_a_renamed_section_is_named_by_its_old_heading_too():
    section = signalled("Who must qualify", NPQ, NPQ.replace("should", "must"))
    section.old_heading = "Mandatory qualification"
    assert held_against("Clarified the mandatory qualification.", [section]) == NoteCheck()
