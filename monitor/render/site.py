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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import TEMPLATES_DIR
from .. import story as story_rules
from ..clock import LONDON, parse_timestamp
from ..govuk import page_slug
from ..model import Change, Document, PageState
from . import (
    KIND_LABELS,
    KIND_ORDER,
    SIGNAL_LABELS,
    TAG_AUTHORITY,
    _render,
    change_date,
    change_key,
    change_label,
    environment,
    http_url,
    iso_utc,
    london_date,
    newest_first,
    page_link,
    signal_kinds,
)

SITE_FEED_LIMIT = 200
"""The whole-site feed carries the newest changes only; each page's feed carries its monitored changes."""
INDEX_LIMIT = 100
"""The index and each kind page list this many of the latest changes; month pages hold the rest."""

Told = tuple["story_rules.Story | None", "story_rules.DocumentStory | None"]
"""How a change is told: the story it is told in and, for a document's change told under its
publication, its part of that story."""
NOT_TOLD: Told = (None, None)

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
    versions: list[Version] = field(default_factory=list)
    """The snapshots stored of the page, oldest first: each has a page of its own."""


@dataclass(frozen=True)
class Version:
    """A stored snapshot as a timeline links to it."""

    id: int
    taken_at: str


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


# --------------------------------------------------------------------------- stories


class Teller:
    """How each change is told (monitor.story): a followed document's change under its publication,
    labelled and noted as such, and a publication's change with its documents' beneath it.

    A story holds one run's changes (one ``detected_at``) of a publication and its documents, and what
    explains a document's change was recorded by then: so a change is told the same whenever it is
    rendered, from a run's changes and the histories of the pages in it, never from all changes at once.
    The records come from callables (lists for :func:`site`, bounded queries for ``monitor.site``):

    - ``links``: ``url -> (title, parent_url)`` of the documents and publications (``story_links``);
    - ``run_of(detected_at, urls)``: the run's changes of those pages;
    - ``history_of(url)``: every change of one page;
    - ``own_run(url, detected_at)``: the run's changes of one page that is in no story with another.
    """

    def __init__(
        self,
        links: Mapping[str, tuple[str, str | None]],
        *,
        run_of: Callable[[str, list[str]], Sequence[Change]],
        history_of: Callable[[str], Sequence[Change]],
        own_run: Callable[[str, str], Sequence[Change]],
    ) -> None:
        self.links = dict(links)
        self.run_of = run_of
        self.history_of = history_of
        self.own_run = own_run
        self._runs: dict[str, dict[str, Told]] = {}
        self._own: dict[tuple[str, str], dict[str, Told]] = {}
        self._own_runs: dict[tuple[str, str], dict[int | None, Change]] = {}

    def __call__(self, change: Change) -> Told:
        """The change's story, as its change page and feed entry tell it."""
        if not monitored(change):
            return NOT_TOLD
        if change.page_url in self.links:
            told = self._runs.get(change.detected_at)
            if told is None:
                told = self._runs[change.detected_at] = self._tell_run(change.detected_at)
        else:
            key = (change.page_url, change.detected_at)
            told = self._own.get(key)
            if told is None:
                known = self._own_runs.get(key)
                run = [known[i] for i in sorted(known, key=lambda i: i or 0)] if known else self.own_run(*key)
                told = self._own[key] = _stories(run, [], {})
        return told.get(change_key(change), NOT_TOLD)

    def listed(self, change: Change) -> Told:
        """The same for lists of changes, which show only a document's publication note and a
        publication's documents: a page in no story is not looked up."""
        return self(change) if change.page_url in self.links else NOT_TOLD

    def known(self, changes: Iterable[Change]) -> None:
        """Take a page's changes already read, so its own runs need no query."""
        for change in changes:
            if change.page_url not in self.links:
                self._own_runs.setdefault((change.page_url, change.detected_at), {})[change.id] = change

    def _tell_run(self, detected_at: str) -> dict[str, Told]:
        run = list(self.run_of(detected_at, sorted(self.links)))
        in_run = {c.page_url for c in run}
        involved = in_run | {p for u in in_run if (p := self.links[u][1]) and p in self.links}
        ids = {c.id for c in run}
        history = [
            c
            for url in sorted(involved)
            for c in self.history_of(url)
            if c.id not in ids and c.detected_at <= detected_at
        ]
        return _stories(run, history, self.links)


def _stories(
    run: Sequence[Change], history: Sequence[Change], links: Mapping[str, tuple[str, str | None]]
) -> dict[str, Told]:
    pages = [PageState(url=url, title=title, parent_url=parent) for url, (title, parent) in links.items()]
    told: dict[str, Told] = {}
    for story in story_rules.stories(run, pages, context=[*run, *history]):
        for change in story.changes:
            told[change_key(change)] = (story, None)
        for part in story.documents:
            told[change_key(part.change)] = (story, part)
    return told


