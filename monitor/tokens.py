"""How readable text is cut into tokens and put back together: the one rule shared by the diff (which
compares tokens), the significance signals (which quote phrases) and render (which shows the runs).

Punctuation is a token of its own, so a bracket or a full stop is never glued to the word beside it in a
diff; line breaks (paragraphs, list items, table rows) are kept beside the token after them.

Typography is not a change: each token carries a ``key``, its text with curly and straight quotes,
hyphens, dashes and minus signs, ellipses and compatibility forms (ligatures, full-width letters) folded
to one spelling, and tokens are compared by their keys alone. The text shown stays as the page wrote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Literal, NamedTuple

from .model import DiffOp

WORD = re.compile(r"\w+(?:[-'’.,/:@]\w+)*")
"""A word: letters and digits, with the joiners that keep "COVID-19", "don't", "1,000" and "gov.uk" whole."""
_TOKEN = re.compile(rf"(\s*)({WORD.pattern}|\.{{2,}}|[^\w\s])")
"""A token and the whitespace before it: a word, an ellipsis written as full stops, or one mark of
punctuation on its own, so a bracket or a full stop is never glued to the word beside it in a diff."""

_INVISIBLE = [(mark, "") for mark in "\u00ad\u200b\u2060\ufeff"]
"""Soft hyphens, zero-width spaces and word joiners: a publishing tool's choice, never a reader's."""
_QUOTES = '"‘’‚‛“”„‟′″‵‶`´ʹʺʼ«»‹›＂＇'
_DASHES = "‐‑‒–—―−⁃﹘﹣－"
_TYPOGRAPHY = [(mark, "'") for mark in _QUOTES] + [(mark, "-") for mark in _DASHES] + [("⁄", "/")]
"""Every quote mark to "'", every hyphen, dash and minus sign to "-": one character for one, so words are
cut at the same places whichever the page used ("COVID‑19" with a non-breaking hyphen is one word, as
"COVID-19" is)."""


def _replaced(text: str, pairs: list[tuple[str, str]]) -> str:
    """``text`` with each pair's mark replaced: one C scan a mark, far faster on a page's text than
    ``str.translate`` or a regular expression."""
    for mark, replacement in pairs:
        if mark in text:
            text = text.replace(mark, replacement)
    return text


def _plain(text: str) -> str:
    """Text with its typography folded, line breaks and spacing untouched."""
    # Typography first, as NFKC would make one double prime two; again after, for what NFKC made.
    plain = unicodedata.normalize("NFKC", _replaced(_replaced(text, _INVISIBLE), _TYPOGRAPHY))
    return _replaced(plain, _TYPOGRAPHY)


def fold(text: str) -> str:
    r"""The form in which two texts are compared: typography folded (quotes, dashes, ellipses, spaces and
    compatibility forms) and whitespace collapsed, so 'must' and “must” are the same words.

    >>> fold("“Schools” must – don’t…") == fold('"Schools" must - don\'t...')
    True
    """
    return " ".join(_plain(text).split())


def folded_lines(text: str) -> list[str]:
    """:func:`fold` line by line: one folded line for each line of ``text`` (``text.split("\\n")``), so a
    paragraph, list item or table row can be compared without cutting it into tokens."""
    return [" ".join(line.split()) for line in _plain(text).split("\n")]


OPENING = "([{‘“£$#/"
CLOSING = ")]},.;:!?’”%/"
"""Punctuation joined without a space: after an opening mark, before a closing one."""


def glued(previous: str, following: str) -> bool:
    """Whether ``following`` is written against ``previous`` with no space between, as a page writes
    "(GCOs)" and "£1,500": the rule for putting the runs of a word diff back together.

    >>> glued("£", "1,500"), glued("2021", "."), glued("must", "complete")
    (True, True, False)
    """
    return following[:1] in CLOSING or previous[-1:] in OPENING


class Token(NamedTuple):
    """One word or mark of punctuation as the page wrote it, what stood before it ("", " " or a line
    break, "\\n"), and its ``key``: the folded form (:func:`fold`) by which tokens are compared. A tuple,
    as a page has tens of thousands of them."""

    text: str
    before: str
    key: str


def tokens(text: str) -> list[Token]:
    """The tokens of readable text, keeping line breaks (paragraphs, list items, table rows) beside them.

    Words are cut where the folded text would cut them, so two spellings of one word always give the same
    tokens; each token's text is the page's own (at the same place, as folding replaces one character
    with one).
    """
    shown = unicodedata.normalize("NFC", _replaced(text, _INVISIBLE))
    view = _replaced(shown, _TYPOGRAPHY)
    found = []
    at = 0
    for space, token in _TOKEN.findall(view):
        at += len(space)
        before = "\n" if "\n" in space else " " if space else ""
        # Cut from the folded text, a token in plain ASCII is its own key already.
        key = token if token.isascii() else fold(token)
        found.append(Token(token if view is shown else shown[at : at + len(token)], before, key))
        at += len(token)
    return found


def count_words(text: str) -> int:
    """Words only: punctuation and list markers are not words."""
    return len(WORD.findall(text))


class DiffItem(NamedTuple):
    """One item of a section's diff (a paragraph, list item or table row), how it changed, and its runs
    (none holding a line break): what a report shows as one bullet or row."""

    status: Literal["unchanged", "changed", "inserted", "deleted"]
    ops: list[DiffOp]


def diff_items(ops: Sequence[DiffOp]) -> list[DiffItem]:
    r"""A section's word diff cut back into its items: the diff starts every item on a line of its own
    (:func:`monitor.diff.word_diff`), so an item is its runs up to the next line break. An item with both
    kinds of runs changed; one with only inserted (deleted) runs is a whole new (removed) item.

    >>> ops = [DiffOp("equal", "On 18 March we:\n- converted"), DiffOp("insert", "this"),
    ...        DiffOp("equal", "guidance"), DiffOp("insert", "\n- face visors")]
    >>> [(item.status, len(item.ops)) for item in diff_items(ops)]
    [('unchanged', 1), ('changed', 3), ('inserted', 1)]
    """
    items: list[list[DiffOp]] = [[]]
    for op in ops:
        for k, part in enumerate(op.text.split("\n")):
            if k:
                items.append([])
            if part:
                items[-1].append(DiffOp(op.op, part))
    found = []
    for runs in filter(None, items):
        kinds = {op.op for op in runs}
        status: Literal["unchanged", "changed", "inserted", "deleted"] = "changed"
        if kinds == {"equal"}:
            status = "unchanged"
        elif kinds == {"insert"}:
            status = "inserted"
        elif kinds == {"delete"}:
            status = "deleted"
        found.append(DiffItem(status, runs))
    return found
