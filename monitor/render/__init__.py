"""Turn recorded changes into what people read: the email digest, the static changelog and its Atom feeds.

Pure: lists of :class:`~monitor.model.Change` and :class:`~monitor.model.PageState` in, text out. Sending
and writing files is ``deliver``'s job. Every template is autoescaped, and only http(s) addresses taken
from a page ever become links, so a page holding ``<script>`` or a ``javascript:`` link renders as text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jinja2

from .. import TEMPLATES_DIR
from ..clock import LONDON, london_day, london_moment, parse_timestamp, utc_timestamp
from ..govuk import page_slug
from ..model import Change, ChangeSet, DiffOp, HistoryEntry, PageState, SectionChange

TAG_AUTHORITY = "tag:guidance-monitor,2026"

KIND_LABELS = {
    "major": "Updated with a change note",
    "minor": "Changed without a change note",
    "new": "Now being watched",
    "moved": "Moved",
    "removed": "No longer on GOV.UK",
    "withdrawn": "Withdrawn",
    "none": "No change",
}
KIND_ORDER = ["major", "minor", "withdrawn", "moved", "removed", "new"]
BACKFILLED_LABEL = "Published before monitoring began"
SILENT_WARNING = "Changed without a change note"
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


def london_date(value: str | date | datetime | None, *, year: bool = True) -> str:
    """ "27 November 2026": a date as people read it, a UTC timestamp turned to Europe/London first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = london_moment(value)
        except ValueError:
            return value
    elif isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(LONDON)
    text = f"{value.day} {value:%B}"
    return f"{text} {value.year}" if year else text


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


def change_label(change: Change) -> str:
    """The change's kind as people read it; GOV.UK's backfilled "First published." entry says so."""
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
    return change.note or KIND_LABELS.get(change.kind, change.kind)


def trim_ops(ops: Sequence[DiffOp], context: int = 12) -> list[DiffOp]:
    """Keep changed words and ``context`` words either side; long unchanged runs become "…"."""
    out: list[DiffOp] = []
    last = len(ops) - 1
    for i, op in enumerate(ops):
        words = op.text.split()
        if op.op != "equal" or len(words) <= 2 * context + 1:
            out.append(op)
            continue
        lead = op.text[: len(op.text) - len(op.text.lstrip())]
        trail = op.text[len(op.text.rstrip()) :]
        head = " ".join(words[:context])
        tail = " ".join(words[-context:])
        if i == 0:
            text = f"… {tail}{trail}"
        elif i == last:
            text = f"{lead}{head} …"
        else:
            text = f"{lead}{head} … {tail}{trail}"
        out.append(DiffOp("equal", text))
    return out


def diff_text(ops: Sequence[DiffOp]) -> str:
    """A word diff as plain text: ``[+inserted+]`` and ``[-deleted-]`` (wdiff's marks)."""
    parts = []
    for op in ops:
        if op.op == "insert":
            parts.append(f"[+{op.text.strip()}+]" if op.text.strip() else op.text)
        elif op.op == "delete":
            parts.append(f"[-{op.text.strip()}-]" if op.text.strip() else op.text)
        else:
            parts.append(op.text)
    text = "".join(parts)
    return re.sub(r"(\S)(\[[+-])", r"\1 \2", re.sub(r"([+-]\])(\S)", r"\1 \2", text))


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


def change_link(change: Change, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/changes/{change_key(change)}.html" if site_url else ""


def page_link(url: str, site_url: str) -> str:
    return f"{site_url.rstrip('/')}/pages/{page_slug(url)}.html" if site_url else ""


# --------------------------------------------------------------------------- jinja


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    from .site import month_label

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # templates change only with a new version: no stat of each file per render
    )
    env.filters.update(
        london_date=london_date,
        http_url=http_url,
        iso_utc=iso_utc,
        slug=page_slug,
        trim_ops=trim_ops,
        diff_text=diff_text,
        plural=plural,
        month_label=month_label,
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
    return _ABBREVIATION_BY_KEY.get(_name_key(name), " ".join(name.split()))


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


def digest(
    changes: Sequence[Change],
    pages: Sequence[PageState],
    *,
    since: str | date | None,
    site_url: str = "",
    alert_after_failures: int = 3,
    organisations: dict[str, list[str]] | None = None,
) -> tuple[str, str, str]:
    """The email digest: ``(subject, plain text, HTML with inline styles)``.

    ``since`` is the date the digest covers from (default: the day of its oldest change);
    ``organisations`` maps page URLs to GOV.UK's organisation names for the subject line.
    """
    wanted = [c for c in changes if c.kind != "none" and not c.backfilled]
    groups = group_by_page(wanted, pages)
    failing = failing_pages(pages, alert_after_failures)
    if since is None and wanted:
        since = london_day(min(c.detected_at for c in wanted))
    orgs = organisations or {}
    prefix = organisation_prefix(orgs.get(g.url, []) for g in groups) if groups else "GOV.UK"
    subject = digest_subject(groups, failing, since=since, prefix=prefix)
    context = {
        "subject": subject,
        "groups": groups,
        "failing": failing,
        "site_url": site_url.rstrip("/"),
        "since": since,
        "word_diff_key": has_word_diff(wanted),
        "change_link": lambda c: change_link(c, site_url),
        "page_link": lambda url: page_link(url, site_url),
    }
    return subject, _render("digest.txt", **context), _render("digest.html", **context)


def changeset_html(changeset: ChangeSet) -> str:
    """A ChangeSet as an HTML fragment (section by section, words marked), for ``guidance-monitor diff``."""
    return _render("_changeset.html", changeset=changeset, context_words=30)


# ------------------------------------------------------------------ a ChangeSet as a report (diff command)

TEXT_CONTEXT_WORDS = 6
TEXT_CHANGE_WORDS = 40
"""The text report quotes at most this many words of one deletion or insertion; JSON and HTML keep all."""


def _excerpt(ops: Sequence[DiffOp], context: int) -> list[str]:
    """Changed words marked ``[-deleted-] [+inserted+]``, as in the email, with a few words either side."""
    lines: list[str] = []
    current: list[str] = []
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
    labels = {
        "major": "Updated (GOV.UK announced this change)",
        "minor": f"{SILENT_WARNING} (a silent edit)",
        "withdrawn": "Withdrawn",
    }
    out = [f"{new.title or old.title}", labels.get(changes.kind, changes.kind.capitalize())]
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
            if section.status == "renamed":
                line = f"  renamed: {section.old_heading} -> {section.heading}"
            else:
                line = f"  {section.status}: {section.heading}"
            if section.added_words or section.removed_words:
                line += f" (+{section.added_words} -{section.removed_words} words)"
            out.append(line)
            if section.status not in ("added", "removed"):
                out += [f"      {excerpt}" for excerpt in _excerpt(section.diff, context)]
    if changes.attachments:
        out += ["", "Attachments:"]
        for attachment in changes.attachments:
            if attachment.status == "renamed":
                out.append(f"  renamed: {attachment.old_title} -> {attachment.title}")
            else:
                out.append(f"  {attachment.status}: {attachment.title}")
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
