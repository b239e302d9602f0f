"""Text from a page made safe for a header or a chat message: no control, format or bidirectional-override
character, spaces collapsed, and bounded, so one page cannot hide text, break a line or make a subject line
thousands of characters long."""

from __future__ import annotations

import unicodedata

HEADER_LIMIT = 150
"""Characters in a subject line: RFC 5322 advises 78 per line; a folded subject of two lines still reads."""

_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}
"""Control, format (bidirectional overrides, zero-width), private, surrogate, unassigned, line breaks."""


def plain(text: str) -> str:
    """Text without control, format or bidirectional-override characters, its spaces collapsed."""
    kept = "".join(c if unicodedata.category(c) not in _INVISIBLE else " " for c in text)
    return " ".join(kept.split())


def bounded(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word where one is near and marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 2 // 3 else cut).rstrip() + "…"


def header(text: str, limit: int = HEADER_LIMIT) -> str:
    """A header value (the Subject) safe to send: one line, nothing invisible, at most ``limit``."""
    return bounded(plain(text), limit)
