"""A publication and its documents as one story: what the digest, the change pages and the feeds tell.

Pure: recorded :class:`~monitor.model.Change` rows and :class:`~monitor.model.PageState` in, stories out.
The stored ``changes`` keep what happened to each page; this module only decides how they are told.

GOV.UK puts a publication's change note on the publication page, while the text that changed usually
lives in its documents (HTML attachments, PDFs) which carry no history of their own. So a followed
document's change belongs under its publication when:

- the publication changed in the same run (the same ``detected_at``), or
- the publication's newest history entry is dated after the document's previous snapshot (the document
  was caught up with a run or more later).

Such a change is explained by the publication's entry and is never a silent edit. A document change that
no entry explains is told on its own, and is a silent edit when its own page said nothing either.

The note a change is held against (:mod:`monitor.notes`) is the one it is told under: its own, checked
when the change was recorded, or, for a document explained by its publication, the publication's entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from .clock import london_day
from .model import Change, HistoryEntry, PageState
from .notes import HELD, NoteCheck, held_against

EDITS = frozenset({"major", "minor", "withdrawn"})
"""Kinds that compare two snapshots: a document's edit, which its publication may explain."""
SNAPSHOT_KINDS = EDITS | {"new"}
"""Kinds recorded with a new snapshot of the page."""


def own_notes(change: Change) -> list[HistoryEntry]:
    """The change notes GOV.UK added to the page itself, newest first as GOV.UK lists them."""
    if change.changeset and change.changeset.history_added:
        return [h for h in change.changeset.history_added if h.note]
    if change.kind == "major" and change.note and (change.backfilled or change.changeset is None):
        return [HistoryEntry(change.effective_date, change.note)]
    return []


@dataclass
class DocumentStory:
    """A document's change told under its publication."""

    change: Change
    explained_by: HistoryEntry | None = None
    """The publication's history entry that explains this change, when one does."""

    @property
    def silent(self) -> bool:
        """Changed, and neither the document nor its publication said so."""
        return self.change.kind == "minor" and self.explained_by is None and not own_notes(self.change)


@dataclass
class Story:
    """One page's changes of one run, with its documents' changes of that run beneath them."""

    url: str
    title: str
    detected_at: str
    changes: list[Change] = field(default_factory=list)
    """The page's own changes of this run (a publication can have none when only documents changed)."""
    documents: list[DocumentStory] = field(default_factory=list)
    explained_by: HistoryEntry | None = None
    """For a story of documents alone: the publication's entry that explains them."""

    @property
    def notes(self) -> list[HistoryEntry]:
        """GOV.UK's notes, newest first: the page's own, else the publication entry that explains the
        documents. The first is the story's headline; the others are earlier notes of the same run."""
        found = [entry for change in self.changes for entry in own_notes(change)]
        if not found and self.explained_by is not None:
            found = [self.explained_by]
        return sorted(found, key=lambda e: e.date or "", reverse=True)

    @property
    def headline(self) -> HistoryEntry | None:
        notes = self.notes
        return notes[0] if notes else None

    @property
    def all_changes(self) -> list[Change]:
        return [*self.changes, *(d.change for d in self.documents)]

    @property
    def silent(self) -> bool:
        """Something changed and no note, the page's or its publication's, says so."""
        return not self.notes and any(c.kind == "minor" for c in self.all_changes)

    @property
    def kind(self) -> str:
        """The story's kind: its own change's, else ``major`` when explained, else its documents'."""
        for change in self.changes:
            if change.kind in EDITS:
                return change.kind
        if self.notes:
            return "major"
        kinds = [c.kind for c in self.all_changes]
        return "minor" if "minor" in kinds else (kinds[0] if kinds else "none")

    @property
    def date(self) -> str:
        """The date the story belongs to: its headline's, else the day it was detected."""
        headline = self.headline
        if headline is not None and headline.date:
            return headline.date
        dated = [c.effective_date for c in self.changes if c.effective_date]
        return max(dated) if dated else cast(str, london_day(self.detected_at))  # a detection time has a day

    @property
    def ids(self) -> list[int]:
        return [c.id for c in self.all_changes if c.id is not None]


def part_check(change: Change, explained_by: HistoryEntry | None) -> NoteCheck:
    """The note held against one change as it is told: a document explained by its publication's entry,
    and saying nothing itself, is held against that entry; any other change against its own note, as
    checked when it was recorded (a change recorded before the check existed says nothing)."""
    if explained_by is not None and change.changeset is not None and not own_notes(change):
        return held_against(explained_by.note, change.changeset.sections, change.title)
    return change.note_check or NoteCheck()


def story_check(story: Story) -> NoteCheck:
    """What the story's notes leave out, over the page's changes and its documents' together."""
    checks = [part_check(c, None) for c in story.changes]
    checks += [part_check(d.change, d.explained_by) for d in story.documents]
    silent = {kind for check in checks for kind in check.silent}
    unmentioned = dict.fromkeys(heading for check in checks for heading in check.unmentioned)
    return NoteCheck(tuple(kind for kind in HELD if kind in silent), tuple(unmentioned))