def list_teller(pages: Sequence[PageState], changes: Sequence[Change]) -> Teller:
    """A :class:`Teller` over lists (for :func:`site`): the same stories ``monitor.site`` tells from the
    store."""
    parents = {p.parent_url for p in pages if p.parent_url}
    links = {p.url: (p.title, p.parent_url) for p in pages if p.parent_url or p.url in parents}
    ordered = sorted(changes, key=lambda c: c.id or 0)
    by_page: dict[str, list[Change]] = {}
    by_run: dict[str, list[Change]] = {}
    for change in ordered:
        by_page.setdefault(change.page_url, []).append(change)
        by_run.setdefault(change.detected_at, []).append(change)
    return Teller(
        links,
        run_of=lambda at, urls: [c for c in by_run.get(at, []) if c.page_url in set(urls)],
        history_of=lambda url: by_page.get(url, []),
        own_run=lambda url, at: [c for c in by_page.get(url, []) if c.detected_at == at],
    )


def _no_story(change: Change) -> Told:
    return NOT_TOLD


def _story_context(listed: Callable[[Change], Told]) -> dict[str, Any]:
    """What the templates ask of a change's story: the note that explains it, its story, its label."""

    def explained_by(change: Change) -> Any:
        part = listed(change)[1]
        return part.explained_by if part is not None else None

    return {
        "explained_by": explained_by,
        "story_of": lambda change: listed(change)[0],
        "change_label": lambda change: change_label(change, explained_by(change)),
    }


def _entry_story(told: Told) -> dict[str, Any]:
    """A change page's or feed entry's story: ``story`` for a page's own change (its documents are shown
    under it), ``part`` for a document's change told under its publication."""
    story, part = told
    return {"story": story if part is None else None, "part": part}


# --------------------------------------------------------------------------- one file each


def stylesheet() -> str:
    return (TEMPLATES_DIR / "style.css").read_text(encoding="utf-8")


def change_path(change: Change) -> str:
    return f"changes/{change_key(change)}.html"


def change_page(change: Change, page: SitePage, *, site_url: str = "", told: Teller | None = None) -> str:
    """``changes/<id>.html``: one change, section by section; a publication's documents beneath it, or a
    document's change under its publication's note."""
    story = _story_context(told.listed if told else _no_story)
    return _page(
        "change.html",
        **story,
        **_entry_story(told(change) if told else NOT_TOLD),
        site_url=site_url.rstrip("/"),
        root="../",
        change=change,
        page=page,
        title=f"{story['change_label'](change)}: {page.title}",
    )


def timeline(
    page: SitePage,
    *,
    site_url: str = "",
    upto: int | None = None,
    upto_version: int | None = None,
    told: Teller | None = None,
) -> str:
    """``pages/<slug>.html``: the page's monitored changes, newest first, its earlier history folded
    beneath. ``upto`` leaves out changes recorded after that id (a page written before their own pages)."""
    if upto is not None or upto_version is not None:
        page = SitePage(
            page.url,
            page.title,
            page.slug,
            page.state,
            [c for c in page.changes if upto is None or (c.id or 0) <= upto],
            page.history,
            [v for v in page.versions if upto_version is None or v.id <= upto_version],
        )
    return _page(
        "page.html",
        **_story_context(told.listed if told else _no_story),
        site_url=site_url.rstrip("/"),
        root="../",
        page=page,
        title=page.title,
    )


def snapshot_path(snapshot_id: int) -> str:
    return f"snapshots/{snapshot_id}.html"


def snapshot_page(page_url: str, taken_at: str, document: Document, *, site_url: str = "") -> str:
    """``snapshots/<id>.html``: the page as it read when it was stored (its title, dates, sections' text
    and attachments, as read from GOV.UK). It depends on the snapshot alone, so it is written once."""
    return _page(
        "snapshot.html",
        site_url=site_url.rstrip("/"),
        root="../",
        page_url=page_url,
        slug=page_slug(page_url),
        taken_at=taken_at,
        document=document,
        title=f"{document.title or page_url} as it read on {london_date(taken_at)}",
    )


def page_feed(page: SitePage, *, site_url: str = "", told: Teller | None = None) -> str:
    """``pages/<slug>.xml``: an Atom entry for each monitored change of the page."""
    return atom(
        page.changes,
        {page.url: page},
        feed_id=f"{TAG_AUTHORITY}:page/{page.slug}",
        title=f"Changes to {page.title}",
        site_url=site_url,
        self_path=f"pages/{page.slug}.xml",
        alternate=page_link(page.url, site_url) or http_url(page.url) or "",
        told=told,
    )


