"""The change rules, pure: a table of (page state, previous snapshot, this run's answer) -> the changes and
the page's new state. A new case is one row."""

from __future__ import annotations

import doctest
from dataclasses import dataclass, field
from typing import Any

import pytest

from monitor import changes
from monitor.model import (
    NEW_SNAPSHOT,
    Answer,
    Document,
    FetchResult,
    HistoryEntry,
    PageState,
    Section,
    SnapshotRef,
)

URL = "https://www.gov.uk/guidance/senior-mental-health-lead-training"
NEW_URL = "https://www.gov.uk/guidance/mental-health-lead-training"
WHEN = "2024-03-01T07:00:00+00:00"
FETCHED = "2024-03-01T06:59:58+00:00"


def doc(text: str = "Who the training is for", history: int = 1, withdrawn: str | None = None) -> Document:
    return Document(
        url=URL,
        title="Senior mental health lead training",
        last_updated=f"2022-0{history}-01",
        change_history=[
            HistoryEntry(f"2022-0{i + 1}-01", f"Update {i + 1}") for i in reversed(range(history))
        ],
        sections=[Section("Who it is for", 2, text)],
        withdrawn=withdrawn,
    )


A, B, C = doc(), doc("Every school and college"), doc("Every school, college and nursery")
A2 = doc(history=2)  # a new change-history entry
WITHDRAWN = doc(withdrawn="This guidance was withdrawn on 1 March 2024")
VERSIONS = {"A": A, "B": B, "C": C}


def fetched(
    status: int = 200,
    *,
    etag: str | None = '"e2"',
    redirected: bool = False,
    not_modified: bool = False,
    error: str | None = None,
) -> FetchResult:
    return FetchResult(
        URL,
        NEW_URL if redirected else URL,
        status=status,
        body=b"" if not_modified or error else b"<main>page</main>",
        etag=etag,
        not_modified=not_modified,
        redirects=[URL] if redirected else [],
        fetched_at=FETCHED,
        error=error,
    )


@dataclass
class Case:
    name: str
    answer: Answer
    last: Document | None = field(default_factory=lambda: A)
    page: dict[str, Any] = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    """Columns the update must set to these values; a value of ``KEEP`` means it must not be set."""
    snapshot: bool = False
    announced: bool = False
    last_from_api: bool = False


KEEP = object()

CASES = [
    Case(
        "first sight: the published history backfilled, then new",
        Answer(fetched(), A2),
        last=None,
        kinds=["major*", "major*", "new"],
        state={
            "gone": 0,
            "etag": '"e2"',
            "title": A2.title,
            "last_changed": FETCHED,
            "consecutive_failures": 0,
        },
        snapshot=True,
    ),
    Case(
        "first sight of a page a search already announced: history only",
        Answer(fetched(), A),
        last=None,
        announced=True,
        kinds=["major*"],
        state={"last_changed": KEEP},
        snapshot=True,
    ),
    Case("the same Document again", Answer(fetched(), A), state={"last_changed": KEEP, "etag": '"e2"'}),
    Case(
        "a silent edit",
        Answer(fetched(), B),
        kinds=["minor"],
        state={"last_changed": FETCHED, "read_key": "k2"},
        snapshot=True,
    ),
    Case("a new change-history entry", Answer(fetched(), A2), kinds=["major"], snapshot=True),
    Case("a withdrawal notice", Answer(fetched(), WITHDRAWN), kinds=["withdrawn"], snapshot=True),
    Case(
        "a failed check counts, keeps the validators and the snapshot",
        Answer(fetched(500, error="HTTP 500"), reason="HTTP 500"),
        page={"consecutive_failures": 2},
        state={"consecutive_failures": 3, "last_error": "HTTP 500", "etag": KEEP, "last_changed": KEEP},
    ),
    Case(
        "an answer that is not the page is a failure with the gate's reason",
        Answer(fetched(), reason="challenge page"),
        state={"consecutive_failures": 1, "last_error": "challenge page", "etag": KEEP},
    ),
    Case(
        "a 304 resets the failures and keeps the validators it was not sent",
        Answer(fetched(304, etag=None, not_modified=True)),
        page={"consecutive_failures": 4},
        state={"consecutive_failures": 0, "last_error": None, "etag": KEEP},
    ),
    Case(
        "a 304 through a redirect is a move",
        Answer(fetched(304, not_modified=True, redirected=True)),
        kinds=["moved"],
        state={"current_url": NEW_URL, "etag": '"e2"'},
    ),
    Case(
        "a 410 removes the page, once",
        Answer(fetched(410, error="HTTP 410"), reason="HTTP 410"),
        kinds=["removed"],
        state={"gone": 1, "etag": None, "read_key": None, "consecutive_failures": 0},
    ),
    Case(
        "a 404 for a page already gone is no news",
        Answer(fetched(404, error="HTTP 404"), reason="HTTP 404"),
        page={"gone": True},
        state={"consecutive_failures": 0, "last_changed": KEEP},
    ),
    Case(
        "a 404 for a page never read is a failure",
        Answer(fetched(404, error="HTTP 404"), reason="HTTP 404"),
        last=None,
        state={"consecutive_failures": 1, "last_error": "HTTP 404"},
    ),
    Case(
        "a removed page that answers again is back",
        Answer(fetched(), A),
        page={"gone": True},
        kinds=["new"],
        state={"gone": 0},
    ),
    Case(
        "a redirected answer with the same Document is a move",
        Answer(fetched(redirected=True), A),
        kinds=["moved"],
        state={"current_url": NEW_URL},
    ),
    Case(
        "a move already known is not news again",
        Answer(fetched(redirected=True), A),
        page={"current_url": NEW_URL},
        state={"current_url": KEEP, "last_changed": KEEP},
    ),
    Case(
        "an answer no longer redirected clears the address",
        Answer(fetched(), A),
        page={"current_url": NEW_URL},
        state={"current_url": None},
    ),
    Case(
        "the HTML read when the Content API failed is not compared with the API's reading",
        Answer(fetched(), B, fallback=True),
        last_from_api=True,
        state={"read_key": KEEP, "last_changed": KEEP, "consecutive_failures": 0},
    ),
    Case(
        "the HTML read is compared when the last reading was HTML too",
        Answer(fetched(), B, fallback=True),
        kinds=["minor"],
        snapshot=True,
    ),
]


