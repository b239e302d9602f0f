"""The GOV.UK Content API reader: ``https://www.gov.uk/api/content/<path>`` JSON."""

from __future__ import annotations

import json
from typing import Any

from ..model import Attachment, Document, HistoryEntry, ParseError, Section
from . import Reader
from .common import absolute_url, attachment_kind, displayed_size, fold, page_type_for, timestamp_date
from .govuk_attachments import ATTACHMENT_BLOCKS, html_attachments, in_body
from .govuk_formats import FORMATS, NAVIGATION, UNKNOWN, Format, collection_groups
from .govuk_history import newest_first
from .govuk_html import CHROME
from .markup import drop, find_all, fragment, hold, sections, text_of


class GovukContentApi(Reader):
    """GOV.UK Content API JSON (``/api/content/<path>``): the same Document as the page, for every format
    GOV.UK shows as a page of its own: guidance, publications, guides, HTML publications, statistics and
    their announcements (release date, status, cancellation), collections (each group a section, its
    documents the attachments), consultations and calls for evidence (status, dates, outcome, feedback
    and documents), travel advice, news, speeches, case studies, transactions. Navigation pages
    (finders, browse pages, indexes) are refused by name.

    Title; ``details.first_public_at`` (else ``first_published_at``) as "Published" and
    ``public_updated_at`` as "Last updated" when it falls on a later day; ``details.change_history``
    (newest first, by time within a day); sections from the h2/h3 headings of the body, laid out as each
    format's page lays it out: ``details.body``, a guide's or travel advice's ``parts``, a collection's
    groups (each group a section, its documents the attachments), a consultation's or call for
    evidence's outcome, feedback and description, a transaction's fields; attachments from
    ``details.attachments`` (the featured ones on a publication; outcome, feedback and featured on a
    consultation), the older ``details.documents`` blocks and any embedded in the body; a statistics
    release's date, its status and a cancellation, a consultation's status and dates; travel advice's
    "Latest update" as its newest change note; ``links.organisations`` (lead organisations first) and
    ``links.people`` apart; ``links.parent``; ``withdrawn_notice``. Sizes are rounded as the page
    displays them, so the HTML and the JSON of one page give equal Documents. Navigation pages (finders,
    browse pages, indexes) are refused by name.
    """

    __kind__ = "govuk-content-api"
    priority = 20

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        head = body[:64].lstrip()
        if not head.startswith(b"{"):
            return False
        return b'"base_path"' in body or b'"schema_name"' in body or b'"document_type"' in body

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        try:
            item = json.loads(body)
        except ValueError as exc:
            raise ParseError(f"Content API answer is not valid JSON: {exc}") from None
        if isinstance(item, dict) and item.get("schema_name") in NAVIGATION:
            raise ParseError(
                f"Content API item {fold(item.get('title')) or item.get('base_path')!r} is a navigation page "
                f"({item['schema_name']}): it lists other pages and has no document of its own; watch the "
                "pages it lists"
            )
        if not isinstance(item, dict) or not fold(item.get("title")):
            raise ParseError("Content API answer has no title")
        details = item.get("details") or {}
        links = item.get("links") or {}
        base = absolute_url(item.get("base_path") or "", url) if item.get("base_path") else url
        schema = item.get("schema_name") or ""
        title = fold(item["title"])
        shape = FORMATS.get(schema, UNKNOWN)
        published, last_updated = shape.dates(item) if shape.dates else _dates(item, details, schema)
        found, embedded = _body(shape, item, title, base)
        if not found and not (shape.empty_ok and schema):
            raise ParseError(f"Content API item {title!r} has no body text (details.body or details.parts)")
        history = _history(details)
        if shape.latest_update and (note := shape.latest_update(item)):
            history = [HistoryEntry(last_updated, note)]
        return Document(
            url=url,
            title=title,
            page_type=page_type_for(schema, item.get("document_type") or ""),
            summary=fold(item.get("description")),
            organisations=_organisations(links, details),
            published=published,
            last_updated=last_updated,
            change_history=history,
            sections=found,
            attachments=_attachments(shape, item, base) + embedded,
            withdrawn=_withdrawn(item.get("withdrawn_notice")),
            parent_url=_parent(links, base),
            people=_people(links),
            metadata=shape.metadata(item),
        )


