"""Readers: each turns one family of page bodies into a :class:`~monitor.model.Document`.

:func:`monitor.parse.parse` asks each registered reader in turn, lowest ``priority`` first, and uses the
first that detects the body: the order is stated on each class, never left to the order modules are
imported in. A new markup era or source is a new reader (or a new function inside one), never an ``if``
in a caller. Readers from other installed packages join the same registry through the entry-point group
``guidance_monitor.readers`` (see :mod:`monitor.plugins`), so ``parse --list-readers`` and every run see
them as they see the built-in ones.
"""

from __future__ import annotations

from typing import ClassVar

from ..model import Document

REGISTRY: dict[str, type[Reader]] = {}
"""Every reader by its ``__kind__``, in the order they are tried."""

FROM_PACKAGES: dict[str, str] = {}
"""The kinds of the readers that came from other packages, and each one's package."""


class Reader:
    """One family of page bodies (a markup, a file format, a source) read into a Document.

    A subclass sets ``__kind__`` (its name in ``parse --list-readers`` and in stored snapshots, unique),
    ``priority`` and a docstring whose first paragraph tells users what it reads, and implements
    :meth:`detects` and :meth:`read`. Defining the class registers it: a reader in another package is
    found through its entry point and needs nothing else. A reader is pure: bytes in, a Document out, no
    network and no files, so the same body always reads the same and reading can run in a worker process.
    """

    __kind__: ClassVar[str] = ""
    priority: ClassVar[int] = 50
    """Where the reader comes in the order readers are tried: lower first. The specific readers (PDF 10,
    Content API JSON 20, GOV.UK HTML 30) come before the general ones (mirrored text 40, the catch-all
    selector 90), so a reader for one particular format belongs below 40."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            REGISTRY[cls.__kind__] = cls
            _order()

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        """Whether this reader reads ``body`` (served from ``url`` as ``content_type``). Cheap and certain:
        it runs for every body until one reader says yes, and a wrong yes hides the reader that fits."""
        raise NotImplementedError

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        """The Document in ``body``; raises :class:`~monitor.model.ParseError` naming what is missing, so
        that a page that is not what it should be fails its check instead of reading as all deleted."""
        raise NotImplementedError


def _order() -> None:
    ordered = sorted(REGISTRY.items(), key=lambda item: item[1].priority)
    REGISTRY.clear()
    REGISTRY.update(ordered)


def describe() -> list[tuple[str, str]]:
    """Every reader's kind and first docstring paragraph, in the order they are tried; a reader from
    another package says which."""
    from ..plugins import described

    return described(REGISTRY, FROM_PACKAGES)


def _load_plugins() -> None:
    from ..plugins import load

    FROM_PACKAGES.update(load("guidance_monitor.readers", Reader, REGISTRY, "reader"))
    _order()


# Importing registers the readers; each class's ``priority`` sets the order they are tried in.
from . import css, govuk_api, govuk_html, mirror_text, pdf  # noqa: E402, F401

_load_plugins()
