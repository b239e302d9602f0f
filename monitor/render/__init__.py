"""Turn recorded changes into what people read: the email digest, the static changelog and its Atom feeds.

Pure: lists of :class:`~monitor.model.Change` and :class:`~monitor.model.PageState` in, text out. Sending
and writing files is ``deliver``'s job. Every template is autoescaped, and only http(s) addresses taken
from a page ever become links, so a page holding ``<script>`` or a ``javascript:`` link renders as text.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from .. import TEMPLATES_DIR
from .. import story as story_rules
from ..clock import LONDON, london_date, london_day, parse_timestamp, utc_timestamp
from ..govuk import page_slug
from ..model import AttachmentChange, Change, ChangeSet, DiffOp, HistoryEntry, PageState, SectionChange
from ..tokens import diff_items, glued

if TYPE_CHECKING:
    import jinja2

TAG_AUTHORITY = "tag:guidance-monitor,2026"

KIND_LABELS = {
    "major": "Updated with a change note",
    "minor": "Changed without a change note",
    "new": "Now being watched",
    "moved": "Moved",
    "removed": "No longer on GOV.UK",
    "withdrawn": "Withdrawn",
    "none": "No change",
    "flapping": "Alternating between two versions",
}
KIND_ORDER = ["major", "minor", "withdrawn", "flapping", "moved", "removed", "new"]
FLAPPING_SENTENCE = (
    "GOV.UK keeps serving this page in two versions by turns (often a test of a new design, or two"
    " servers out of step). We say so once, showing how the two differ, and stay quiet until a third"
    " version appears"
)
BACKFILLED_LABEL = "Published before monitoring began"
SILENT_WARNING = "Changed without a change note"
ATTACHMENT_LABELS = {"added": "Added", "removed": "Removed", "renamed": "Renamed", "modified": "Changed"}
FIRST_PUBLISHED = "First published"
"""The label of the backfilled history entry whose note is GOV.UK's own "First published."."""
NO_DATE = "no date given"
"""Said of history printed without a date: GOV.UK or a mirror may be the source, so neither is named."""

ORGANISATION_ABBREVIATIONS = {
    "Department for Education": "DfE",
    "Education and Skills Funding Agency": "ESFA",
    "Standards and Testing Agency": "STA",
    "Teaching Regulation Agency": "TRA",
    "Office for Standards in Education, Children's Services and Skills": "Ofsted",
    "Ofqual": "Ofqual",
    "Department of Health and Social Care": "DHSC",
    "UK Health Security Agency": "UKHSA",
}
"""How GOV.UK itself abbreviates the organisations a digest's subject line is likely to name."""


def _name_key(name: str) -> str:
    """An organisation's name compared as a reader would: mirrors capitalise and space it their own way."""
    return " ".join(name.split()).casefold()


_ABBREVIATION_BY_KEY = {_name_key(name): short for name, short in ORGANISATION_ABBREVIATIONS.items()}

FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "published": "Published",
    "last_updated": "Last updated",
    "withdrawn": "Withdrawal notice",
    "page_type": "Type of page",
    "organisations": "From",
    "page_count": "Number of pages",
}

SIGNAL_LABELS = {
    "duty": "Duty",
    "date": "Date",
    "amount": "Amount",
    "link": "Link",
    "removed-text": "Text removed",
}
"""The tag of each significance signal (``monitor.signals``) on a change in the digest."""
SIGNAL_MEANINGS = {
    "duty": "what someone must, should or may do changed",
    "date": "a date changed",
    "amount": "an amount changed",
    "link": "a link now leads somewhere else",
    "removed-text": "text was removed and nothing took its place",
}
"""What each signal says happened, for its page on the site."""

SIGNAL_PHRASE_LIMIT = 200
"""Characters of a signal's phrase shown in a tag (a removed paragraph is one phrase)."""


def signal_kinds(change: Change) -> list[str]:
    """The kinds of signal in a change's sections, once each, in ``SIGNAL_LABELS`` order: its tags, and
    the ``signal/<kind>.html`` pages that list it."""
    found = {g.kind for s in (change.changeset.sections if change.changeset else []) for g in s.signals}
    return [k for k in SIGNAL_LABELS if k in found]