def _dates(item: dict[str, Any], details: dict[str, Any], schema: str) -> tuple[str | None, str | None]:
    if schema == "html_publication":
        shown = timestamp_date(details.get("public_timestamp") or item.get("public_updated_at"))
        return (shown, None) if details.get("first_published_version") else (None, shown)
    if schema == "guide":
        # Guides show no "Published" date; their first_published_at is a migration date, often the later one.
        return None, timestamp_date(item.get("public_updated_at"))
    published = timestamp_date(details.get("first_public_at") or item.get("first_published_at"))
    if not published:
        # The frontend shows "Last updated" only against a first publication it can compare it with.
        return None, None
    updated = timestamp_date(item.get("public_updated_at"))
    return published, (updated if updated and updated != published else None)


def _history(details: dict[str, Any]) -> list[HistoryEntry]:
    """Newest first as the page lists them: by time, so two updates on one day keep their true order."""
    entries = [entry for entry in details.get("change_history") or [] if isinstance(entry, dict)]
    entries.sort(key=lambda entry: str(entry.get("public_timestamp") or ""), reverse=True)
    return newest_first(
        [
            HistoryEntry(timestamp_date(entry.get("public_timestamp")), fold(entry.get("note")))
            for entry in entries
        ]
    )


def _organisations(links: dict[str, Any], details: dict[str, Any]) -> list[str]:
    organisations = links.get("organisations") or []
    lead = details.get("emphasised_organisations") or []
    ordered = sorted(
        organisations,
        key=lambda org: lead.index(org.get("content_id")) if org.get("content_id") in lead else len(lead),
    )
    return [fold(org.get("title")) for org in ordered if fold(org.get("title"))]


def _people(links: dict[str, Any]) -> list[str]:
    """Ministers and officials the page names under "From:" beside its organisations."""
    names = [fold(person.get("title")) for person in links.get("people") or []]
    return [name for name in dict.fromkeys(names) if name]


def _parent(links: dict[str, Any], base: str) -> str | None:
    parents = links.get("parent") or []
    if not parents:
        return None
    parent = parents[0]
    if parent.get("web_url"):
        web_url: str = parent["web_url"]
        return web_url
    return absolute_url(parent["base_path"], base) if parent.get("base_path") else None


def _withdrawn(notice: dict[str, Any] | None) -> str | None:
    if not notice or not notice.get("explanation"):
        return None
    return fold(text_of(fragment(notice["explanation"]))) or None


def _body(
    shape: Format, item: dict[str, Any], title: str, base: str
) -> tuple[list[Section], list[Attachment]]:
    """Sections of the page's body as its format lays it out, and the attachments embedded in it."""
    root = fragment(shape.body(item))
    embedded = html_attachments(root, base)
    for element in in_body(find_all(root, *ATTACHMENT_BLOCKS), root):
        hold(element)
    for element in find_all(root, *CHROME):
        drop(element)
    return sections(root, title), embedded


def _attachments(shape: Format, item: dict[str, Any], base: str) -> list[Attachment]:
    details = item.get("details") or {}
    listed = [
        Attachment(fold(doc.get("title")), absolute_url(doc["base_path"], base), "html")
        for _, docs in collection_groups(item)
        for doc in docs
        if doc.get("base_path")
    ]
    attachments = [a for a in details.get("attachments") or [] if isinstance(a, dict)]
    by_id = {attachment.get("id"): attachment for attachment in attachments}
    if not shape.attachment_sets:
        if details.get("documents"):
            return listed + _blocks(details["documents"], base)
        if details.get("featured_attachments"):
            attachments = [by_id[key] for key in details["featured_attachments"] if key in by_id]
        return listed + [_structured(a, base) for a in attachments if a.get("url")]
    for ids, blocks in shape.attachment_sets:
        if details.get(ids):
            chosen = [by_id[key] for key in details[ids] if key in by_id]
            listed += [_structured(a, base) for a in chosen if a.get("url")]
        elif details.get(blocks):
            listed += _blocks(details[blocks], base)
    return listed


def _blocks(blocks: list[str], base: str) -> list[Attachment]:
    """Attachments from the HTML blocks older items hold them in."""
    return [attachment for block in blocks for attachment in html_attachments(fragment(block), base)]


def _structured(attachment: dict[str, Any], base: str) -> Attachment:
    url = absolute_url(attachment["url"], base)
    kind = attachment.get("attachment_type") or ""
    if kind not in ("html", "external"):
        kind = attachment_kind(url, content_type=attachment.get("content_type") or "")
    pages = attachment.get("number_of_pages")
    return Attachment(
        title=fold(attachment.get("title")),
        url=url,
        kind=kind,
        size=displayed_size(attachment.get("file_size")),
        page_count=pages if isinstance(pages, int) and pages > 0 else None,
    )
