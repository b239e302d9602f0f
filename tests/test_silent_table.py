"""Silent edits and reverts told from real page timelines: each row of ``tests/silent_cases.yaml`` runs
its captures through ``parse``, ``changes.decide`` and ``story.stories`` (``tests/silent_table.py``) and
must be told as labelled, or, for a row marked ``known_miss``, exactly as wrongly as the row says."""

from __future__ import annotations

import pytest
from silent_table import load, revert_rows, reverts_told, run_row, score_reverted, score_silent, silent_rows

ROWS = load()


@pytest.mark.parametrize("row", silent_rows(ROWS), ids=lambda row: row["id"])
def test_a_change_is_told_as_a_silent_edit_exactly_when_gov_uk_said_nothing(row: dict) -> None:
    told = run_row(row).silent
    expected = not row["silent"] if "known_miss" in row else row["silent"]
    assert told == expected, row["why"]


@pytest.mark.parametrize("row", revert_rows(ROWS), ids=lambda row: row["id"])
def test_a_page_is_told_as_reverted_once_exactly_when_it_went_back_and_stayed(row: dict) -> None:
    outcome = run_row(row)
    assert reverts_told(outcome) == (1 if row["reverted"] else 0), (row["why"], outcome.reported)


def test_the_table_holds_positives_and_negatives_of_each_rule_and_says_why_each_miss_is_left() -> None:
    silent, reverts = silent_rows(ROWS), revert_rows(ROWS)
    assert any(r["silent"] for r in silent) and any(not r["silent"] for r in silent)
    assert any(r["reverted"] for r in reverts) and any(not r["reverted"] for r in reverts)
    assert len({r["id"] for r in ROWS}) == len(ROWS)
    assert all(r["known_miss"].strip() for r in ROWS if "known_miss" in r)
    assert all(r.get("why", "").strip() for r in ROWS)


def test_the_figures_the_benchmark_prints_count_every_known_miss() -> None:
    """The rules miss nothing the table labels except its known misses, which the figures count."""
    misses = [r for r in silent_rows(ROWS) if "known_miss" in r]
    silent = score_silent(ROWS)
    assert silent.right == silent.labelled - sum(r["silent"] for r in misses)
    assert silent.found - silent.right == sum(not r["silent"] for r in misses)
    reverted = score_reverted(ROWS)
    assert (reverted.precision, reverted.recall) == (1.0, 1.0)
