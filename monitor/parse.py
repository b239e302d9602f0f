"""The parse stage: page bytes in, one :class:`~monitor.model.Document` out. Pure: no I/O.

The work is done by the readers in :mod:`monitor.readers`; this module picks the reader for a body.
"""

from __future__ import annotations

from .model import Document, ParseError

__all__ = ["ParseError", "describe", "parse", "to_json", "to_text"]


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
    if selector and REGISTRY["selector"].detects(body, url, content_type):
        return REGISTRY["selector"]().read(body, url, content_type, selector=selector)
    for reader in REGISTRY.values():
        if reader.detects(body, url, content_type):
            return reader().read(body, url, content_type, selector=selector)
    raise ParseError("no reader recognises this content (not GOV.UK HTML, Content API JSON, text or PDF)")


def describe() -> list[tuple[str, str]]:
    """Every reader's kind and first docstring paragraph, in the order they are tried."""
    from .readers import describe

    return describe()


def to_text(doc: Document) -> str:
    """The Document as plain text, for ``guidance-monitor parse --format text``."""
    lines = [doc.title, "=" * len(doc.title), f"URL: {doc.url}"]
    for label, value in (
        ("Type", doc.page_type),
        ("From", ", ".join(doc.organisations)),
        ("Published", doc.published),
        ("Last updated", doc.last_updated),
        ("Part of", doc.parent_url),
        ("Pages", doc.page_count),
        ("Withdrawn", doc.withdrawn),
        ("Summary", doc.summary),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if doc.change_history:
        lines += ["", f"Updates ({len(doc.change_history)}):"]
        lines += [f"  {entry.date or '(no date)'}  {entry.note}" for entry in doc.change_history]
    if doc.attachments:
        lines += ["", f"Documents ({len(doc.attachments)}):"]
        for attachment in doc.attachments:
            facts = ", ".join(str(fact) for fact in (attachment.kind, _size(attachment.size)) if fact)
            lines.append(f"  {attachment.title} ({facts})" if facts else f"  {attachment.title}")
            lines.append(f"    {attachment.url}")
    for section in doc.sections:
        lines += ["", "#" * section.level + " " + section.heading, section.text]
    lines += ["", f"Content hash: {doc.content_hash}"]
    return "\n".join(lines) + "\n"


def _size(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.3g}{unit}"
        size /= 1024
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
)
ATTACHMENT_KEYS = ("title", "url", "kind", "size")


def to_json(doc: Document) -> dict:
    """The Document as ``guidance-monitor parse --format json`` prints it, keys in the documented order."""
    data = doc.to_dict()
    data["attachments"] = [{key: item[key] for key in ATTACHMENT_KEYS} for item in data["attachments"]]
    return {key: data[key] for key in JSON_KEYS}
