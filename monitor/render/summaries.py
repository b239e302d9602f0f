"""Changes and stories in the JSON form that webhooks and chat send: what, where, when and how much, with
each publication's documents under it, so a receiving program needs no HTML to read them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import story as story_rules
from ..model import Change, PageState
from .changesets import summary_counts
from .records import change_link
from .stories import document_groups, document_line, headline_line, lead, newest_news_first, story_key


def change_summary(change: Change, *, site_url: str = "") -> dict[str, Any]:
    """The JSON form of a change used by webhooks: what, where, when, and a summary of the changeset."""
    changeset = change.changeset
    return {
        "id": change.id,
        "page_url": change.page_url,
        "title": change.title,
        "kind": change.kind,
        "note": change.note,
        "effective_date": change.effective_date,
        "detected_at": change.detected_at,
        "site_link": change_link(change, site_url) or None,
        "new_url": change.new_url,
        "changeset": None
        if changeset is None
        else {
            **summary_counts(changeset),
            "change_notes": [h.note for h in changeset.history_added],
            "sections_changed": [{"heading": s.heading, "status": s.status} for s in changeset.sections],
            "attachments_changed": [
                {"title": a.title, "status": a.status, "old_title": a.old_title}
                for a in changeset.attachments
            ],
        },
    }


def story_summaries(
    changes: Sequence[Change],
    pages: Sequence[PageState],
    *,
    site_url: str = "",
    context: Sequence[Change] = (),
) -> list[dict[str, Any]]:
    """The changes told as stories, newest news first, in JSON form for webhooks and chat: each
    publication with its headline, GOV.UK's note held against the text (``note_check``), what matters
    and its documents' changes under it (see :mod:`monitor.story`)."""
    stories = story_rules.stories([c for c in changes if not c.backfilled], pages, context=context)
    return [story_summary(story, site_url=site_url) for story in newest_news_first(stories)]


def story_summary(story: story_rules.Story, *, site_url: str = "") -> dict[str, Any]:
    """One update in JSON form: the fields :func:`story_summaries` lists."""
    parts = lead(story)
    return {
        "page_url": story.url,
        "title": story.title,
        "date": story.date,
        "kind": story.kind,
        "headline": headline_line(story),
        "note": story.headline.note if story.headline else None,
        "note_check": parts.check.to_dict(),
        "matters": list(parts.matters.lines),
        "more_matters": parts.matters.more,
        "silent": story.silent,
        "change_ids": [c.id for c in story.changes],
        "all_change_ids": story.ids,
        "site_link": f"{site_url.rstrip('/')}/changes/{story_key(story)}.html" if site_url else None,
        "documents": [
            {
                "page_url": group.url,
                "title": group.title,
                "change_ids": [d.change.id for d in group.parts],
                "explained_by": group.explained_by.note if group.explained_by else None,
                "silent": group.silent,
                "also_at": group.also_at,
                "what_happened": document_line(group),
            }
            for group in document_groups(story)
        ],
    }