def newest_entry(publication: str, changes: Iterable[Change], at: str) -> tuple[HistoryEntry, Change] | None:
    """The publication's newest history entry recorded by ``at``, with the change that recorded it."""
    best: tuple[str, str, HistoryEntry, Change] | None = None
    for change in changes:
        if change.page_url != publication or change.detected_at > at:
            continue
        for entry in own_notes(change):
            key = (entry.date or "", change.detected_at, entry, change)
            if best is None or key[:2] > best[:2]:
                best = key
    return (best[2], best[3]) if best else None


def previous_snapshot_at(change: Change, changes: Iterable[Change]) -> str | None:
    """When the document's previous snapshot was taken, as far as its recorded changes (``changes``,
    the document's own) tell."""
    earlier = [
        c.detected_at
        for c in changes
        if c.kind in SNAPSHOT_KINDS and not c.backfilled and c.detected_at < change.detected_at
    ]
    return max(earlier, default=None)


def explanation(
    change: Change, publication: Sequence[Change], document: Sequence[Change]
) -> tuple[bool, HistoryEntry | None]:
    """Whether a document's change belongs under its publication, and the entry that explains it.

    ``publication`` and ``document`` are the recorded changes of each page (this run's and earlier
    ones, backfilled history too). The history a publication had before monitoring began is recorded
    with the time of the run that first read it, yet explains nothing that run found: documents first
    seen with their publication are only now being watched.
    """
    same_run = [c for c in publication if c.detected_at == change.detected_at and not c.backfilled]
    if same_run:
        notes = sorted((e for c in same_run for e in own_notes(c)), key=lambda e: e.date or "", reverse=True)
        return True, notes[0] if notes else None
    if change.kind not in EDITS or not publication:
        return False, None
    newest = newest_entry(publication[0].page_url, publication, change.detected_at)
    before = previous_snapshot_at(change, document)
    if newest is None or before is None:
        return False, None
    entry, recorded = newest
    # An entry seen appear after the snapshot is newer whatever its date; backfilled history was
    # published before monitoring began, so only its own date counts.
    seen_after = not recorded.backfilled and recorded.detected_at > before
    newer = bool(entry.date and entry.date > cast(str, london_day(before))) or seen_after
    return (True, entry) if newer else (False, None)


def stories(
    changes: Sequence[Change], pages: Sequence[PageState] = (), *, context: Sequence[Change] = ()
) -> list[Story]:
    """The changes told as stories, newest first.

    ``pages`` give each document its publication (``parent_url``); ``context`` adds recorded changes
    that are not themselves told (earlier runs, backfilled history) but may explain a document's change.
    """
    parent_of = {p.url: p.parent_url for p in pages if p.parent_url}
    titles = {p.url: p.title for p in pages}
    told = [c for c in changes if c.kind != "none" and not c.backfilled]
    seen = {id(c) for c in told}
    by_page: dict[str, list[Change]] = {}
    for change in [*told, *(c for c in context if id(c) not in seen)]:
        by_page.setdefault(change.page_url, []).append(change)
    by_key: dict[tuple[str, str], Story] = {}

    def story_for(url: str, detected_at: str) -> Story:
        story = by_key.get((url, detected_at))
        if story is None:
            story = by_key[(url, detected_at)] = Story(url, titles.get(url, ""), detected_at)
        return story

    for change in told:
        publication = parent_of.get(change.page_url)
        if publication and publication != change.page_url:
            belongs, entry = explanation(change, by_page.get(publication, []), by_page[change.page_url])
            if belongs:
                story = story_for(publication, change.detected_at)
                story.documents.append(DocumentStory(change, entry))
                continue
        story = story_for(change.page_url, change.detected_at)
        story.changes.append(change)
    for story in by_key.values():
        story.title = next((c.title for c in story.changes if c.title), "") or story.title or story.url
        story.changes.sort(key=lambda c: c.id or 0)
        story.documents.sort(key=lambda d: (d.change.detected_at, d.change.id or 0), reverse=True)
        entries = [d.explained_by for d in story.documents if d.explained_by is not None]
        story.explained_by = max(entries, key=lambda e: e.date or "", default=None)
    return sorted(
        by_key.values(),
        key=lambda s: (s.date, s.detected_at, max(s.ids, default=0)),
        reverse=True,
    )


def story_of(change: Change, changes: Sequence[Change], pages: Sequence[PageState] = ()) -> Story | None:
    """The story a recorded change is told in, among all ``changes`` (for its page on the site)."""
    run = [c for c in changes if c.detected_at == change.detected_at]
    for story in stories(run, pages, context=changes):
        if any(c is change or (c.id is not None and c.id == change.id) for c in story.all_changes):
            return story
    return None
