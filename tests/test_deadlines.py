"""Dates to act on (monitor.deadlines): held to the labelled table of real sentences, to the SENCO page's
seed text, and followed through three real captures of a DfE page whose date GOV.UK moved twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from deadline_table import held, load, score

from monitor.deadlines import Tracked, Update, follow, history, page_dates, uid_of
from monitor.model import ChangeSet
from monitor.parse import parse

FIXTURES = Path(__file__).parent / "fixtures"
SEED = FIXTURES / "seed-govwire-mandatory-qualification-for-sencos.txt"
SENCO = "https://www.gov.uk/government/publications/mandatory-qualification-for-sencos"
TIMELINE = FIXTURES / "deadline_timeline"
GRANT = "https://www.gov.uk/government/publications/coronavirus-covid-19-testing-in-schools-and-colleges-grant-funding"
CAPTURES = ("4425542ca8-before", "2021-04-07T1725_797bd754b2", "2021-06-02T1605_b1897518ff")
CASES = load()


def test_the_table_is_real_and_balanced():
    """At least 100 sentences from at least 10 pages, half of them without a date to act on."""
    pages = {"/".join(case["page"].split("/")[:2]) for case in CASES}
    without = [case for case in CASES if not case["dates"]]
    assert len(CASES) >= 100 and len(pages) >= 10
    assert len(without) * 2 >= len(CASES)


def test_precision_and_recall_meet_their_targets():
    """The figures benchmarks/deadline_accuracy.py prints: precision >= 95%, recall >= 85%."""
    figures = score(CASES)
    assert figures.precision >= 0.95, figures
    assert figures.recall >= 0.85, figures


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["page"].startswith("seed/")], ids=lambda c: c["sentence"][:40]
)
def test_every_seed_sentence_reads_as_labelled(case):
    outcome = held(case)
    assert not outcome.missed and not outcome.wrong, outcome


def seed_dates():
    return page_dates(parse(SEED.read_bytes(), SENCO))


def test_the_npq_starts_in_autumn_2024_with_its_sentence():
    [autumn] = [d for d in seed_dates() if d.phrase == "autumn 2024"]
    assert autumn.sentence == "Teaching of the NPQ will begin in autumn 2024."
    assert (autumn.start, autumn.kind, autumn.role, autumn.section) == (
        "2024-09-01",
        "term",
        "start",
        "Details",
    )
    assert autumn.page_url == SENCO


def test_within_3_years_of_taking_up_post_is_a_duty_without_a_calendar_day():
    [span] = [d for d in seed_dates() if d.kind == "span"]
    assert span.phrase == "within 3 years of taking up their post"
    assert span.duty and span.start is None


def test_nothing_comes_from_the_change_history_or_the_published_and_updated_dates():
    """The history names the 2023 to 2024 and 2024 to 2025 academic years and the page was last
    updated on 2 February 2024: none of it is a date to act on."""
    document = parse(SEED.read_bytes(), SENCO)
    assert any("2024 to 2025 academic year" in entry.note for entry in document.change_history)
    assert document.last_updated == "2024-02-02"
    assert {d.phrase for d in seed_dates()} == {"autumn 2024", "within 3 years of taking up their post"}


def grant_versions():
    for name in CAPTURES:
        document = parse((TIMELINE / f"{name}.html").read_bytes(), GRANT)
        yield document, Update(document.last_updated or "2021-03-01")


def test_a_date_gov_uk_moves_keeps_its_identity_and_says_where_it_was():
    """ "until February half term 2021" became "until 5 March 2021", then "until 23 July 2021" (with
    "initial" dropped from the sentence): one event, moved twice, never cancelled."""
    tracked = history(grant_versions())
    [end] = [t for t in tracked if t.current.role == "end"]
    assert end.current.start == "2021-07-23" and end.cancelled is None
    assert [(m.old_start, m.update.day) for m in end.moves] == [
        ("2021-02-01", "2021-04-07"),
        ("2021-03-05", "2021-06-02"),
    ]
    assert end.sequence == 2
    first = page_dates(next(grant_versions())[0])
    assert end.uid == uid_of(GRANT, [d for d in first if d.role == "end"][0].key)


def test_each_step_says_what_it_did_to_the_dates():
    versions = list(grant_versions())
    tracked: list[Tracked] = []
    said = []
    for document, update in versions:
        tracked, changes = follow(tracked, page_dates(document), update)
        said.append(sorted((c.what, c.date.phrase) for c in changes))
    assert said == [
        [("added", "4 January"), ("added", "February")],
        [("moved", "5 March 2021")],
        [("moved", "23 July 2021")],
    ]


def test_a_removed_sentence_cancels_its_date_and_its_return_revives_the_same_event():
    versions = list(grant_versions())
    tracked = history(versions[:1])
    removed, changes = follow(tracked, [], Update("2021-03-02", 7))
    assert {c.what for c in changes} == {"removed"}
    assert all(t.cancelled == Update("2021-03-02", 7) and t.sequence == 1 for t in removed)
    back, changes = follow(removed, page_dates(versions[0][0]), Update("2021-03-03"))
    assert {c.what for c in changes} == {"added"}
    assert [(t.uid, t.cancelled, t.sequence) for t in back] == [(t.uid, None, 2) for t in removed]


def test_followed_dates_survive_the_store_as_json():
    tracked = history(grant_versions())
    assert [Tracked.from_dict(t.to_dict()) for t in tracked] == tracked


def test_a_stored_change_says_what_it_did_to_the_dates_from_its_word_diff_alone():
    """The grant page's two updates, diffed as the run diffs them: each moved the end of testing, and
    the sentence's other date (4 January) did nothing."""
    from monitor.deadlines import date_changes
    from monitor.diff import diff

    documents = [document for document, _ in grant_versions()]
    said = [
        [
            (c.what, c.old_phrase, c.date.phrase, c.date.start)
            for c in date_changes(diff(old, new).sections, GRANT)
        ]
        for old, new in zip(documents, documents[1:], strict=False)
    ]
    assert said == [
        [("moved", "February", "5 March 2021", "2021-03-05")],
        [("moved", "5 March 2021", "23 July 2021", "2021-07-23")],
    ]
    assert date_changes(diff(documents[0], documents[0]).sections, GRANT) == []


