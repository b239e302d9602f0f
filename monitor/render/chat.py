"""The words of chat messages and notifications (Slack, Teams, JSON, Apprise) and of email headers.

Pure: a :class:`Digest` in, a payload out. Text taken from a page is escaped for each channel's own
markup (Slack's ``<!channel>``, ``<@U…>`` and ``<url|label>``, Teams' Markdown and ``<at>`` mentions), so a
page can never ping a workspace or forge a link; headers lose control and bidirectional-override
characters and are bounded, so one page cannot make a subject line 50,000 characters long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from html import escape
from typing import Any

from ..clock import london_date, parse_timestamp
from ..deadlines import PageDate
from ..model import Change, DiffOp, PageState
from ..settings import WEBHOOK_FORMATS
from .changesets import summary_counts
from .digests import Failing, PageGroup, digest, failing_pages, group_by_page
from .labels import NO_DATE, SILENT_WARNING, change_label, description, plural
from .plain_text import HEADER_LIMIT, bounded, header, plain
from .records import change_date, change_link, http_url, note_lines
from .summaries import change_summary, story_summaries

SUBJECT_LIMIT = HEADER_LIMIT
"""The longest subject line any channel sends: what :func:`header` bounds it to."""
SLACK_MAX_CHANGES = 40
SLACK_SECTION_LIMIT = 2900
"""Slack refuses a section block over 3,000 characters."""
TEXT_LIMIT = 3500
"""The body of a notification: the shortest common limit among Apprise's chat services (Telegram 4,096)."""
CARD_LIMIT = 14000
"""Characters of text in a Teams card: Teams refuses a card over about 28 KB, escapes included."""
LINE_LIMIT = 400
"""Characters of one line of a chat message (a long change note): one change never fills a message."""
FAILING_MAX = 5
"""Pages that could not be checked named in a chat message; the email names every one."""
TEST_SUBJECT = "Test message from guidance-monitor"
LONE_MESSAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body><p>{text}</p></body>
</html>
"""
"""The HTML part of a message that carries no change (the test message)."""


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
    footer: str = ""
    """Why the reader gets the email and how to stop it (list mail's footer)."""
    message: str = ""
    """A message of its own instead of changes (the test message): every channel sends it alone."""
    coming_up: list[PageDate] = field(default_factory=list)
    """The dates to act on coming up, which a weekly summary ends with."""

    @cached_property
    def rendered(self) -> tuple[str, str, str]:
        """``(subject, plain text, HTML)`` of the email digest."""
        if self.message:
            subject, text = header(self.title), plain(self.message)
            return subject, text + "\n", LONE_MESSAGE.format(title=escape(subject), text=escape(text))
        subject, text, html = digest(
            self.changes,
            self.pages,
            since=self.since,
            site_url=self.site_url,
            alert_after_failures=self.alert_after_failures,
            organisations=self.organisations,
            newest_first=self.newest_first,
            footer=self.footer,
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


def newest_pages(digest: Digest) -> list[PageGroup]:
    """The digest's pages, the one changed last first, each with its newest change first: a message
    cut to fit a chat service keeps what is newest."""
    groups = group_by_page(digest.changes, digest.pages)
    for group in groups:
        group.changes.reverse()
    return groups


def newest_changes(digest: Digest) -> Iterator[tuple[PageGroup, Change]]:
    """Each change with its page, in the order of :func:`newest_pages`."""
    for group in newest_pages(digest):
        for change in group.changes:
            yield group, change


def more_line(left: int, site_url: str) -> str:
    """What a message cut short says last: how many changes it left out, and where to read them."""
    where = f": {site_url.rstrip('/')}/" if site_url else ""
    return f"and {plural(left, 'more change')}{where}"


def slack(digest: Digest) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` (the subject) and blocks, one section per change, the
    newest first, at most :data:`SLACK_MAX_CHANGES` of them."""
    subject = digest.subject
    if digest.message:
        return {"text": slack_text(digest.message)}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": bounded(subject, 150)}}
    ]
    for _, change in list(newest_changes(digest))[:SLACK_MAX_CHANGES]:
        href = http_url(change.page_url)
        title = change.title or change.page_url
        heading = f"*{slack_link(href, title)}*" if href else f"*{slack_text(title)}*"
        lines = [heading, *(slack_text(bounded(line, LINE_LIMIT)) for line in change_lines(change))]
        link = change_link(change, digest.site_url)
        if link:
            lines.append(slack_link(link, "See this change"))
        text = bounded("\n".join(lines), SLACK_SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    for failing in digest.failing[:FAILING_MAX]:
        text = bounded(slack_text(failing_line(failing)), SLACK_SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    extra = len(digest.changes) - SLACK_MAX_CHANGES
    if extra > 0:
        site = digest.site_url.rstrip("/")
        more = f"and {plural(extra, 'more change')}" + (f": {slack_link(site + '/', site)}" if site else "")
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": slack_text(subject), "blocks": blocks}


def teams(digest: Digest) -> dict[str, Any]:
    """A Microsoft Teams message for a Workflows webhook: one Adaptive Card, the subject, then each change
    (newest first) under its page, cut to what Teams accepts with "and N more changes" and a link."""
    subject = teams_text(digest.subject)
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": subject, "size": "Large", "weight": "Bolder", "wrap": True}
    ]
    if digest.message:
        body.append({"type": "TextBlock", "text": teams_text(digest.message), "wrap": True})
    room = CARD_LIMIT - len(subject)
    sent = 0
    for group in newest_pages(digest):
        href = http_url(group.url)
        title = bounded(plain(group.title), 300)
        heading = teams_link(href, title) if href else teams_text(title)
        blocks: list[dict[str, Any]] = []
        for change in group.changes:
            lines = [teams_text(bounded(line, LINE_LIMIT)) for line in change_lines(change)]
            link = change_link(change, digest.site_url)
            if link:
                lines.append(teams_link(link, "See this change"))
            text = "\n\n".join(lines)
            if len(text) + len(heading) > room:
                break
            room -= len(text) + (len(heading) if not blocks else 0)
            blocks.append({"type": "TextBlock", "text": text, "wrap": True, "spacing": "Small"})
            sent += 1
        if not blocks:
            break
        body.append(
            {"type": "TextBlock", "text": heading, "weight": "Bolder", "wrap": True, "spacing": "Medium"}
        )
        body += blocks
        if len(blocks) < len(group.changes):
            break
    for failing in digest.failing[:FAILING_MAX]:
        body.append({"type": "TextBlock", "text": teams_text(failing_line(failing)), "wrap": True})
    if sent < len(digest.changes):
        body.append(
            {"type": "TextBlock", "text": teams_text(more_line(len(digest.changes) - sent, "")), "wrap": True}
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": body,
    }
    if digest.site_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "See every change", "url": digest.site_url + "/"}
        ]
    return {
        "type": "message",
        "summary": subject,
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def json_body(digest: Digest) -> dict[str, Any]:
    """The plain JSON body: the subject, each change as data and each update as one story (their
    documented fields), and the test message's text under ``message``."""
    body = {
        "subject": digest.subject,
        "since": digest.since,
        "site_url": digest.site_url or None,
        "changes": [change_summary(c, site_url=digest.site_url) for c in digest.changes],
        "stories": story_summaries(digest.changes, digest.pages, site_url=digest.site_url),
        "failing": [
            {"url": f.url, "title": f.title, "runs": f.runs, "reason": f.reason} for f in digest.failing
        ],
    }
    if digest.message:
        body["message"] = plain(digest.message)
    return body


WEBHOOK_BODIES: dict[str, Callable[[Digest], dict[str, Any]]] = {
    "slack": slack,
    "teams": teams,
    "json": json_body,
}
assert tuple(WEBHOOK_BODIES) == WEBHOOK_FORMATS


def notification(digest: Digest) -> tuple[str, str]:
    """``(title, body)`` of a notification sent through Apprise: plain text, every page's text cleaned,
    the newest change first, bounded to what the smallest chat services accept. A message cut short
    ends with "and N more changes" and the changelog's address."""
    if digest.message:
        return digest.subject, plain(digest.message)
    failing = [bounded(plain(failing_line(f)), LINE_LIMIT) for f in digest.failing[:FAILING_MAX]]
    tail = len(more_line(len(digest.changes), digest.site_url)) + 2
    room = TEXT_LIMIT - sum(len(line) + 1 for line in failing) - tail
    lines: list[str] = []
    sent = 0
    shown: str | None = None
    for group, change in newest_changes(digest):
        more = [f"  {bounded(plain(line), LINE_LIMIT)}" for line in change_lines(change)]
        link = change_link(change, digest.site_url)
        if link:
            more.append(f"  See this change: {link}")
        if group.url != shown:
            head = [plain(group.title), *([group.url] if http_url(group.url) else [])]
            more = (["", *head] if lines else head) + more
        if sum(len(line) + 1 for line in lines + more) > room:
            break
        lines += more
        shown = group.url
        sent += 1
    if failing:
        lines += ["", *failing]
    if sent < len(digest.changes):
        lines += ["", more_line(len(digest.changes) - sent, digest.site_url)]
    body = "\n".join(lines).strip()
    return digest.subject, body or digest.subject


def test_message(channel: str) -> Digest:
    """The message ``guidance-monitor notify --test`` sends on a channel: that it is a test, from
    guidance-monitor, on which channel, and nothing else."""
    text = f"{TEST_SUBJECT} on {channel}."
    return Digest([], title=f"{TEST_SUBJECT} on {channel}", message=text)


# --------------------------------------------------------------------------- a digest that must be smaller


def shortened(change: Change, words: int = 200, overall: int = 2_000) -> Change:
    """The change with each section's word diff cut to about ``words`` words, and to about ``overall``
    words in all (a change to hundreds of sections is cut short too, each section after that keeping its
    heading); the changelog has the rest."""
    if change.changeset is None:
        return change
    sections = []
    budget = overall
    for section in change.changeset.sections:
        ops: list[DiffOp] = []
        left = min(words, budget)
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
        budget -= min(words, budget) - left
        if left <= 0:
            ops.append(DiffOp("equal", " [cut short to fit the email]"))
        sections.append(replace(section, diff=ops))
    return replace(change, changeset=replace(change.changeset, sections=sections))
