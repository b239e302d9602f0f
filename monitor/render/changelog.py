"""The static changelog's files, one renderer per kind of file, pure: records in, text out.

Every file depends only on the records it shows (never on the time it was built), so a file rendered
again from the same database has the same bytes: that is what lets :mod:`monitor.publish` rewrite only
the files a run's new changes touch, and lets a full rebuild be compared byte for byte with the files the
runs wrote one by one. ``monitor.publish`` decides which files to write and reads the records for them
from the store; this module only says what each file holds.

Only changes seen by monitoring are listed on the index, the kind and month pages and in the feeds, each
with a page of its own. History GOV.UK published before monitoring began is shown folded beneath the
page's timeline, without pages of its own, and never as a new feed entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..clock import LONDON, london_date, parse_timestamp
from ..govuk import normalise, page_slug
from ..model import Change, Document, PageState
from .evidence import change_evidence
from .labels import KIND_LABELS, SIGNAL_LABELS, change_label, month_label
from .records import change_date, change_key, http_url, iso_utc, newest_first, page_link
from .stories import DocumentGroup, StoryIndex, StoryPlace, document_groups, lead, listed_stories, story_label
from .templates import environment, render_template

TAG_AUTHORITY = "tag:guidance-monitor,2026"
"""The authority of feed and entry ids when the site's address is not configured, followed by the
installation's key (:func:`feed_tag`)."""
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
    versions: list[Version] = field(default_factory=list)
    """The snapshots stored of the page, oldest first: each has a page of its own."""


@dataclass(frozen=True)
class Version:
    """A stored snapshot as a timeline links to it."""

    id: int
    taken_at: str


def site_page(state: PageState, changes: Iterable[Change]) -> SitePage:
    """One page's view from its state and all its recorded changes."""
    ordered = newest_first(c for c in changes if c.kind != "none")
    seen = [c for c in ordered if not c.backfilled]
    title = state.title or next((c.title for c in ordered if c.title), "") or state.url
    return SitePage(state.url, title, page_slug(state.url), state, seen, [c for c in ordered if c.backfilled])


def month_of(detected_at: str) -> str:
    """The month (``YYYY-MM``, London time) a change was found in: the month page that lists it."""
    return parse_timestamp(detected_at).astimezone(LONDON).strftime("%Y-%m")


def latest_first(changes: Iterable[Change]) -> list[Change]:
    """In the order they were recorded, latest first: which changes the index and feeds take."""
    return sorted(changes, key=lambda c: (c.id or 0, c.detected_at or ""), reverse=True)


def _page(name: str, **context: object) -> str:
    """A page rendered whole, stripped of what XML forbids (a feed reader may read any of them)."""
    return xml_safe(render_template(name, **context))


def _stream(name: str, **context: object) -> Iterator[str]:
    """A page as it is rendered, piece by piece, so a long one is written out without being held whole
    (the same text as :func:`_page`)."""
    for piece in environment().get_template(name).generate(**context):
        yield xml_safe(piece)


def _story_context(listed: Callable[[Change], StoryPlace]) -> dict[str, Any]:
    """What the templates ask of a change's story: its label, which says when its publication's note
    explains it."""

    def explained_by(change: Change) -> Any:
        part = listed(change)[1]
        return part.explained_by if part is not None else None

    return {"change_label": lambda change: change_label(change, explained_by(change))}


def _entry_story(place: StoryPlace) -> dict[str, Any]:
    """A change page's or feed entry's story: ``story`` for a page's own change (its documents are shown
    under it), ``part`` for a document's change told under its publication."""
    story, part = place
    return {"story": story if part is None else None, "part": part}


# --------------------------------------------------------------------------- one file each


def stylesheet() -> str:
    """``style.css``, rendered like every template: it includes the diff view's styles (``_diff.css``), so
    a change page carries them in ``<head>`` rather than in a ``<style>`` inside ``<body>``."""
    return render_template("style.css")


def feed_tag(site_url: str, installation: str) -> str:
    """The prefix of every feed and entry id of one site: the host (and path) of ``digest.site_url`` when
    it is set, else :data:`TAG_AUTHORITY` with the installation's key, so two installations' entries are
    never taken for one another by a reader that follows both."""
    parts = urlsplit(site_url)
    if parts.hostname:
        path = parts.path.strip("/")
        return f"tag:{parts.hostname},2026" + (f":{path}" if path else "")
    return f"{TAG_AUTHORITY}:{installation}"


