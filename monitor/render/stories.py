"""A publication and its documents told as one story (the rules are :mod:`monitor.story`'s), in words:
the headline note, which documents changed and how much, and where each recorded change is told.

:class:`StoryIndex` answers "where is this change told?" for the changelog a run at a time, from bounded
reads of the store, so a change is told the same whenever its page is rendered again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .. import story as story_rules
from ..model import Change, HistoryEntry, PageState
from .changesets import summary_counts
from .labels import KIND_LABELS, PUBLICATION_NOTE, SILENT_WARNING, description, plural
from .records import change_key, of_date


@dataclass
class DocumentGroup:
    """One document's changes in a story, told once even when several of its addresses answered."""

    url: str
    title: str
    parts: list[story_rules.DocumentStory]
    also_at: list[str]

    @property
    def edits(self) -> list[Change]:
        return [d.change for d in self.parts if d.change.changeset is not None]

    @property
    def explained_by(self) -> HistoryEntry | None:
        return next((d.explained_by for d in self.parts if d.explained_by is not None), None)

    @property
    def silent(self) -> bool:
        return any(d.silent for d in self.parts)

    @property
    def events(self) -> list[Change]:
        """Changes that are not edits (first seen, moved, removed): each says itself in a sentence."""
        return [d.change for d in self.parts if d.change.changeset is None]


def document_groups(story: story_rules.Story) -> list[DocumentGroup]:
    """The story's documents, one group per page; a page whose edit is the very same as another's (an
    old address redirecting to the same document) is named beside it rather than told twice, and the
    new address a document moved to is not told again as a page first seen."""
    groups: dict[str, DocumentGroup] = {}
    for part in story.documents:
        url = part.change.page_url
        group = groups.get(url)
        if group is None:
            group = groups[url] = DocumentGroup(url, part.change.title or url, [], [])
        group.parts.append(part)
    moved_to = {c.new_url for g in groups.values() for c in g.events if c.new_url}
    told: list[DocumentGroup] = []
    for group in groups.values():
        if group.url in moved_to and all(d.change.kind == "new" for d in group.parts):
            continue  # first seen at the address another document says it moved to: said there
        same = next(
            (
                g
                for g in told
                if group.edits
                and g.edits
                and [c.changeset.to_dict() for c in g.edits if c.changeset]
                == [c.changeset.to_dict() for c in group.edits if c.changeset]
            ),
            None,
        )
        if same is not None:
            same.also_at.append(group.url)
            continue
        told.append(group)
    return told


def story_key(story: story_rules.Story) -> str:
    """The change the story's page on the changelog is named after: the page's own, else a document's."""
    first = (story.changes or [d.change for d in story.documents])[0]
    return change_key(first)


def story_label(story: story_rules.Story) -> str:
    kind = story.kind
    if kind == "new" and all(c.kind == "new" for c in story.all_changes):
        return KIND_LABELS["new"]
    return KIND_LABELS.get(kind, kind)


def headline_prefix(story: story_rules.Story) -> str:
    """What the headline note is: the page's own change note, or its publication's."""
    if story.headline is None:
        return ""
    own = any(story_rules.own_notes(c) for c in story.changes)
    prefix = "GOV.UK's change note" if own else PUBLICATION_NOTE
    # Several notes at once: each says its own date, as the earlier ones folded under it do.
    entry = story.headline
    return f"{prefix}{of_date(entry.date)}" if len(story.notes) > 1 else prefix


def headline_line(story: story_rules.Story) -> str:
    """The story's one headline as plain text: the newest change note, or that there was none."""
    entry = story.headline
    if entry is not None:
        return f"{headline_prefix(story)}: {entry.note}"
    if story.silent:
        return f"{SILENT_WARNING}. {silent_sentence(story)}"
    sentences = [description(c) for c in story.all_changes if description(c)]
    return sentences[0] if sentences else story_label(story)


def silent_sentence(story: story_rules.Story) -> str:
    """Why a story is a silent edit, in plain words."""
    if story.documents:
        return "GOV.UK did not say this page or its documents changed."
    return "GOV.UK did not say this page changed."


def documents_line(story: story_rules.Story | None) -> str:
    """One line for lists of changes: which of the publication's documents changed, and how much."""
    if story is None:
        return ""
    groups = [g for g in document_groups(story) if g.edits]
    if not groups:
        return ""
    counts = [summary_counts(c.changeset) for g in groups for c in g.edits]
    sections = sum(n["sections"] for n in counts)
    added = sum(n["words_added"] for n in counts)
    removed = sum(n["words_removed"] for n in counts)
    titles = ", ".join(f"“{g.title}”" for g in groups)
    return (
        f"In its {'documents' if len(groups) > 1 else 'document'} {titles}: "
        f"{plural(sections, 'section')} changed ({plural(added, 'word')} added, {removed} removed)"
    )


