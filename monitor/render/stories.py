"""A publication and its documents told as one story (the rules are :mod:`monitor.story`'s), in words:
the headline note, which documents changed and how much, and where each recorded change is told.

:class:`StoryIndex` answers "where is this change told?" for the changelog a run at a time, from bounded
reads of the store, so a change is told the same whenever its page is rendered again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .. import story as story_rules
from ..model import Change, HistoryEntry, PageState
from ..notes import NoteCheck
from .changesets import summary_counts
from .labels import (
    EXPLAINED_LABEL,
    KIND_LABELS,
    KIND_ORDER,
    PUBLICATION_NOTE,
    SIGNAL_LABELS,
    SILENT_WARNING,
    description,
    plural,
    signal_kinds,
)
from .matters import Matters, matters
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
                and [c.changeset for c in g.edits] == [c.changeset for c in group.edits]
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


def silent_headline(story: story_rules.Story) -> str:
    """What a silent story leads with: the kinds of thing that changed under no note ("Silent change
    to a duty"), else that it changed without a change note."""
    check = story_rules.story_check(story)
    return check.sentence if check.silent else SILENT_WARNING


def headline_line(story: story_rules.Story) -> str:
    """The story's one headline as plain text: the newest change note, or that there was none."""
    entry = story.headline
    if entry is not None:
        return f"{headline_prefix(story)}: {entry.note}"
    if story.silent:
        return f"{silent_headline(story)}. {silent_sentence(story)}"
    sentences = [description(c) for c in story.all_changes if description(c)]
    return sentences[0] if sentences else story_label(story)


@dataclass(frozen=True)
class Lead:
    """What an entry leads with, the same in the email, on the site, in the feeds and the webhook:
    GOV.UK's note (or that there was none), what the note leaves out, and what matters."""

    headline: str
    """GOV.UK's change note in full, or what a story without one leads with."""
    noted: bool
    """Whether ``headline`` is GOV.UK's own note."""
    check: NoteCheck
    left_out: str
    """What the note does not say ("The change note does not mention: Workforce"); "" when it covers
    the change, or when the story has no note (the headline says so then)."""
    matters: Matters


def edits(story: story_rules.Story) -> list[Change]:
    """The story's diffed changes, each told once: the page's own, then its documents' (a document at
    two addresses with the same diff counted once)."""
    own = [c for c in story.changes if c.changeset is not None]
    return own + [c for group in document_groups(story) for c in group.edits]


_LEADS: dict[int, tuple[weakref.ref[story_rules.Story], Lead]] = {}
"""Each living story's lead, by the story's identity: a digest that is rendered again to fit its size
budget, and a changelog that shows one story on several pages, ask for the same lead many times, and
reading a large change's dates and sentences again each time costs far more than the rest of the
rendering. An entry goes when its story does."""


def lead(story: story_rules.Story) -> Lead:
    """The story's lead (see :class:`Lead`), worked out once for each story object."""
    key = id(story)
    held = _LEADS.get(key)
    if held is not None and held[0]() is story:
        return held[1]
    made = _lead(story)
    _LEADS[key] = (weakref.ref(story, lambda _gone: _LEADS.pop(key, None)), made)
    return made


def _lead(story: story_rules.Story) -> Lead:
    check = story_rules.story_check(story)
    entry = story.headline
    if entry is not None:
        headline, noted = entry.note, True
    elif story.silent:
        headline, noted = silent_headline(story), False
    else:
        headline, noted = headline_line(story), False
    left_out = check.sentence if entry is not None else ""
    sections = [s for c in edits(story) if c.changeset for s in c.changeset.sections]
    return Lead(headline, noted, check, left_out, matters(sections))


def lead_lines(story: story_rules.Story) -> list[str]:
    """The lead as plain lines, for the text email, chat and the webhook's JSON."""
    parts = lead(story)
    found = [headline_line(story)]
    if parts.left_out:
        found.append(f"{parts.left_out}.")
    found += list(parts.matters.lines)
    if parts.matters.more:
        found.append(f"and {parts.matters.more} more")
    return found


def story_signals(story: story_rules.Story) -> list[str]:
    """The kinds of signal in the story's changes, once each: its tags."""
    found = {kind for change in edits(story) for kind in signal_kinds(change)}
    return [kind for kind in SIGNAL_LABELS if kind in found]


EVENT_KINDS = frozenset({"moved", "removed", "withdrawn", "reverted", "flapping"})
"""Kinds of change that put the whole update on their kind's page, whichever page of it they befell."""


def story_kinds(story: story_rules.Story) -> list[str]:
    """The kind pages (``kind/<kind>.html``) a story is listed on: its own kind, a move, removal,
    withdrawal or alternation of any page in it, and ``minor`` only when some part is a silent edit, so
    a page that says "Changed without a change note" never lists a change its publication explains."""
    kinds = {story.kind}
    kinds |= {c.kind for c in story.all_changes if c.kind in EVENT_KINDS}
    if story.silent or any(group.silent for group in document_groups(story)):
        kinds.add("minor")
    return [kind for kind in KIND_ORDER if kind in kinds]


def document_line(group: DocumentGroup) -> str:
    """What happened to a document in its publication's update, as one line: whether the
    publication's note explains its change and how much changed, where it moved, or that it is now
    watched ("Changed with its publication: 3 sections changed (120 words added, 40 removed); moved to
    …")."""
    said: list[str] = []
    if group.edits:
        label = EXPLAINED_LABEL if group.explained_by else KIND_LABELS["major"]
        label = SILENT_WARNING if group.silent else label
        counted = how_much(group.edits)
        said.append(f"{label}: {counted}" if counted else label)
    for event in group.events:
        if event.new_url:
            said.append(f"moved to {event.new_url}")
        elif event.kind == "new":
            said.append(KIND_LABELS["new"])
        elif description(event):
            said.append(description(event))
    line = "; ".join(said)
    return line[:1].upper() + line[1:]


def event_lines(story: story_rules.Story) -> list[str]:
    """The page's own events in the story, each a sentence: where it moved, that it was removed."""
    lines: list[str] = []
    headline = headline_line(story)
    for change in story.changes:
        if change.new_url:
            lines.append(f"Moved to {change.new_url}")
        elif change.kind not in ("major", "minor") and description(change) not in ("", headline):
            lines.append(description(change))
    return lines


def newest_news_first(stories: Iterable[story_rules.Story]) -> list[story_rules.Story]:
    """Stories newest first by when GOV.UK published the update (its note's date, else the day it was
    found), each told once; a page only now being watched comes after every real update, so a first
    run of many pages never pushes down what GOV.UK changed."""
    unique = {story_key(s): s for s in stories}
    return sorted(
        unique.values(),
        key=lambda s: (story_label(s) != KIND_LABELS["new"], s.date, s.detected_at, max(s.ids, default=0)),
        reverse=True,
    )


def silent_sentence(story: story_rules.Story) -> str:
    """Why a story is a silent edit, in plain words."""
    if story.documents:
        return "GOV.UK did not say this page or its documents changed."
    return "GOV.UK did not say this page changed."


def how_much(changes: Sequence[Change]) -> str:
    """ "3 sections changed (120 words added, 40 removed)" over these changes ("" when no section did)."""
    counts = [summary_counts(c.changeset) for c in changes if c.changeset is not None]
    sections = sum(n["sections"] for n in counts)
    added = sum(n["words_added"] for n in counts)
    removed = sum(n["words_removed"] for n in counts)
    if not sections:
        return ""
    return f"{plural(sections, 'section')} changed ({plural(added, 'word')} added, {removed} removed)"


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
        return self._place(change.page_url, change.detected_at, change_key(change))

    def story_of(self, change_id: int, url: str, detected_at: str) -> story_rules.Story | None:
        """The story of a monitored change known by its row alone (its id, page and run)."""
        return self._place(url, detected_at, str(change_id)).story

    def _place(self, url: str, detected_at: str, key: str) -> StoryPlace:
        if url in self.links:
            places = self._runs.get(detected_at)
            if places is None:
                places = self._runs[detected_at] = self._linked_run(detected_at)
        else:
            places = self._own.get((url, detected_at))
            if places is None:
                known = self._own_runs.get((url, detected_at))
                run = (
                    [known[i] for i in sorted(known, key=lambda i: i or 0)]
                    if known
                    else self.own_run(url, detected_at)
                )
                places = self._own[(url, detected_at)] = change_stories(run, [], context=run)
        return places.get(key, NO_STORY)

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


def listed_stories(
    changes: Iterable[Change], index: StoryIndex, *, kind: str | None = None
) -> list[story_rules.Story]:
    """The stories these changes are told in, each once, newest news first (see
    :func:`newest_news_first`): what the index, the kind, signal and month pages, the timelines and the
    feeds list. ``kind``: only the stories listed on that kind's page (:func:`story_kinds`)."""
    found = [place.story for change in changes if (place := index.place(change)).story is not None]
    if kind is not None:
        found = [story for story in found if kind in story_kinds(story)]
    return newest_news_first(found)
