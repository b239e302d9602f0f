"""Readable text and sections out of an lxml tree, shared by the HTML-based readers.

Text is what a reader sees, in reading order: one line per block (paragraph, list item, table row), list
items as "- item" or "1. item", table cells joined with " | ", whitespace folded, hidden-to-sighted text
and scripts left out. Sections start at each h1-h3 heading (h4-h6 stay inside the text, as in GOV.UK's own
contents lists). Markup noise (attribute order, ids, indentation, entities) cannot reach the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import lxml.html
from lxml import etree

from ..model import Section
from .common import fold

SECTION_TAGS = {"h1": 1, "h2": 2, "h3": 3}
BLOCK_TAGS = frozenset(
    "address article aside blockquote caption dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style noscript template svg button input select textarea iframe object".split())
_MARKER = re.compile(r"-|\d+\.")
HIDDEN_CLASSES = frozenset({"govuk-visually-hidden", "visually-hidden", "visuallyhidden"})


def class_test(*names: str) -> str:
    """An XPath predicate true for an element carrying any of the class ``names`` (whole tokens)."""
    return " or ".join(f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')" for name in names)


def find_all(root: etree._Element, *names: str, tag: str = "*") -> list[etree._Element]:
    """Descendants of ``root`` (in document order) carrying any of the classes ``names``."""
    return root.xpath(f".//{tag}[{class_test(*names)}]")


def find(root: etree._Element, *names: str, tag: str = "*") -> etree._Element | None:
    found = root.xpath(f"(.//{tag}[{class_test(*names)}])[1]")
    return found[0] if found else None


def first(*candidates: etree._Element | None) -> etree._Element | None:
    """The first candidate that exists (an lxml element without children is falsy, so never use ``or``)."""
    return next((candidate for candidate in candidates if candidate is not None), None)


def classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def skipped(el: etree._Element) -> bool:
    return (
        not isinstance(el.tag, str)
        or el.tag in SKIP_TAGS
        or el.get("hidden") is not None
        or bool(HIDDEN_CLASSES & classes(el))
    )


def parse_html(body: bytes | str) -> etree._Element:
    """An lxml tree of ``body``; the encoding comes from the document, else UTF-8."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    parser = lxml.html.HTMLParser(encoding=None if b"charset" in body[:2048].lower() else "utf-8")
    return lxml.html.fromstring(body, parser=parser)


def fragment(html: str) -> etree._Element:
    """A tree holding a fragment of HTML (a Content API body), under one ``<div>``."""
    return lxml.html.fragment_fromstring(html or "", create_parent="div")


def text_of(el: etree._Element | None) -> str:
    """The visible text of ``el`` on one line."""
    if el is None:
        return ""
    builder = TextBuilder()
    builder.inline_only = True
    builder.render(el)
    return builder.finish()


class TextBuilder:
    """Collects readable lines from elements rendered one after another."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._current: list[str] = []
        self.inline_only = False

    def text(self, value: str | None) -> None:
        if value:
            self._current.append(value)

    def newline(self) -> None:
        if self.inline_only:
            self._current.append(" ")
            return
        line = fold("".join(self._current))
        if _MARKER.fullmatch(line):
            return
        self._current = []
        if line:
            self.lines.append(line)

    def render(self, el: etree._Element) -> None:
        """Add ``el``'s own text and its descendants' (not its tail)."""
        if skipped(el):
            return
        tag = el.tag
        if tag == "br":
            self.newline()
            return
        block = tag in BLOCK_TAGS
        if block:
            self.newline()
        if tag == "li":
            parent = el.getparent()
            if parent is not None and parent.tag == "ol":
                start = int(parent.get("start") or 1) if (parent.get("start") or "1").isdigit() else 1
                items = [sibling for sibling in parent if sibling.tag == "li"]
                self.text(f"{start + items.index(el)}. ")
            else:
                self.text("- ")
        elif tag in ("td", "th") and el.getprevious() is not None:
            self.text(" | ")
        self.text(el.text)
        for child in el:
            if isinstance(child.tag, str):
                self.render(child)
            self.text(child.tail)
        if block:
            self.newline()

    def finish(self) -> str:
        if self.inline_only:
            return fold("".join(self._current))
        self.newline()
        return "\n".join(self.lines)


def block_text(el: etree._Element) -> str:
    """The readable text of ``el``: one line per block."""
    builder = TextBuilder()
    builder.render(el)
    return builder.finish()


def sections(
    root: etree._Element, intro_heading: str, levels: dict[str, int] = SECTION_TAGS
) -> list[Section]:
    """Sections of the content under ``root``: one per h1-h3 heading, text up to the next such heading.

    Text before the first heading becomes a section named ``intro_heading`` (level 1). A heading with no
    text of its own and no sub-headings (a label left over from a list read elsewhere) is dropped.
    """
    holders: set[etree._Element] = set()
    for heading in root.iter(*levels):
        for ancestor in heading.iterancestors():
            if ancestor in holders:
                break
            holders.add(ancestor)
            if ancestor is root:
                break
    found: list[tuple[str, int, TextBuilder]] = [(intro_heading, 1, TextBuilder())]

    def walk(el: etree._Element) -> None:
        builder = found[-1][2]
        if skipped(el):
            return
        if el.tag in levels:
            heading = text_of(el)
            if heading:
                found.append((heading, levels[el.tag], TextBuilder()))
            return
        if el not in holders:
            builder.render(el)
            return
        if el.tag in BLOCK_TAGS:
            builder.newline()
        builder.text(el.text)
        for child in el:
            if isinstance(child.tag, str):
                walk(child)
            found[-1][2].text(child.tail)
        found[-1][2].newline()

    walk(root)
    result = [Section(heading, level, builder.finish()) for heading, level, builder in found]
    if not result[0].text:
        result.pop(0)
    return _drop_empty(result)


def _drop_empty(found: Iterable[Section]) -> list[Section]:
    items = list(found)
    kept = []
    for index, section in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        has_children = following is not None and following.level > section.level
        if section.text or has_children:
            kept.append(section)
    return kept
