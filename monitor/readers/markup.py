"""Readable text and sections out of an lxml tree, shared by the HTML-based readers.

Text is what a reader sees, in reading order: one line per block (paragraph, list item, table row), list
items as "- item" or "1. item", table cells joined with " | ", whitespace folded, hidden-to-sighted text
and scripts left out. Sections start at each h1-h3 heading (h4-h6 stay inside the text, as in GOV.UK's own
contents lists). Markup noise (attribute order, ids, indentation, entities) cannot reach the result.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from ..model import UNSHOWN, Section, shown

BLOCK_TAGS = frozenset(
    "address article aside blockquote caption dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr ul".split()
)
SKIP_TAGS = frozenset("script style noscript template svg button input select textarea iframe object".split())
_MARKER = re.compile(r"-|\d+\.")
_BREAK = "\x00"
HIDDEN_CLASSES = frozenset({"govuk-visually-hidden", "visually-hidden", "visuallyhidden"})


def find_all(root: etree._Element, *names: str, tag: str | None = None) -> list[etree._Element]:
    """Descendants of ``root`` (in document order) carrying any of the classes ``names`` (whole tokens).

    Walks the subtree: for a whole page use a :class:`ClassIndex`, built once.
    """
    wanted = set(names)
    return [
        el
        for el in root.iterdescendants(tag or etree.Element)
        if (value := el.get("class")) and not wanted.isdisjoint(value.split())
    ]


def find(root: etree._Element, *names: str, tag: str | None = None) -> etree._Element | None:
    found = find_all(root, *names, tag=tag)
    return found[0] if found else None


_CLASSES = etree.XPath("descendant::*/@class")
_HIDDEN = etree.XPath("descendant::*/@hidden")


class ClassIndex:
    """Every element under a root by class token, from one walk: class look-ups on a page cost nothing.

    The walk is libxml2's: an XPath for the ``class`` (and ``hidden``) attributes, in document order, each
    knowing its element, so Python only sees the elements that have one (a fifth of a GOV.UK page).
    """

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.by_class: dict[str, list[etree._Element]] = {}
        self.position: dict[etree._Element, int] = {}
        self.invisible: list[etree._Element] = []
        for position, value in enumerate(_CLASSES(root)):
            el = value.getparent()
            names = value.split()
            self.position[el] = position
            for name in names:
                self.by_class.setdefault(name, []).append(el)
            if "hidden" in value and not HIDDEN_CLASSES.isdisjoint(names):
                self.invisible.append(el)
        for value in _HIDDEN(root):
            if (el := value.getparent()) not in self.invisible:
                self.invisible.append(el)

    def all(self, *names: str, tag: str | None = None) -> list[etree._Element]:
        """Elements carrying any of ``names``, in document order."""
        found = {el for name in names for el in self.by_class.get(name, ())}
        if tag:
            found = {el for el in found if el.tag == tag}
        return sorted(found, key=self.position.__getitem__)

    def first(self, *names: str, tag: str | None = None) -> etree._Element | None:
        found = self.all(*names, tag=tag)
        return found[0] if found else None

    def containing(self, part: str) -> list[etree._Element]:
        """Elements with a class token that contains ``part`` (``withdraw`` finds every withdrawal notice)."""
        names = [name for name in self.by_class if part in name]
        return self.all(*names) if names else []


def drop(el: etree._Element) -> None:
    """Remove ``el`` and its subtree, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def first(*candidates: etree._Element | None) -> etree._Element | None:
    """The first candidate that exists (an lxml element without children is falsy, so never use ``or``)."""
    return next((candidate for candidate in candidates if candidate is not None), None)


def classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def is_element(node: object) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)


def skipped(el: etree._Element) -> bool:
    """Not shown to a sighted reader: scripts, form controls, ``hidden``, visually hidden classes."""
    tag = el.tag
    return not isinstance(tag, str) or tag in SKIP_TAGS or invisible(el, el.get("class"))


def invisible(el: etree._Element, names: str | None) -> bool:
    if names and "hidden" in names and not HIDDEN_CLASSES.isdisjoint(names.split()):
        return True
    return el.get("hidden") is not None