def test_a_sentence_removed_or_added_with_its_date_is_said_so():
    from monitor.deadlines import date_changes
    from monitor.model import DiffOp, SectionChange

    sentence = "Settings should aim for pupils to take 3 tests, starting from 8 March 2021."
    kept = "Further information can be found in the home testing section."
    removed = ChangeSet(
        "minor",
        sections=[
            SectionChange(
                "Wider reopening", "modified", diff=[DiffOp("delete", sentence + " "), DiffOp("equal", kept)]
            )
        ],
    )
    [gone] = date_changes(removed.sections, GRANT)
    assert (gone.what, gone.date.start, gone.date.sentence) == ("removed", "2021-03-08", sentence)
    added = ChangeSet(
        "minor", sections=[SectionChange("Wider reopening", "added", diff=[DiffOp("insert", sentence)])]
    )
    assert [(c.what, c.date.phrase) for c in date_changes(added.sections, GRANT)] == [
        ("added", "8 March 2021")
    ]


def test_what_matters_says_a_date_to_act_on_went_with_its_sentence_and_does_not_repeat_a_move():
    """The rapid testing guidance of 6 April 2021 dropped "Settings should aim ..., starting from 8
    March 2021.": told as removed text, and the date as removed from the calendar. The grant page's
    moves are told once, by their date signals."""
    from monitor.diff import diff, word_diff
    from monitor.model import SectionChange
    from monitor.render.matters import lines
    from monitor.signals import section_signals

    kept = "Further information can be found in the 'Ongoing twice-weekly testing' section."
    went = "Settings should aim for pupils to take 3 tests (taken 3 to 5 days apart), "
    went += "starting from 8 March 2021."
    section = SectionChange(
        "Wider reopening from 8 March 2021", "modified", diff=word_diff(f"{went}\n{kept}", kept)
    )
    section.signals = section_signals([section])[0]
    said = lines([section])
    assert "In Wider reopening from 8 March 2021, removed the date to act on 8 March 2021" in said
    assert said[0].startswith("In Wider reopening from 8 March 2021, removed ‘Settings should aim")

    documents = [document for document, _ in grant_versions()]
    changed = diff(documents[1], documents[2]).sections
    moved = [line for line in lines(changed) if "23 July 2021" in line]
    assert moved == ["In Details, end date moved from 5 March 2021 to 23 July 2021"]
