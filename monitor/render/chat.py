"""The words of chat messages and notifications (Slack, Teams, JSON, Apprise) and of email headers.

Pure: a :class:`Digest` in, a payload out. Text taken from a page is escaped for each channel's own
markup (Slack's ``<!channel>``, ``<@U…>`` and ``<url|label>``, Teams' Markdown and ``<at>`` mentions), so a
page can never ping a workspace or forge a link; headers lose control and bidirectional-override
characters and are bounded, so one page cannot make a subject line 50,000 characters long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from ..clock import london_date, parse_timestamp
from ..deadlines import PageDate
from ..model import Change, DiffOp, PageState
from ..settings import WEBHOOK_FORMATS
from .changesets import summary_counts
from .digests import Failing, digest, failing_pages, group_by_page
from .labels import NO_DATE, SILENT_WARNING, change_label, description, plural
from .plain_text import HEADER_LIMIT, bounded, header, plain
from .records import change_date, change_link, http_url, note_lines
from .summaries import change_summary

SUBJECT_LIMIT = HEADER_LIMIT
"""The longest subject line any channel sends: what :func:`header` bounds it to."""
SLACK_MAX_CHANGES = 40
SLACK_SECTION_LIMIT = 2900
"""Slack refuses a section block over 3,000 characters."""
TEXT_LIMIT = 3500
"""The body of a notification: the shortest common limit among Apprise's chat services (Telegram 4,096)."""


@dataclass
class Digest:
    """The changes one channel sends in one go, with what it needs to word them."""

    changes: list[Change]
    pages: list[PageState] = field(default_factory=list)
    site_url: str = ""
    since: str | None = None
    alert_after_failures: int = 3
    organisations: dict[str, list[str]] = field(default_factory=dict)
    title: str = ""
    """A subject of its own (the test message) instead of the one worded from the changes."""
    newest_first: bool = False
    """Each page's latest change first (a subscriber's weekly summary)."""
    coming_up: list[PageDate] = field(default_factory=list)
    """The dates to act on coming up, which a weekly summary ends with."""

    @cached_property
    def rendered(self) -> tuple[str, str, str]:
        """``(subject, plain text, HTML)`` of the email digest."""
        subject, text, html = digest(
            self.changes,
            self.pages,
            since=self.since,
            site_url=self.site_url,
            alert_after_failures=self.alert_after_failures,
            organisations=self.organisations,
            newest_first=self.newest_first,
            coming_up=self.coming_up,
        )
        return header(self.title or subject), text, html

    @property
    def subject(self) -> str:
        return self.rendered[0]

    @property
    def failing(self) -> list[Failing]:
        return failing_pages(self.pages, self.alert_after_failures)

    @property
    def change_ids(self) -> list[int]:
        return [c.id for c in self.changes if c.id is not None]

    def only(self, changes: Sequence[Change]) -> Digest:
        """The same digest carrying fewer changes (a part of a digest split to fit a mail server)."""
        return replace(self, changes=list(changes))

    @property
    def newest(self) -> datetime:
        """When its newest change was found: names a written digest, so files sort in the order found."""
        found = [c.detected_at for c in self.changes if c.detected_at]
        return parse_timestamp(max(found)) if found else datetime.now(UTC)


# --------------------------------------------------------------------------- each channel's markup


def slack_text(text: str) -> str:
    """Text in Slack's mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack asks, so ``<!channel>`` or
    ``<https://x|label>`` from a page is shown, never acted on."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str, label: str) -> str:
    """``<url|label>``: the address cannot close the link early, the label is escaped."""
    target = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{target}|{slack_text(label)}>"


def teams_text(text: str) -> str:
    """Text in a Teams MessageCard (Markdown and a little HTML): every mark escaped, ``<at>`` inert."""
    escaped = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\*_\[\]`#~])", r"\\\1", escaped)


def teams_link(url: str, label: str) -> str:
    target = url.replace(")", "%29").replace("(", "%28").replace(" ", "%20")
    return f"[{teams_text(label)}]({target})"


# --------------------------------------------------------------------------- words


def change_lines(change: Change) -> list[str]:
    """A change as a few plain lines: its date and kind, GOV.UK's notes, the counts of what changed."""
    date = london_date(change_date(change)) or NO_DATE.capitalize()
    lines = [f"{date}: {change_label(change)}", *note_lines(change)]
    if change.kind == "minor":
        lines.append(f"{SILENT_WARNING}.")
    if description(change):
        lines.append(description(change))
    counts = summary_counts(change.changeset)
    if counts["sections"] or counts["attachments"]:
        lines.append(
            f"{plural(counts['sections'], 'section')} changed "
            f"({plural(counts['words_added'], 'word')} added, {counts['words_removed']} removed), "
            f"{plural(counts['attachments'], 'attachment')} changed"
        )
    return lines


def failing_line(failing: Failing) -> str:
    return f"We could not check {failing.title} for {plural(failing.runs, 'run')}: {failing.reason}"


