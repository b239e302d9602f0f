"""The watch list: which pages a run and ``check`` read, and ``pages``, ``add`` and ``remove``.

Pages added or removed here live in the database, never in ``config.yaml``: the user's file, with its
comments, stays exactly as they wrote it. A page listed in ``config.yaml`` is watched while it is listed
there (each run reads the file again) unless ``remove`` stopped it; ``add`` watches it again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from .clock import london_time
from .config import absolute_url, selector_problem
from .model import PageState
from .settings import Config
from .store import Store


class WatchListError(ValueError):
    """An address that cannot be watched or is not watched; the message says which and why."""


def page_url(config: Config, url: str) -> str:
    """An address as the store keys it, its one spelling: a GOV.UK path (``/guidance/x``) becomes a full
    address, and ``/x/``, ``HTTPS://WWW.GOV.UK/x`` and ``/x?utm_source=y#f`` are all ``/x``."""
    url = url.strip()
    parts = urlsplit(url)
    if not url.startswith("/") and (parts.scheme.lower() not in ("http", "https") or not parts.netloc):
        raise WatchListError(f"{url}: not a GOV.UK path such as /guidance/x or an http(s) address")
    return absolute_url(config, url)


def check_selector(config: Config, url: str, selector: str | None) -> None:
    """A page ``add`` cannot watch as given (see :func:`monitor.config.selector_problem`) is refused now,
    rather than failing at every run."""
    if problem := selector_problem(config, url, selector, "--selector"):
        raise WatchListError(problem)


@dataclass(frozen=True)
class Target:
    """A page to read and how to read it: the element a selector names, and whether its documents are
    followed."""

    url: str
    selector: str | None = None
    follow_documents: bool = False


def config_urls(config: Config) -> set[str]:
    return {absolute_url(config, p.url) for p in config.pages}


def watched(config: Config, store: Store | None, *, include_inactive: bool = False) -> list[PageState]:
    """The watched pages with their state: those in the database that are active, unless they came from
    ``config.yaml`` and are no longer listed there, then those listed in ``config.yaml`` that the database
    does not hold yet (no run has seen them, or there is no database). ``include_inactive`` adds every
    other page the database holds.
    """
    configured = config_urls(config)
    held = store.pages(active_only=False) if store is not None else []
    known = {p.url for p in held}
    pages = held if include_inactive else [p for p in held if p.active]
    if not include_inactive:
        pages = [p for p in pages if p.source != "config" or p.url in configured]
    for page in config.pages:
        url = absolute_url(config, page.url)
        if url not in known:
            pages.append(PageState(url=url, title=page.name or "", source="config"))
            known.add(url)
    return pages


def targets(config: Config, store: Store | None) -> list[Target]:
    """The pages a run or ``check`` reads (see :func:`watched`), each read as ``config.yaml`` says when it
    is listed there, else as ``add`` said."""
    configured = {}
    for page in config.pages:
        url = absolute_url(config, page.url)
        configured[url] = Target(url, page.selector, page.follow_documents)
    return [
        configured.get(page.url)
        or Target(
            page.url,
            store.page_selector(page.url) if store is not None else None,
            follow_documents=store is not None and store.follow_documents(page.url),
        )
        for page in watched(config, store)
    ]


def add(
    config: Config, store: Store, url: str, *, follow_documents: bool = False, selector: str | None = None
) -> str:
    """Watch a page from the next run on; returns what to tell the user."""
    url = page_url(config, url)
    check_selector(config, url, selector)
    existing = store.page(url)
    if existing is not None and existing.active:
        if selector and selector != store.page_selector(url):
            store.set_page_selector(url, selector)
            return f"{url} is already watched ({existing.source}); it is now read from {selector!r}"
        return f"{url} is already watched ({existing.source})"
    store.upsert_page(url, source="cli")
    if follow_documents:
        store.set_follow_documents(url, True)
    if selector:
        store.set_page_selector(url, selector)
    if existing is not None:
        return f"{url} is watched again; its history is kept"
    return f"{url} added: it is checked on the next run"


def remove(config: Config, store: Store, url: str) -> str:
    """Stop watching a page, keeping its history; returns what to tell the user."""
    url = page_url(config, url)
    existing = store.page(url)
    in_config = url in config_urls(config)
    if existing is None and not in_config:
        raise WatchListError(f"{url}: not watched (see guidance-monitor pages)")
    if existing is None:
        store.upsert_page(url, source="config")
    store.set_active(url, False)
    if in_config:
        where = config.path or "config.yaml"
        return (
            f"{url} is no longer watched; its history is kept. It is still listed in {where}, which "
            "guidance-monitor does not edit: `guidance-monitor add` watches it again"
        )
    return f"{url} removed from the watch list; its history is kept"


# --------------------------------------------------------------------------- showing


def as_json(pages: list[PageState]) -> str:
    return json.dumps([asdict(p) for p in pages], ensure_ascii=False, indent=2)


def as_text(pages: list[PageState]) -> str:
    from .render.labels import plural

    if not pages:
        return (
            "No pages are watched yet: list them under pages: in config.yaml, or use guidance-monitor add.\n"
        )
    lines = []
    for page in pages:
        lines.append(page.url)
        state = [page.source]
        if not page.active:
            state.append("inactive")
        if page.gone:
            state.append("gone")
        if page.current_url:
            state.append(f"moved to {page.current_url}")
        lines.append(f"  {page.title or '(title not yet known)'} [{', '.join(state)}]")
        failures = plural(page.consecutive_failures, "failure") + " in a row"
        checked, changed = (
            london_time(page.last_checked, zone=True),
            london_time(page.last_changed, zone=True),
        )
        lines.append(f"  last check {checked}; last change {changed}; {failures}")
        if page.last_error:
            lines.append(f"  last error: {page.last_error}")
    lines.append(plural(len(pages), "page"))
    return "\n".join(lines) + "\n"
