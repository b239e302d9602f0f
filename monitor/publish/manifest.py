"""What a site folder was built from, kept in it (``.guidance-monitor-site``, JSON): the next run reads it
to know which changes are new since, and which pages' facts moved, so it rewrites only those files."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..model import PageState
from .folders import SITE_MARKER


@dataclass
class Manifest:
    """What a site folder shows: enough to find what a run must rewrite without reading the site."""

    identity: str
    """What the files depend on besides the records (templates, rendering code, version, site address,
    database): any difference means a rebuild."""
    database: str = ""
    """The identity of the database the site was built from (``Store.identity``): a run refuses a site
    made from another one."""
    last_change: int = 0
    last_snapshot: int = 0
    """The last snapshot with a page of its own (``snapshots/<id>.html``)."""
    latest: list[int] = field(default_factory=list)
    """The latest monitored change ids, newest first: the index and the site feed."""
    kinds: dict[str, list[int]] = field(default_factory=dict)
    signals: dict[str, list[int]] = field(default_factory=dict)
    """Per signal kind, the latest change ids tagged with it, newest first: ``signal/<kind>.html``."""
    months: list[str] = field(default_factory=list)
    pages: dict[str, list[str]] = field(default_factory=dict)
    """url -> [title shown, digest of the facts its timeline shows, date of its last change]."""
    dates_from: str = ""
    """The day ``dates.html`` counts its upcoming dates from: another day means it is written again."""
    dates: str = ""
    """A digest of the followed dates and page titles ``dates.ics`` and ``dates.html`` show: another
    digest means both are written again."""

    @classmethod
    def load(cls, folder: Path) -> Manifest | None:
        """The folder's manifest, or None when it has none that this version can read."""
        try:
            data = json.loads((folder / SITE_MARKER).read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def copy(self) -> Manifest:
        """A copy to update while the old one still says what the folder shows."""
        return Manifest(
            identity=self.identity,
            database=self.database,
            last_change=self.last_change,
            last_snapshot=self.last_snapshot,
            latest=list(self.latest),
            kinds={k: list(v) for k, v in self.kinds.items()},
            signals={k: list(v) for k, v in self.signals.items()},
            months=list(self.months),
            pages={k: list(v) for k, v in self.pages.items()},
            dates_from=self.dates_from,
            dates=self.dates,
        )

    def dump(self) -> str:
        """The manifest as written into the folder: sorted and compact, so the same build writes the same
        bytes."""
        data = {
            "identity": self.identity,
            "database": self.database,
            "last_change": self.last_change,
            "last_snapshot": self.last_snapshot,
            "latest": self.latest,
            "kinds": self.kinds,
            "signals": self.signals,
            "months": self.months,
            "pages": self.pages,
            "dates_from": self.dates_from,
            "dates": self.dates,
        }
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


Facts = tuple[str, str, bool, bool, str | None, int, str | None]
"""A page's state as its timeline and ``pages.html`` show it (see ``SiteReads.page_facts``)."""


def facts_digest(facts: Facts) -> str:
    """A digest of what the site shows of a page's state (never the time it was checked)."""
    return hashlib.sha1(json.dumps(facts[1:], ensure_ascii=False).encode()).hexdigest()[:16]


def listed_state(facts: Facts) -> PageState:
    """The page's state as ``pages.html`` lists it, from its facts."""
    url, title, active, gone, current_url, failures, error = facts
    return PageState(
        url=url,
        title=title,
        active=active,
        gone=gone,
        current_url=current_url,
        consecutive_failures=failures,
        last_error=error,
    )
