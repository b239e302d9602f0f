"""Readers: each turns one family of page bodies into a :class:`~monitor.model.Document`.

A reader is a small class with a ``__kind__`` name, a docstring (shown to users by
``guidance-monitor parse --list-readers``), ``detects(body, url, content_type)`` and ``read(...)``.
:func:`monitor.parse.parse` asks each registered reader in turn, lowest ``priority`` first, and uses the first
that detects the body: the order is stated on each class, never left to the order modules are imported in.
A new markup era or source is a new reader (or a new function inside one), never an ``if`` in a caller.
"""

from __future__ import annotations

from typing import ClassVar

from ..model import Document

REGISTRY: dict[str, type[Reader]] = {}


class Reader:
    """Base class: subclasses register themselves under their ``__kind__``."""

    __kind__: ClassVar[str] = ""
    priority: ClassVar[int] = 50
    """Where the reader comes in the order readers are tried: lower first. The specific readers (PDF,
    Content API JSON, GOV.UK HTML) come before the general ones (mirrored text, the catch-all selector)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            REGISTRY[cls.__kind__] = cls
            ordered = sorted(REGISTRY.items(), key=lambda item: item[1].priority)
            REGISTRY.clear()
            REGISTRY.update(ordered)

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        raise NotImplementedError

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        """The Document in ``body``; raises :class:`~monitor.model.ParseError` naming what is missing."""
        raise NotImplementedError


def describe() -> list[tuple[str, str]]:
    """Every reader's kind and first docstring paragraph, in the order they are tried."""
    return [(kind, (cls.__doc__ or "").strip().split("\n\n")[0]) for kind, cls in REGISTRY.items()]


# Importing registers the readers; each class's ``priority`` sets the order they are tried in.
from . import css, govuk_api, govuk_html, mirror_text, pdf  # noqa: E402, F401
