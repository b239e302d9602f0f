"""Readers and delivery channels from other installed packages, found through their entry points.

A package adds a reader or a channel by naming its class under the entry-point group
``guidance_monitor.readers`` or ``guidance_monitor.channels`` (the README's "Extending it" shows one).
Importing the class registers it under its ``__kind__``, as the built-in ones are. A plugin that cannot
be loaded must not stop a run that was working without it, so each failure is one plain line on stderr
and the run carries on without that plugin; a plugin may not take the kind of a reader or channel that
is already there, so installing a package never silently changes how GOV.UK pages are read or sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


def load(group: str, base: type[T], registry: dict[str, type[T]], what: str) -> dict[str, str]:
    """Import every entry point of ``group``; each must name a subclass of ``base`` with a ``__kind__``,
    which registers itself in ``registry`` when imported. Returns each kind loaded and the package it
    came from. ``what`` names the thing in messages ("reader", "channel")."""
    loaded: dict[str, str] = {}
    for point in entry_points(group=group):
        package = _package(point)
        where = f"the {what} {point.name!r} from the package {package}"
        before = dict(registry)
        try:
            found: Any = point.load()
        except Exception as exc:  # a plugin's import may fail in any way; the run goes on without it
            _left_out(f"{where} cannot be loaded ({type(exc).__name__}: {_first_line(exc)})")
            continue
        kind = getattr(found, "__kind__", "") if isinstance(found, type) else ""
        taken = [k for k, cls in before.items() if registry.get(k) is not cls]
        registry.update({k: before[k] for k in taken})
        if not (isinstance(found, type) and issubclass(found, base) and kind):
            _left_out(f"{where} is not a subclass of {base.__module__}.{base.__name__} with a __kind__")
        elif kind in before or registry.get(kind) is not found:
            _left_out(f"{where} has the kind {kind!r}, which another {what} already has")
        else:
            loaded[kind] = package
    return loaded


def _package(point: EntryPoint) -> str:
    dist = point.dist
    return dist.name if dist is not None else point.value.split(":", 1)[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or "no detail"
    return text.splitlines()[0]


def _left_out(message: str) -> None:
    """Say it once: a worker process that reads pages for the run loads the readers again, and the run
    has said it already."""
    import multiprocessing

    if multiprocessing.parent_process() is None:
        log.warning("guidance-monitor: %s; carrying on without it", message)


def described(registry: Mapping[str, type], packages: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each kind in ``registry`` with the first paragraph of its class's docstring (the user's
    description of it), and the package it came from when another package provides it."""
    listing = []
    for kind, cls in registry.items():
        text = (cls.__doc__ or "").strip().split("\n\n")[0]
        if kind in packages:
            text = f"{text} (from the package {packages[kind]})".lstrip()
        listing.append((kind, text))
    return listing
