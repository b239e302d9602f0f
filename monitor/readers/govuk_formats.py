"""GOV.UK's page formats as the Content API gives them: one row per schema, saying how its page is laid out.

The Content API holds a page's parts in named fields (``details.body``, a consultation's outcome, a
collection's groups, a transaction's "More information"); the page shows them in an order and under
headings the frontend fixes. Each row puts the fields back in the page's order under the page's headings,
so the JSON and the HTML of one page read as equal Documents. A new format is a new row, never an ``if``
in the reader. Navigation pages (finders, browse pages, indexes) list other pages and have no document of
their own: they are refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .common import fold, timestamp_date
from .markup import HELD

Item = dict[str, Any]

NAVIGATION = frozenset(
    """completed_transaction coronavirus_landing_page email_alert_signup embassies_index field_of_operation
    fields_of_operation finder finder_email_signup get_involved gone hmrc_manual homepage how_government_works
    landing_page
    mainstream_browse_page ministers_index organisation organisations_homepage plan_for_change_landing_page
    redirect search service_manual_homepage service_manual_service_toolkit service_manual_topic
    special_route step_by_step_nav taxon topic topical_event travel_advice_index vanish world_index
    worldwide_office""".split()
)
"""Schemas whose pages list other pages (or are not pages at all): watch the pages they list instead."""


def _details(item: Item) -> Item:
    return item.get("details") or {}


def _html(value: Any) -> str:
    """A body that may be HTML or a list of ``{content_type, content}`` renderings."""
    if isinstance(value, list):
        for rendering in value:
            if isinstance(rendering, dict) and rendering.get("content_type") == "text/html":
                return rendering.get("content") or ""
        return ""
    return value if isinstance(value, str) else ""


def _heading(level: int, text: str) -> str:
    """A heading the page puts around a field (marked, so it is not taken for one of the field's own)."""
    return f"<h{level} {LAYOUT}>{escape(text)}</h{level}>"


LAYOUT = "data-layout-heading"


def body(item: Item) -> str:
    """``details.body``: most formats."""
    return _html(_details(item).get("body"))


def publication_body(item: Item) -> str:
    """A publication's body sits under the page's "Details" heading."""
    return _heading(2, "Details") + body(item)


def parts_body(item: Item) -> str:
    """Guides and travel advice: every part, each under its title."""
    return "".join(
        _heading(1, part.get("title", "")) + _html(part.get("body"))
        for part in _details(item).get("parts") or []
    )


def fields_body(*names: tuple[str, str]) -> Callable[[Item], str]:
    """A page made of named fields, each under the heading the page gives it ("" for none)."""

    def read(item: Item) -> str:
        details = _details(item)
        return "".join(
            (_heading(2, heading) if heading else "") + _html(details[name])
            for name, heading in names
            if fold(_html(details.get(name)))
        )

    return read


def collection_groups(item: Item) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each group of a document collection with the documents the page lists in it: those the item links
    (``links.documents``) and that are not withdrawn; a group left with none is not shown."""
    linked = {doc.get("content_id"): doc for doc in (item.get("links") or {}).get("documents") or []}
    shown = []
    for group in _details(item).get("collection_groups") or []:
        documents = [linked[key] for key in group.get("documents") or [] if key in linked]
        documents = [doc for doc in documents if not doc.get("withdrawn")]
        if documents:
            shown.append((group, documents))
    return shown


def collection_body(item: Item) -> str:
    """A document collection: its body, then each group as an h3 with its text; the group's documents
    are the Document's attachments, and mark the group as holding something."""
    html = body(item)
    for group, _ in collection_groups(item):
        html += _heading(3, fold(group.get("title"))) + _html(group.get("body")) + f"<p>{HELD}</p>"
    return html


def _phased_body(name: str, label: str, outcome_detail: str) -> Callable[[Item], str]:
    """A consultation or a call for evidence, in the page's order: the outcome and its detail (the
    ``outcome_detail`` field), the feedback received and its detail, then the original description (the
    body)."""

    def read(item: Item) -> str:
        details = _details(item)
        html = ""
        if item.get("document_type") == f"{name}_outcome":
            html += _heading(2, "Detail of outcome") + _html(details.get(outcome_detail))
        if fold(_html(details.get("public_feedback_detail"))):
            html += _heading(2, "Detail of feedback received") + _html(details["public_feedback_detail"])
        return html + _heading(2, f"{label} description") + body(item)

    return read


PHASED_ATTACHMENTS = (
    ("final_outcome_attachments", "final_outcome_documents"),
    ("public_feedback_attachments", "public_feedback_documents"),
    ("featured_attachments", "documents"),
)
"""A consultation's attachment sets in the order its page lists them (outcome, feedback, documents): each
the ids of its ``details.attachments``, or in older items blocks of HTML."""
CALL_FOR_EVIDENCE_ATTACHMENTS = (
    ("outcome_attachments", "outcome_documents"),
    ("featured_attachments", "documents"),
)
"""A call for evidence's attachment sets in page order: its outcome (its own field names, no ``final_``)
and its documents; it takes no feedback."""


def phase(item: Item, name: str) -> str:
    """Where a consultation or a call for evidence stands, from its document type as the frontend reads it."""
    document_type = item.get("document_type") or ""
    return {
        name: "not yet open",
        f"open_{name}": "open",
        f"closed_{name}": "closed",
        f"{name}_outcome": "outcome published",
    }.get(document_type, "")


def _phased_metadata(name: str) -> Callable[[Item], dict[str, str]]:
    """State, and the dates the page shows: a closed one "ran from" its opening to its closing date, an
    open one "closes at", one not yet open "opens" and "closes"."""

    def read(item: Item) -> dict[str, str]:
        details = _details(item)
        state = phase(item, name)
        facts = {f"{name}_status": state} if state else {}
        opening, closing = (
            timestamp_date(details.get("opening_date")),
            timestamp_date(details.get("closing_date")),
        )
        if opening and state != "open":
            facts["opening_date"] = opening
        if closing:
            facts["closing_date"] = closing
        return facts

    return read


def specialist_document_dates(item: Item) -> tuple[str | None, str | None]:
    """A specialist document shows "Updated" whenever its change history holds more than one entry
    (GOV.UK's frontend decides so for this format, whose ``public_updated_at`` can differ from its
    first publication by a fraction of a second), even on the day it was first published."""
    details = _details(item)
    history = [entry for entry in details.get("change_history") or [] if isinstance(entry, dict)]
    published = timestamp_date(details.get("first_public_at") or item.get("first_published_at"))
    return published, timestamp_date(item.get("public_updated_at")) if len(history) > 1 else None


def statistics_announcement_metadata(item: Item) -> dict[str, str]:
    """The release date as the page prints it, its status, the date it replaced, a cancellation."""
    details = _details(item)
    facts = {
        "release_date": fold(details.get("display_date")),
        "release_date_status": fold(details.get("state")),
    }
    if details.get("previous_display_date"):
        facts["previous_release_date"] = fold(details["previous_display_date"])
    if facts["release_date_status"] == "cancelled":
        facts["cancellation_date"] = timestamp_date(details.get("cancelled_at")) or ""
        facts["cancellation_reason"] = fold(details.get("cancellation_reason"))
    return {key: value for key, value in facts.items() if value}


def release_date_change_reason(item: Item) -> str:
    """The reason given for a new release date: the announcement's one change note (the page prints no
    date beside it)."""
    details = _details(item)
    return fold(details.get("latest_change_note")) if details.get("previous_display_date") else ""


def travel_advice_dates(item: Item) -> tuple[str | None, str | None]:
    """Travel advice shows no "Published" date, only "Updated" (its review date, else its update)."""
    details = _details(item)
    return None, timestamp_date(
        details.get("reviewed_at") or details.get("updated_at") or item.get("public_updated_at")
    )


def travel_advice_latest_update(item: Item) -> str:
    """The "Latest update" summary, GOV.UK's change note for travel advice, without the "Latest update:"
    editors often typed into it (the frontend strips it the same way)."""
    return latest_update_note(_details(item).get("change_description") or "")


def latest_update_note(text: str) -> str:
    """A "Latest update" note without the label editors typed into it, capitalised as the page shows it.

    >>> latest_update_note("Latest update: info about the cold.")
    'Info about the cold.'
    """
    note = fold(text)
    lowered = note.lower()
    if lowered.startswith("latest update"):
        note = note[len("latest update") :].lstrip(":").strip().lstrip("-").strip()
    return note[:1].upper() + note[1:]


@dataclass(frozen=True)
class Format:
    """How one schema's page is laid out. ``empty_ok``: a page of this format may show no body text at all
    (a statistics release announced ahead, a guide with no parts), so its absence is not a failed read."""

    body: Callable[[Item], str] = body
    metadata: Callable[[Item], dict[str, str]] = field(default=lambda item: {})
    attachment_sets: tuple[tuple[str, str], ...] = ()
    """(ids, HTML blocks) fields of each attachment set, in page order; none: every attachment, or the
    featured ones where the item names some, or the older ``details.documents`` blocks."""
    empty_ok: bool = True
    dates: Callable[[Item], tuple[str | None, str | None]] | None = None
    """The "Published" and "Last updated" dates where the format shows others than the usual ones."""
    latest_update: Callable[[Item], str] | None = None
    """The format's one change note, where it keeps no change history (travel advice's "Latest update")."""


FORMATS: dict[str, Format] = {
    "publication": Format(publication_body, empty_ok=False),
    "guide": Format(parts_body),
    "travel_advice": Format(parts_body, dates=travel_advice_dates, latest_update=travel_advice_latest_update),
    "document_collection": Format(collection_body),
    "consultation": Format(
        _phased_body("consultation", "Consultation", "final_outcome_detail"),
        _phased_metadata("consultation"),
        PHASED_ATTACHMENTS,
    ),
    "call_for_evidence": Format(
        _phased_body("call_for_evidence", "Call for evidence", "outcome_detail"),
        _phased_metadata("call_for_evidence"),
        CALL_FOR_EVIDENCE_ATTACHMENTS,
    ),
    "statistics_announcement": Format(
        metadata=statistics_announcement_metadata, latest_update=release_date_change_reason
    ),
    "transaction": Format(
        fields_body(
            ("introductory_paragraph", ""),
            ("more_information", "Before you start"),
            ("what_you_need_to_know", "What you need to know"),
            ("other_ways_to_apply", "Other ways to apply"),
        )
    ),
    "local_transaction": Format(
        fields_body(("introduction", ""), ("more_information", "More information"), ("need_to_know", ""))
    ),
    "place": Format(fields_body(("introduction", ""), ("more_information", "More information"))),
    "licence": Format(fields_body(("licence_overview", ""))),
    "working_group": Format(),
    "role": Format(),
    "news_article": Format(),
    "speech": Format(),
    "case_study": Format(),
    "fatality_notice": Format(),
    "take_part": Format(),
    "history": Format(),
    "help_page": Format(),
    "answer": Format(),
    "simple_smart_answer": Format(),
    "manual": Format(),
    "manual_section": Format(),
    "service_manual_guide": Format(),
    "service_manual_service_standard": Format(),
    "corporate_information_page": Format(),
    "worldwide_corporate_information_page": Format(),
    "worldwide_organisation": Format(),
    "topical_event_about_page": Format(),
    "detailed_guide": Format(),
    "html_publication": Format(),
    "specialist_document": Format(dates=specialist_document_dates),
    "statistical_data_set": Format(),
}
"""Every schema GOV.UK renders as a page with content of its own."""

UNKNOWN = Format(empty_ok=False)
"""A schema not listed: read its ``details.body``, and refuse it when that is empty."""
