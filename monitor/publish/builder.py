"""One build of the changelog: from what the manifest says the folder shows to what the store holds now.

A full rebuild is the same build from an empty manifest into a new folder, so the two share every
decision about what goes where; only how each file reaches the disk differs (see ``SiteFolder``).

A page is written only after the pages it links to, so a reader, or a run killed at any instant, never
finds a link to a file that is not there yet. A brand-new page first gets a timeline that lists none of
its new changes, so that its change pages, which link back to it, come after it; a new kind or signal
page is first linked only from lists that are already there.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from pathlib import Path

from ..clock import london_day
from ..govuk import page_slug
from ..model import PageState
from ..render.changelog import (
    INDEX_LIMIT,
    SITE_FEED_LIMIT,
    PageEntry,
    Version,
    change_list,
    change_page,
    change_path,
    feed_tag,
    has_side_by_side,
    month_of,
    month_page,
    page_entry,
    page_feed,
    pages_list,
    search_page,
    side_by_side_page,
    side_by_side_path,
    site_feed,
    site_page,
    snapshot_page,
    stylesheet,
    timeline,
)
from ..render.evidence import snapshot_path
from ..render.labels import KIND_ORDER, SIGNAL_LABELS, signal_kinds
from ..render.stories import StoryIndex, story_kinds
from ..store import SiteReads, Store
from . import search_index
from .dates import counted_from, write_dates
from .folders import SITE_MARKER, SiteFolder
from .manifest import Facts, Manifest, facts_digest, listed_state


def story_index(reads: SiteReads) -> StoryIndex:
    """Where each change is told, from the store's bounded reads: what the site and Datasette's silent
    edits both go by."""
    return StoryIndex(
        reads.story_links(),
        run_of=reads.run_changes,
        history_of=reads.page_changes,
        own_run=reads.page_run,
    )


class Builder:
    """One build into ``root``: ``in_place`` for the live site a run updates, else a new folder."""

    def __init__(
        self, store: Store, root: Path, manifest: Manifest, *, site_url: str, in_place: bool
    ) -> None:
        self.store = store
        self.reads = SiteReads(store)
        self.files = SiteFolder(root, in_place=in_place)
        self.old = manifest
        self.site_url = site_url.rstrip("/")
        self.tag = feed_tag(self.site_url, self.reads.installation())
        self.in_place = in_place
        self.tagged: dict[str, list[int]] = {}
        self.stories = story_index(self.reads)
        self.search = search_index.available()

    def run(self) -> None:
        """Write what changed since the manifest, pages before the lists that link to them, and the
        manifest last: a build killed before the end is finished by the next one."""
        old = self.old
        new = old.copy()
        states = {f[0]: f for f in self.reads.page_facts()}
        touched: set[str] = set()
        months: set[str] = set()
        listed: list[tuple[int, str, str, str]] = []
        for change_id, url, kind, detected_at, backfilled in self.reads.change_rows(old.last_change):
            new.last_change = change_id
            touched.add(url)
            if backfilled or kind == "none":
                continue
            listed.append((change_id, url, kind, detected_at))
            months.add(month_of(detected_at))
        for snapshot_id, url in self.reads.snapshot_rows(old.last_snapshot):
            new.last_snapshot = snapshot_id
            touched.add(url)
        touched |= {
            url for url, s in states.items() if old.pages.get(url, [None, None])[1] != facts_digest(s)
        }
        if not self.in_place:
            self.files.write("style.css", stylesheet())
            if self.search:
                self.files.write("search.html", search_page())
            else:
                search_index.say_once_unavailable()
        if not touched and new.last_change == old.last_change and new.last_snapshot == old.last_snapshot:
            if self.in_place and old.dates_from != counted_from(self.store):  # a new day: what is to come
                self.files.begin()
                write_dates(self.store, self.files, new, site_url=self.site_url)
                self.files.write(SITE_MARKER, new.dump())
                self.files.finish()
            return
        if self.in_place:
            self.files.begin()
        for url in sorted(touched):
            months |= self._page(
                self.store.page(url) or PageState(url=url, active=False), states.get(url), new
            )
        # What search reads is written: Pagefind indexes it while the lists and dates are written.
        with (
            search_index.indexing(self.files.root, in_place=self.in_place)
            if self.search
            else contextlib.nullcontext()
        ):
            added = self._kinds_listed(listed)
            limit = max(INDEX_LIMIT, SITE_FEED_LIMIT)
            new.latest = (added.get("", [])[::-1] + new.latest)[:limit]
            for kind in KIND_ORDER:
                if added.get(kind) or kind in new.kinds:
                    new.kinds[kind] = (added.get(kind, [])[::-1] + new.kinds.get(kind, []))[:INDEX_LIMIT]
            for signal in SIGNAL_LABELS:
                if self.tagged.get(signal) or signal in new.signals:
                    tagged = sorted(self.tagged.get(signal, []), reverse=True)
                    new.signals[signal] = (tagged + new.signals.get(signal, []))[:INDEX_LIMIT]
            new.months = sorted(set(new.months) | months, reverse=True)
            for month in sorted(months):
                self._month(month)
            self._lists(new, states)
            write_dates(self.store, self.files, new, site_url=self.site_url)
        self.files.write(SITE_MARKER, new.dump())
        if self.in_place:
            self.files.finish()

    def _kinds_listed(self, listed: list[tuple[int, str, str, str]]) -> dict[str, list[int]]:
        """The new changes (``(id, page, kind, run)``, oldest first) by the kind pages that list them
        ("" for every one). Asked once the pages are written: the story index then holds each page's
        changes already read, and needs no query of its own."""
        added: dict[str, list[int]] = {}
        for change_id, url, kind, detected_at in listed:
            added.setdefault("", []).append(change_id)
            story = self.stories.story_of(change_id, url, detected_at)
            # Listed on the kind pages of the update it is told in: a document's change that its
            # publication explains is never listed as a change without a note.
            for shown in story_kinds(story) if story is not None else [kind]:
                added.setdefault(shown, []).append(change_id)
        return added

    # ----------------------------------------------------------------------- one page

    def _page(self, state: PageState, facts: Facts | None, new: Manifest) -> set[str]:
        """Write one page's new change pages, feed and timeline; return the months to rewrite."""
        view = site_page(state, self.reads.page_changes(state.url))
        view.versions = [Version(*v) for v in self.reads.page_versions(state.url)]
        self.stories.remember(view.changes)
        stories = self.stories
        before = self.old.pages.get(state.url)
        retitled = before is None or before[0] != view.title
        timeline_path = f"pages/{view.slug}.html"
        months: set[str] = set()
        if self.in_place and not self.files.exists(timeline_path):
            self.files.write(
                f"pages/{view.slug}.xml",
                page_feed(view, site_url=self.site_url, tag=self.tag, stories=stories),
            )
            self.files.write(
                timeline_path,
                timeline(
                    view,
                    site_url=self.site_url,
                    upto=self.old.last_change,
                    upto_version=self.old.last_snapshot,
                    stories=stories,
                ),
            )
        for version in view.versions:  # written once: a snapshot never changes
            if version.id > self.old.last_snapshot and (found := self.reads.snapshot(version.id)):
                url, taken_at, document = found
                self.files.write(
                    snapshot_path(version.id), snapshot_page(url, taken_at, document, site_url=self.site_url)
                )
        for change in view.changes:
            if (change.id or 0) > self.old.last_change:
                for signal in signal_kinds(change):
                    self.tagged.setdefault(signal, []).append(change.id or 0)
        for change in reversed(view.changes):
            if retitled or (change.id or 0) > self.old.last_change:
                if has_side_by_side(change, stories):
                    self.files.write(
                        side_by_side_path(change),
                        side_by_side_page(change, view, site_url=self.site_url, stories=stories),
                    )
                self.files.write(
                    change_path(change),
                    change_page(
                        change,
                        view,
                        site_url=self.site_url,
                        stories=stories,
                        hashes=self.reads.body_hashes(change),
                    ),
                )
                if retitled and before is not None:
                    months.add(month_of(change.detected_at))
        self.files.write(
            f"pages/{view.slug}.xml", page_feed(view, site_url=self.site_url, tag=self.tag, stories=stories)
        )
        self.files.write(timeline_path, timeline(view, site_url=self.site_url, stories=stories))
        entry = page_entry(view)
        new.pages[state.url] = [view.title, facts_digest(facts) if facts else "", entry.last_change]
        return months

    # ----------------------------------------------------------------------- lists

    def _month(self, month: str) -> None:
        """``archive/<month>.html``, read from the store a batch at a time (a month may be long)."""
        first = date.fromisoformat(f"{month}-01")
        following = (first + timedelta(days=32)).replace(day=1)
        rows = self.reads.detected_between(
            (first - timedelta(days=1)).isoformat(), (following + timedelta(days=1)).isoformat()
        )
        listed = [r for r in rows if not r[5] and r[2] != "none" and month_of(r[4]) == month]
        listed.sort(key=lambda r: (r[3] or london_day(r[4]) or "", r[4] or "", r[0]), reverse=True)
        changes = self.reads.changes_by_id([r[0] for r in listed])
        self.files.write_pieces(
            f"archive/{month}.html",
            month_page(month, changes, count=len(listed), site_url=self.site_url, stories=self.stories),
        )

    def _lists(self, new: Manifest, states: dict[str, Facts]) -> None:
        """The kind and signal pages, the index, ``pages.html`` and ``feed.xml``."""
        kinds = [k for k in KIND_ORDER if new.kinds.get(k)]
        signals = [g for g in SIGNAL_LABELS if new.signals.get(g)]
        if self.in_place:  # a new filter page first links only to pages that exist
            shown = [k for k in KIND_ORDER if self.old.kinds.get(k)]
            shown_signals = [g for g in SIGNAL_LABELS if self.old.signals.get(g)]
            for kind in kinds:
                if kind not in shown:
                    interim = [k for k in KIND_ORDER if k in shown or k == kind]
                    self._filter(new, interim, shown_signals, kind=kind)
            for signal in signals:
                if signal not in shown_signals:
                    interim = [g for g in SIGNAL_LABELS if g in shown_signals or g == signal]
                    self._filter(new, shown, interim, signal=signal)
        for kind in kinds:
            self._filter(new, kinds, signals, kind=kind)
        for signal in signals:
            self._filter(new, kinds, signals, signal=signal)
        latest = list(self.reads.changes_by_id(new.latest))
        self.files.write(
            "index.html",
            change_list(
                latest[:INDEX_LIMIT],
                kinds=kinds,
                months=new.months,
                site_url=self.site_url,
                stories=self.stories,
                signals=signals,
            ),
        )
        entries = (
            PageEntry(
                title, page_slug(url), listed_state(states[url]) if url in states else PageState(url), last
            )
            for url, (title, _, last) in new.pages.items()
        )
        self.files.write_pieces("pages.html", pages_list(entries, site_url=self.site_url))
        self.files.write(
            "feed.xml",
            site_feed(latest[:SITE_FEED_LIMIT], site_url=self.site_url, tag=self.tag, stories=self.stories),
        )

    def _filter(
        self,
        new: Manifest,
        kinds: list[str],
        signals: list[str],
        *,
        kind: str | None = None,
        signal: str | None = None,
    ) -> None:
        """``kind/<kind>.html`` or ``signal/<kind>.html``, linking to the ``kinds`` and ``signals`` pages."""
        ids = new.signals[signal] if signal else new.kinds[kind or ""]
        self.files.write(
            f"signal/{signal}.html" if signal else f"kind/{kind}.html",
            change_list(
                list(self.reads.changes_by_id(ids)),
                kinds=kinds,
                months=new.months,
                kind=kind,
                site_url=self.site_url,
                stories=self.stories,
                signals=signals,
                signal=signal,
            ),
        )
