"""A GOV.UK page's attachments and notices: the documents a publication lists, and a withdrawal.

Attachment blocks are read where they stand in the page's body (older Whitehall markup and the current
component alike), each with its heading, file type, size and page count as GOV.UK shows them.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from lxml import etree

from ..govuk import is_govuk_host
from ..model import Attachment
from .common import (
    absolute_url,
    attachment_kind,
    fold,
    page_count,
    size_bytes,
)
from .govuk_formats import LAYOUT
from .markup import (
    ClassIndex,
    block_text,
    find,
    find_all,
    first,
    text_of,
)

ATTACHMENT_BLOCKS = ("attachment", "gem-c-attachment")
"""The classes of an attachment block, in the older Whitehall markup and as the current component."""
ATTACHMENT_SET = frozenset(ATTACHMENT_BLOCKS)


def withdrawn(page: ClassIndex) -> str | None:
    notices = page.containing("withdraw") or [
        notice for notice in page.all("gem-c-notice", "app-c-notice") if "withdrawn" in text_of(notice)
    ]
    if not notices:
        return None
    notice = notices[0]
    title = first(
        find(notice, "gem-c-notice__title", "app-c-notice__title"), next(notice.iter("h2", "h3"), None)
    )
    text = block_text(notice)
    if title is not None:
        heading = block_text(title)
        text = text.replace(heading, "", 1).strip() or heading
    return fold(text) or None


def in_body(blocks: list[etree._Element], body: etree._Element | None = None) -> list[etree._Element]:
    """Attachment blocks set in a body's text under one of its headings (a statistical data set's
    tables), not those a page lists on their own under "Documents": the heading above keeps its place.
    The body is the nearest ``.govspeak``, else ``body``; a heading marked as the page's layout, or an
    attachment's own title, does not count."""
    found = []
    under_heading: dict[etree._Element, set[etree._Element]] = {}
    tags = {block.tag for block in blocks}
    for block in blocks:
        above = list(block.iterancestors())
        if any(_is_attachment_block(el) for el in above):
            continue
        container = next((el for el in above if _has_class(el, "govspeak")), body)
        if container is None:
            continue
        if container not in under_heading:
            under_heading[container] = _under_heading(container, set(blocks), tags)
        if block in under_heading[container]:
            found.append(block)
    return found


def _under_heading(
    container: etree._Element, blocks: set[etree._Element], tags: set[str]
) -> set[etree._Element]:
    """The ``blocks`` whose nearest h1-h3 above them in ``container`` counts (is not layout, nor inside an
    attachment): one walk over the headings and the elements of the blocks' tags, in document order."""
    found = set()
    counts = False
    for el in container.iter("h1", "h2", "h3", *tags):
        if el.tag in ("h1", "h2", "h3") and not any(map(_is_attachment_block, el.iterancestors())):
            counts = el.get(LAYOUT) is None
        if el in blocks and counts:
            found.add(el)
    return found


def _has_class(el: etree._Element, name: str) -> bool:
    value = el.get("class")
    return bool(value) and name in value and name in value.split()


def _is_attachment_block(el: etree._Element) -> bool:
    value = el.get("class")
    return bool(value) and "attachment" in value and not ATTACHMENT_SET.isdisjoint(value.split())


def html_attachments(main: etree._Element, url: str, page: ClassIndex | None = None) -> list[Attachment]:
    """Attachment blocks under ``main``: ``section.attachment`` (older) and ``section.gem-c-attachment``."""
    found: list[etree._Element] = []
    blocks = (
        page.all("attachment", "gem-c-attachment")
        if page
        else find_all(main, "attachment", "gem-c-attachment")
    )
    outer: set[etree._Element] = set()
    for section in blocks:
        if outer.isdisjoint(section.iterancestors()):
            found.append(section)
            outer.add(section)
    return [attachment for attachment in map(lambda s: _attachment(s, url), found) if attachment]


_ATTACHMENT_PARTS = {
    "metadata": "metadata",
    "gem-c-attachment__metadata": "metadata",
    "type": "type",
    "gem-c-attachment__attribute": "attribute",
}
"""The classes of the parts of an attachment block that say what the file is, by the part they are."""
_HTML_WORD = re.compile(r"\bHTML\b")
_WEB_ADDRESS = re.compile(r"https?://")


def _attachment(section: etree._Element, base: str) -> Attachment | None:
    """One attachment block. Its title is the heading's link; where the heading is plain text (a CSV
    offered as "View online" and "Download CSV"), the title is the heading and the address the download,
    so both readers name the file itself, never its preview page."""
    heading = None
    parts: dict[str, list[etree._Element]] = {"metadata": [], "type": [], "attribute": []}
    for el in section.iterdescendants(etree.Element):  # one walk finds the heading and every part
        if heading is None and el.tag in ("h2", "h3", "h4"):
            heading = el
        if value := el.get("class"):
            for part in {_ATTACHMENT_PARTS[name] for name in value.split() if name in _ATTACHMENT_PARTS}:
                parts[part].append(el)
    links = list((heading if heading is not None else section).iter("a"))
    link = next((a for a in links if text_of(a)), None)
    title = text_of(link)
    if link is None and heading is not None and (title := text_of(heading)):
        offered = [a for a in section.iter("a") if a.get("href") and text_of(a)]
        link = next((a for a in offered if text_of(a).lower().startswith("download")), None)
        link = first(link, next((a for a in offered if not _is_preview(a.get("href"))), None))
        link = first(link, offered[0] if offered else None)
    if link is None or not title:
        return None
    url = absolute_url(link.get("href"), base)
    if _is_preview(url):
        url = url[: -len("/preview")]
    metadata = parts["metadata"]
    details = " ".join(text_of(el) for el in metadata) if metadata else text_of(section)
    shown = text_of(next(iter(parts["type"]), None)) or ("HTML" if _HTML_WORD.search(details) else "")
    attributes = [text_of(el) for el in parts["attribute"]]
    if len(attributes) == 1 and _WEB_ADDRESS.match(attributes[0]):
        # The attachment component describes an external attachment by its address alone.
        return Attachment(title=title, url=url, kind="external")
    kind = attachment_kind(url, shown)
    if not kind:
        kind = "html" if is_govuk_host(urlsplit(url).hostname or "") else "external"
    # The page count only from the block's metadata: a title may well say "2 pages" of itself.
    pages = page_count(details) if metadata else None
    return Attachment(title=title, url=url, kind=kind, size=size_bytes(details), page_count=pages)


def _is_preview(url: str | None) -> bool:
    """A CSV's preview page (``<file>.csv/preview``), which stands for the file."""
    return url is not None and urlsplit(url).path.endswith("/preview")


def parent_url(url: str) -> str | None:
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.count("/") < 2:
        return None
    return urlunsplit((parts.scheme, parts.netloc, path.rsplit("/", 1)[0], "", ""))
