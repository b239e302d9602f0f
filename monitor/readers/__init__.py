"""Readers: each turns one family of page bodies into a :class:`~monitor.model.Document`.

A reader is a small class with a ``__kind__`` name, a docstring (shown to users by
``guidance-monitor parse --list-readers``), ``detects(body, url, content_type)`` and ``read(...)``.
:func:`monitor.parse.parse` asks each registered reader in turn and uses the first that detects the body.
A new markup era or source is a new reader (or a new function inside one), never an ``if`` in a caller.
"""

from __future__ import annotations

from typing import ClassVar

from ..model import Document

REGISTRY: dict[str, type[Reader]] = {}


class Reader:
    """Base class: subclasses register themselves under their ``__kind__``."""

    __kind__: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            REGISTRY[cls.__kind__] = cls

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        raise NotImplementedError

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        """The Document in ``body``; raises :class:`~monitor.model.ParseError` naming what is missing."""
        raise NotImplementedError


def describe() -> list[tuple[str, str]]:
    """Every reader's kind and first docstring paragraph, in the order they are tried."""
    return [(kind, (cls.__doc__ or "").strip().split("\n\n")[0]) for kind, cls in REGISTRY.items()]


# Registration (import) order is the order readers are tried in: PDF first, the catch-all selector last.
from . import pdf, govuk_api, govuk_html, mirror_text, css  # noqa: E402, F401, I001