def earlier_notes(story: story_rules.Story) -> list[HistoryEntry]:
    """The notes of the same run after the headline, newest first: folded under the change."""
    return story.notes[1:]


# --------------------------------------------------------------------------- where each change is told


class StoryPlace(NamedTuple):
    """Where a change is told: the story it is in and, for a document's change told under its
    publication, its part of that story. A change in no story (history from before monitoring began) has
    neither."""

    story: story_rules.Story | None
    part: story_rules.DocumentStory | None


NO_STORY = StoryPlace(None, None)


def change_stories(
    changes: Sequence[Change], pages: Sequence[PageState], *, context: Sequence[Change] | None = None
) -> dict[str, StoryPlace]:
    """Each change's place in the stories ``changes`` make, by ``change_key``. ``context`` is what may
    explain a document's change (default: ``changes`` themselves)."""
    places: dict[str, StoryPlace] = {}
    for story in story_rules.stories(changes, pages, context=changes if context is None else context):
        for change in story.changes:
            places[change_key(change)] = StoryPlace(story, None)
        for part in story.documents:
            places[change_key(part.change)] = StoryPlace(story, part)
    return places


def monitored(change: Change) -> bool:
    """A change that gets a page of its own and is listed and fed: seen by monitoring, not backfilled."""
    return not change.backfilled and change.kind != "none"


class StoryIndex:
    """Where each change is told on the changelog (see :class:`StoryPlace`), worked out one run at a time.

    A story holds one run's changes (one ``detected_at``) of a publication and its documents, and what
    explains a document's change was recorded by then: so a change is told the same whenever it is
    rendered, from a run's changes and the histories of the pages in it, never from all changes at once.
    The records come from the store's bounded reads, passed in as callables so this module does no I/O:

    - ``links``: ``url -> (title, parent_url)`` of the documents and publications (``story_links``);
    - ``run_of(detected_at, urls)``: the run's changes of those pages;
    - ``history_of(url)``: every change of one page;
    - ``own_run(url, detected_at)``: the run's changes of one page that is in no story with another.
    """

    def __init__(
        self,
        links: Mapping[str, tuple[str, str | None]],
        *,
        run_of: Callable[[str, list[str]], Sequence[Change]],
        history_of: Callable[[str], Sequence[Change]],
        own_run: Callable[[str, str], Sequence[Change]],
    ) -> None:
        self.links = dict(links)
        self.pages = [
            PageState(url=url, title=title, parent_url=parent) for url, (title, parent) in links.items()
        ]
        self.run_of = run_of
        self.history_of = history_of
        self.own_run = own_run
        self._runs: dict[str, dict[str, StoryPlace]] = {}
        self._own: dict[tuple[str, str], dict[str, StoryPlace]] = {}
        self._own_runs: dict[tuple[str, str], dict[int | None, Change]] = {}

    def place(self, change: Change) -> StoryPlace:
        """The change's story, as its change page and feed entry tell it."""
        if not monitored(change):
            return NO_STORY
        if change.page_url in self.links:
            places = self._runs.get(change.detected_at)
            if places is None:
                places = self._runs[change.detected_at] = self._linked_run(change.detected_at)
        else:
            key = (change.page_url, change.detected_at)
            places = self._own.get(key)
            if places is None:
                known = self._own_runs.get(key)
                run = [known[i] for i in sorted(known, key=lambda i: i or 0)] if known else self.own_run(*key)
                places = self._own[key] = change_stories(run, [], context=run)
        return places.get(change_key(change), NO_STORY)

    def listed_place(self, change: Change) -> StoryPlace:
        """The same for lists of changes, which show only a document's publication note and a
        publication's documents: a page in no story is not looked up."""
        return self.place(change) if change.page_url in self.links else NO_STORY

    def remember(self, changes: Iterable[Change]) -> None:
        """Take a page's changes already read, so its own runs need no query."""
        for change in changes:
            if change.page_url not in self.links:
                self._own_runs.setdefault((change.page_url, change.detected_at), {})[change.id] = change

    def _linked_run(self, detected_at: str) -> dict[str, StoryPlace]:
        """One run's places for the pages that can share a story, told with the history recorded by then."""
        run = list(self.run_of(detected_at, sorted(self.links)))
        in_run = {c.page_url for c in run}
        involved = in_run | {p for u in in_run if (p := self.links[u][1]) and p in self.links}
        ids = {c.id for c in run}
        history = [
            c
            for url in sorted(involved)
            for c in self.history_of(url)
            if c.id not in ids and c.detected_at <= detected_at
        ]
        return change_stories(run, self.pages, context=[*run, *history])
