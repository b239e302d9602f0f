"""The static changelog's files, one renderer per kind of file, pure: records in, text out.

Every file depends only on the records it shows (never on the time it was built), so a file rendered
again from the same database has the same bytes: that is what lets ``monitor.site`` rewrite only the
files a run's new changes touch, and lets a full rebuild be compared byte for byte with the files the
runs wrote one by one. :func:`site` composes the renderers over lists, for tests and small sites;
``monitor.site`` composes them over the store, one page at a time.

Only changes seen by monitoring are listed on the index, the kind and month pages and in the feeds, each
with a page of its own. History GOV.UK published before monitoring began is shown folded beneath the
page's timeline, without pages of its own, and never as a new feed entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from .. import TEMPLATES_DIR
from ..clock import LONDON, parse_timestamp
from ..govuk import page_slug
from ..model import Change, PageState
from . import (
    KIND_LABELS,
    KIND_ORDER,
    TAG_AUTHORITY,
    _render,
    change_date,
    change_key,
    change_label,
    environment,
    http_url,
    iso_utc,
    newest_first,
    page_link,
)

SITE_FEED_LIMIT = 200
"""The whole-site feed carries the newest changes only; each page's feed carries its monitored changes."""
INDEX_LIMIT = 100
"""The index and each kind page list this many of the latest changes; month pages hold the rest."""

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (C0 controls but tab and newlines, U+FFFE, U+FFFF,
    lone surrogates): one control character copied from a page must not make a feed unreadable, and a
    surrogate could not even be written out as UTF-8."""
    return _NOT_XML.sub("", text)


@dataclass
class SitePage:
    """A watched page as the site shows it: its monitored changes and, apart, its earlier GOV.UK history."""

    url: str
    title: str
    slug: str
    state: PageState
    changes: list[Change]
    """Changes seen by monitoring, newest first."""
    history: list[Change]
    """History GOV.UK published before monitoring began, newest first (GOV.UK's order)."""


def monitored(change: Change) -> bool:
    """A change that gets a page of its own and is listed and fed: seen by monitoring, not backfilled."""
    return not change.backfilled and change.kind != "none"


def site_page(state: PageState, changes: Iterable[Change]) -> SitePage:
    """One page's view from its state and all its recorded changes."""
    ordered = newest_first(c for c in changes if c.kind != "none")
    seen = [c for c in ordered if not c.backfilled]
    title = state.title or next((c.title for c in ordered if c.title), "") or state.url
    return SitePage(state.url, title, page_slug(state.url), state, seen, [c for c in ordered if c.backfilled])


def month_of(detected_at: str) -> str:
    """The month (``YYYY-MM``, London time) a change was found in: the month page that lists it."""
    return parse_timestamp(detected_at).astimezone(LONDON).strftime("%Y-%m")


def month_label(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def latest_first(changes: Iterable[Change]) -> list[Change]:
    """In the order they were recorded, latest first: which changes the index and feeds take."""
    return sorted(changes, key=lambda c: (c.id or 0, c.detected_at or ""), reverse=True)


def _page(name: str, **context: object) -> str:
    return xml_safe(_render(name, **context))


def _stream(name: str, **context: object) -> Iterator[str]:
    """A page as it is rendered, piece by piece, so a long one is written out without being held whole
    (the same text as :func:`_page`)."""
    for piece in environment().get_template(name).generate(**context):
        yield xml_safe(piece)


# --------------------------------------------------------------------------- one file each


def stylesheet() -> str:
    return (TEMPLATES_DIR / "style.css").read_text(encoding="utf-8")


def change_path(change: Change) -> str:
    return f"changes/{change_key(change)}.html"


def change_page(change: Change, page: SitePage, *, site_url: str = "") -> str:
    """``changes/<id>.html``: one change, section by section."""
    return _page(
        "change.html",
        site_url=site_url.rstrip("/"),
        root="../",
        change=change,
        page=page,
        title=f"{change_label(change)}: {page.title}",
    )


def timeline(page: SitePage, *, site_url: str = "", upto: int | None = None) -> str:
    """``pages/<slug>.html``: the page's monitored changes, newest first, its earlier history folded
    beneath. ``upto`` leaves out changes recorded after that id (a page written before their own pages)."""
    if upto is not None:
        page = SitePage(
            page.url,
            page.title,
            page.slug,
            page.state,
            [c for c in page.changes if (c.id or 0) <= upto],
            page.history,
        )
    return _page("page.html", site_url=site_url.rstrip("/"), root="../", page=page, title=page.title)


def page_feed(page: SitePage, *, site_url: str = "") -> str:
    """``pages/<slug>.xml``: an Atom entry for each monitored change of the page."""
    return atom(
        page.changes,
        {page.url: page},
        feed_id=f"{TAG_AUTHORITY}:page/{page.slug}",
        title=f"Changes to {page.title}",
        site_url=site_url,
        self_path=f"pages/{page.slug}.xml",
        alternate=page_link(page.url, site_url) or http_url(page.url) or "",
    )


def change_list(
    changes: Sequence[Change],
    page_of: Mapping[str, SitePage],
    *,
    kinds: Sequence[str],
    months: Sequence[str],
    kind: str | None = None,
    site_url: str = "",
) -> str:
    """``index.html`` (``kind`` None) or ``kind/<kind>.html``: the latest changes, newest first."""
    return _page(
        "index.html",
        site_url=site_url.rstrip("/"),
        root="../" if kind else "",
        changes=newest_first(changes),
        page_of=page_of,
        kinds=kinds,
        kind=kind,
        months=months,
        index_limit=INDEX_LIMIT,
        title=KIND_LABELS[kind] if kind else "Recent changes",
    )


def month_page(
    month: str,
    changes: Iterable[Change],
    page_of: Mapping[str, SitePage],
    *,
    count: int,
    site_url: str = "",
) -> Iterator[str]:
    """``archive/<YYYY-MM>.html``, piece by piece: every change found in one month, ``changes`` already
    newest first (they may come one by one from the store: a busy month is never held whole)."""
    return _stream(
        "archive.html",
        site_url=site_url.rstrip("/"),
        root="../",
        changes=changes,
        count=count,
        page_of=page_of,
        month=month,
        title=f"Changes found in {month_label(month)}",
    )


@dataclass
class PageEntry:
    """A line of ``pages.html``."""

    title: str
    slug: str
    state: PageState
    last_change: str
    """The date of the page's latest change ("" for none)."""


def page_entry(page: SitePage) -> PageEntry:
    latest = page.changes[0] if page.changes else (page.history[0] if page.history else None)
    return PageEntry(page.title, page.slug, page.state, change_date(latest) if latest else "")


def pages_list(entries: Iterable[PageEntry], *, site_url: str = "") -> Iterator[str]:
    """``pages.html``, piece by piece: every watched page, by title."""
    ordered = sorted(entries, key=lambda e: (e.title.lower(), e.slug))
    return _stream("pages.html", site_url=site_url.rstrip("/"), root="", pages=ordered, title="Watched pages")


def site_feed(changes: Sequence[Change], page_of: Mapping[str, SitePage], *, site_url: str = "") -> str:
    """``feed.xml``: the latest monitored changes across every page."""
    site_url = site_url.rstrip("/")
    return atom(
        newest_first(changes),
        page_of,
        feed_id=f"{TAG_AUTHORITY}:site",
        title="Changes to watched GOV.UK guidance",
        site_url=site_url,
        self_path="feed.xml",
        alternate=f"{site_url}/" if site_url else "",
    )


def atom(
    changes: Sequence[Change],
    page_of: Mapping[str, SitePage],
    *,
    feed_id: str,
    title: str,
    site_url: str,
    self_path: str,
    alternate: str,
    updated: datetime | None = None,
) -> str:
    """An Atom feed, one entry per change, ids stable across rebuilds (``tag:...:change/<id>``).

    The feed is as new as its newest entry, so rebuilding it gives the same bytes; everything copied
    from a page is stripped of what XML 1.0 forbids."""
    site_url = site_url.rstrip("/")
    latest = max((iso_utc(c.detected_at) for c in changes), default=None)
    return xml_safe(
        _render(
            "feed.xml",
            feed_id=feed_id,
            title=title,
            changes=changes,
            page_of=page_of,
            site_url=site_url,
            self_url=f"{site_url}/{self_path}" if site_url else "",
            alternate=alternate,
            updated=latest or (iso_utc(updated.isoformat()) if updated else iso_utc(None)),
            tag=TAG_AUTHORITY,
            entry_html=lambda c: _render(
                "_entry.html", change=c, page=page_of[c.page_url], site_url=site_url
            ),
        )
    )


# --------------------------------------------------------------------------- the whole site from lists


def site(
    pages: Sequence[PageState],
    changes: Sequence[Change],
    *,
    site_url: str = "",
    generated_at: datetime | None = None,
) -> dict[str, str]:
    """Every file of the static changelog: relative path -> content.

    ``index.html`` (the latest changes across pages, newest first, with the months before it),
    ``kind/<kind>.html`` (the latest of one kind, so filtering needs no JavaScript), ``archive/<month>.html``
    (every change found in a month), ``pages/<slug>.html`` (a page's timeline, history from before
    monitoring began folded beneath), ``pages.html`` (the watched pages), ``changes/<id>.html`` (one
    change, section by section), ``feed.xml`` and ``pages/<slug>.xml`` (Atom), ``style.css``.
    ``generated_at`` is accepted for compatibility: no file depends on when it was built.
    """
    del generated_at
    by_url: dict[str, list[Change]] = {p.url: [] for p in pages}
    states = {p.url: p for p in pages}
    for change in changes:
        by_url.setdefault(change.page_url, []).append(change)
        if change.page_url not in states:
            states[change.page_url] = PageState(url=change.page_url, title=change.title, active=False)
    views = [site_page(states[url], recorded) for url, recorded in by_url.items()]
    page_of = {v.url: v for v in views}
    seen = latest_first(c for c in changes if monitored(c))
    kinds = [k for k in KIND_ORDER if any(c.kind == k for c in seen)]
    months = sorted({month_of(c.detected_at) for c in seen}, reverse=True)
    files = {"style.css": stylesheet()}
    for view in views:
        files[f"pages/{view.slug}.xml"] = page_feed(view, site_url=site_url)
        for change in view.changes:
            files[change_path(change)] = change_page(change, view, site_url=site_url)
        files[f"pages/{view.slug}.html"] = timeline(view, site_url=site_url)
    for month in months:
        listed = newest_first(c for c in seen if month_of(c.detected_at) == month)
        pieces = month_page(month, listed, page_of, count=len(listed), site_url=site_url)
        files[f"archive/{month}.html"] = "".join(pieces)
    for kind in kinds:
        files[f"kind/{kind}.html"] = change_list(
            [c for c in seen if c.kind == kind][:INDEX_LIMIT],
            page_of,
            kinds=kinds,
            months=months,
            kind=kind,
            site_url=site_url,
        )
    files["index.html"] = change_list(
        seen[:INDEX_LIMIT], page_of, kinds=kinds, months=months, site_url=site_url
    )
    files["pages.html"] = "".join(pages_list((page_entry(v) for v in views), site_url=site_url))
    files["feed.xml"] = site_feed(seen[:SITE_FEED_LIMIT], page_of, site_url=site_url)
    return files