def strip_invisible(root: etree._Element, page: ClassIndex | None = None) -> None:
    """Drop what a sighted reader never sees, so text can then be taken from whole subtrees at once."""
    doomed = list(root.iterdescendants(*SKIP_TAGS))
    if page is not None:
        doomed += page.invisible
    else:
        doomed += [el for el in root.iterdescendants(etree.Element) if invisible(el, el.get("class"))]
    for el in doomed:
        drop(el)


_UTF8 = etree.HTMLParser(encoding="utf-8")
_DECLARED = etree.HTMLParser()


def parse_html(body: bytes | str) -> etree._Element:
    """An lxml tree of ``body``; the encoding comes from the document, else UTF-8.

    Plain ``etree`` elements, not ``lxml.html`` ones, whose per-element Python class look-up would
    make reading a page several times slower than parsing it.
    """
    if isinstance(body, str):
        body = body.encode("utf-8")
    parser = _DECLARED if b"charset" in body[:2048].lower() else _UTF8
    root = etree.fromstring(body, parser)
    if root is None:
        raise ValueError("no HTML in the body")
    return _without_unshown(root)


def fragment(html: str) -> etree._Element:
    """A tree holding a fragment of HTML (a Content API body), under one ``<div>``."""
    root = etree.fromstring(f"<html><body><div>{html or ''}</div></body></html>".encode(), _UTF8)
    return _without_unshown(root).find("body/div")


_UNSHOWN = re.compile(f"[{re.escape(UNSHOWN)}]")


def _without_unshown(root: etree._Element) -> etree._Element:
    """``root`` with the control characters of :data:`~monitor.model.UNSHOWN` taken out of its text.

    The parser keeps them (raw, or written as ``&#1;``), but lxml refuses them in text set afterwards, as
    the readers do to mark headings and list items: a page holding one would fail to read. One pass in C
    over the page's text finds whether there is any; the tree is walked only when there is.
    """
    if not _UNSHOWN.search(etree.tostring(root, method="text", encoding="unicode")):
        return root
    for el in root.iter():
        if el.text and _UNSHOWN.search(el.text):
            el.text = shown(el.text)
        if el.tail and _UNSHOWN.search(el.tail):
            el.tail = shown(el.tail)
    return root


def text_of(el: etree._Element | None) -> str:
    """The visible text of ``el`` on one line."""
    if el is None:
        return ""
    tag = el.tag
    if not len(el) and tag not in _MARKED and isinstance(tag, str):
        # A leaf (most calls: a link, a date, a term): its own text, unless hidden.
        if tag in SKIP_TAGS or invisible(el, el.get("class")):
            return ""
        text = el.text
        return " ".join(text.split()) if text else ""
    builder = TextBuilder(inline_only=True)
    builder.render(el)
    return builder.finish()


_MARKED = frozenset(("li", "td", "th", "br"))
"""Elements whose text :class:`TextBuilder` writes with something added: a list marker, a cell separator."""


def _list_marker(li: etree._Element) -> str:
    parent = li.getparent()
    if parent is None or parent.tag != "ol":
        return "- "
    start = parent.get("start") or "1"
    items = [sibling for sibling in parent if sibling.tag == "li"]
    return f"{(int(start) if start.isdigit() else 1) + items.index(li)}. "


