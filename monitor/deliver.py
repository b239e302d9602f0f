"""Send what changed (email, webhooks) and publish the static changelog: the edge where output leaves us.

Delivery has an outbox: the store remembers which change went out on which channel, so each change is
sent once per channel. A send that fails (the SMTP server is down, a webhook answers 500) marks nothing:
the changes wait for the next run, which sends them once. Channels are small classes registered by their
``__kind__``; their docstrings are the user documentation of each channel.
"""

from __future__ import annotations

import json
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Protocol

import httpx

from . import render
from .clock import parse_timestamp
from .model import Change, Config, EmailSettings, PageState, WebhookSettings

log = logging.getLogger(__name__)


class DeliveryError(RuntimeError):
    """A channel could not send: the reason is one plain line."""


# The static changelog is written by monitor/site.py; these names stay importable from here.
from .site import SITE_MARKER, SiteError, publish_site, write_site  # noqa: E402, F401


class OutboxStore(Protocol):
    """What delivery needs from :class:`monitor.store.Store`."""

    def pages(self, active_only: bool = True) -> list[PageState]: ...
    def changes(self, *, since: str | None = None, include_backfilled: bool = True) -> list[Change]: ...
    def undelivered(self, channel: str) -> list[Change]: ...
    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None: ...
    def last_snapshot(self, url: str) -> Any: ...
    def fetches(self, url: str, limit: int | None = None) -> list[dict[str, Any]]: ...


# --------------------------------------------------------------------------- the message


@dataclass
class Digest:
    """The changes one channel sends in one go, with what it needs to word them."""

    changes: list[Change]
    pages: list[PageState] = field(default_factory=list)
    site_url: str = ""
    since: str | None = None
    alert_after_failures: int = 3
    organisations: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def rendered(self) -> tuple[str, str, str]:
        return render.digest(
            self.changes,
            self.pages,
            since=self.since,
            site_url=self.site_url,
            alert_after_failures=self.alert_after_failures,
            organisations=self.organisations,
        )

    @property
    def subject(self) -> str:
        return self.rendered[0]

    @property
    def failing(self) -> list[render.Failing]:
        return render.failing_pages(self.pages, self.alert_after_failures)

    @property
    def change_ids(self) -> list[int]:
        return [c.id for c in self.changes if c.id is not None]


# --------------------------------------------------------------------------- channels


class Channel:
    """A way of telling people what changed. Subclasses set ``__kind__`` and document themselves."""

    __kind__: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Channel]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            Channel.registry[cls.__kind__] = cls

    @property
    def name(self) -> str:
        """The outbox's name for this channel: a change is delivered once per name."""
        return self.__kind__

    def send(self, digest: Digest) -> str:
        """Send the digest; return a plain detail for the outbox, or raise DeliveryError."""
        raise NotImplementedError

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        """Write what would be sent into ``out_dir`` instead of sending it."""
        raise NotImplementedError


