"""Types shared by every stage of the pipeline.

Stages exchange these and nothing else, so each stage can be read, tested and replaced on its own:
``fetch`` yields a :class:`FetchResult`, ``parse`` a :class:`Document`, ``diff`` a :class:`ChangeSet`,
``store`` keeps :class:`Change` records, ``render`` and ``deliver`` read them back.
Field names follow GOV.UK's own words ("Published", "Last updated", "change history", "attachments").
Dates are ISO ``YYYY-MM-DD`` strings; timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .notes import NoteCheck

# --------------------------------------------------------------------------- documents

UNSHOWN = (
    "".join(map(chr, [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)]))
    + "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    + "".join(map(chr, range(0xD800, 0xE000)))
    + "\ufffe\uffff"
)
"""Characters a page's text never keeps: the C0 and C1 controls (tab and newline excepted, the layout of
a section's lines) and the bidirectional controls, none of them text a reader sees (in an email, a
terminal or a feed they can hide, reorder or forge what is shown: U+202E turns the rest of a line right to
left); and what no text can hold, lone surrogates (JSON can write them, UTF-8 cannot) and the
noncharacters U+FFFE and U+FFFF (XML cannot)."""
_UNSHOWN = re.compile(f"[{re.escape(UNSHOWN)}]")
_DROPPED = dict.fromkeys(map(ord, UNSHOWN))


def shown(text: str) -> str:
    """``text`` without the characters of :data:`UNSHOWN`.

    >>> shown("Pay \u202eyb 5 May\x07")
    'Pay yb 5 May'
    """
    return text.translate(_DROPPED) if _UNSHOWN.search(text) else text


def _shown_or_none(text: str | None) -> str | None:
    return None if text is None else shown(text)


@dataclass(frozen=True)
class HistoryEntry:
    """One entry of a page's change history ("show all updates"), as GOV.UK shows it.

    ``date`` is None where the source prints no date beside the note: never a guessed date.
    """

    date: str | None
    note: str


@dataclass(frozen=True)
class Section:
    """A heading and the readable text under it, up to the next heading of any level.

    Sections do not nest their sub-sections' text, so an edit under an h3 shows once, in that h3.
    """

    heading: str
    level: int
    text: str


@dataclass(frozen=True)
class Attachment:
    """A document attached to or linked from a publication (an HTML publication, a PDF, a spreadsheet).

    ``kind`` is the format in lower case as GOV.UK names it ("html", "pdf", "csv", "ods", "external" ...);
    ``size`` is in bytes where known; ``content_hash`` is set only once the file itself has been fetched;
    ``page_count`` is the number of pages GOV.UK gives beside a PDF ("PDF, 245 KB, 12 pages"), where it
    gives one.
    """

    title: str
    url: str
    kind: str = ""
    size: int | None = None
    content_hash: str | None = None
    page_count: int | None = None

    def seen(self) -> tuple[str | int | None, ...]:
        """What a reader sees of the attachment, for the page's hash: the page count joins only where it
        is given, so a listing without one keeps the hash it had before page counts were read."""
        facts = (self.title, self.url, self.kind, self.size, self.content_hash)
        return facts if self.page_count is None else (*facts, self.page_count)


@dataclass
class Document:
    """What a reader sees on one page, without the page chrome.

    Two fetches with the same visible document give the same ``content_hash``, whatever the markup. Its
    text never holds a control character or a bidirectional control (:data:`UNSHOWN`): they are dropped
    here, where every reader's Document is made, so no output can carry them from a page.
    """

    url: str
    title: str
    page_type: str = ""
    summary: str = ""
    organisations: list[str] = field(default_factory=list)
    published: str | None = None
    last_updated: str | None = None
    change_history: list[HistoryEntry] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    withdrawn: str | None = None
    """The withdrawal notice's text, when GOV.UK shows one."""
    parent_url: str | None = None
    """For an HTML publication or a PDF: the publication page it belongs to."""
    page_count: int | None = None
    """For a PDF: its number of pages."""
    content_hash: str = ""
    people: list[str] = field(default_factory=list)
    """Ministers and officials named beside the organisations under "From:" (kept apart from them)."""
    metadata: dict[str, str] = field(default_factory=dict)
    """Facts a page type shows beside its text, in GOV.UK's words: a statistics release's
    ``release_date`` and ``release_date_status`` (provisional, confirmed, cancelled), a consultation's
    ``consultation_status`` (not yet open, open, closed, outcome published), ``opening_date`` and
    ``closing_date`` (ISO dates). Empty on pages that show none."""

    def __post_init__(self) -> None:
        if any(_UNSHOWN.search(text) for text in self._texts()):
            self._drop_unshown()
        if not self.content_hash:
            self.content_hash = self.compute_hash()

    def _texts(self) -> Iterator[str]:
        """Every text of the Document: what :meth:`_drop_unshown` cleans."""
        yield from (self.url, self.title, self.page_type, self.summary, self.published or "")
        yield from (self.last_updated or "", self.withdrawn or "", self.parent_url or "")
        yield from self.organisations
        yield from self.people
        for key, value in self.metadata.items():
            yield from (key, value)
        for entry in self.change_history:
            yield from (entry.date or "", entry.note)
        for section in self.sections:
            yield from (section.heading, section.text)
        for attachment in self.attachments:
            yield from (attachment.title, attachment.url, attachment.kind)

    def _drop_unshown(self) -> None:
        """Rebuild every text of the Document without :data:`UNSHOWN` characters (a page rarely holds any,
        so this runs only when :meth:`_texts` found one)."""
        self.url, self.title, self.page_type = shown(self.url), shown(self.title), shown(self.page_type)
        self.summary = shown(self.summary)
        self.published, self.last_updated = _shown_or_none(self.published), _shown_or_none(self.last_updated)
        self.withdrawn, self.parent_url = _shown_or_none(self.withdrawn), _shown_or_none(self.parent_url)
        self.organisations = [shown(name) for name in self.organisations]
        self.people = [shown(name) for name in self.people]
        self.metadata = {shown(key): shown(value) for key, value in self.metadata.items()}
        self.change_history = [
            HistoryEntry(_shown_or_none(e.date), shown(e.note)) for e in self.change_history
        ]
        self.sections = [Section(shown(s.heading), s.level, shown(s.text)) for s in self.sections]
        self.attachments = [
            Attachment(shown(a.title), shown(a.url), shown(a.kind), a.size, a.content_hash, a.page_count)
            for a in self.attachments
        ]

    def visible(self) -> dict[str, Any]:
        """The fields that a reader sees: the basis of ``content_hash`` and of equality between sources.

        Built field by field rather than with ``asdict``, which deep-copies every section: hashing is on
        the path of every parse. ``people`` and ``metadata`` join only when they hold something, so a page
        that shows neither keeps the hash it had before they were read.
        """
        seen: dict[str, Any] = {
            "title": self.title,
            "summary": self.summary,
            "organisations": list(self.organisations),
            "published": self.published,
            "last_updated": self.last_updated,
            "change_history": [(h.date, h.note) for h in self.change_history],
            "sections": [(s.heading, s.level, s.text) for s in self.sections],
            "attachments": [a.seen() for a in self.attachments],
            "withdrawn": self.withdrawn,
            "page_count": self.page_count,
        }
        if self.people:
            seen["people"] = list(self.people)
        if self.metadata:
            seen["metadata"] = sorted(self.metadata.items())
        return seen

    def compute_hash(self) -> str:
        """SHA-256 over the visible fields, each framed by separators no folded text contains."""
        parts: list[str] = []
        for value in self.visible().values():
            items = value if isinstance(value, list) else [value]
            parts.append(
                "\x1d".join("\x1f".join(map(_field, i)) if isinstance(i, tuple) else _field(i) for i in items)
            )
        return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by ``guidance-monitor parse`` and kept beside each snapshot: the fields in
        their declared order, as ``asdict`` gives them, built by hand because ``asdict`` deep-copies every
        string of every section (it cost a quarter as much as reading the page)."""
        return {
            "url": self.url,
            "title": self.title,
            "page_type": self.page_type,
            "summary": self.summary,
            "organisations": list(self.organisations),
            "published": self.published,
            "last_updated": self.last_updated,
            "change_history": [{"date": h.date, "note": h.note} for h in self.change_history],
            "sections": [{"heading": s.heading, "level": s.level, "text": s.text} for s in self.sections],
            "attachments": [
                dict(
                    title=a.title,
                    url=a.url,
                    kind=a.kind,
                    size=a.size,
                    content_hash=a.content_hash,
                    page_count=a.page_count,
                )
                for a in self.attachments
            ],
            "withdrawn": self.withdrawn,
            "parent_url": self.parent_url,
            "page_count": self.page_count,
            "content_hash": self.content_hash,
            "people": list(self.people),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            url=data["url"],
            title=data["title"],
            page_type=data.get("page_type", ""),
            summary=data.get("summary", ""),
            organisations=list(data.get("organisations", [])),
            published=data.get("published"),
            last_updated=data.get("last_updated"),
            change_history=[HistoryEntry(**h) for h in data.get("change_history", [])],
            sections=[Section(**s) for s in data.get("sections", [])],
            attachments=[Attachment(**a) for a in data.get("attachments", [])],
            withdrawn=data.get("withdrawn"),
            parent_url=data.get("parent_url"),
            page_count=data.get("page_count"),
            content_hash=data.get("content_hash", ""),
            people=list(data.get("people") or []),
            metadata=dict(data.get("metadata") or {}),
        )


def _field(value: object) -> str:
    return "\x00" if value is None else str(value)


class ParseError(ValueError):
    """No reader found the document in a body: an error page, a login wall, a layout nobody knows.

    Raised rather than returning an empty Document, which would read as "everything was deleted".
    """


# --------------------------------------------------------------------------- diffs

ChangeKind = Literal["major", "minor", "none", "new", "moved", "removed", "withdrawn", "flapping", "reverted"]
SectionStatus = Literal["added", "removed", "modified", "renamed", "moved"]
AttachmentStatus = Literal["added", "removed", "renamed", "modified"]
SignalKind = Literal["duty", "date", "amount", "link", "removed-text"]


@dataclass(frozen=True)
class DiffOp:
    """One run of a word-level diff: ``op`` is "equal", "insert" or "delete"."""

    op: Literal["equal", "insert", "delete"]
    text: str


@dataclass(frozen=True)
class Signal:
    """Why a section change may matter to a reader (``monitor.signals`` says how each kind is found).

    ``old`` and ``new`` are the phrase as it read before and after ("should complete" -> "must
    complete"); one is empty when the phrase was added or dropped. ``old_sentence`` and ``new_sentence``
    are the sentences it stands in, ``before`` and ``after`` the unchanged sentences around them.
    """

    kind: SignalKind
    old: str
    new: str
    old_sentence: str = ""
    new_sentence: str = ""
    before: str = ""
    after: str = ""


@dataclass
class SectionChange:
    heading: str
    status: SectionStatus
    old_heading: str | None = None
    added_words: int = 0
    removed_words: int = 0
    diff: list[DiffOp] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    by_paragraph: bool = False
    """Some of ``diff`` is shown item by item (paragraphs, list items, table rows), whole, deleted and
    inserted: the text was too large to compare word by word."""


@dataclass
class AttachmentChange:
    """What changed in one listed attachment. Beyond the title and status: ``old_url`` when it moved to a
    new address, and the format (``kind``), ``size`` in bytes and ``page_count`` on each side when the
    file itself changed ("12 pages → 14 pages"); each is None when it says nothing (unchanged or
    unknown)."""

    title: str
    url: str
    status: AttachmentStatus
    old_title: str | None = None
    old_url: str | None = None
    kind: str | None = None
    old_kind: str | None = None
    size: int | None = None
    old_size: int | None = None
    page_count: int | None = None
    old_page_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``diff`` JSON's keys, then those of the details that say something."""
        data: dict[str, Any] = {"title": self.title, "old_title": self.old_title, "url": self.url}
        data["status"] = self.status
        for name in ("old_url", "kind", "old_kind", "size", "old_size", "page_count", "old_page_count"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclass
class MetadataChange:
    field: str
    old: str
    new: str


@dataclass
class DocumentSummary:
    """The headline facts of one side of a diff."""

    title: str = ""
    published: str | None = None
    last_updated: str | None = None
    history_count: int = 0

    @classmethod
    def of(cls, doc: Document | None) -> DocumentSummary:
        if doc is None:
            return cls()
        return cls(doc.title, doc.published, doc.last_updated, len(doc.change_history))


@dataclass
class ChangeSet:
    """All that differs between two Documents; ``to_dict`` is the JSON of ``guidance-monitor diff``."""

    kind: ChangeKind
    old: DocumentSummary = field(default_factory=DocumentSummary)
    new: DocumentSummary = field(default_factory=DocumentSummary)
    history_added: list[HistoryEntry] = field(default_factory=list)
    sections: list[SectionChange] = field(default_factory=list)
    attachments: list[AttachmentChange] = field(default_factory=list)
    metadata: list[MetadataChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.kind != "none"

    def to_dict(self) -> dict[str, Any]:
        """Keys in the order the ``diff`` JSON contract fixes them (not the dataclasses' field order)."""
        return {
            "changed": self.changed,
            "kind": self.kind,
            "old": asdict(self.old),
            "new": asdict(self.new),
            "history_added": [asdict(h) for h in self.history_added],
            "sections": [
                {
                    "heading": s.heading,
                    "old_heading": s.old_heading,
                    "status": s.status,
                    "added_words": s.added_words,
                    "removed_words": s.removed_words,
                    "diff": [asdict(d) for d in s.diff],
                    "by_paragraph": s.by_paragraph,
                    "signals": [asdict(g) for g in s.signals],
                }
                for s in self.sections
            ],
            "attachments": [a.to_dict() for a in self.attachments],
            "metadata": [asdict(m) for m in self.metadata],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeSet:
        return cls(
            kind=data["kind"],
            old=DocumentSummary(**data.get("old", {})),
            new=DocumentSummary(**data.get("new", {})),
            history_added=[HistoryEntry(**h) for h in data.get("history_added", [])],
            sections=[
                SectionChange(
                    **{
                        **s,
                        "diff": [DiffOp(**d) for d in s.get("diff", [])],
                        "signals": [Signal(**g) for g in s.get("signals", [])],
                    }
                )
                for s in data.get("sections", [])
            ],
            attachments=[AttachmentChange(**a) for a in data.get("attachments", [])],
            metadata=[MetadataChange(**m) for m in data.get("metadata", [])],
        )


# --------------------------------------------------------------------------- fetching


@dataclass
class FetchResult:
    """The outcome of one attempt to fetch one page. ``error`` is set, and ``body`` empty, on failure.

    ``not_modified`` is a 304 answer to a conditional request: the page has not changed.
    ``redirects`` lists every address passed through, oldest first, when the page redirected.
    """

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)
    fetched_at: str = ""
    duration_ms: int = 0
    attempts: int = 1
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class FetchRequest:
    """One page to fetch: ``etag`` / ``last_modified`` from its last good response make the request
    conditional; ``accept`` overrides the Accept header (the Content API wants JSON)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    accept: str | None = None


# --------------------------------------------------------------------------- stored records


@dataclass
class Change:
    """A change recorded for one page: a diff between two snapshots, or a fetch-level event.

    ``backfilled`` marks timeline entries taken from the change history GOV.UK published before
    monitoring began: they appear on the site, dated as GOV.UK dated them, and are never emailed.
    """

    page_url: str
    kind: ChangeKind
    detected_at: str
    title: str = ""
    changeset: ChangeSet | None = None
    note: str = ""
    """GOV.UK's change note when there is one, else a plain description of the event."""
    effective_date: str | None = None
    """The date GOV.UK gives the change (its history entry), else the date it was detected."""
    backfilled: bool = False
    old_snapshot_id: int | None = None
    new_snapshot_id: int | None = None
    new_url: str | None = None
    """For ``moved``: where the page now lives."""
    id: int | None = None
    note_check: NoteCheck | None = None
    """For an edit: its own change note held against its signals (``monitor.notes``), worked out when
    it was recorded; None for other kinds and for changes recorded before the check existed."""


@dataclass
class PageState:
    """A watched page and how its watching is going, as ``guidance-monitor pages`` lists it."""

    url: str
    title: str = ""
    parent_url: str | None = None
    source: str = "config"
    """Where the page came from: "config", "document" (followed from a parent), "search", "cli"."""
    active: bool = True
    last_checked: str | None = None
    last_changed: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    current_url: str | None = None
    """Where the page now lives when it has moved."""
    gone: bool = False
    search: str | None = None
    """For a page a search found: that search's name (``searches[].name``), which subscribers follow."""
    returned_from: int | None = None
    """While the page shows an earlier version it went back to: the snapshot readers were last told
    about, which the return is compared with once it has stayed for a check (``monitor.changes``)."""


@dataclass
class RunSummary:
    """What one cycle did, for the one-line summary and the exit status."""

    checked: int = 0
    changed: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    """The changes this run found; not the history GOV.UK published before a new page was watched (it is
    stored, and on a first run of thousands of pages it would be most of the run's memory)."""
    digest_sent: bool = False
    deliveries: list[str] = field(default_factory=list)
    """One line per channel that sent this run ("email: sent 3 changes (...)")."""
    site_dir: str | None = None


# --------------------------------------------------------------------------- what a check writes


NEW_SNAPSHOT = -1
"""A change's ``new_snapshot_id`` while the snapshot it leads to has no id yet: the store gives it the id
of the snapshot written in the same transaction."""


@dataclass
class Answer:
    """A page's answer in one run, after the quality gate and the parser: what the change rules judge."""

    fetch: FetchResult
    document: Document | None = None
    reason: str | None = None
    """Why the answer is not the page (a failed check), or None."""
    read_key: str | None = None
    """How ``document`` was read from the body: which body, which code, which selector and content type."""
    body_hash: str | None = None
    same: bool = False
    """The body is the one the last snapshot was read from, read the same way: the page is unchanged."""
    fallback: bool = False
    """Read from the HTML page because the Content API failed (``fetch.source: auto``)."""


@dataclass(frozen=True)
class SnapshotRef:
    """One stored version of a page by id and content hash: enough to know a version seen before
    without reading its Document."""

    id: int
    document_hash: str


@dataclass
class PageUpdate:
    """Everything one check of one page writes, in one transaction: decided by ``monitor.changes``,
    written as given by ``Store.write``."""

    url: str
    fetch: FetchResult
    """The fetch row; its ``error`` is the check's failure, if any."""
    checked_at: str
    body: bytes | None = None
    """A body to keep (once per content hash)."""
    body_hash: str | None = None
    """The hash of ``body`` when the caller has it; without a body, the body an earlier check kept."""
    snapshot: Document | None = None
    """A new version of the page."""
    changes: list[Change] = field(default_factory=list)
    page: dict[str, Any] = field(default_factory=dict)
    """The page's columns to set (``last_checked``, ``consecutive_failures``, ``etag`` ...)."""