def signal_phrase(text: str) -> str:
    """A signal's phrase on one line, cut at a word after ``SIGNAL_PHRASE_LIMIT`` characters."""
    text = " ".join(text.split())
    if len(text) <= SIGNAL_PHRASE_LIMIT:
        return text
    cut = text[: SIGNAL_PHRASE_LIMIT - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[SIGNAL_PHRASE_LIMIT // 2 :] else cut) + "…"


# --------------------------------------------------------------------------- small helpers


def http_url(url: str | None) -> str | None:
    """The address if it is safe to link to (http or https), else None: ``javascript:`` never goes live."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c in url for c in "\r\n\t"):
        return url
    return None


@lru_cache(maxsize=4096)
def _shown_date(value: str, year: bool) -> str:
    return london_date(value, year=year)


def shown_date(value: str | date | datetime | None, *, year: bool = True) -> str:
    """:func:`~monitor.clock.london_date` for the templates, each date worked out once: a site shows the
    same few thousand dates on all its pages (tens of thousands of times in a full rebuild)."""
    return _shown_date(value, year) if isinstance(value, str) else london_date(value, year=year)


def iso_utc(value: str | None) -> str:
    """RFC 3339 in UTC for Atom (``2026-11-27T07:00:00Z``); a bare date becomes midnight UTC."""
    if not value:
        return "1970-01-01T00:00:00Z"
    if len(value) == 10:
        value += "T00:00:00+00:00"
    return utc_timestamp(parse_timestamp(value))


def change_key(change: Change) -> str:
    if change.id is not None:
        return str(change.id)
    seed = f"{change.page_url}|{change.detected_at}|{change.kind}|{change.note}"
    return "x" + hashlib.sha1(seed.encode()).hexdigest()[:12]


def change_date(change: Change) -> str:
    """The date a change belongs to: GOV.UK's own where it gives one, else the day it was detected.

    History GOV.UK printed without a date stays undated (""): never the day we happened to read it.
    """
    if change.effective_date or change.backfilled:
        return change.effective_date or ""
    return london_day(change.detected_at) if change.detected_at else ""


def newest_first(changes: Iterable[Change]) -> list[Change]:
    """Newest first by the date each change belongs to.

    History GOV.UK printed without dates stays where GOV.UK listed it: an undated backfilled entry sorts
    with the dated entry before it in the page's history (backfill records the history oldest first).
    """
    changes = list(changes)
    order_date: dict[int, str] = {}
    previous: dict[str, str] = {}
    for change in sorted((c for c in changes if c.backfilled), key=lambda c: c.id or 0):
        day = change_date(change) or previous.get(change.page_url, "")
        previous[change.page_url] = order_date[id(change)] = day
    return sorted(
        changes,
        key=lambda c: (order_date.get(id(c), change_date(c)), c.detected_at or "", c.id or 0),
        reverse=True,
    )


def note_entries(change: Change) -> list[HistoryEntry]:
    """GOV.UK's change notes for a change, each with its own date, in GOV.UK's order (newest first).

    Several history entries often appear between two checks, each dated by GOV.UK; a backfilled entry
    carries the date GOV.UK (or the mirror) gave it, None where none was given. A diffed change that
    added no history entry has no note, whatever plain description it was recorded with.
    """
    if change.changeset and change.changeset.history_added:
        return [h for h in change.changeset.history_added if h.note]
    if change.kind == "major" and change.note and (change.backfilled or change.changeset is None):
        return [HistoryEntry(change.effective_date, change.note)]
    return []


def change_notes(change: Change) -> list[str]:
    """What GOV.UK's change notes say, without their dates."""
    return [entry.note for entry in note_entries(change)]


def notes_dated(change: Change) -> bool:
    """Whether each note is shown with its own date: not when the one note has the date the change is
    listed under, which already says it."""
    entries = note_entries(change)
    return len(entries) > 1 or (len(entries) == 1 and (entries[0].date or "") != change_date(change))


def note_lines(change: Change) -> list[str]:
    """The change notes as plain text, for the email's text part and the webhooks."""
    dated = notes_dated(change)
    return [
        f"GOV.UK's change note{_of_date(entry.date) if dated else ''}: {entry.note}"
        for entry in note_entries(change)
    ]


def _of_date(day: str | None) -> str:
    return f" of {london_date(day)}" if day else f" ({NO_DATE})"


EXPLAINED_LABEL = "Changed with its publication"
"""A document's change that its publication's change note explains: never a silent edit."""


def change_label(change: Change, explained: HistoryEntry | None = None) -> str:
    """The change's kind as people read it; GOV.UK's backfilled "First published." entry says so, and a
    document's change its publication explains (``explained``) says that."""
    if explained is not None and change.kind == "minor":
        return EXPLAINED_LABEL
    if change.backfilled and change.note.strip().rstrip(".").casefold() == FIRST_PUBLISHED.casefold():
        return FIRST_PUBLISHED
    return KIND_LABELS.get(change.kind, change.kind)


def plural(count: int, singular: str, plural_form: str = "") -> str:
    """ "1 word", "2 words"."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


def has_word_diff(changes: Iterable[Change]) -> bool:
    """Whether any change shows inserted or deleted words, so a reader needs the key to them."""
    return any(
        op.op != "equal"
        for change in changes
        if change.changeset
        for section in change.changeset.sections
        for op in section.diff
    )


def description(change: Change) -> str:
    """A plain sentence for events that are not edits (moved, removed, withdrawn, first seen)."""
    if change.kind in ("major", "minor") or (change.kind == "moved" and change.new_url):
        return ""
    if change.kind == "flapping":
        return f"{FLAPPING_SENTENCE}."
    return change.note or KIND_LABELS.get(change.kind, change.kind)


def trim_ops(ops: Sequence[DiffOp], context: int = 12) -> list[DiffOp]:
    """Keep changed words and ``context`` words either side; long unchanged runs become "…".

    Line breaks in what is kept stay, so a list item or table row near a change keeps its own line.
    """
    out: list[DiffOp] = []
    last = len(ops) - 1
    for i, op in enumerate(ops):
        lead = "\n" if op.text.startswith("\n") else ""
        pieces = op.text[len(lead) :].strip(" ").split(" ")
        if op.op != "equal" or len(pieces) <= 2 * context + 1:
            out.append(op)
            continue
        head = " ".join(pieces[:context])
        tail = " ".join(pieces[-context:])
        if i == 0:
            text = f"… {tail}"
        elif i == last:
            text = f"{lead}{head} …"
        else:
            text = f"{lead}{head} … {tail}"
        out.append(DiffOp("equal", text))
    return out


def spaced(ops: Sequence[DiffOp]) -> list[tuple[str, DiffOp]]:
    """Each run of a word diff with what goes before it: the line break the page had there, a space,
    or nothing beside punctuation, so "(GCOs)" reads as the page wrote it."""
    out: list[tuple[str, DiffOp]] = []
    previous = ""
    for op in ops:
        text = op.text.strip(" ")
        if text.startswith("\n"):
            sep, text = ("" if not out else "\n"), text[1:]
        elif not out or not text or glued(previous, text):
            sep = ""
        else:
            sep = " "
        out.append((sep, DiffOp(op.op, text)))
        previous = text or previous
    return out


def diff_text(ops: Sequence[DiffOp]) -> str:
    """A word diff as plain text: ``[+inserted+]`` and ``[-deleted-]`` (wdiff's marks), line by line."""
    parts = []
    for sep, op in spaced(ops):
        if op.op == "insert" and op.text:
            parts.append(f"{sep}[+{op.text}+]")
        elif op.op == "delete" and op.text:
            parts.append(f"{sep}[-{op.text}-]")
        else:
            parts.append(sep + op.text)
    return "".join(parts)


def nl2br(text: str) -> Markup:
    """Text escaped, its line breaks made ``<br>``: e-mail programs and feed readers ignore CSS.

    Escaped whole, then the breaks put in: escaping never touches a line break, and a snapshot's
    sections hold thousands of lines."""
    return Markup(str(escape(str(text))).replace("\n", "<br>\n"))


def section_label(section: SectionChange) -> str:
    if section.status == "renamed" and section.old_heading:
        return f"Heading changed from “{section.old_heading}”"
    return {
        "added": "New section",
        "removed": "Section removed",
        "modified": "Text changed",
        "renamed": "Heading changed",
        "moved": "Section moved",
    }.get(section.status, section.status)


def file_size(size: int | None) -> str:
    """ "245 KB", as GOV.UK writes an attachment's size."""
    if size is None:
        return "size not given"
    if size < 1024:
        return plural(size, "byte")
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def file_format(kind: str | None) -> str:
    return (kind or "").upper() or "format not given"


def attachment_facts(attachment: AttachmentChange) -> list[str]:
    """What changed in a listed attachment, each fact a phrase: never a bare "modified"."""
    facts = []
    if attachment.status == "renamed" and attachment.old_title:
        facts.append(f"renamed from “{attachment.old_title}” to “{attachment.title}”")
    if attachment.old_url:
        facts.append(f"new address: {attachment.old_url} → {attachment.url}")
    kinds = (attachment.old_kind, attachment.kind)
    sizes = (attachment.old_size, attachment.size)
    if any(k is not None for k in kinds) or any(n is not None for n in sizes):
        if attachment.old_kind and attachment.kind and attachment.old_kind != attachment.kind:
            what = f"{file_format(attachment.old_kind)}, {file_size(attachment.old_size)} → "
            what += f"{file_format(attachment.kind)}, {file_size(attachment.size)}"
        else:
            what = f"{file_format(attachment.kind or attachment.old_kind)}, "
            what += f"{file_size(attachment.old_size)} → {file_size(attachment.size)}"
        facts.append(f"new file: {what}")
    if attachment.status == "modified" and not facts:
        facts.append("listed differently (GOV.UK gives no address, size or hash to say more)")
    return facts


_PDF_PAGE = re.compile(r"^Page (\d+)$")


def pages_changed(changeset: ChangeSet | None) -> str:
    """For a PDF, read page by page: which pages changed, as ranges ("Pages 3 to 4 and 7 changed");
    "" for any other document."""
    if changeset is None or not changeset.sections:
        return ""
    numbers = []
    for section in changeset.sections:
        found = _PDF_PAGE.match(section.heading)
        if found is None:
            return ""
        numbers.append(int(found.group(1)))
    ranges: list[list[int]] = []
    for number in sorted(set(numbers)):
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    parts = [f"{a}" if a == b else f"{a} to {b}" for a, b in ranges]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    several = len(parts) > 1 or ranges[0][0] != ranges[0][1]
    return f"{'Pages' if several else 'Page'} {listed} changed"


def summary_counts(changeset: ChangeSet | None) -> dict[str, int]:
    if changeset is None:
        return {"sections": 0, "words_added": 0, "words_removed": 0, "attachments": 0, "history_added": 0}
    return {
        "sections": len(changeset.sections),
        "words_added": sum(s.added_words for s in changeset.sections),
        "words_removed": sum(s.removed_words for s in changeset.sections),
        "attachments": len(changeset.attachments),
        "history_added": len(changeset.history_added),
    }


def change_summary(change: Change, *, site_url: str = "") -> dict[str, Any]:
    """The JSON form of a change used by webhooks: what, where, when, and a summary of the changeset."""
    changeset = change.changeset
    return {
        "id": change.id,
        "page_url": change.page_url,
        "title": change.title,
        "kind": change.kind,
        "note": change.note,
        "effective_date": change.effective_date,
        "detected_at": change.detected_at,
        "site_link": change_link(change, site_url) or None,
        "new_url": change.new_url,
        "changeset": None
        if changeset is None
        else {
            **summary_counts(changeset),
            "change_notes": [h.note for h in changeset.history_added],
            "sections_changed": [{"heading": s.heading, "status": s.status} for s in changeset.sections],
            "attachments_changed": [
                {"title": a.title, "status": a.status, "old_title": a.old_title}
                for a in changeset.attachments
            ],
        },
    }


def story_summaries(
    changes: Sequence[Change],
    pages: Sequence[PageState],
    *,
    site_url: str = "",
    context: Sequence[Change] = (),
) -> list[dict[str, Any]]:
    """The changes told as stories, newest first, in JSON form for webhooks and chat: each publication
    with its headline and its documents' changes under it (see :mod:`monitor.story`)."""
    told = story_rules.stories([c for c in changes if not c.backfilled], pages, context=context)
    return [
        {
            "page_url": story.url,
            "title": story.title,
            "date": story.date,
            "kind": story.kind,
            "headline": headline_line(story),
            "silent": story.silent,
            "change_ids": [c.id for c in story.changes],
            "site_link": f"{site_url.rstrip('/')}/changes/{story_key(story)}.html" if site_url else None,
            "documents": [
                {
                    "page_url": group.url,
                    "title": group.title,
                    "change_ids": [d.change.id for d in group.parts],
                    "explained_by": group.explained_by.note if group.explained_by else None,
                    "silent": group.silent,
                    "also_at": group.also_at,
                }
                for group in document_groups(story)
            ],
        }
        for story in told
    ]


def change_link(change: Change, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/changes/{change_key(change)}.html" if site_url else ""


def page_link(url: str, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/pages/{page_slug(url)}.html" if site_url else ""


# --------------------------------------------------------------------------- jinja


def _template_cache() -> jinja2.BytecodeCache | None:
    import jinja2

    class TemplateCache(jinja2.FileSystemBytecodeCache):
        """Jinja's compiled templates kept between runs in its per-user cache folder (keyed by each
        template's source, so an edited template is compiled afresh): compiling them all costs each run
        about 0.13 s. A folder that cannot be written only means compiling again next time."""

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    try:
        return TemplateCache()
    except (OSError, RuntimeError):  # no private temporary folder of our own: compile each time
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment. Jinja is imported here, on the first render: a run that finds nothing
    renders nothing and need not load it."""
    import jinja2

    from .site import month_label

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        bytecode_cache=_template_cache(),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates change only with a new version: no stat of each file per render
    )
    env.filters.update(
        london_date=shown_date,
        http_url=http_url,
        iso_utc=iso_utc,
        slug=page_slug,
        trim_ops=trim_ops,
        diff_text=diff_text,
        spaced=spaced,
        nl2br=nl2br,
        plural=plural,
        month_label=month_label,
        signal_phrase=signal_phrase,
    )
    env.globals.update(
        kind_label=lambda kind: KIND_LABELS.get(kind, kind),
        backfilled_label=BACKFILLED_LABEL,
        silent_warning=SILENT_WARNING,
        change_key=change_key,
        change_date=change_date,
        change_notes=change_notes,
        note_entries=note_entries,
        notes_dated=notes_dated,
        note_lines=note_lines,
        change_label=change_label,
        no_date=NO_DATE,
        description=description,
        section_label=section_label,
        field_label=lambda name: FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
        counts=summary_counts,
        attachment_facts=attachment_facts,
        pages_changed=pages_changed,
        document_groups=document_groups,
        story_label=story_label,
        headline_prefix=headline_prefix,
        headline_line=headline_line,
        earlier_notes=earlier_notes,
        silent_sentence=silent_sentence,
        publication_note=PUBLICATION_NOTE,
        document_explained=DOCUMENT_EXPLAINED,
        document_silent=DOCUMENT_SILENT,
        explained_by=lambda change: None,
        story_of=lambda change: None,
        documents_line=documents_line,
        attachment_label=lambda status: ATTACHMENT_LABELS.get(status, status),
        signal_label=lambda kind: SIGNAL_LABELS.get(kind, kind),
        has_word_diff=has_word_diff,
        signal_kinds=signal_kinds,
        signal_what=SIGNAL_MEANINGS,
        has_diff_partial=(TEMPLATES_DIR / "_diff.html").is_file(),
    )
    return env


def _render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)


# --------------------------------------------------------------------------- digest


@dataclass
class PageGroup:
    url: str
    title: str
    changes: list[Change]


@dataclass
class Failing:
    url: str
    title: str
    runs: int
    reason: str


def group_by_page(changes: Iterable[Change], pages: Sequence[PageState] = ()) -> list[PageGroup]:
    """Changes gathered under their page, the page with the latest change first, its changes in order."""
    titles = {p.url: p.title for p in pages}
    groups: dict[str, PageGroup] = {}
    for change in sorted(changes, key=lambda c: (c.detected_at or "", c.id or 0)):
        group = groups.get(change.page_url)
        if group is None:
            group = groups[change.page_url] = PageGroup(change.page_url, "", [])
        group.changes.append(change)
        group.title = change.title or group.title
    for group in groups.values():
        group.title = group.title or titles.get(group.url) or group.url
    return sorted(groups.values(), key=lambda g: g.changes[-1].detected_at or "", reverse=True)


def failing_pages(pages: Iterable[PageState], alert_after_failures: int) -> list[Failing]:
    return [
        Failing(p.url, p.title or p.url, p.consecutive_failures, p.last_error or "no reason recorded")
        for p in pages
        if p.active and p.consecutive_failures >= alert_after_failures
    ]


def organisation_prefix(organisations: Iterable[Sequence[str]]) -> str:
    """ "DfE" when every page comes from one organisation, else "GOV.UK"."""
    firsts = {orgs[0] for orgs in organisations if orgs}
    if len(firsts) != 1:
        return "GOV.UK"
    name = firsts.pop()
    from .chat import header  # a name from a page: no control characters, and short enough for a subject

    return _ABBREVIATION_BY_KEY.get(_name_key(name), header(name, 60))


def digest_subject(
    groups: Sequence[PageGroup],
    failing: Sequence[Failing],
    *,
    since: str | date | None,
    prefix: str = "GOV.UK",
) -> str:
    changed = [g for g in groups if any(c.kind != "new" for c in g.changes)]
    since_text = f" since {london_date(since, year=_needs_year(since))}" if since else ""
    if changed:
        n = len(changed)
        return f"{n} {prefix} guidance page{'s' if n != 1 else ''} changed{since_text}"
    if groups:
        n = len(groups)
        return f"Now watching {n} {prefix} guidance page{'s' if n != 1 else ''}"
    n = len(failing)
    return f"We could not check {n} {prefix} guidance page{'s' if n != 1 else ''}"


def _needs_year(since: str | date | None) -> bool:
    if since is None:
        return False
    year = since.year if isinstance(since, date) else int(str(since)[:4])
    return year != datetime.now(LONDON).year


SUBJECT_LIMIT = 78
"""A subject line longer than this is cut by many mail programs (RFC 5322's line length)."""
PUBLICATION_NOTE = "GOV.UK's change note on the publication"
DOCUMENT_EXPLAINED = "Changed in this update to the publication"
DOCUMENT_SILENT = (
    "Changed without a change note: neither this document nor the publication it belongs to says so"
)


@dataclass
class DocumentGroup:
    """One document's changes in a story, told once even when several of its addresses answered."""

    url: str
    title: str
    parts: list[story_rules.DocumentStory]
    also_at: list[str]

    @property
    def edits(self) -> list[Change]:
        return [d.change for d in self.parts if d.change.changeset is not None]

    @property
    def explained_by(self) -> HistoryEntry | None:
        return next((d.explained_by for d in self.parts if d.explained_by is not None), None)

    @property
    def silent(self) -> bool:
        return any(d.silent for d in self.parts)

    @property
    def events(self) -> list[Change]:
        """Changes that are not edits (first seen, moved, removed): each says itself in a sentence."""
        return [d.change for d in self.parts if d.change.changeset is None]


def document_groups(story: story_rules.Story) -> list[DocumentGroup]:
    """The story's documents, one group per page; a page whose edit is the very same as another's (an
    old address redirecting to the same document) is named beside it rather than told twice, and the
    new address a document moved to is not told again as a page first seen."""
    groups: dict[str, DocumentGroup] = {}
    for part in story.documents:
        url = part.change.page_url
        group = groups.get(url)
        if group is None:
            group = groups[url] = DocumentGroup(url, part.change.title or url, [], [])
        group.parts.append(part)
    moved_to = {c.new_url for g in groups.values() for c in g.events if c.new_url}
    told: list[DocumentGroup] = []
    for group in groups.values():
        if group.url in moved_to and all(d.change.kind == "new" for d in group.parts):
            continue  # first seen at the address another document says it moved to: said there
        same = next(
            (
                g
                for g in told
                if group.edits
                and g.edits
                and [c.changeset.to_dict() for c in g.edits if c.changeset]
                == [c.changeset.to_dict() for c in group.edits if c.changeset]
            ),
            None,
        )
        if same is not None:
            same.also_at.append(group.url)
            continue
        told.append(group)
    return told


def story_key(story: story_rules.Story) -> str:
    """The change the story's page on the changelog is named after: the page's own, else a document's."""
    first = (story.changes or [d.change for d in story.documents])[0]
    return change_key(first)


def story_label(story: story_rules.Story) -> str:
    kind = story.kind
    if kind == "new" and all(c.kind == "new" for c in story.all_changes):
        return KIND_LABELS["new"]
    return KIND_LABELS.get(kind, kind)


def headline_prefix(story: story_rules.Story) -> str:
    """What the headline note is: the page's own change note, or its publication's."""
    if story.headline is None:
        return ""
    own = any(story_rules.own_notes(c) for c in story.changes)
    prefix = "GOV.UK's change note" if own else PUBLICATION_NOTE
    # Several notes at once: each says its own date, as the earlier ones folded under it do.
    entry = story.headline
    return f"{prefix}{_of_date(entry.date)}" if len(story.notes) > 1 else prefix


def headline_line(story: story_rules.Story) -> str:
    """The story's one headline as plain text: the newest change note, or that there was none."""
    entry = story.headline
    if entry is not None:
        return f"{headline_prefix(story)}: {entry.note}"
    if story.silent:
        return f"{SILENT_WARNING}. {silent_sentence(story)}"
    sentences = [description(c) for c in story.all_changes if description(c)]
    return sentences[0] if sentences else story_label(story)


def silent_sentence(story: story_rules.Story) -> str:
    """Why a story is a silent edit, in plain words."""
    if story.documents:
        return "GOV.UK did not say this page or its documents changed."
    return "GOV.UK did not say this page changed."


def documents_line(story: story_rules.Story | None) -> str:
    """One line for lists of changes: which of the publication's documents changed, and how much."""
    if story is None:
        return ""
    groups = [g for g in document_groups(story) if g.edits]
    if not groups:
        return ""
    counts = [summary_counts(c.changeset) for g in groups for c in g.edits]
    sections = sum(n["sections"] for n in counts)
    added = sum(n["words_added"] for n in counts)
    removed = sum(n["words_removed"] for n in counts)
    titles = ", ".join(f"“{g.title}”" for g in groups)
    return (
        f"In its {'documents' if len(groups) > 1 else 'document'} {titles}: "
        f"{plural(sections, 'section')} changed ({plural(added, 'word')} added, {removed} removed)"
    )


def earlier_notes(story: story_rules.Story) -> list[HistoryEntry]:
    """The notes of the same run after the headline, newest first: folded under the change."""
    return story.notes[1:]


def story_subject(
    stories: Sequence[story_rules.Story],
    failing: Sequence[Failing],
    *,
    since: str | date | None,
    prefix: str = "GOV.UK",
) -> str:
    """The digest's subject: the page and its headline when one page changed, else counts."""
    changed = [s for s in stories if any(c.kind != "new" for c in s.all_changes)]
    pages = {s.url for s in changed}
    if len(pages) == 1:
        story = changed[0]
        entry = story.headline
        if entry is not None:
            return _fit(story.title, f"updated: {entry.note}", len("updated: ") + NOTE_ROOM)
        what = "changed without a change note" if story.silent else KIND_LABELS.get(story.kind, story.kind)
        return _fit(story.title, what.lower(), len(what))
    # Else counts: a publication and its documents count as one page.
    if changed:
        n = len(pages)
        since_text = f" since {london_date(since, year=_needs_year(since))}" if since else ""
        return f"{n} {prefix} guidance page{'s' if n != 1 else ''} changed{since_text}"
    watched = [PageGroup(url, "", []) for url in dict.fromkeys(s.url for s in stories)]
    return digest_subject(watched, failing, since=since, prefix=prefix)


NOTE_ROOM = 16
"""Characters of a subject line kept for the change note when the page's title is long."""


def _fit(title: str, what: str, keep: int) -> str:
    """ "“Title” what", within the subject limit, keeping at least ``keep`` characters of ``what``: a
    long title loses its qualifier after a colon ("Special schools…: coronavirus (COVID-19)") or is
    cut, and what is left of ``what`` is cut with "…"."""
    title = " ".join(title.split())
    what = " ".join(what.split())
    room = SUBJECT_LIMIT - 3 - min(len(what), keep)
    if len(title) > room and ":" in title and len(title.split(":", 1)[0]) >= 16:
        title = title.split(":", 1)[0].rstrip()
    if len(title) > room:
        title = title[: room - 1].rstrip() + "…"
    subject = f"“{title}” {what}"
    if len(subject) > SUBJECT_LIMIT:
        subject = subject[: SUBJECT_LIMIT - 1].rstrip() + "…"
    return subject


def digest(
    changes: Sequence[Change],
    pages: Sequence[PageState],
    *,
    since: str | date | None,
    site_url: str = "",
    alert_after_failures: int = 3,
    organisations: dict[str, list[str]] | None = None,
    context: Sequence[Change] = (),
    newest_first: bool = False,
) -> tuple[str, str, str]:
    """The email digest: ``(subject, plain text, HTML with inline styles)``.

    Changes are told as stories (:mod:`monitor.story`): a publication's documents under it, newest
    first. ``since`` is the date the digest covers from (default: the day of its oldest change);
    ``organisations`` maps page URLs to GOV.UK's organisation names for the subject line; ``context``
    adds recorded changes not sent now (earlier runs) that may explain a document's change;
    ``newest_first`` groups each page's stories together, the page's latest state first, as a weekly
    summary reads.
    """
    wanted = [c for c in changes if c.kind != "none" and not c.backfilled]
    stories = story_rules.stories(wanted, pages, context=context)
    if newest_first:
        # The page changed last first; within a page, its latest state first (the sort is stable).
        latest: dict[str, str] = {}
        for story in stories:
            latest[story.url] = max(latest.get(story.url, ""), story.detected_at)
        stories.sort(key=lambda story: story.detected_at, reverse=True)
        stories.sort(key=lambda story: latest[story.url], reverse=True)
    failing = failing_pages(pages, alert_after_failures)
    if since is None and wanted:
        since = london_day(min(c.detected_at for c in wanted))
    orgs = organisations or {}
    prefix = organisation_prefix(orgs.get(s.url, []) for s in stories) if stories else "GOV.UK"
    subject = story_subject(stories, failing, since=since, prefix=prefix)
    context_vars = {
        "subject": subject,
        "stories": stories,
        "failing": failing,
        "site_url": site_url.rstrip("/"),
        "since": since,
        "word_diff_key": has_word_diff(wanted),
        "change_link": lambda c: change_link(c, site_url),
        "story_link": lambda st: f"{site_url.rstrip('/')}/changes/{story_key(st)}.html" if site_url else "",
        "page_link": lambda url: page_link(url, site_url),
    }
    return subject, _render("digest.txt", **context_vars), _render("digest.html", **context_vars)


# --------------------------------------------------------------------------- stories


def change_stories(
    changes: Sequence[Change], pages: Sequence[PageState]
) -> dict[str, tuple[story_rules.Story, story_rules.DocumentStory | None]]:
    """Each recorded change's story, by ``change_key``: the story it is told in and, for a document's
    change, how it is told there. For the change pages and feeds, which show a publication's documents
    under it and a document's change with the publication's note."""
    by_key: dict[str, tuple[story_rules.Story, story_rules.DocumentStory | None]] = {}
    for story in story_rules.stories(changes, pages, context=changes):
        for change in story.changes:
            by_key[change_key(change)] = (story, None)
        for part in story.documents:
            by_key[change_key(part.change)] = (story, part)
    return by_key


def change_story(
    change: Change, changes: Sequence[Change], pages: Sequence[PageState]
) -> tuple[story_rules.Story, story_rules.DocumentStory | None] | None:
    """One change's story among all recorded ``changes`` (see :func:`change_stories`)."""
    run = [c for c in changes if c.detected_at == change.detected_at]
    return change_stories(run, pages).get(change_key(change)) if not change.backfilled else None


def changeset_html(changeset: ChangeSet) -> str:
    """A ChangeSet as an HTML fragment (section by section, words marked), for ``guidance-monitor diff``."""
    return _render("_changeset.html", changeset=changeset, context_words=30)


# ------------------------------------------------------------------ a ChangeSet as a report (diff command)

BY_PARAGRAPH = "shown paragraph by paragraph: too large to compare word by word"
"""What the text report says under a section the diff showed item by item, whole."""
TEXT_CONTEXT_WORDS = 6
TEXT_CHANGE_WORDS = 40
"""The text report quotes at most this many words of one deletion or insertion; JSON and HTML keep all."""


def _excerpt(ops: Sequence[DiffOp], context: int) -> list[str]:
    """Changed words marked ``[-deleted-] [+inserted+]``, as in the email, with a few words either side."""
    lines: list[str] = []
    current: list[str] = []
    # An excerpt is one line of words: the page's line breaks are shown in the email and the site.
    ops = [DiffOp(op.op, " ".join(op.text.split())) for op in ops]
    for k, op in enumerate(ops):
        if op.op != "equal":
            changed = op.text.split()
            text = op.text
            if len(changed) > TEXT_CHANGE_WORDS:
                text = (
                    " ".join(changed[:TEXT_CHANGE_WORDS])
                    + f" … ({len(changed) - TEXT_CHANGE_WORDS} more words)"
                )
            current.append(f"[-{text}-]" if op.op == "delete" else f"[+{text}+]")
            continue
        tokens = op.text.split()
        first, last = k == 0, k == len(ops) - 1
        if first and last:
            continue
        if first:
            current.append(("… " if len(tokens) > context else "") + " ".join(tokens[-context:]))
        elif last:
            current.append(" ".join(tokens[:context]) + (" …" if len(tokens) > context else ""))
        elif len(tokens) <= 2 * context:
            current.append(op.text)
        else:
            current.append(" ".join(tokens[:context]) + " …")
            lines.append(" ".join(current))
            current = ["… " + " ".join(tokens[-context:])]
    if any(mark in part for part in current for mark in ("[-", "[+")):
        lines.append(" ".join(current))
    return lines


def _day(iso: str | None, missing: str = "none") -> str:
    return london_date(iso) or missing


def text_report(changes: ChangeSet, *, context: int = TEXT_CONTEXT_WORDS) -> str:
    """A short plain-text report of a ChangeSet: what GOV.UK said, then what really changed."""
    if not changes.changed:
        return "No change.\n"
    old, new = changes.old, changes.new
    # The site's words (KIND_LABELS, section_label, ATTACHMENT_LABELS): one vocabulary everywhere.
    label = KIND_LABELS.get(changes.kind, changes.kind.capitalize())
    out = [f"{new.title or old.title}", f"{label} (a silent edit)" if changes.kind == "minor" else label]
    if old.last_updated != new.last_updated:
        out.append(f"Last updated: {_day(old.last_updated)} -> {_day(new.last_updated)}")
    if old.history_count != new.history_count:
        out.append(f"Updates listed: {old.history_count} -> {new.history_count}")
    if changes.history_added:
        out += ["", "GOV.UK's change notes:"]
        out += [f"  {_day(entry.date, NO_DATE)}: {entry.note}" for entry in changes.history_added]
    if changes.sections:
        out += ["", "Sections:"]
        for section in changes.sections:
            line = f"  {section_label(section)}: {section.heading}"
            if section.added_words or section.removed_words:
                line += f" (+{section.added_words} -{section.removed_words} words)"
            out.append(line)
            if section.status not in ("added", "removed"):
                for block in diff_items(section.diff):
                    out += [f"      {excerpt}" for excerpt in _excerpt(block.ops, context)]
            if section.by_paragraph:
                out.append(f"      ({BY_PARAGRAPH})")
    if changes.attachments:
        out += ["", "Attachments:"]
        for attachment in changes.attachments:
            label = ATTACHMENT_LABELS.get(attachment.status, attachment.status)
            if attachment.status == "renamed":
                out.append(f"  {label}: {attachment.old_title} -> {attachment.title}")
            else:
                out.append(f"  {label}: {attachment.title}")
            out += [
                f"      {fact}" for fact in attachment_facts(attachment) if not fact.startswith("renamed")
            ]
            out.append(f"      {attachment.url}")
    if changes.metadata:
        out += ["", "Details:"]
        for item in changes.metadata:
            out.append(f"  {item.field.replace('_', ' ')}: {item.old or '(none)'} -> {item.new or '(none)'}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- standalone HTML


def html_report(changes: ChangeSet, *, old_name: str = "", new_name: str = "") -> str:
    """The site's diff view (``templates/_diff.html``) as a page of its own, everything escaped."""
    return _render("diff_page.html", changeset=changes, old_name=old_name, new_name=new_name)


# The static changelog's renderers live in render/site.py; these names stay importable from here.
from .site import INDEX_LIMIT, SITE_FEED_LIMIT, SitePage, atom, site, xml_safe  # noqa: E402, F401