def search_page() -> str:
    """``search.html``: the search box's results, from the Pagefind index published with the site."""
    return _page("search.html", root="", title="Search the changes")


def change_path(change: Change) -> str:
    """Where a change's page is: named by :func:`change_key`, so its address never changes."""
    return f"changes/{change_key(change)}.html"


def side_by_side_path(change: Change) -> str:
    """Where a change's side-by-side view is, beside its page."""
    return f"changes/{change_key(change)}-side-by-side.html"


def has_side_by_side(change: Change, stories: StoryIndex) -> bool:
    """Whether a change has a side-by-side page (and its page a link to it): not a page's first sighting,
    which has no earlier text to set beside its own, unless its story tells edits to its documents."""
    return change.kind != "new" or bool(_documents_side_by_side(stories.place(change)))


def _documents_side_by_side(place: StoryPlace) -> list[DocumentGroup]:
    """The documents of a page's own story (not a document's, told under its publication) with an edit
    whose text a side-by-side page shows."""
    story = _entry_story(place)["story"]
    if story is None:
        return []
    return [doc for doc in document_groups(story) if any(edit.changeset for edit in doc.edits)]


def _change_file(
    name: str, change: Change, page: SitePage, *, site_url: str, stories: StoryIndex, **context: Any
) -> str:
    """One of a change's own files: the change with its story around it."""
    return _page(
        name,
        **_story_context(stories.listed_place),
        **_entry_story(stories.place(change)),
        site_url=site_url.rstrip("/"),
        root="../",
        change=change,
        page=page,
        **context,
    )


def change_page(
    change: Change,
    page: SitePage,
    *,
    site_url: str = "",
    stories: StoryIndex,
    hashes: tuple[str | None, str | None] = (None, None),
) -> str:
    """``changes/<id>.html``: one change, its changed paragraphs with one either side (the rest folded),
    a publication's documents beneath it, or a document's change under its publication's note; then the
    evidence for it (``hashes``: the SHA-256 of the old and new bodies as fetched)."""
    label = _story_context(stories.listed_place)["change_label"](change)
    title = change.title or page.title
    return _change_file(
        "change.html",
        change,
        page,
        site_url=site_url,
        stories=stories,
        evidence=change_evidence(
            change, old_sha256=hashes[0], new_sha256=hashes[1], site_url=site_url, title=title
        ),
        side_by_side=side_by_side_path(change).removeprefix("changes/")
        if has_side_by_side(change, stories)
        else None,
        title=f"{label}: {page.title}",
    )


def side_by_side_page(change: Change, page: SitePage, *, site_url: str = "", stories: StoryIndex) -> str:
    """``changes/<id>-side-by-side.html``: each changed section's old and new text paragraph by
    paragraph, deletions and insertions marked, nothing folded; a publication's documents beneath it.
    It links only to pages written before it (the page's timeline, the snapshots), never to the change
    page, which links to it. Written only for a change that :func:`has_side_by_side`."""
    title = f"Side by side: {change.title or page.title}"
    return _change_file(
        "side_by_side.html",
        change,
        page,
        site_url=site_url,
        stories=stories,
        title=title,
        documents=_documents_side_by_side(stories.place(change)),
    )


def timeline(
    page: SitePage,
    *,
    site_url: str = "",
    upto: int | None = None,
    upto_version: int | None = None,
    stories: StoryIndex,
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
        **_story_context(stories.listed_place),
        site_url=site_url.rstrip("/"),
        root="../",
        page=page,
        stories=listed_stories(page.changes, stories),
        title=page.title,
    )


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


def page_feed(page: SitePage, *, site_url: str = "", tag: str, stories: StoryIndex) -> str:
    """``pages/<slug>.xml``: an Atom entry for each update the page's monitored changes are told in."""
    return atom(
        page.changes,
        tag=tag,
        feed_id=f"{tag}:page/{page.slug}",
        title=f"Changes to {page.title}",
        site_url=site_url,
        self_path=f"pages/{page.slug}.xml",
        alternate=page_link(page.url, site_url) or http_url(page.url) or "",
        stories=stories,
    )


