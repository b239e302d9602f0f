"""Signal tags in the email digest: each section's signals (duty, date, amount, removed text) shown with
the old and new phrase, in the text part and the HTML part. The sentence pairs are rows of
``tests/signal_cases.yaml`` (real fixture text); a new case is one more id in ``TAGGED``."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
import yaml

from monitor import render
from monitor.diff import word_diff
from monitor.model import Change, ChangeSet, SectionChange, Signal
from monitor.signals import with_signals

CASES = {c["id"]: c for c in yaml.safe_load((Path(__file__).parent / "signal_cases.yaml").read_text("utf-8"))}
URL = "https://www.gov.uk/guidance/npq-for-sencos"

# (case id, the tag lines the text part shows for it)
TAGGED = [
    (
        "senco-should-complete-becomes-must-complete",
        ['[Duty] "SENCOs should complete" -> "SENCOs must complete"'],
    ),
    ("npq-autumn-2024-becomes-spring-2025", ['[Date] "autumn 2024" -> "spring 2025"']),
    ("mental-health-lead-grant-1000-becomes-1500", ['[Amount] "£1,000" -> "£1,500"']),
    (
        "pcr-test-should-be-arranged-within-2-days",
        ['[Duty] added: "They should arrange"', '[Date] added: "within 2 days"'],
    ),
    (
        "primary-rates-sentence-removed",
        [
            '[Text removed] "The case and transmission rates amongst primary age pupils are currently'
            ' lower than those in secondary age pupils."'
        ],
    ),
    ("gp-sentence-reworded-same-should", []),
]


def change_of(*sections: SectionChange) -> Change:
    return Change(
        page_url=URL,
        kind="minor",
        detected_at="2026-11-30T07:00:00Z",
        title="NPQ for SENCOs",
        changeset=ChangeSet(kind="minor", sections=list(sections)),
        id=1,
    )


def shown(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


@pytest.mark.parametrize(("case_id", "lines"), TAGGED, ids=[t[0] for t in TAGGED])
def test_each_signal_is_a_tag_with_its_old_and_new_phrase(case_id: str, lines: list[str]) -> None:
    case = CASES[case_id]
    [section] = with_signals([SectionChange("Details", "modified", diff=word_diff(case["old"], case["new"]))])
    assert [[s.kind, s.old, s.new] for s in section.signals] == case["signals"]
    _, text, html = render.digest([change_of(section)], [], since="2026-11-29")
    tag = re.compile(rf"^\[(?:{'|'.join(render.SIGNAL_LABELS.values())})\] ")
    assert [line.strip() for line in text.splitlines() if tag.match(line.strip())] == lines
    page = lxml.html.fromstring(html)
    tags = [" ".join(p.text_content().split()) for p in page.xpath("//p[span]")]
    assert len(tags) == (1 if lines else 0)
    for signal in section.signals:
        label = render.SIGNAL_LABELS[signal.kind]
        assert label in tags[0]
        for phrase, mark in ((signal.old, "del"), (signal.new, "ins")):
            if phrase:
                assert phrase in [e.text_content() for e in page.xpath(f"//p[span]/{mark}")]


def test_a_tag_escapes_the_page_and_cuts_a_long_phrase() -> None:
    hostile = Signal("duty", "<script>alert(1)</script> should", "<b>must</b>")
    long = Signal("removed-text", "word " * 120, "")
    section = SectionChange("Details", "modified", diff=[], signals=[hostile, long])
    _, text, html = render.digest([change_of(section)], [], since="2026-11-29")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; should" in html
    assert "&lt;b&gt;must&lt;/b&gt;" in html
    cut = [line for line in text.splitlines() if "[Text removed]" in line]
    assert len(cut) == 1 and cut[0].endswith('…"') and len(cut[0]) < render.SIGNAL_PHRASE_LIMIT + 40
    assert "Text removed" in shown(html)
