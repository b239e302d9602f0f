"""The labelled table of real page timelines (``tests/silent_cases.yaml``) and how the monitor's telling of
each is held against its label. The tests and ``benchmarks/silent_accuracy.py`` share this, so a figure in
the benchmark's README is the figure the tests assert.

Each row is a page (and, for a document followed under its publication, the publication too) checked at a
few runs, each run answering with one real capture (``tests/fixtures/silent_cases/``). The captures go
through the same path as a daily run's answers: ``parse``, ``changes.decide`` with the page's state and
snapshots kept between runs as the store keeps them, and ``story.stories`` for what the run tells. Two
rules are read off the outcome:

- silent edit: the page's change in the last run is told as "Changed without a change note";
- reverted: how many runs report the page as ``reverted`` (a return told once is one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from signal_table import Score

from monitor import changes
from monitor.model import Answer, Change, Document, FetchResult, PageState, SnapshotRef
from monitor.parse import parse
from monitor.story import stories

TABLE = Path(__file__).parent / "silent_cases.yaml"
FIXTURES = Path(__file__).parent / "fixtures"
CAPTURES = FIXTURES / "silent_cases"
BUNDLED = Path(__file__).parent.parent / "data" / "samples" / "publication-timeline"
"""The demo's own captures of the same publication: those it holds are read from there, not copied."""
GOVUK = "https://www.gov.uk/"
PUBLICATION = (
    "government/publications/guidance-for-full-opening-special-schools-and-other-specialist-settings"
)


def load() -> list[dict]:
    return yaml.safe_load(TABLE.read_text(encoding="utf-8"))


def silent_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if "silent" in row]


def revert_rows(rows: list[dict]) -> list[dict]:
    return [row for row in rows if "reverted" in row]


# --------------------------------------------------------------------------- captures


def url_of(row: dict) -> str:
    """The page's address: a dfe_changes or html_timeline folder is its path with "/" as "~"; a
    publication_timeline file is a document of the publication (or the publication itself)."""
    if row["set"] != "publication_timeline":
        return GOVUK + row["page"].replace("~", "/")
    if row["page"] == PUBLICATION.rsplit("/", 1)[1]:
        return GOVUK + PUBLICATION
    return f"{GOVUK}{PUBLICATION}/{row['page']}"


def watched_alone(row: dict) -> bool:
    """A publication's HTML document watched without its publication (no publication to explain it)."""
    return "publication" not in row and url_of(row).startswith(f"{GOVUK}{PUBLICATION}/")


def capture_file(row: dict, page: str, capture: str) -> Path:
    if row["set"] == "publication_timeline":
        name = Path(capture) / f"{page}.html"
        copied = CAPTURES / "publication_timeline" / name
        return copied if copied.exists() else BUNDLED / name
    folder = CAPTURES / "dfe_changes" if row["set"] == "dfe_changes" else FIXTURES / "html_timeline"
    return folder / page / capture / f"{page.rsplit('~', 1)[1]}.html"


def taken_at(capture: str) -> datetime | None:
    """When the mirror took a capture, from its folder's name ("2021-03-26T1710_64c407435d")."""
    try:
        return datetime.strptime(capture.split("_", 1)[0], "%Y-%m-%dT%H%M").replace(tzinfo=UTC)
    except ValueError:
        return None  # "<commit>-before": the page just before its first alert here


def run_times(runs: list[list[str]]) -> list[datetime]:
    """When each run happens: when its latest capture was taken, and never before a day after the run
    before it (a sequence that serves an earlier capture again runs later all the same). A run of
    "-before" captures only is a day before the next run."""
    taken = [max(filter(None, map(taken_at, captures)), default=None) for captures in runs]
    first = next(t for t in taken if t is not None)
    times: list[datetime] = []
    for when in taken:
        if when is None:
            when = first - timedelta(days=1) if not times else times[-1] + timedelta(days=1)
        if times and when <= times[-1]:
            when = times[-1] + timedelta(days=1)
        times.append(when)
    return times


# --------------------------------------------------------------------------- the runs


