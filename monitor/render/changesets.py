"""A ChangeSet's words and numbers as people read them: word diffs trimmed and spaced as the page wrote
them, wdiff's marks for plain text, and what changed in sections, attachments and a PDF's pages said in
phrases rather than status codes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..model import AttachmentChange, Change, ChangeSet, DiffOp, SectionChange
from ..tokens import DiffItem, diff_items, glued
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


@dataclass(frozen=True)
class Fold:
    """A run of unchanged paragraphs left out of a change's view: how many, and the items themselves
    (the site keeps them behind ``<details>``; the email only counts them)."""

    items: list[DiffItem]

    @property
    def label(self) -> str:
        return plural(len(self.items), "unchanged paragraph")


FOLD_CONTEXT = 1
"""Unchanged paragraphs shown either side of a changed one."""


def folded(ops: Sequence[DiffOp], context: int = FOLD_CONTEXT) -> list[DiffItem | Fold]:
    """The changed items (paragraphs, list items, table rows) of a word diff with ``context`` unchanged
    items either side; each longer run of unchanged items becomes one :class:`Fold`. A lone unchanged
    item is shown: folding it saves nothing. Inside a shown item, long unchanged passages are shortened
    by :func:`trim_ops`."""
    items = diff_items(ops)
    changed = [k for k, item in enumerate(items) if item.status != "unchanged"]
    near = {k + d for k in changed for d in range(-context, context + 1)}
    out: list[DiffItem | Fold] = []
    hidden: list[DiffItem] = []
    for k, item in enumerate(items):
        if k in near:
            out.extend(_hidden(hidden))
            hidden = []
            out.append(item)
        else:
            hidden.append(item)
    out.extend(_hidden(hidden))
    return out


def _hidden(items: list[DiffItem]) -> list[DiffItem | Fold]:
    return [Fold(items)] if len(items) > 1 else list(items)


def folded_text(ops: Sequence[DiffOp], context_words: int = 12) -> str:
    """A word diff as plain text, only its changed items and their context, each fold one line
    ("[12 unchanged paragraphs]")."""
    parts = []
    for part in folded(ops):
        if isinstance(part, Fold):
            parts.append(f"[{part.label}]")
        else:
            parts.append(diff_text(trim_ops(part.ops, context_words)))
    return "\n".join(parts)


def side_by_side(ops: Sequence[DiffOp]) -> list[tuple[list[DiffOp], list[DiffOp]]]:
    """A word diff as rows of (old runs, new runs), item by item: an unchanged item on both sides, a
    changed one with its deletions on the left and insertions on the right, and a run of removed items
    beside the run of new items after it, pair by pair."""
    rows: list[tuple[list[DiffOp], list[DiffOp]]] = []
    removed: list[list[DiffOp]] = []
    added: list[list[DiffOp]] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            rows.append((removed[k] if k < len(removed) else [], added[k] if k < len(added) else []))
        removed.clear()
        added.clear()

    for item in diff_items(ops):
        if item.status == "deleted":
            if added:
                flush()
            removed.append(item.ops)
        elif item.status == "inserted":
            added.append(item.ops)
        else:
            flush()
            old = [op for op in item.ops if op.op != "insert"]
            rows.append((old, [op for op in item.ops if op.op != "delete"]))
    flush()
    return rows


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
    file = []
    if any(k is not None for k in kinds) or any(n is not None for n in sizes):
        if attachment.old_kind and attachment.kind and attachment.old_kind != attachment.kind:
            file.append(f"{file_format(attachment.old_kind)}, {file_size(attachment.old_size)} → ")
            file.append(f"{file_format(attachment.kind)}, {file_size(attachment.size)}")
        else:
            file.append(f"{file_format(attachment.kind or attachment.old_kind)}, ")
            file.append(f"{file_size(attachment.old_size)} → {file_size(attachment.size)}")
    old_pages, new_pages = attachment.old_page_count, attachment.page_count
    if old_pages is not None and new_pages is not None and old_pages != new_pages:
        file.append(f"{', ' if file else ''}{plural(old_pages, 'page')} → {plural(new_pages, 'page')}")
    if file:
        facts.append(f"new file: {''.join(file)}")
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
