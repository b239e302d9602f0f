"""A publication and its documents as one story (monitor.story): one row per case."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor import story
from monitor.model import Change, ChangeSet, HistoryEntry, PageState
from monitor.parse import parse

SEED = Path(__file__).parent / "fixtures" / "seed-govwire-mandatory-qualification-for-sencos.txt"
PUB = "https://www.gov.uk/government/publications/mandatory-qualification-for-sencos"
DOC = f"{PUB}/transition-to-national-professional-qualification-for-sencos"
OTHER = "https://www.gov.uk/guidance/other"
PAGES = [
    PageState(PUB, "Mandatory qualification for SENCOs"),
    PageState(DOC, "Transition to national professional qualification for SENCOs", parent_url=PUB),
    PageState(OTHER, "Other guidance"),
]


def seed_history() -> list[HistoryEntry]:
    """The SENCO seed's five history entries, newest first, as the mirror printed them."""
    return parse(SEED.read_bytes(), PUB, "text/plain").change_history


def test_the_senco_seed_still_gives_its_five_history_entries() -> None:
    history = seed_history()
    assert [entry.date for entry in history] == ["2024-02-02", None, None, None, "2023-07-05"]
    assert history[0].note.startswith("Updated 'Transition to national professional qualification")
    assert history[-1].note == "First published."


def at(day: str) -> str:
    return f"{day}T07:00:00+00:00"


def noted(url: str, day: str, note: str, ident: int) -> Change:
    """A diffed change that added one history entry."""
    changeset = ChangeSet("major", history_added=[HistoryEntry(day, note)])
    return Change(url, "major", at(day), "", changeset, note, day, id=ident)


def silent(url: str, day: str, ident: int) -> Change:
    return Change(
        url, "minor", at(day), "", ChangeSet("minor"), "Changed without a change note", day, id=ident
    )


def first_seen(url: str, day: str, ident: int) -> Change:
    return Change(url, "new", at(day), "", None, "First seen", day, id=ident)


def backfilled(url: str, entry: HistoryEntry, day: str, ident: int) -> Change:
    return Change(url, "major", at(day), "", None, entry.note, entry.date, backfilled=True, id=ident)


NOTE = seed_history()[0].note


@dataclass
class Case:
    """``told``: the changes of the digest; ``earlier``: recorded before it (context). ``expect``: per
    story (newest first), its page, the ids of its own and its documents' changes, the headline's note
    (None for none), whether it is silent, and the ids of the documents told as silent edits."""

    name: str
    told: list[Change]
    expect: list[tuple[str, list[int], list[int], str | None, bool, list[int]]]
    earlier: list[Change] = field(default_factory=list)


CASES = [
    Case(
        "document changed in the same run as its publication: under it, with its note",
        [noted(PUB, "2024-02-02", NOTE, 10), silent(DOC, "2024-02-02", 11)],
        [(PUB, [10], [11], NOTE, False, [])],
    ),
    Case(
        "document edited while its publication's history did not move: a silent edit of its own",
        [silent(DOC, "2024-03-01", 11)],
        [(DOC, [11], [], None, True, [])],
        earlier=[
            first_seen(PUB, "2024-02-10", 1),
            backfilled(PUB, seed_history()[0], "2024-02-10", 2),
            first_seen(DOC, "2024-02-10", 3),
        ],
    ),
    Case(
        "document caught up a run later: the publication's entry is newer than its last snapshot",
        [silent(DOC, "2024-02-03", 11)],
        [(PUB, [], [11], NOTE, False, [])],
        earlier=[first_seen(DOC, "2024-01-20", 3), noted(PUB, "2024-02-02", NOTE, 4)],
    ),
    Case(
        "publication and document both changed silently: one story, a silent edit",
        [silent(PUB, "2024-02-02", 10), silent(DOC, "2024-02-02", 11)],
        [(PUB, [10], [11], None, True, [11])],
    ),
    Case(
        "a newly listed document is first seen under its publication",
        [noted(PUB, "2024-02-02", NOTE, 10), first_seen(DOC, "2024-02-02", 11)],
        [(PUB, [10], [11], NOTE, False, [])],
    ),
    Case(
        "a page that is no publication's document stands alone; stories newest first",
        [silent(OTHER, "2024-02-01", 9), noted(PUB, "2024-02-02", NOTE, 10), silent(DOC, "2024-02-02", 11)],
        [(PUB, [10], [11], NOTE, False, []), (OTHER, [9], [], None, True, [])],
    ),
    Case(
        "backfilled history is never told",
        [backfilled(PUB, seed_history()[-1], "2024-02-02", 5)],
        [],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_stories(case: Case) -> None:
    told = story.stories(case.told, PAGES, context=case.earlier)
    got = [
        (
            s.url,
            [c.id for c in s.changes],
            [d.change.id for d in s.documents],
            s.headline.note if s.headline else None,
            s.silent,
            [d.change.id for d in s.documents if d.silent],
        )
        for s in told
    ]
    assert got == case.expect


def test_a_document_explained_by_its_publication_is_never_a_silent_edit() -> None:
    [told] = story.stories([noted(PUB, "2024-02-02", NOTE, 10), silent(DOC, "2024-02-02", 11)], PAGES)
    [part] = told.documents
    assert part.explained_by == HistoryEntry("2024-02-02", NOTE) and not part.silent
    assert told.kind == "major" and told.title == "Mandatory qualification for SENCOs"


def test_story_of_finds_a_document_change_under_its_publication() -> None:
    changes = [noted(PUB, "2024-02-02", NOTE, 10), silent(DOC, "2024-02-02", 11)]
    found = story.story_of(changes[1], changes, PAGES)
    assert found is not None and found.url == PUB and found.ids == [10, 11]


def test_webhooks_get_the_story_in_json() -> None:
    from monitor import render

    changes = [noted(PUB, "2024-02-02", NOTE, 10), silent(DOC, "2024-02-02", 11)]
    [summary] = render.story_summaries(changes, PAGES, site_url="https://changes.example.org")
    assert summary["page_url"] == PUB and summary["change_ids"] == [10] and not summary["silent"]
    assert summary["headline"] == f"GOV.UK's change note: {NOTE}"
    assert summary["site_link"] == "https://changes.example.org/changes/10.html"
    [document] = summary["documents"]
    assert document["page_url"] == DOC and document["explained_by"] == NOTE and not document["silent"]
