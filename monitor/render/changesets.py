"""A ChangeSet's words and numbers as people read them: word diffs trimmed and spaced as the page wrote
them, wdiff's marks for plain text, and what changed in sections, attachments and a PDF's pages said in
phrases rather than status codes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from ..model import AttachmentChange, Change, ChangeSet, DiffOp, SectionChange
from ..tokens import glued
from .labels import plural


def has_word_diff(changes: Iterable[Change]) -> bool:
    """Whether any change shows inserted or deleted words, so a reader needs the key to them."""
    return any(
        op.op != "equal"
        for change in changes
        if change.changeset
        for section in change.changeset.sections
        for op in section.diff
    )


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
    sections hold many lines."""
    return Markup(str(escape(str(text))).replace("\n", "<br>\n"))


def section_label(section: SectionChange) -> str:
    """What happened to a section, in words: a renamed heading names the old one."""
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
    """ "PDF", as GOV.UK writes an attachment's format."""
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
    """How much changed, in the numbers every summary quotes (sections, words, attachments, notes)."""
    if changeset is None:
        return {"sections": 0, "words_added": 0, "words_removed": 0, "attachments": 0, "history_added": 0}
    return {
        "sections": len(changeset.sections),
        "words_added": sum(s.added_words for s in changeset.sections),
        "words_removed": sum(s.removed_words for s in changeset.sections),
        "attachments": len(changeset.attachments),
        "history_added": len(changeset.history_added),
    }