class TextBuilder:
    """Collects readable lines from elements rendered one after another.

    Pieces are joined once at the end: whitespace in the markup folds to one space, and only the
    explicit breaks that blocks add (never a newline in the source) start a new line.
    """

    __slots__ = ("parts", "inline_only")

    def __init__(self, inline_only: bool = False) -> None:
        self.parts: list[str] = []
        self.inline_only = inline_only

    def text(self, value: str | None) -> None:
        if value:
            self.parts.append(value)

    def newline(self) -> None:
        self.parts.append(" " if self.inline_only else _BREAK)

    def render(self, el: etree._Element) -> None:
        """Add ``el``'s own text and its descendants' (not its tail). Hot path: kept flat on purpose."""
        tag = el.tag
        if not isinstance(tag, str) or tag in SKIP_TAGS or el.get("hidden") is not None:
            return
        names = el.get("class")
        if names and "hidden" in names and not HIDDEN_CLASSES.isdisjoint(names.split()):
            return
        parts = self.parts
        stop = " " if self.inline_only else _BREAK
        if tag == "br":
            parts.append(stop)
            return
        block = tag in BLOCK_TAGS
        if block:
            parts.append(stop)
        if tag == "li":
            parts.append(_list_marker(el))
        elif (tag == "td" or tag == "th") and el.getprevious() is not None:
            parts.append(" | ")
        text = el.text
        if text:
            parts.append(text)
        if len(el):
            for child in el:
                self.render(child)
                tail = child.tail
                if tail:
                    parts.append(tail)
        if block:
            parts.append(stop)

    def finish(self) -> str:
        text = "".join(self.parts)
        if self.inline_only:
            return " ".join(text.split())
        return "\n".join(_readable(text))


def _readable(text: str) -> list[str]:
    """Lines of ``text`` split at the breaks blocks put in, whitespace folded, a lone list marker ("-",
    "1.") joined to the line after it (a list item whose text is in a paragraph)."""
    lines: list[str] = []
    marker = ""
    for piece in text.split(_BREAK):
        if not piece or piece.isspace():
            continue
        line = " ".join(piece.split())
        if marker:
            line, marker = f"{marker} {line}", ""
        if _MARKER.fullmatch(line):
            marker = line
            continue
        lines.append(line)
    if marker:
        lines.append(marker)
    return lines


def block_text(el: etree._Element) -> str:
    """The readable text of ``el``: one line per block."""
    builder = TextBuilder()
    builder.render(el)
    return builder.finish()


def _drop_empty(found: Iterable[Section], held: Iterable[bool] = ()) -> list[Section]:
    """Sections with text, sub-sections or something a reader sees under them (``held``)."""
    items = list(found)
    holds = list(held) or [False] * len(items)
    kept = []
    for index, section in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        has_children = following is not None and following.level > section.level
        if section.text or has_children or holds[index]:
            kept.append(section)
    return kept


# Marks put into the tree's text by sections(): characters that never occur in a page (Unicode
# noncharacters, yet legal in lxml text, which refuses the control characters TextBuilder uses).
_BLOCK_MARK = "\ufdd0"
_HEADING_MARK = "\ufdd1"
HELD = "\ufdd2"
"""Text put where a heading holds something other than text (an image, an attachment in the body, a
collection group's document list): the heading's section is kept, with no text of its own, instead of being
dropped as a stray label."""
# Every character str.split() splits at (str.isspace()), tests/test_markup.py checks the list: replacing
# each with str.replace is a C scan, many times faster than a regular expression over the page's text.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_LONE_MARKER = re.compile(f"\n(-|\\d+\\.)\n([^\n{_HEADING_MARK}][^\n]*)")


def _number_list_items(root: etree._Element) -> None:
    """Put each numbered list item's number ("3. ") at the start of its text (the "- " of every other list
    item is written by :data:`_BLOCK_TEXT`)."""
    for ol in root.iter("ol"):
        start = ol.get("start") or "1"
        number = int(start) if start.isdigit() else 1
        for li in ol.iterchildren("li"):
            li.text = f"{number}. " + (li.text or "")
            number += 1


def _text_with_block_marks(root: etree._Element) -> str:
    """The text under ``root`` with a block mark around every block element and after each ``<br>``, and
    "- " before the text of each list item outside an ``<ol>``.

    libxslt writes the marks while it serialises the text: one C pass, where setting each block's text
    and tail from Python cost as much again as parsing the page.
    """
    return bytes(_BLOCK_TEXT(root)).decode("utf-8")


