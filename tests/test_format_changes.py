"""What changes on the formats issue 14 added reads as a change of its own, in GOV.UK's words: a statistics
release whose date moves or is confirmed, a consultation whose outcome is published.

Each pair is one real publishing-api example and the same item as GOV.UK changes it (the fields its
publishing app sets), read by the Content API reader, diffed, and shown in the text report and the digest.
"""

from __future__ import annotations

import copy
import json
from html import escape

from conftest import FIXTURES

from monitor.diff import diff
from monitor.model import Change, PageState
from monitor.parse import parse
from monitor.render import digest, text_report

SCHEMAS = FIXTURES / "content_schemas"


def _item(relative: str) -> dict:
    return json.loads((SCHEMAS / f"{relative}.json").read_text(encoding="utf-8"))


def _read(item: dict):
    return parse(json.dumps(item).encode(), "https://www.gov.uk" + item["base_path"])


def _digest_text(old, new) -> str:
    changes = diff(old, new)
    change = Change(
        page_url=new.url,
        kind=changes.kind,
        detected_at="2016-01-18T08:00:00+00:00",
        title=new.title,
        changeset=changes,
        note=changes.history_added[0].note if changes.history_added else "",
    )
    _, text, html = digest([change], [PageState(url=new.url, title=new.title)], since="2016-01-17")
    assert escape(new.title) in html
    return text


def test_a_statistics_release_date_that_moves_says_so() -> None:
    before = _item("statistics_announcement/official_statistics")
    after = copy.deepcopy(before)
    after["details"].update(
        display_date="10 February 2016 9:30am",
        previous_display_date=before["details"]["display_date"],
        latest_change_note="Data supplier delayed.",
    )
    old, new = _read(before), _read(after)
    changes = diff(old, new)
    assert changes.kind == "major"
    moved = {m.field: (m.old, m.new) for m in changes.metadata}
    assert moved["release_date"] == (before["details"]["display_date"], "10 February 2016 9:30am")
    assert [(h.date, h.note) for h in changes.history_added] == [(None, "Data supplier delayed.")]
    report = text_report(changes)
    assert f"release date: {before['details']['display_date']} -> 10 February 2016 9:30am" in report
    assert f"Release date: {before['details']['display_date']} -> 10 February 2016 9:30am" in _digest_text(
        old, new
    )
    assert "Data supplier delayed." in _digest_text(old, new)
    assert changes.to_dict()["metadata"][0] == {
        "field": "release_date",
        "old": before["details"]["display_date"],
        "new": "10 February 2016 9:30am",
    }


def test_a_confirmed_or_cancelled_release_says_so() -> None:
    provisional = _item("statistics_announcement/official_statistics")
    provisional["details"]["state"] = "provisional"
    confirmed = copy.deepcopy(provisional)
    confirmed["details"]["state"] = "confirmed"
    changes = diff(_read(provisional), _read(confirmed))
    assert "release date status: provisional -> confirmed" in text_report(changes)
    cancelled = _read(_item("statistics_announcement/cancelled_official_statistics"))
    same_release = _item("statistics_announcement/cancelled_official_statistics")
    same_release["details"] = {"display_date": same_release["details"]["display_date"], "state": "confirmed"}
    report = text_report(diff(_read(same_release), cancelled))
    assert "release date status: confirmed -> cancelled" in report
    assert "cancellation reason: (none) -> Official Statistics" in report


def test_a_consultation_whose_outcome_is_published_says_so() -> None:
    after = _item("consultation/consultation_outcome_with_featured_attachments")
    before = copy.deepcopy(after)
    before["document_type"] = "closed_consultation"
    for key in ("final_outcome_detail", "final_outcome_attachments", "public_feedback_detail"):
        before["details"].pop(key)
    before["details"].pop("public_feedback_attachments")
    before["details"]["change_history"] = before["details"]["change_history"][1:]
    before["public_updated_at"] = before["details"]["first_public_at"]
    old, new = _read(before), _read(after)
    changes = diff(old, new)
    assert changes.kind == "major"
    assert [(m.field, m.old, m.new) for m in changes.metadata] == [
        ("consultation_status", "closed", "outcome published")
    ]
    assert [(a.status, a.title) for a in changes.attachments] == [
        ("added", a.title) for a in new.attachments[:3]
    ]
    assert {s.heading for s in changes.sections} == {"Detail of outcome", "Detail of feedback received"}
    assert "consultation status: closed -> outcome published" in text_report(changes)
    text = _digest_text(old, new)
    assert "Consultation status: closed -> outcome published" in text
    assert "Published the decisions and analysis of responses." in text


def test_nothing_announced_is_not_a_change() -> None:
    item = _item("statistics_announcement/release_date_changed")
    assert diff(_read(item), _read(copy.deepcopy(item))).kind == "none"
