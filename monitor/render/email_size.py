"""How big a digest's HTML part may be: Gmail clips a message past about 102 KB and hides the rest behind
"View entire message", so a digest that would be larger shows fewer paragraphs of each change, each cut
at a paragraph boundary and ending with how many sections are left and a link to the whole change."""

from __future__ import annotations

from collections.abc import Callable

HTML_BUDGET = 90_000
"""Bytes of UTF-8 the HTML part may take: under 100 KB once quoted-printable has escaped it."""
PARAGRAPH_LIMITS = (None, 40, 20, 10, 5, 2, 1, 0)
"""The most paragraphs shown of each change, tried in turn (None: all) until the part fits."""


def within_budget(render: Callable[[int | None], str], budget: int = HTML_BUDGET) -> str:
    """The HTML rendered with as many paragraphs of each change as fit in ``budget`` bytes; ``render``
    takes the most paragraphs to show of each change. With none shown a digest is its headlines and
    links, which is as small as it gets."""
    html = ""
    for limit in PARAGRAPH_LIMITS:
        html = render(limit)
        if len(html.encode("utf-8")) <= budget:
            break
    return html