def slack(digest: Digest) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (the subject) and blocks, one section per change."""
    subject = digest.subject
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": bounded(subject, 150)}}
    ]
    for change in digest.changes[:SLACK_MAX_CHANGES]:
        href = http_url(change.page_url)
        title = change.title or change.page_url
        heading = f"*{slack_link(href, title)}*" if href else f"*{slack_text(title)}*"
        lines = [heading, *(slack_text(line) for line in change_lines(change))]
        link = change_link(change, digest.site_url)
        if link:
            lines.append(slack_link(link, "See this change"))
        text = bounded("\n".join(lines), SLACK_SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    extra = len(digest.changes) - SLACK_MAX_CHANGES
    if extra > 0:
        more = {"type": "mrkdwn", "text": f"and {plural(extra, 'more change')}"}
        blocks.append({"type": "context", "elements": [more]})
    for failing in digest.failing:
        text = bounded(slack_text(failing_line(failing)), SLACK_SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": slack_text(subject), "blocks": blocks}


def teams(digest: Digest) -> dict[str, Any]:
    """A Microsoft Teams connector MessageCard, one section per page."""
    sections = []
    for group in group_by_page(digest.changes, digest.pages):
        lines = []
        for change in group.changes:
            lines += [teams_text(line) for line in change_lines(change)]
            link = change_link(change, digest.site_url)
            if link:
                lines.append(teams_link(link, "See this change"))
        href = http_url(group.url)
        title = bounded(plain(group.title), 300)
        sections.append(
            {
                "activityTitle": teams_link(href, title) if href else teams_text(title),
                "text": bounded("\n\n".join(lines), TEXT_LIMIT * 4),
            }
        )
    subject = teams_text(digest.subject)
    failing = [teams_text(failing_line(f)) for f in digest.failing]
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": subject,
        "themeColor": "1D70B8",
        "title": subject,
        "text": "\n\n".join([subject, *failing]),
        "sections": sections,
    }


def json_body(digest: Digest) -> dict[str, Any]:
    """The plain JSON body: the subject and each change as data (its documented fields)."""
    return {
        "subject": digest.subject,
        "since": digest.since,
        "site_url": digest.site_url or None,
        "changes": [change_summary(c, site_url=digest.site_url) for c in digest.changes],
        "failing": [
            {"url": f.url, "title": f.title, "runs": f.runs, "reason": f.reason} for f in digest.failing
        ],
    }


WEBHOOK_BODIES: dict[str, Callable[[Digest], dict[str, Any]]] = {
    "slack": slack,
    "teams": teams,
    "json": json_body,
}
assert tuple(WEBHOOK_BODIES) == WEBHOOK_FORMATS


def notification(digest: Digest) -> tuple[str, str]:
    """``(title, body)`` of a notification sent through Apprise: plain text, every page's text cleaned,
    bounded to what the smallest chat services accept, with a link to the changelog when there is one."""
    lines: list[str] = []
    for group in group_by_page(digest.changes, digest.pages):
        lines.append(plain(group.title))
        if http_url(group.url):
            lines.append(group.url)
        for change in group.changes:
            lines += [f"  {plain(line)}" for line in change_lines(change)]
            link = change_link(change, digest.site_url)
            if link:
                lines.append(f"  See this change: {link}")
        lines.append("")
    lines += [plain(failing_line(f)) for f in digest.failing]
    body = "\n".join(lines).strip()
    if len(body) > TEXT_LIMIT:
        more = f"\n… (more at {digest.site_url})" if digest.site_url else "\n…"
        body = bounded(body, TEXT_LIMIT - len(more)) + more
    return digest.subject, body or digest.subject


def test_notification() -> tuple[str, str]:
    """The message ``guidance-monitor notify --test`` sends on every channel."""
    return (
        "guidance-monitor: test message",
        "This is a test from guidance-monitor. Changes to the GOV.UK pages you watch will arrive here.",
    )


def test_digest() -> Digest:
    """A digest with one made-up change, for ``notify --test`` on the email and webhook channels."""
    change = Change(
        "https://www.gov.uk/",
        "new",
        datetime.now(UTC).isoformat(timespec="seconds"),
        "guidance-monitor: test message",
        note=test_notification()[1],
    )
    return Digest([change], title=test_notification()[0])


# --------------------------------------------------------------------------- a digest that must be smaller


def shortened(change: Change, words: int = 200) -> Change:
    """The change with each section's word diff cut to about ``words`` words; the changelog has the rest."""
    if change.changeset is None:
        return change
    sections = []
    for section in change.changeset.sections:
        ops: list[DiffOp] = []
        left = words
        for op in section.diff:
            taken = op.text.split()
            if left <= 0:
                break
            if len(taken) > left:
                ops.append(DiffOp(op.op, " ".join(taken[:left]) + " …"))
                left = 0
                break
            ops.append(op)
            left -= len(taken)
        if left <= 0:
            ops.append(DiffOp("equal", " [cut short to fit the email]"))
        sections.append(replace(section, diff=ops))
    return replace(change, changeset=replace(change.changeset, sections=sections))