def change_list(
    changes: Sequence[Change],
    page_of: Mapping[str, SitePage],
    *,
    kinds: Sequence[str],
    months: Sequence[str],
    kind: str | None = None,
    site_url: str = "",
    told: Teller | None = None,
    signals: Sequence[str] = (),
    signal: str | None = None,
) -> str:
    """``index.html`` (``kind`` and ``signal`` None), ``kind/<kind>.html`` or ``signal/<kind>.html``:
    the latest changes, newest first."""
    if signal:
        title = f"Tagged “{SIGNAL_LABELS[signal]}”"
    else:
        title = KIND_LABELS[kind] if kind else "Recent changes"
    return _page(
        "index.html",
        **_story_context(told.listed if told else _no_story),
        site_url=site_url.rstrip("/"),
        root="../" if kind or signal else "",
        changes=newest_first(changes),
        page_of=page_of,
        kinds=kinds,
        kind=kind,
        signals=signals,
        signal=signal,
        months=months,
        index_limit=INDEX_LIMIT,
        title=title,
    )


def month_page(
    month: str,
    changes: Iterable[Change],
    page_of: Mapping[str, SitePage],
    *,
    count: int,
    site_url: str = "",
    told: Teller | None = None,
) -> Iterator[str]:
    """``archive/<YYYY-MM>.html``, piece by piece: every change found in one month, ``changes`` already
    newest first (they may come one by one from the store: a busy month is never held whole)."""
    return _stream(
        "archive.html",
        **_story_context(told.listed if told else _no_story),
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


def site_feed(
    changes: Sequence[Change],
    page_of: Mapping[str, SitePage],
    *,
    site_url: str = "",
    told: Teller | None = None,
) -> str:
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
        told=told,
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
    told: Teller | None = None,
) -> str:
    """An Atom feed, one entry per change, ids stable across rebuilds (``tag:...:change/<id>``).

    The feed is as new as its newest entry, so rebuilding it gives the same bytes; everything copied
    from a page is stripped of what XML 1.0 forbids."""
    site_url = site_url.rstrip("/")
    latest = max((iso_utc(c.detected_at) for c in changes), default=None)
    tell = told or _no_story
    story = _story_context(tell)
    return xml_safe(
        _render(
            "feed.xml",
            **story,
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
                "_entry.html",
                **story,
                **_entry_story(tell(c)),
                change=c,
                page=page_of[c.page_url],
                site_url=site_url,
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
    snapshots: Sequence[tuple[int, str, str, Document]] = (),
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
    for _, url, _, _ in snapshots:
        by_url.setdefault(url, [])
        states.setdefault(url, PageState(url=url, active=False))
    views = [site_page(states[url], recorded) for url, recorded in by_url.items()]
    page_of = {v.url: v for v in views}
    for snapshot_id, url, taken_at, _ in sorted(snapshots, key=lambda s: s[0]):
        page_of[url].versions.append(Version(snapshot_id, taken_at))
    seen = latest_first(c for c in changes if monitored(c))
    kinds = [k for k in KIND_ORDER if any(c.kind == k for c in seen)]
    tagged = {c.id: signal_kinds(c) for c in seen}
    signals = [g for g in SIGNAL_LABELS if any(g in found for found in tagged.values())]
    months = sorted({month_of(c.detected_at) for c in seen}, reverse=True)
    told = list_teller(list(states.values()), changes)
    files = {"style.css": stylesheet()}
    for snapshot_id, url, taken_at, document in snapshots:
        files[snapshot_path(snapshot_id)] = snapshot_page(url, taken_at, document, site_url=site_url)
    for view in views:
        files[f"pages/{view.slug}.xml"] = page_feed(view, site_url=site_url, told=told)
        for change in view.changes:
            files[change_path(change)] = change_page(change, view, site_url=site_url, told=told)
        files[f"pages/{view.slug}.html"] = timeline(view, site_url=site_url, told=told)
    for month in months:
        listed = newest_first(c for c in seen if month_of(c.detected_at) == month)
        pieces = month_page(month, listed, page_of, count=len(listed), site_url=site_url, told=told)
        files[f"archive/{month}.html"] = "".join(pieces)
    for kind in kinds:
        files[f"kind/{kind}.html"] = change_list(
            [c for c in seen if c.kind == kind][:INDEX_LIMIT],
            page_of,
            kinds=kinds,
            months=months,
            kind=kind,
            site_url=site_url,
            told=told,
            signals=signals,
        )
    for signal in signals:
        files[f"signal/{signal}.html"] = change_list(
            [c for c in seen if signal in tagged[c.id]][:INDEX_LIMIT],
            page_of,
            kinds=kinds,
            months=months,
            signal=signal,
            site_url=site_url,
            told=told,
            signals=signals,
        )
    files["index.html"] = change_list(
        seen[:INDEX_LIMIT], page_of, kinds=kinds, months=months, site_url=site_url, told=told, signals=signals
    )
    files["pages.html"] = "".join(pages_list((page_entry(v) for v in views), site_url=site_url))
    files["feed.xml"] = site_feed(seen[:SITE_FEED_LIMIT], page_of, site_url=site_url, told=told)
    return files
