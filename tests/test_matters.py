"""What matters, in plain words: each row is a real section change from the labelled table
(``signal_cases.yaml``), its signals found as the diff finds them, and the line a reader is shown."""

from __future__ import annotations

import pytest
import signal_table

from monitor.diff import word_diff
from monitor.model import SectionChange
from monitor.render.matters import SHOWN, line, lines, matters
from monitor.signals import with_signals

CASES = {case["id"]: case for case in signal_table.load()}

TABLE = [
    # An obligation whose force alone changed is quoted by its obligation words.
    ("senco-should-complete-becomes-must-complete", "duty", "In Section, ‘should’ became ‘must’"),
    ("send-and-specialist-2021-04-07-3", "duty", "In Health and safety legislation, ‘should’ became ‘must’"),
    # The party bound changed: the whole phrase, with the words before it in its sentence, so a party
    # named in several words is named whole.
    (
        "send-and-specialist-2021-03-19-57",
        "duty",
        "In Health and safety legislation, "
        "‘Employers must protect’ became ‘Educational providers must protect’",
    ),
    (
        "send-and-specialist-2021-12-02-1",
        "duty",
        "In Home to school transport, ‘…people aged 11 and over should wear’ became "
        "‘…11 and over, and adults should wear’",
    ),
    (
        "send-and-specialist-2021-03-19-22",
        "duty",
        "In Minimise contact with those who are required to self…, "
        "‘are required to’ became ‘are legally required to’",
    ),
    # An obligation added or dropped: the words before it in its sentence say whose.
    (
        "rapid-asymptomatic-testing-2021-03-27-1",
        "duty",
        "In Main changes to the previous version, "
        "added ‘…a confirmatory PCR test is required following a positive LFD test’",
    ),
    (
        "rapid-asymptomatic-testing-2021-04-07-7",
        "duty",
        "In The staff who are eligible for testing, "
        "removed ‘Specialist settings should start to receive deliveries of home testing kits…’",
    ),
    ("mental-health-lead-grant-1000-becomes-1500", "amount", "In Section, £1,000 became £1,500"),
    ("the-risk-protection-2022-03-29-1", "amount", "In Cost, £19 became £21"),
    (
        "send-and-specialist-2021-03-19-63",
        "amount",
        "In Asymptomatic testing, added ‘…swab and test themselves twice a week at home.’",
    ),
    (
        "send-and-specialist-2021-03-19-55",
        "date",
        "In Latest updates and reviews, date moved from 18 March to 26 March",
    ),
    (
        "coronavirus-covid-19-2021-04-07-1",
        "date",
        "In Details, end date moved from 5 March 2021 to 23 July 2021",
    ),
    ("evidence-summary-covid-37a735b5e5-1", "date", "In Details, removed date ‘February 2021’"),
    # A quoted heading or paragraph gets one pair of quotation marks, the line's own.
    (
        "boarding-schools-national-2022-09-01-1",
        "removed-text",
        "In Details, removed ‘National minimum standards for boarding schools: in force from 5 September…’",
    ),
]


@pytest.mark.parametrize(("case_id", "kind", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_a_real_signal_in_plain_words(case_id: str, kind: str, expected: str) -> None:
    case = CASES[case_id]
    said = [line(case.get("section", "Section"), s) for s in signal_table.found_in(case) if s.kind == kind]
    assert expected in said


SENIOR_MENTAL_HEALTH_LEAD = (
    "You will then receive confirmation that we have successfully received your application and you should"
    " proceed to book a DfE quality assured training course to commence by {}."
)
"""A real sentence (tests/fixtures/html_timeline/guidance~senior-mental-health-lead-training, 18 August
2022), its date moved as issue 22 names it."""


def test_a_date_after_by_is_a_deadline() -> None:
    old = SENIOR_MENTAL_HEALTH_LEAD.format("31 March 2022")
    new = SENIOR_MENTAL_HEALTH_LEAD.format("28 February 2022")
    [section] = with_signals([SectionChange("How to apply", "modified", diff=word_diff(old, new))])
    assert lines([section]) == ["In How to apply, deadline moved from 31 March 2022 to 28 February 2022"]


def test_an_entry_shows_three_lines_strongest_kind_first_and_counts_the_rest() -> None:
    sections = [
        SectionChange(
            CASES[case_id].get("section", "Section"),
            "modified",
            signals=signal_table.found_in(CASES[case_id]),
        )
        for case_id in (
            "send-and-specialist-2021-03-19-63",  # a date dropped, two amounts added
            "the-risk-protection-2022-03-29-1",  # an amount (twice) and text removed
            "senco-should-complete-becomes-must-complete",  # a duty
        )
    ]
    every = lines(sections)
    assert every[0] == "In Section, ‘should’ became ‘must’"  # the duty first, though its section is last
    assert every.count("In Cost, £19 became £21") == 1  # said once
    assert every[-1].startswith("In Cost, removed ‘")  # text removed last
    shown = matters(sections)
    assert shown.lines == tuple(every[:SHOWN]) and shown.more == len(every) - SHOWN > 0
    assert matters([]).lines == () and matters([]).more == 0
