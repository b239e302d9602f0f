"""The parse stage: page bytes in, one :class:`~monitor.model.Document` out. Pure: no I/O.

The work is done by the readers in :mod:`monitor.readers`; this module picks the reader for a body.
"""

from __future__ import annotations

from typing import Any

from .model import Document, ParseError
from .plurals import plural

__all__ = ["GOVUK", "ParseError", "describe", "parse", "reader_for", "stated_url", "to_json", "to_text"]

GOVUK = "https://www.gov.uk/"
"""Where a saved GOV.UK page's root-relative links ("/government/...") point when nothing else says."""


def parse(body: bytes, url: str, content_type: str = "", *, selector: str | None = None) -> Document:
    """The Document in ``body``, read by the first reader that recognises it.

    With a ``selector`` (a page outside GOV.UK, ``pages[].selector``), HTML is read by the selector
    reader. Raises :class:`ParseError` saying what was missing when no reader finds a document: an error
    page or an unknown layout must never read as a page whose content was all deleted.
    """
    from .readers import REGISTRY  # the readers and lxml load on the first parse, not with the pipeline

    if isinstance(body, str):
        body = body.encode("utf-8")
    if not body.strip():
        raise ParseError("the page is empty")
    kind = reader_for(body, url, content_type, selector=selector)
    if kind is None:
        raise ParseError("no reader recognises this content (not GOV.UK HTML, Content API JSON, text or PDF)")
    return REGISTRY[kind]().read(body, url, content_type, selector=selector)


def reader_for(body: bytes, url: str, content_type: str = "", *, selector: str | None = None) -> str | None:
    """The ``__kind__`` of the reader :func:`parse` gives ``body`` to, or None: lets a caller say what
    is missing (a selector for a page outside GOV.UK) in its own words before reading."""
    from .readers import REGISTRY

    if selector and REGISTRY["selector"].detects(body, url, content_type):
        return "selector"
    return next((kind for kind, reader in REGISTRY.items() if reader.detects(body, url, content_type)), None)


def stated_url(body: bytes) -> str | None:
    """The address a saved page gives for itself, so its relative links resolve where it was served from.

    HTML: ``<link rel="canonical">``, else ``<meta property="og:url">`` (absolute http(s) only); Content
    API JSON: its ``base_path`` on www.gov.uk. None when the page names no address.
    """
    import json
    from urllib.parse import urljoin, urlsplit

    head = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        try:
            item = json.loads(body)
        except ValueError:
            return None
        base_path = item.get("base_path") if isinstance(item, dict) else None
        return urljoin(GOVUK, base_path) if isinstance(base_path, str) and base_path.startswith("/") else None
    if not head.startswith(b"<"):
        return None
    from .readers.markup import parse_html

    try:
        root = parse_html(body)
    except ValueError:
        return None
    found = [
        link.get("href")
        for link in root.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ] + [meta.get("content") for meta in root.iter("meta") if meta.get("property") == "og:url"]
    for address in (a.strip() for a in found if a):
        if urlsplit(address).scheme in ("http", "https") and urlsplit(address).netloc:
            stated: str = address
            return stated
    return None


def describe() -> list[tuple[str, str]]:
    """Every reader's kind and first docstring paragraph, in the order they are tried."""
    from .readers import describe

    return describe()


def to_text(doc: Document) -> str:
    """The Document as plain text, for ``guidance-monitor parse --format text``."""
    lines = [doc.title, "=" * len(doc.title), f"URL: {doc.url}"]
    for label, value in (
        ("Type", doc.page_type),
        ("From", ", ".join(doc.organisations + doc.people)),
        ("Published", doc.published),
        ("Last updated", doc.last_updated),
        ("Part of", doc.parent_url),
        ("Pages", doc.page_count),
        ("Withdrawn", doc.withdrawn),
        ("Summary", doc.summary),
    ):
        if value:
            lines.append(f"{label}: {value}")
    for name, value in doc.metadata.items():
        lines.append(f"{name.replace('_', ' ').capitalize()}: {value}")
    if doc.change_history:
        lines += ["", f"Updates ({len(doc.change_history)}):"]
        lines += [f"  {entry.date or '(no date)'}  {entry.note}" for entry in doc.change_history]
    if doc.attachments:
        lines += ["", f"Documents ({len(doc.attachments)}):"]
        for attachment in doc.attachments:
            shown = (attachment.kind, _size(attachment.size), _pages(attachment.page_count))
            facts = ", ".join(fact for fact in shown if fact)
            lines.append(f"  {attachment.title} ({facts})" if facts else f"  {attachment.title}")
            lines.append(f"    {attachment.url}")
    for section in doc.sections:
        lines += ["", "#" * section.level + " " + section.heading, section.text]
    lines += ["", f"Content hash: {doc.content_hash}"]
    return "\n".join(lines) + "\n"


def _pages(count: int | None) -> str:
    return "" if count is None else plural(count, "page")


def _size(size: int | None) -> str:
    if size is None:
        return ""
    value: float = size
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{value:.3g}{unit}"
        value /= 1024
    return ""


JSON_KEYS = (
    "title",
    "url",
    "page_type",
    "organisations",
    "published",
    "last_updated",
    "change_history",
    "sections",
    "attachments",
    "content_hash",
    "summary",
    "withdrawn",
    "parent_url",
    "page_count",
    "people",
    "metadata",
)
ATTACHMENT_KEYS = ("title", "url", "kind", "size", "page_count")


def to_json(doc: Document) -> dict[str, Any]:
    """The Document as ``guidance-monitor parse --format json`` prints it, keys in the documented order."""
    data = doc.to_dict()
    data["attachments"] = [{key: item[key] for key in ATTACHMENT_KEYS} for item in data["attachments"]]
    return {key: data[key] for key in JSON_KEYS}
