"""The calendar of dates to act on, kept up to date in the store and written as ``dates.html`` and
``dates.ics``.

Each page's dates are followed through its versions (:func:`monitor.deadlines.follow`) and kept in the
store with the snapshot they were followed to, so a run folds in only the snapshots stored since: a page
that did not change costs nothing, and an event keeps its UID and SEQUENCE from one run to the next.
"""

from __future__ import annotations

import hashlib
import json

from ..clock import london_day
from ..deadlines import Tracked, Update, follow, page_dates
from ..render.dates import calendar_ics, dates_page
from ..store import Store
from ..store.dates import DateReads
from .folders import SiteFolder
from .manifest import Manifest


def followed_dates(store: Store, page_url: str | None = None) -> list[Tracked]:
    """Every page's dates, followed up to its last snapshot (the pages with new snapshots first brought
    up to date and kept). A page GOV.UK moved hands its dates to its new address, where they keep their
    events (what its old address shows after the move is the new page's); a page removed no longer
    holds its dates, which are cancelled. With ``page_url``, that page's only."""
    reads = DateReads(store)
    ended = reads.pages_ended()
    behind = reads.pages_behind()
    if ended or behind:
        with reads.keeping():
            _bring_up_to_date(reads, behind, ended)
    every = [Tracked.from_dict(t) for _, found in reads.all_tracked() for t in found]
    return [t for t in every if page_url is None or t.current.page_url == page_url]


def _bring_up_to_date(
    reads: DateReads, behind: list[tuple[str, int]], ended: list[tuple[str, int, str]]
) -> None:
    """Fold each page's new versions into its followed dates, hand a moved page's dates to its new
    address, and cancel the dates of a page that moved or went."""
    moves = reads.moves() if any(after == 0 for _, after in behind) else {}
    recorded = reads.recorded_with(min(after for _, after in behind)) if behind else {}
    for url, after in behind:
        tracked = [Tracked.from_dict(t) for t in reads.tracked(url)]
        if after == 0:
            for old_url, move_id in moves.get(url, []):
                handed = [Tracked.from_dict(t) for t in reads.tracked(old_url)]
                known = {t.uid for t in tracked}
                tracked += [t for t in handed if t.uid not in known]
                reads.keep(old_url, [], ended=move_id)
        last = after
        moved = reads.moved_at(url)
        for snapshot_id, taken_at, day, document, change_id in reads.versions_after(url, after, recorded):
            last = snapshot_id
            if moved is not None and taken_at >= moved:
                continue
            tracked, _ = follow(tracked, page_dates(document), Update(london_day(day) or day, change_id))
        reads.keep(url, [t.to_dict() for t in tracked], snapshot_id=last)
    for url, change_id, day in ended:
        tracked = [Tracked.from_dict(t) for t in reads.tracked(url)]
        tracked, _ = follow(tracked, [], Update(london_day(day) or day, change_id))
        reads.keep(url, [t.to_dict() for t in tracked], ended=change_id)


def counted_from(store: Store) -> str:
    """The day "upcoming" counts from: the London day of the last check, so the page says what was to
    come when the guidance was last read, and the same database gives the same file."""
    return london_day(DateReads(store).last_checked()) or "1970-01-01"


def write_dates(store: Store, files: SiteFolder, shown: Manifest, *, site_url: str) -> None:
    """Write ``dates.ics`` then ``dates.html`` (which links to it), each only when what it shows is not
    what ``shown``, the manifest the build writes, says the folder shows already (most runs move no date,
    and the calendar is dear to render); then record in it what they show."""
    events = followed_dates(store)
    titles = DateReads(store).titles()
    since = counted_from(store)
    digest = hashlib.sha256(
        json.dumps([[t.to_dict() for t in events], titles], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:32]
    if digest != shown.dates:
        files.write("dates.ics", calendar_ics(events, titles, site_url=site_url))
    if digest != shown.dates or since != shown.dates_from:
        files.write("dates.html", dates_page(events, titles, since=since, site_url=site_url))
    shown.dates, shown.dates_from = digest, since