@dataclass
class Watched:
    """One page as the store would keep it between runs: its state, snapshots and recorded changes."""

    state: PageState
    snapshots: list[SnapshotRef] = field(default_factory=list)
    """Newest first, as the store gives them."""
    documents: dict[int, Document] = field(default_factory=dict)

    def check(self, document: Document, when: str) -> list[Change]:
        answer = Answer(
            FetchResult(self.state.url, self.state.url, 200, b"<main/>", fetched_at=when), document
        )
        last = self.documents[self.snapshots[0].id] if self.snapshots else None
        told = self.documents.get(self.state.returned_from) if self.state.returned_from is not None else None
        update = changes.decide(
            self.state, answer, when, last=last, recent=self.snapshots[: changes.recent_needed()], told=told
        )
        if update.snapshot is not None:
            number = len(self.documents) + 1
            self.snapshots.insert(0, SnapshotRef(number, update.snapshot.content_hash))
            self.documents[number] = document
        if "returned_from" in update.page:
            self.state.returned_from = update.page["returned_from"]
        return update.changes


@dataclass
class Outcome:
    """What the runs recorded and told: every change, and the kinds each run reported for the row's page."""

    url: str
    recorded: list[Change]
    reported: list[list[str]]
    silent: bool


def run_row(row: dict) -> Outcome:
    """Check the row's page (and its publication) once a run, each answering with its capture for that run,
    and tell the last run as the digest and the site do."""
    url = url_of(row)
    pages = {url: Watched(PageState(url))}
    timelines = {url: (row["page"], row["runs"])}
    if "publication" in row:
        publication = GOVUK + PUBLICATION
        pages[publication] = Watched(PageState(publication))
        pages[url].state.parent_url = publication
        timelines[publication] = (PUBLICATION.rsplit("/", 1)[1], row["publication"])
    times = run_times([[captures[n] for _, captures in timelines.values()] for n in range(len(row["runs"]))])
    recorded: list[Change] = []
    reported: list[list[str]] = []
    for n in range(len(times)):
        when = times[n].isoformat()
        run: list[Change] = []
        for page_url, (page, captures) in timelines.items():
            file = capture_file(row, page, captures[n])
            document = parse(file.read_bytes(), page_url)
            found = pages[page_url].check(document, when)
            for change in found:
                change.id = len(recorded) + len(run) + 1
            run += found
        reported.append([c.kind for c in run if c.page_url == url and not c.backfilled])
        recorded += run
    last = times[-1].isoformat()
    told = [c for c in recorded if c.detected_at == last]
    states = [p.state for p in pages.values()]
    return Outcome(url, recorded, reported, told_silent(url, told, states, recorded))


def told_silent(url: str, run: list[Change], pages: list[PageState], recorded: list[Change]) -> bool:
    """Whether the run tells the page's change as "Changed without a change note": a document's part under
    its publication when that part is silent, else the page's own story when it is silent and the page's
    change is one without a note."""
    for story in stories(run, pages, context=recorded):
        for part in story.documents:
            if part.change.page_url == url:
                return part.silent
        own = [c for c in story.changes if c.page_url == url]
        if own:
            return story.silent and any(c.kind == "minor" for c in own)
    return False


# --------------------------------------------------------------------------- the figures


def score_silent(rows: list[dict]) -> Score:
    """Precision and recall of "Changed without a change note" over the silent rows."""
    labelled = found = right = 0
    for row in silent_rows(rows):
        said = run_row(row).silent
        labelled += row["silent"]
        found += said
        right += said and row["silent"]
    return Score(labelled, found, right)


def reverts_told(outcome: Outcome) -> int:
    return sum(kinds.count("reverted") for kinds in outcome.reported)


def score_reverted(rows: list[dict]) -> Score:
    """Precision and recall of ``reverted`` over the revert rows: right when a row labelled as going back
    and staying is told so exactly once; told twice, or told of a row that does not go back, is wrong."""
    labelled = found = right = 0
    for row in revert_rows(rows):
        told = reverts_told(run_row(row))
        labelled += row["reverted"]
        found += told
        right += told == 1 and row["reverted"]
    return Score(labelled, found, right)
