"""How readable text is cut into tokens and put back together: the one rule shared by the diff (which
compares tokens), the significance signals (which quote phrases) and render (which shows the runs).

Punctuation is a token of its own, so a bracket or a full stop is never glued to the word beside it in a
diff; line breaks (paragraphs, list items, table rows) are kept beside the token after them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

WORD = re.compile(r"\w+(?:[-'’.,/:@]\w+)*")
"""A word: letters and digits, with the joiners that keep "COVID-19", "don't", "1,000" and "gov.uk" whole."""
_TOKEN = re.compile(rf"(\s*)({WORD.pattern}|[^\w\s])")
"""A token and the whitespace before it: a word, or one mark of punctuation on its own, so a bracket or a
full stop is never glued to the word beside it in a diff."""


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


@dataclass(frozen=True)
class Token:
    """One word or mark of punctuation and what stood before it: "", " " or a line break ("\\n")."""

    text: str
    before: str


def tokens(text: str) -> list[Token]:
    """The tokens of readable text, keeping line breaks (paragraphs, list items, table rows) beside them."""
    found = []
    for space, token in _TOKEN.findall(unicodedata.normalize("NFC", text)):
        before = "\n" if "\n" in space else " " if space else ""
        found.append(Token(token, before))
    return found


def count_words(text: str) -> int:
    """Words only: punctuation and list markers are not words."""
    return len(WORD.findall(text))
