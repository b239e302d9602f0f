"""The one way a count is written with its noun, everywhere a number of things is shown (the CLI, logs,
fetch and delivery errors, the site and the email): "1 page", "2 pages", never "1 pages".

Kept apart from ``monitor.render`` so that the fetcher and the parser can count without loading the
templates.
"""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """The count and its noun, which agrees with it; ``plural_form`` where adding "s" is wrong.

    >>> plural(1, "page"), plural(2, "page"), plural(0, "search", "searches"), plural(1, "more word")
    ('1 page', '2 pages', '0 searches', '1 more word')
    """
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"
