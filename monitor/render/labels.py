"""The words guidance-monitor uses for what happened to a page: one vocabulary for the digest, the site,
chat and the ``diff`` command, so a change is called the same thing wherever someone reads about it."""

from __future__ import annotations

from datetime import datetime

from ..changes import with_publication
from ..model import Change, HistoryEntry
from ..plurals import plural as plural

KIND_LABELS = {
    "major": "Updated with a change note",
    "minor": "Changed without a change note",
    "new": "Now being watched",
    "moved": "Moved",
    "removed": "No longer on GOV.UK",
    "withdrawn": "Withdrawn",
    "none": "No change",
    "flapping": "Alternating between two versions",
    "reverted": "Went back to an earlier version",
}
KIND_ORDER = ["major", "minor", "withdrawn", "reverted", "flapping", "moved", "removed", "new"]
FLAPPING_SENTENCE = (
    "GOV.UK keeps serving this page in two versions by turns (often a test of a new design, or two"
    " servers out of step). We say so once, showing how the two differ, and stay quiet until a third"
    " version appears"
)
BACKFILLED_LABEL = "Published before monitoring began"
SILENT_WARNING = "Changed without a change note"
ATTACHMENT_LABELS = {"added": "Added", "removed": "Removed", "renamed": "Renamed", "modified": "Changed"}
FIRST_PUBLISHED = "First published"
"""The label of the backfilled history entry whose note is GOV.UK's own "First published."."""
NO_DATE = "no date given"
"""Said of history printed without a date: GOV.UK or a mirror may be the source, so neither is named."""

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "published": "Published",
    "last_updated": "Last updated",
    "withdrawn": "Withdrawal notice",
    "page_type": "Type of page",
    "organisations": "From",
    "page_count": "Number of pages",
}

SIGNAL_LABELS = {
    "duty": "Duty",
    "date": "Date",
    "amount": "Amount",
    "link": "Link",
    "removed-text": "Text removed",
}
"""The tag of each significance signal (``monitor.signals``) on a change in the digest."""
SIGNAL_MEANINGS = {
    "duty": "what someone must, should or may do changed",
    "date": "a date changed",
    "amount": "an amount changed",
    "link": "a link now leads somewhere else",
    "removed-text": "text was removed and nothing took its place",
}
"""What each signal says happened, for its page on the site."""

SIGNAL_PHRASE_LIMIT = 200
"""Characters of a signal's phrase shown in a tag (a removed paragraph is one phrase)."""


def signal_kinds(change: Change) -> list[str]:
    """The kinds of signal in a change's sections, once each, in ``SIGNAL_LABELS`` order: its tags, and
    the ``signal/<kind>.html`` pages that list it."""
    found = {g.kind for s in (change.changeset.sections if change.changeset else []) for g in s.signals}
    return [k for k in SIGNAL_LABELS if k in found]


def signal_phrase(text: str) -> str:
    """A signal's phrase on one line, cut at a word after ``SIGNAL_PHRASE_LIMIT`` characters."""
    text = " ".join(text.split())
    if len(text) <= SIGNAL_PHRASE_LIMIT:
        return text
    cut = text[: SIGNAL_PHRASE_LIMIT - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[SIGNAL_PHRASE_LIMIT // 2 :] else cut) + "…"


EXPLAINED_LABEL = "Changed with its publication"
"""A document's change that its publication's change note explains: never a silent edit."""


def change_label(change: Change, explained: HistoryEntry | None = None) -> str:
    """The change's kind as people read it; GOV.UK's backfilled "First published." entry says so, and a
    document's change its publication explains (``explained``) says that."""
    if explained is not None and change.kind in ("major", "minor"):
        return EXPLAINED_LABEL
    if change.backfilled and change.note.strip().rstrip(".").casefold() == FIRST_PUBLISHED.casefold():
        return FIRST_PUBLISHED
    return KIND_LABELS.get(change.kind, change.kind)


def description(change: Change) -> str:
    """A plain sentence for events that are not edits (moved, removed, withdrawn, first seen), and for an
    announced edit whose note is on another page (a publication's HTML document)."""
    if with_publication(change):
        return change.note
    if change.kind in ("major", "minor") or (change.kind == "moved" and change.new_url):
        return ""
    if change.kind == "flapping":
        return f"{FLAPPING_SENTENCE}."
    return change.note or KIND_LABELS.get(change.kind, change.kind)


PUBLICATION_NOTE = "GOV.UK's change note on the publication"
DOCUMENT_EXPLAINED = "Changed in this update to the publication"
DOCUMENT_SILENT = (
    "Changed without a change note: neither this document nor the publication it belongs to says so"
)


def month_label(month: str) -> str:
    """ "November 2026" for ``2026-11``: the title of a month's page of changes."""
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")