def kind(change) -> str:
    return change.kind + ("*" if change.backfilled else "")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_rules(case: Case):
    if case.answer.document is not None:
        case.answer.read_key = "k2"
    page = PageState(URL, title="Senior mental health lead training", **case.page)
    recent = [SnapshotRef(7, case.last.content_hash)] if case.last else []
    update = changes.decide(
        page,
        case.answer,
        WHEN,
        last=case.last,
        recent=recent,
        announced=case.announced,
        last_from_api=case.last_from_api,
    )
    assert [kind(c) for c in update.changes] == case.kinds
    assert (update.snapshot is not None) == case.snapshot
    assert update.checked_at == update.page["last_checked"] == FETCHED
    for column, value in case.state.items():
        if value is KEEP:
            assert column not in update.page, column
        else:
            assert update.page[column] == value, column
    assert update.fetch.error == (update.page["last_error"] if "last_error" in update.page else None)
    for change in update.changes:
        assert change.detected_at == WHEN
        if not change.backfilled and change.kind != "new":
            assert change.old_snapshot_id == (7 if case.last else None)
        if not change.backfilled and case.answer.document is not None and update.snapshot is not None:
            assert change.new_snapshot_id == NEW_SNAPSHOT


def test_a_change_is_dated_and_noted_as_gov_uk_did():
    page = PageState(URL)
    [major] = changes.decide(
        page, Answer(fetched(), A2), WHEN, last=A, recent=[SnapshotRef(1, A.content_hash)]
    ).changes
    assert (major.note, major.effective_date) == ("Update 2", "2022-02-01")
    [minor] = changes.decide(
        page, Answer(fetched(), B), WHEN, last=A, recent=[SnapshotRef(1, A.content_hash)]
    ).changes
    assert (minor.note, minor.effective_date) == (changes.NO_NOTE, "2024-03-01")
    [gone] = changes.decide(
        page, Answer(fetched(410), reason="HTTP 410"), WHEN, last=A, recent=[SnapshotRef(1, A.content_hash)]
    ).changes
    assert gone.note == f"{changes.REMOVED} (HTTP 410)" and gone.title == A.title


def test_an_unchanged_body_needs_nothing_of_the_page():
    """The fast path: the very body of the last snapshot, read the same way, is judged without any state."""
    answer = Answer(fetched(), read_key="k", body_hash="h", same=True)
    assert changes.unchanged(answer)
    update = changes.decide(PageState(URL, consecutive_failures=3, current_url=NEW_URL), answer, WHEN)
    assert (
        update.changes == [] and update.snapshot is None and update.body is None and update.body_hash == "h"
    )
    assert update.page == {
        "last_checked": FETCHED,
        "consecutive_failures": 0,
        "last_error": None,
        "gone": 0,
        "current_url": None,
        "etag": '"e2"',
        "last_modified": None,
    }
    assert not changes.unchanged(Answer(fetched(304, not_modified=True, redirected=True)))


# --------------------------------------------------------------------------- flapping


