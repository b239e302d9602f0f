"""The selector reader: guidance outside GOV.UK, read from the element a CSS selector names."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..model import Document, ParseError
from . import Reader
from .common import display_date, fold, timestamp_date
from .markup import drop, fragment, parse_html, sections, text_of

if TYPE_CHECKING:
    from lxml import etree

_PUBLISHED = re.compile(r"\b(?:first )?published(?: on)?:?\s+(.{0,40})", re.IGNORECASE)
_UPDATED = re.compile(r"\b(?:last )?(?:updated|modified|reviewed)(?: on)?:?\s+(.{0,40})", re.IGNORECASE)


class Selector(Reader):
    """Any other HTML page: sections from the h1-h3 headings inside the element that the page's
    ``selector`` (CSS, set per page in the configuration as ``pages[].selector``) picks out.

    The title is the page's first ``h1``, else its ``<title>``; "Published" and "Last updated" dates are
    read from ``article:published_time``/``article:modified_time`` meta tags or from text such as
    "Last updated 2 February 2024" inside the element. A page without a selector, or whose selector
    matches nothing, is refused with a ParseError rather than read as empty.
    """

    __kind__ = "selector"
    priority = 90

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        return body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        if not selector:
            raise ParseError(
                "not a GOV.UK page and no selector given: set pages[].selector to the CSS selector "
                "of the element that holds the document"
            )
        from bs4 import BeautifulSoup
        from soupsieve import SelectorSyntaxError

        soup = BeautifulSoup(body, "lxml")
        try:
            element = soup.select_one(selector)
        except SelectorSyntaxError as exc:
            raise ParseError(f"the selector {selector!r} is not valid CSS: {exc}") from None
        if element is None:
            raise ParseError(f"nothing on the page matches the selector {selector!r}")
        page = parse_html(body)
        root = fragment(str(element))
        for junk in list(root.iterdescendants("script", "style", "noscript", "nav", "form")):
            drop(junk)
        heading = next(root.iter("h1"), None)
        title = text_of(heading)
        if heading is not None and title:
            drop(heading)
        if not title:
            found = page.xpath("//h1") or page.xpath("//title")
            title = text_of(found[0]) if found else ""
        if not title:
            raise ParseError(f"no title (h1 or <title>) found for the element {selector!r}")
        text = text_of(root)
        doc = Document(
            url=url,
            title=title,
            page_type="page",
            summary=fold(_meta(page, "description")),
            published=timestamp_date(_meta(page, "article:published_time")) or _find(_PUBLISHED, text),
            last_updated=timestamp_date(_meta(page, "article:modified_time")) or _find(_UPDATED, text),
            sections=sections(root, title),
        )
        if not doc.sections:
            raise ParseError(f"the element {selector!r} holds no text")
        return doc


def _meta(page: etree._Element, name: str) -> str:
    found = page.xpath(f"//meta[@name='{name}' or @property='{name}']/@content")
    content: str = found[0] if found else ""
    return content


def _find(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return display_date(match[1]) if match else None
