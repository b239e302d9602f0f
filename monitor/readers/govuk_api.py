"""The GOV.UK Content API reader: ``https://www.gov.uk/api/content/<path>`` JSON."""

from __future__ import annotations

import json
from typing import Any

from ..model import Attachment, Document, HistoryEntry, ParseError
from . import Reader
from .common import absolute_url, attachment_kind, displayed_size, fold, page_type_for, timestamp_date
from .govuk_html import CHROME, html_attachments, newest_first
from .markup import drop, find_all, fragment, sections, text_of


class GovukContentApi(Reader):
    """GOV.UK Content API JSON (``/api/content/<path>``): the same facts as the page, from the source.

    Title; ``details.first_public_at`` (else ``first_published_at``) as "Published" and
    ``public_updated_at`` as "Last updated" when it falls on a later day; ``details.change_history``;
    sections from the h2/h3 headings of ``details.body`` (and of each of ``details.parts``); attachments
    from ``details.attachments`` (the featured ones on a publication), the older ``details.documents``
    blocks and any embedded in the body; ``links.organisations`` (lead organisations first);
    ``links.parent``; ``withdrawn_notice``. Sizes are rounded as the page displays them, so the HTML and
    the JSON of one page give equal Documents.
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
        if not isinstance(item, dict) or not fold(item.get("title")):
            raise ParseError("Content API answer has no title")
        details = item.get("details") or {}
        links = item.get("links") or {}
        base = absolute_url(item.get("base_path") or "", url) if item.get("base_path") else url
        schema = item.get("schema_name") or ""
        title = fold(item["title"])
        published, last_updated = _dates(item, details, schema)
        found, embedded = _body(details, schema, title, base)
        if not found:
            raise ParseError(f"Content API item {title!r} has no body text (details.body or details.parts)")
        return Document(
            url=url,
            title=title,
            page_type=page_type_for(schema, item.get("document_type") or ""),
            summary=fold(item.get("description")),
            organisations=_organisations(links, details),
            published=published,
            last_updated=last_updated,
            change_history=newest_first(
                [
                    HistoryEntry(timestamp_date(entry.get("public_timestamp")), fold(entry.get("note")))
                    for entry in details.get("change_history") or []
                ]
            ),
            sections=found,
            attachments=_attachments(details, base) + embedded,
            withdrawn=_withdrawn(item.get("withdrawn_notice")),
            parent_url=_parent(links, base),
        )


def _dates(item: dict[str, Any], details: dict[str, Any], schema: str) -> tuple[str | None, str | None]:
    if schema == "html_publication":
        shown = timestamp_date(details.get("public_timestamp") or item.get("public_updated_at"))
        return (shown, None) if details.get("first_published_version") else (None, shown)
    if schema == "guide":
        # Guides show no "Published" date; their first_published_at is a migration date, often the later one.
        return None, timestamp_date(item.get("public_updated_at"))
    published = timestamp_date(details.get("first_public_at") or item.get("first_published_at"))
    updated = timestamp_date(item.get("public_updated_at"))
    return published, (updated if updated and updated != published else None)


def _organisations(links: dict[str, Any], details: dict[str, Any]) -> list[str]:
    organisations = links.get("organisations") or []
    lead = details.get("emphasised_organisations") or []
    ordered = sorted(
        organisations,
        key=lambda org: lead.index(org.get("content_id")) if org.get("content_id") in lead else len(lead),
    )
    return [fold(org.get("title")) for org in ordered if fold(org.get("title"))]


def _parent(links: dict[str, Any], base: str) -> str | None:
    parents = links.get("parent") or []
    if not parents:
        return None
    parent = parents[0]
    if parent.get("web_url"):
        return parent["web_url"]
    return absolute_url(parent["base_path"], base) if parent.get("base_path") else None


def _withdrawn(notice: dict[str, Any] | None) -> str | None:
    if not notice or not notice.get("explanation"):
        return None
    return fold(text_of(fragment(notice["explanation"]))) or None


def _html(value: Any) -> str:
    """A body that may be HTML or a list of ``{content_type, content}`` renderings."""
    if isinstance(value, list):
        for rendering in value:
            if rendering.get("content_type") == "text/html":
                return rendering.get("content") or ""
        return ""
    return value or ""


def _body(details: dict[str, Any], schema: str, title: str, base: str):
    """Sections of the body (or the guide's parts) and the attachments embedded in it."""
    if details.get("parts"):
        html = "".join(
            f"<h1>{_escape(part.get('title', ''))}</h1>{_html(part.get('body'))}" for part in details["parts"]
        )
    else:
        html = _html(details.get("body"))
        if schema == "publication":
            html = "<h2>Details</h2>" + html
    root = fragment(html)
    embedded = html_attachments(root, base)
    for element in find_all(root, *CHROME):
        drop(element)
    return sections(root, title), embedded


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attachments(details: dict[str, Any], base: str) -> list[Attachment]:
    documents = details.get("documents") or []
    if documents:
        return [attachment for block in documents for attachment in html_attachments(fragment(block), base)]
    attachments = details.get("attachments") or []
    featured = details.get("featured_attachments")
    if featured:
        by_id = {attachment.get("id"): attachment for attachment in attachments}
        attachments = [by_id[key] for key in featured if key in by_id]
    return [_structured(attachment, base) for attachment in attachments if attachment.get("url")]


def _structured(attachment: dict[str, Any], base: str) -> Attachment:
    url = absolute_url(attachment["url"], base)
    kind = attachment.get("attachment_type") or ""
    if kind not in ("html", "external"):
        kind = attachment_kind(url, content_type=attachment.get("content_type") or "")
    return Attachment(
        title=fold(attachment.get("title")),
        url=url,
        kind=kind,
        size=displayed_size(attachment.get("file_size")),
    )
