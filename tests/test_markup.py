"""The text helpers the HTML readers share: the shortcuts they take must give what the plain way gives."""

from __future__ import annotations

import sys

import pytest

from monitor.readers.markup import _BLOCK_MARK, WHITESPACE, _lines, block_text, fragment, sections


def test_whitespace_is_every_character_str_split_splits_at():
    expected = {ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace()}
    assert set(WHITESPACE) | {" "} == expected


@pytest.mark.parametrize(
    "text",
    ["", " a ", "a\n\n  b", "\xa0x\u2009y\u3000 z\t", "one  two   three    four", "\u200bzero\xadwidth"],
)
def test_lines_are_each_block_split_into_words_and_joined(text):
    """The C-speed folding gives what splitting every line into words gives."""
    marked = f"{_BLOCK_MARK}{text}{_BLOCK_MARK} {_BLOCK_MARK}{text}  {text}{_BLOCK_MARK}{_BLOCK_MARK}"
    expected = [" ".join(piece.split()) for piece in marked.split(_BLOCK_MARK)]
    assert _lines(marked) == "\n".join(line for line in expected if line)


CASES = [
    "<p>Intro text</p><h2>First</h2><p>One</p><ul><li>a</li><li><p>b</p></li></ul>",
    "<ol start='3'><li><p>para item</p></li><li>two</li></ol><h3>Sub</h3>"
    "<table><tr><th>A</th><td>B</td></tr></table>",
    "<h2>  Spaced &nbsp; heading </h2><p>line<br>break</p><h2></h2><p>after an empty heading</p>",
    "<ul><li></li><li>-</li></ul><h2>Next</h2><p>x\n y</p><!-- a comment --><p>z</p>",
    "<h2>Head<!-- a comment -->ing <b>in bold</b><?pi x?> &amp; more</h2><p>text</p>",
]


@pytest.mark.parametrize("markup", CASES)
def test_sections_read_what_the_element_walk_reads(markup):
    """Headings and section text from the marked-up tree are the lines TextBuilder reads, in order."""
    lines = []
    for section in sections(fragment(markup), ""):
        lines += ([section.heading] if section.heading else []) + section.text.splitlines()
    assert lines == block_text(fragment(markup)).splitlines()
