"""A ChangeSet as a report of its own, for ``guidance-monitor diff``: short plain text, or HTML in the
site's own diff view. Both use the site's words, so the command and the changelog never disagree."""

from __future__ import annotations

from collections.abc import Sequence

from ..clock import london_date
from ..model import ChangeSet, DiffOp
from ..tokens import diff_items
from .changesets import attachment_facts, section_label
from .labels import ATTACHMENT_LABELS, KIND_LABELS, NO_DATE, plural
from .templates import render_template

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
                    + f" … ({plural(len(changed) - TEXT_CHANGE_WORDS, 'more word')})"
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
                line += f" ({plural(section.added_words, 'word')} added, {section.removed_words} removed)"
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


def html_report(changes: ChangeSet, *, old_name: str = "", new_name: str = "") -> str:
    """The site's diff view (``templates/_diff.html``) as a page of its own, everything escaped."""
    return render_template("diff_page.html", changeset=changes, old_name=old_name, new_name=new_name)


def changeset_html(changeset: ChangeSet) -> str:
    """A ChangeSet as an HTML fragment (section by section, words marked), for ``guidance-monitor diff``."""
    return render_template("_changeset.html", changeset=changeset, context_words=30)