def run_sequence(
    seen: str, *, window: int = changes.FLAP_WINDOW, flips: int = changes.FLIPS, same_body: bool = False
) -> list[str]:
    """Feed a page the versions named in ``seen`` one run each, keeping its state as the store would;
    what each run reports ("-" for nothing). ``same_body``: a version seen at the run before comes back
    as the very same body (judged without its Document), not read again."""
    snapshots: list[SnapshotRef] = []  # newest first, as the store gives them
    by_id: dict[int, Document] = {}
    page = PageState(URL)
    reported = []
    for run, name in enumerate(seen, start=1):
        document = VERSIONS[name]
        again = same_body and snapshots and by_id[snapshots[0].id] is document
        answer = (
            Answer(fetched(), read_key="k", body_hash="h", same=True)
            if again
            else Answer(fetched(), document)
        )
        update = changes.decide(
            page,
            answer,
            WHEN,
            last=by_id[snapshots[0].id] if snapshots else None,
            recent=snapshots[: changes.recent_needed(window, flips)],
            told=by_id.get(page.returned_from) if page.returned_from is not None else None,
            announced=True,
            window=window,
            flips=flips,
        )
        if update.snapshot is not None:
            snapshots.insert(0, SnapshotRef(run, update.snapshot.content_hash))
            by_id[run] = document
        if "returned_from" in update.page:
            page.returned_from = update.page["returned_from"]
        reported.append(",".join(c.kind for c in update.changes if not c.backfilled) or "-")
    return reported


@pytest.mark.parametrize(
    ("seen", "reported"),
    [
        ("ABABAC", ["-", "minor", "-", "flapping", "-", "minor"]),
        ("ABABABABAB", ["-", "minor", "-", "flapping", "-", "-", "-", "-", "-", "-"]),
        ("ABCA", ["-", "minor", "minor", "-"]),  # C is new; A returns from within the window
        ("ABCBCB", ["-", "minor", "minor", "-", "flapping", "-"]),
        ("ABAB", ["-", "minor", "-", "flapping"]),
        ("ABABA", ["-", "minor", "-", "flapping", "-"]),
        # A return that stays is told once, then the page is quiet; a later switch is alternating.
        ("ABAA", ["-", "minor", "-", "reverted"]),
        ("ABAAA", ["-", "minor", "-", "reverted", "-"]),
        ("ABAABA", ["-", "minor", "-", "reverted", "flapping", "-"]),
        ("ABCAA", ["-", "minor", "minor", "-", "reverted"]),  # back from C, the version last told
        ("ABCBB", ["-", "minor", "minor", "-", "reverted"]),
        ("ABACC", ["-", "minor", "-", "minor", "-"]),  # a new version after a return is a change
        ("ABAAC", ["-", "minor", "-", "reverted", "minor"]),
    ],
)
def test_a_page_alternating_between_versions_is_reported_once(seen, reported):
    assert run_sequence(seen) == reported


@pytest.mark.parametrize("seen", ["ABAA", "ABAAA", "ABAB", "ABABA", "ABCAA"])
def test_a_return_that_stays_is_told_whether_the_body_is_read_again_or_not(seen):
    assert run_sequence(seen, same_body=True) == run_sequence(seen)


def test_the_reverted_change_compares_the_version_last_told_with_the_one_gone_back_to():
    """Told from the page's state: ``returned_from`` is the snapshot readers last read about (B, 8);
    the page is back at A (9), as at the check before."""
    page = PageState(URL, returned_from=8)
    recent = [SnapshotRef(9, A.content_hash), SnapshotRef(8, B.content_hash), SnapshotRef(7, A.content_hash)]
    for answer in (Answer(fetched(), A), Answer(fetched(), read_key="k", body_hash="h", same=True)):
        update = changes.decide(page, answer, WHEN, last=A, recent=recent, told=B)
        [change] = update.changes
        assert (
            change.kind == "reverted" and change.note == "GOV.UK went back to the version of 1 January 2022"
        )
        assert (change.old_snapshot_id, change.new_snapshot_id) == (8, 9)
        [section] = change.changeset.sections if change.changeset else []
        assert (section.removed_words, section.added_words) == (4, 5)  # B's words out, A's back
        assert change.effective_date == "2024-03-01" and update.snapshot is None
        assert update.page["returned_from"] is None and update.page["last_changed"] == FETCHED
    failed = changes.decide(
        page, Answer(fetched(500, error="HTTP 500"), reason="HTTP 500"), WHEN, last=A, recent=recent, told=B
    )
    assert failed.changes == [] and "returned_from" not in failed.page  # still waiting for a good answer


def test_flapping_window_and_flips_are_arguments():
    assert run_sequence("ABCAB", window=3) == ["-", "minor", "minor", "-", "flapping"]
    assert run_sequence("ABCAB", window=2) == ["-", "minor", "minor", "minor", "minor"]
    assert run_sequence("ABCAB", window=1) == ["-", "minor", "minor", "minor", "minor"]
    assert run_sequence("ABAB", flips=1) == ["-", "minor", "flapping", "-"]
    assert run_sequence("ABABAB", window=0) == ["-", "minor", "minor", "minor", "minor", "minor"]


def test_the_flapping_change_names_both_versions():
    recent = [SnapshotRef(3, A.content_hash), SnapshotRef(2, B.content_hash), SnapshotRef(1, A.content_hash)]
    [change] = changes.decide(PageState(URL), Answer(fetched(), B), WHEN, last=A, recent=recent).changes
    assert change.kind == "flapping" and change.note == changes.ALTERNATING
    assert (change.old_snapshot_id, change.new_snapshot_id) == (3, NEW_SNAPSHOT)
    assert change.changeset is not None and change.changeset.kind == "minor"


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(changes).failed == 0