def change_list(
    changes: Sequence[Change],
    *,
    kinds: Sequence[str],
    months: Sequence[str],
    kind: str | None = None,
    site_url: str = "",
    stories: StoryIndex,
    signals: Sequence[str] = (),
    signal: str | None = None,
) -> str:
    """``index.html`` (``kind`` and ``signal`` None), ``kind/<kind>.html`` or ``signal/<kind>.html``:
    the updates the latest changes are told in, newest news first."""
    if signal:
        title = f"Tagged “{SIGNAL_LABELS[signal]}”"
    else:
        title = KIND_LABELS[kind] if kind else "Recent changes"
    return _page(
        "index.html",
        **_story_context(stories.listed_place),
        site_url=site_url.rstrip("/"),
        root="../" if kind or signal else "",
        stories=listed_stories(changes, stories, kind=kind)[:INDEX_LIMIT],
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
    *,
    count: int,
    site_url: str = "",
    stories: StoryIndex,
) -> Iterator[str]:
    """``archive/<YYYY-MM>.html``, piece by piece: every update found in one month, newest news first.
    ``changes`` may come one by one from the store; each update is told once, from the story index."""
    return _stream(
        "archive.html",
        **_story_context(stories.listed_place),
        site_url=site_url.rstrip("/"),
        root="../",
        stories=listed_stories(changes, stories),
        count=count,
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
    """The page's line of ``pages.html``, dated by its latest change or, without one, its latest history."""
    latest = page.changes[0] if page.changes else (page.history[0] if page.history else None)
    return PageEntry(page.title, page.slug, page.state, change_date(latest) if latest else "")


def pages_list(entries: Iterable[PageEntry], *, site_url: str = "") -> Iterator[str]:
    """``pages.html``, piece by piece: every watched page, by title."""
    ordered = sorted(entries, key=lambda e: (e.title.lower(), e.slug))
    return _stream("pages.html", site_url=site_url.rstrip("/"), root="", pages=ordered, title="Watched pages")


def site_feed(
    changes: Sequence[Change],
    *,
    site_url: str = "",
    tag: str,
    stories: StoryIndex,
) -> str:
    """``feed.xml``: the updates of the latest monitored changes across every page."""
    site_url = site_url.rstrip("/")
    return atom(
        changes,
        tag=tag,
        feed_id=f"{tag}:site",
        title="Changes to watched GOV.UK guidance",
        site_url=site_url,
        self_path="feed.xml",
        alternate=f"{site_url}/" if site_url else "",
        stories=stories,
    )


def atom(
    changes: Sequence[Change],
    *,
    tag: str,
    feed_id: str,
    title: str,
    site_url: str,
    self_path: str,
    alternate: str,
    stories: StoryIndex,
) -> str:
    """An Atom feed, one entry per update (a publication's with its documents' changes in it), ids
    stable across rebuilds (``<tag>:change/<id>``, the id of the change the update's page is named
    after).

    The feed is as new as its newest entry (an empty feed is dated 1970), so rebuilding it gives the
    same bytes; everything copied from a page is stripped of what XML 1.0 forbids. It links to itself
    (``rel="self"``, relative to the feed when the site's address is not configured), and each entry to
    its change page, or without the site's address to the page on GOV.UK (its one spelling, https for
    every GOV.UK page), so a reader always has a page to open."""
    site_url = site_url.rstrip("/")
    told = listed_stories(changes, stories)
    latest = max((iso_utc(s.detected_at) for s in told), default=None)
    return xml_safe(
        render_template(
            "feed.xml",
            feed_id=feed_id,
            title=title,
            stories=told,
            site_url=site_url,
            self_url=f"{site_url}/{self_path}" if site_url else self_path.rpartition("/")[2],
            alternate=alternate,
            updated=latest or iso_utc(None),
            tag=tag,
            page_on_govuk=lambda url: http_url(normalise(url)),
            entry_title=lambda story: f"{story.title}: {lead(story).headline or story_label(story)}",
            entry_html=lambda story: render_template("_entry.html", story=story, site_url=site_url),
        )
    )
