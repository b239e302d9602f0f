"""How long telling a year of changes as stories takes (monitor.story via render.change_stories).

A year of daily runs for 50 publications, each with two followed documents: the publication gains a
history entry every 10th day and its documents change that day; on every 7th day one document changes
silently. Run on demand:

    .venv/bin/python benchmarks/bench_story.py

Figures (2026-12-01, this container): 26,150 changes (7,900 told), stories in 0.2 to 0.6 s
(two runs of the command).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from monitor import render
from monitor.model import Change, ChangeSet, HistoryEntry, PageState

PUBLICATIONS = 50
DAYS = 365


def year() -> tuple[list[Change], list[PageState]]:
    pages: list[PageState] = []
    changes: list[Change] = []
    ident = 0
    start = date(2025, 1, 1)
    for p in range(PUBLICATIONS):
        publication = f"https://www.gov.uk/government/publications/p{p}"
        documents = [f"{publication}/d{d}" for d in range(2)]
        pages.append(PageState(publication, f"Publication {p}"))
        pages += [PageState(url, f"Document {url[-2:]}", parent_url=publication) for url in documents]
        for day in range(DAYS):
            when = (start + timedelta(days=day)).isoformat()
            at = f"{when}T07:00:00+00:00"
            for url in (publication, *documents):
                ident += 1
                if day == 0:
                    changes.append(
                        Change(url, "new", at, "", note="First seen", effective_date=when, id=ident)
                    )
            if day and day % 10 == 0:
                ident += 1
                note = f"Updated on day {day}."
                cs = ChangeSet("major", history_added=[HistoryEntry(when, note)])
                changes.append(Change(publication, "major", at, "", cs, note, when, id=ident))
                for url in documents:
                    ident += 1
                    changes.append(Change(url, "minor", at, "", ChangeSet("minor"), "", when, id=ident))
            elif day and day % 7 == 0:
                ident += 1
                changes.append(Change(documents[0], "minor", at, "", ChangeSet("minor"), "", when, id=ident))
            # Fetch-only days leave no change; pad with backfilled history to make the set realistic.
            ident += 1
            changes.append(
                Change(publication, "major", at, "", None, "Older entry.", when, backfilled=True, id=ident)
            )
    return changes, pages


def main() -> None:
    changes, pages = year()
    started = time.perf_counter()
    told = render.change_stories(changes, pages)
    elapsed = time.perf_counter() - started
    print(f"{len(changes):,} changes ({len(told):,} told), stories in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