_MARK = f"&#{ord(_BLOCK_MARK)};"
_BLOCK_TEXT = etree.XSLT(
    etree.XML(
        f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
        <xsl:output method="text" encoding="utf-8"/>
        <xsl:template match="{"|".join(sorted(BLOCK_TAGS - {"li"}))}|ol/li"
            >{_MARK}<xsl:apply-templates/>{_MARK}</xsl:template>
        <xsl:template match="li">{_MARK}- <xsl:apply-templates/>{_MARK}</xsl:template>
        <xsl:template match="br">{_MARK}</xsl:template>
        </xsl:stylesheet>"""
    ),
    access_control=etree.XSLTAccessControl.DENY_ALL,
)


def _lines(text: str) -> str:
    """The lines between the block marks in ``text``, each with its whitespace folded to single spaces,
    empty ones left out: ``" ".join(line.split())`` for every line, but with C string scans only (a regular
    expression, or splitting every line into words, costs as much as parsing the page)."""
    for space in WHITESPACE:
        if space in text:
            text = text.replace(space, " ")
    text = "\n".join(filter(None, map(str.strip, text.split(_BLOCK_MARK))))
    # What is left: the few runs of spaces inside a line, each found by str.find (text.split("  ") and
    # re.sub both take twice as long).
    parts = []
    start = 0
    while (run := text.find("  ", start)) != -1:
        parts.append(text[start:run])
        start = run + 2
        while text.startswith(" ", start):
            start += 1
    parts.append(text[start:])
    return " ".join(parts)


def sections(root: etree._Element, intro_heading: str, page: ClassIndex | None = None) -> list[Section]:
    """Sections of the content under ``root``: one per h1-h3 heading, text up to the next such heading.

    Text before the first heading becomes a section named ``intro_heading`` (level 1). A heading with no
    text of its own and no sub-headings (a label left over from a list read elsewhere) is dropped.
    Invisible elements are removed from ``root`` first (``page`` lists them when the caller has one), and
    ``root``'s text is marked up in place.

    The same text as :class:`TextBuilder` gives, several times faster than walking elements in Python:
    list markers, cell separators and headings are written into the tree's own text, libxslt serialises
    the text with a mark at every block boundary, then whitespace is folded and lines split over the whole
    page at once with C string methods instead of line by line.
    """
    strip_invisible(root, page)
    for image in list(root.iter("img")):
        hold(image)
    _number_list_items(root)
    for cell in root.iter("td", "th"):
        if cell.getprevious() is not None:
            cell.text = " | " + (cell.text or "")
    for heading in list(root.iter("h1", "h2", "h3")):  # clear() below would derail a live iterator
        label = "".join(heading.itertext())  # as tostring(method="text") gives, at a third of the cost
        heading.clear(keep_tail=True)
        heading.text = f"{_HEADING_MARK}{heading.tag[1]}{label}"
    # Then each lone list marker ("-", "1.") is joined to the line after it (a list item whose text is in
    # a paragraph), never to a heading.
    text = _LONE_MARKER.sub(r"\n\1 \2", "\n" + _lines(_text_with_block_marks(root)))
    chunks = text.split(_HEADING_MARK)
    found: list[tuple[str, int, list[str]]] = [(intro_heading, 1, [chunks[0].strip()])]
    for chunk in chunks[1:]:
        heading, _, body = chunk[1:].partition("\n")
        heading = heading.strip()
        if heading:
            found.append((heading, int(chunk[0]), [body.strip()]))
        else:
            found[-1][2].append(body.strip())
    held = [any(HELD in body for body in bodies) for _, _, bodies in found]
    result = [
        Section(heading, level, _without_held("\n".join(filter(None, bodies))))
        for heading, level, bodies in found
    ]
    if not result[0].text:  # before the first heading, only text counts: a logo is page furniture
        result.pop(0)
        held.pop(0)
    return _drop_empty(result, held)


def hold(el: etree._Element) -> None:
    """Put a :data:`HELD` mark in place of ``el`` (an image, an attachment block): what it stood under
    stays a section even with no text of its own."""
    mark = etree.Element("p")
    mark.text = HELD
    mark.tail = el.tail
    parent = el.getparent()
    if parent is not None:
        parent.replace(el, mark)


def _without_held(text: str) -> str:
    if HELD not in text:
        return text
    return "\n".join(
        line for line in (" ".join(line.replace(HELD, " ").split()) for line in text.split("\n")) if line
    )