class EmailChannel(Channel):
    """Email: one digest per run, to everyone in ``digest.email.to``.

    The message is multipart/alternative: plain text, and HTML with inline styles (read in Outlook and
    Gmail). Pages are grouped, each titled and linked to GOV.UK, with GOV.UK's change note, then what
    changed section by section: inserted words green and underlined, deleted words red and struck
    through (``[+inserted+]`` / ``[-deleted-]`` in the text part), attachments added, removed or renamed,
    a warning on changes made without a change note, and a link to the change on the changelog when
    ``digest.site_url`` is set. Pages that could not be checked for ``fetch.alert_after_failures`` runs
    are listed at the end.

    Settings (``digest.email``): ``to``, ``from``, ``smtp_host``, ``smtp_port`` (587), ``starttls``
    (true: upgrade the connection with STARTTLS), ``ssl`` (true: implicit TLS, usually port 465),
    ``username_env`` / ``password_env``: the names of the environment variables holding the login
    (default ``SMTP_USER`` / ``SMTP_PASSWORD``); without them set, no login is attempted. The server's
    certificate is checked against the system's trusted authorities (``SSL_CERT_FILE`` overrides them).
    """

    __kind__ = "email"

    def __init__(self, settings: EmailSettings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout

    def message(self, digest: Digest, *, now: datetime | None = None) -> EmailMessage:
        subject, text, html = digest.rendered
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.settings.from_ or "guidance-monitor@localhost"
        msg["To"] = ", ".join(self.settings.to) or "undisclosed-recipients:;"
        msg["Date"] = format_datetime(now or datetime.now(UTC))
        msg["Message-ID"] = make_msgid("digest", domain="guidance-monitor.invalid")
        if digest.change_ids:
            msg["X-Guidance-Monitor-Changes"] = ",".join(str(i) for i in digest.change_ids)
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    def send(self, digest: Digest) -> str:
        s = self.settings
        if not s.configured:
            raise DeliveryError("email is not configured (digest.email.to and smtp_host)")
        msg = self.message(digest)
        context = ssl.create_default_context()
        user, password = os.environ.get(s.username_env), os.environ.get(s.password_env)
        try:
            if s.ssl:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            with smtp:
                if s.starttls and not s.ssl:
                    smtp.starttls(context=context)
                if user and password:
                    smtp.login(user, password)
                refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{s.smtp_host}:{s.smtp_port}: {_reason(exc)}") from None
        sent_to = [a for a in s.to if a not in refused]
        detail = f"{msg['Message-ID']} to {', '.join(sent_to)}"
        if refused:
            detail += f" (refused: {', '.join(refused)})"
        return detail

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = _unused(out_dir / f"digest-{_newest_detection(digest):%Y%m%dT%H%MZ}.eml")
        path.write_bytes(bytes(self.message(digest)))
        return path


class FolderChannel(EmailChannel):
    """Folder: the email digest written as an ``.eml`` file into a folder instead of sent (the demo's
    inbox). It has its own outbox (``folder:<path>``), so each change is written once, in the file of
    the run that found it; the email channel is unaffected. Not set in config.yaml: used from code."""

    __kind__ = "folder"

    def __init__(self, settings: EmailSettings, folder: str | os.PathLike[str]) -> None:
        super().__init__(settings)
        self.folder = Path(folder).absolute()

    @property
    def name(self) -> str:
        return f"folder:{self.folder}"

    def send(self, digest: Digest) -> str:
        try:
            return str(self.preview(digest, self.folder))
        except OSError as exc:
            raise DeliveryError(f"{self.folder}: {_reason(exc)}") from None


class WebhookChannel(Channel):
    """Webhook: one HTTP POST per run to each of ``digest.webhooks``, listing that run's changes.

    Each webhook has its own outbox (``webhook:<url>``), so one that is down gets the changes later,
    once, while the others carry on. Any answer other than 2xx counts as not delivered.

    ``format`` chooses the JSON body:

    - ``slack`` (Slack incoming webhook): ``{"text": subject, "blocks": [...]}``: a header block, then
      one section per change in Slack's mrkdwn (page linked to GOV.UK, date, kind, change note, the
      site link) and a closing line when there are more than 40.
    - ``teams`` (Microsoft Teams connector): a MessageCard ``{"@type": "MessageCard", "summary",
      "title", "text", "sections": [{"activityTitle", "text"}]}``, one section per page.
    - ``json`` (anything else): ``{"subject", "since", "site_url", "changes": [...], "failing": [...]}``.
      Each change has ``id``, ``page_url``, ``title``, ``kind`` (major, minor, new, moved, removed,
      withdrawn), ``note``, ``effective_date`` (YYYY-MM-DD), ``detected_at`` (UTC), ``site_link``,
      ``new_url`` and ``changeset``: counts of ``sections``, ``words_added``, ``words_removed``,
      ``attachments`` and ``history_added``, GOV.UK's ``change_notes``, ``sections_changed``
      (heading, status) and ``attachments_changed`` (title, status, old_title). Each failing page has
      ``url``, ``title``, ``runs`` and ``reason``.
    """

    __kind__ = "webhook"
    SLACK_MAX_CHANGES = 40

    def __init__(
        self, settings: WebhookSettings, *, timeout: float = 30.0, user_agent: str = "guidance-monitor"
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.user_agent = user_agent

    @property
    def name(self) -> str:
        return f"webhook:{self.settings.url}"

    def payload(self, digest: Digest) -> dict[str, Any]:
        return {"slack": _slack, "teams": _teams, "json": _json_body}[self.settings.format](digest)

    def send(self, digest: Digest) -> str:
        try:
            response = httpx.post(
                self.settings.url,
                json=self.payload(digest),
                timeout=self.timeout,
                headers={"User-Agent": self.user_agent},
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{self.settings.url}: {_reason(exc)}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"{self.settings.url}: answered HTTP {response.status_code}")
        return f"HTTP {response.status_code}"

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        host = re.sub(r"[^a-z0-9]+", "-", httpx.URL(self.settings.url).host.lower()).strip("-")
        path = _unused(out_dir / f"webhook-{host}-{self.settings.format}.json")
        path.write_text(
            json.dumps(self.payload(digest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path


def _newest_detection(digest: Digest) -> datetime:
    """When the newest change in a digest was found: names its file, so files sort in the order found."""
    found = [c.detected_at for c in digest.changes if c.detected_at]
    if not found:
        return datetime.now(UTC)
    return parse_timestamp(max(found))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _unused(path: Path) -> Path:
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link_target(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def _change_lines(change: Change, site_url: str) -> list[str]:
    date = render.london_date(render.change_date(change)) or render.NO_DATE.capitalize()
    lines = [f"{date}: {render.change_label(change)}", *render.note_lines(change)]
    if change.kind == "minor":
        lines.append(f"{render.SILENT_WARNING}.")
    if render.description(change):
        lines.append(render.description(change))
    counts = render.summary_counts(change.changeset)
    if counts["sections"] or counts["attachments"]:
        lines.append(
            f"{render.plural(counts['sections'], 'section')} changed "
            f"({render.plural(counts['words_added'], 'word')} added, {counts['words_removed']} removed), "
            f"{render.plural(counts['attachments'], 'attachment')} changed"
        )
    return lines


def _slack(digest: Digest) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest.subject[:150]}}
    ]
    for change in digest.changes[: WebhookChannel.SLACK_MAX_CHANGES]:
        href = render.http_url(change.page_url)
        title = _mrkdwn(change.title or change.page_url)
        heading = f"*<{_link_target(href)}|{title}>*" if href else f"*{title}*"
        lines = [heading, *(_mrkdwn(line) for line in _change_lines(change, digest.site_url))]
        link = render.change_link(change, digest.site_url)
        if link:
            lines.append(f"<{_link_target(link)}|See this change>")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900]}})
    extra = len(digest.changes) - WebhookChannel.SLACK_MAX_CHANGES
    if extra > 0:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"and {render.plural(extra, 'more change')}"}],
            }
        )
    for failing in digest.failing:
        text = (
            f"We could not check {failing.title} for {render.plural(failing.runs, 'run')}: {failing.reason}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(text)}})
    return {"text": digest.subject, "blocks": blocks}


def _teams_text(text: str) -> str:
    return re.sub(r"([\\*_\[\]`#<>])", r"\\\1", text)


def _teams(digest: Digest) -> dict[str, Any]:
    sections = []
    for group in render.group_by_page(digest.changes, digest.pages):
        lines = []
        for change in group.changes:
            lines += [_teams_text(line) for line in _change_lines(change, digest.site_url)]
            link = render.change_link(change, digest.site_url)
            if link:
                lines.append(f"[See this change]({link})")
        href = render.http_url(group.url)
        title = _teams_text(group.title)
        sections.append(
            {"activityTitle": f"[{title}]({href})" if href else title, "text": "\n\n".join(lines)}
        )
    failing = [
        _teams_text(f"We could not check {f.title} for {render.plural(f.runs, 'run')}: {f.reason}")
        for f in digest.failing
    ]
    return {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "summary": digest.subject,
        "themeColor": "1D70B8",
        "title": digest.subject,
        "text": "\n\n".join([_teams_text(digest.subject), *failing]),
        "sections": sections,
    }


def _json_body(digest: Digest) -> dict[str, Any]:
    return {
        "subject": digest.subject,
        "since": digest.since,
        "site_url": digest.site_url or None,
        "changes": [render.change_summary(c, site_url=digest.site_url) for c in digest.changes],
        "failing": [
            {"url": f.url, "title": f.title, "runs": f.runs, "reason": f.reason} for f in digest.failing
        ],
    }


def channels(config: Config, *, preview: bool = False) -> list[Channel]:
    """The channels configured: email when it has recipients and a server (always, for a preview),
    and one per webhook."""
    found: list[Channel] = []
    if config.digest.email.configured or preview:
        found.append(EmailChannel(config.digest.email, timeout=config.fetch.timeout))
    for hook in config.digest.webhooks:
        found.append(WebhookChannel(hook, timeout=config.fetch.timeout, user_agent=config.fetch.user_agent))
    return found


# --------------------------------------------------------------------------- the outbox


@dataclass
class Delivery:
    """What one channel did in one run."""

    channel: str
    changes: int
    sent: bool
    detail: str
    written: Path | None = None
    """In a dry run: the file written instead of sending."""

    def __str__(self) -> str:
        what = f"{self.changes} change{'s' if self.changes != 1 else ''}"
        if self.written is not None:
            return f"{self.channel}: {what} written to {self.written} (dry run: nothing sent or marked)"
        if self.sent:
            return f"{self.channel}: sent {what} ({self.detail})"
        return f"{self.channel}: {what} not sent ({self.detail}); they stay in the outbox for the next run"


def _organisations(store: OutboxStore, urls: Sequence[str]) -> dict[str, list[str]]:
    found = {}
    for url in dict.fromkeys(urls):
        last = store.last_snapshot(url)
        if last is not None:
            found[url] = list(last[1].organisations)
    return found


def _checked_before(store: OutboxStore, changes: Sequence[Change]) -> str | None:
    """When these pages were last looked at before their changes were found: what "since" means in
    "3 DfE guidance pages changed since 27 November". None when every page is new to us."""
    earlier = []
    for change in changes:
        if change.kind == "new":
            continue
        for fetch in store.fetches(change.page_url, limit=50):
            if fetch["time"] < change.detected_at and not fetch["error"]:
                earlier.append(fetch["time"])
                break
    return min(earlier) if earlier else None


def _newly_failing(pages: Sequence[PageState], threshold: int) -> bool:
    return any(p.active and p.consecutive_failures == threshold for p in pages)


def deliver(
    config: Config,
    store: OutboxStore,
    *,
    dry_run_dir: str | os.PathLike[str] | None = None,
    only: Sequence[Channel] | None = None,
) -> list[Delivery]:
    """Send each undelivered change once on every channel; a failed send leaves it in the outbox.

    A channel sends when it has changes waiting, or when a page has just reached
    ``fetch.alert_after_failures`` failed runs. With ``dry_run_dir`` nothing is sent or marked: each
    channel writes what it would send (``.eml``, ``.json``) there. ``only`` replaces the configured
    channels (the demo writes its digests with a :class:`FolderChannel`).
    """
    pages = store.pages(active_only=False)
    threshold = config.fetch.alert_after_failures
    results = []
    for channel in only if only is not None else channels(config, preview=dry_run_dir is not None):
        pending = [c for c in store.undelivered(channel.name) if c.kind != "none"]
        if not pending and not _newly_failing(pages, threshold):
            continue
        digest = Digest(
            pending,
            pages,
            site_url=config.digest.site_url,
            since=_checked_before(store, pending),
            alert_after_failures=threshold,
            organisations=_organisations(store, [c.page_url for c in pending]),
        )
        if dry_run_dir is not None:
            path = channel.preview(digest, Path(dry_run_dir))
            results.append(Delivery(channel.name, len(pending), False, "dry run", written=path))
            continue
        try:
            detail = channel.send(digest)
        except DeliveryError as exc:
            failed = Delivery(channel.name, len(pending), False, str(exc))
            log.warning("guidance-monitor: %s", failed)
            results.append(failed)
            continue
        if digest.change_ids:
            store.mark_delivered(channel.name, digest.change_ids, detail)
        results.append(Delivery(channel.name, len(pending), True, detail))
    return results


def deliver_pending(
    config: Config, store: OutboxStore, *, dry_run_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """What :func:`deliver` sent (or wrote, in a dry run), one line per channel; failures are logged
    and kept in the outbox, never raised, so a run with the mail server down still succeeds."""
    return [str(d) for d in deliver(config, store, dry_run_dir=dry_run_dir) if d.sent or dry_run_dir]


def rebuild_digest(config: Config, store: OutboxStore, since: str) -> tuple[Digest, EmailMessage]:
    """The digest of every change detected since ``since`` (YYYY-MM-DD), outbox or not: for reading
    again, or for sending by hand (``digest --since DATE --send``)."""
    changes = list(reversed(store.changes(since=since, include_backfilled=False)))
    changes = [c for c in changes if c.kind != "none"]
    digest = Digest(
        changes,
        store.pages(active_only=False),
        site_url=config.digest.site_url,
        since=since,
        alert_after_failures=config.fetch.alert_after_failures,
        organisations=_organisations(store, [c.page_url for c in changes]),
    )
    return digest, EmailChannel(config.digest.email, timeout=config.fetch.timeout).message(digest)


def send_rebuilt(config: Config, store: OutboxStore, digest: Digest) -> str:
    """Send a rebuilt digest by email and mark its changes delivered, so the next run does not repeat them."""
    detail = EmailChannel(config.digest.email, timeout=config.fetch.timeout).send(digest)
    store.mark_delivered("email", digest.change_ids, detail)
    return detail
