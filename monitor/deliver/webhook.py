"""Webhooks: one JSON POST per run to each of ``digest.webhooks`` (Slack, Teams, or plain JSON)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import httpx

from ..render import chat
from ..render.chat import Digest
from ..settings import Config, WebhookSettings
from .channel import Channel, DeliveryError, from_environment, outbox_names, reason, scrub, shown_host, unused

log = logging.getLogger(__name__)


class WebhookChannel(Channel):
    """Webhook: one HTTP POST per run to each of ``digest.webhooks``, listing that run's changes.

    Each webhook has its own outbox under its ``name`` (default: its format and host, such as
    ``slack@hooks.slack.com``; a second one alike is numbered), so one that is down gets the changes
    later, once, while the others carry on, and a new address under the same name (a rotated token)
    does not resend what was delivered. Any answer other than 2xx counts as not delivered. An answer
    that does not come within ``fetch.timeout`` after the whole body was sent counts as delivered and
    is reported: a receiver that is slow to answer has usually posted the message, and sending it again
    would post it twice. Each POST carries ``X-Guidance-Monitor-Delivery``, the same for the same changes,
    so a receiver can recognise a repeat. The address comes from ``url``, or from the environment
    variable named by ``url_env`` (keep a Slack or Teams token out of the file). Run output shows a
    webhook by its name (``webhook:alerts``, or ``webhook:slack@hooks.slack.com`` when it has none).

    ``format`` chooses the JSON body:

    - ``slack`` (Slack incoming webhook): ``{"text": subject, "blocks": [...]}``: a header block, then
      one section per change in Slack's mrkdwn (page linked to GOV.UK, date, kind, change note, the
      site link), the newest first, and, past 40, "and N more changes" with the changelog's address.
    - ``teams`` (a Microsoft Teams Workflows webhook, "Post to a channel when a webhook request is
      received"): ``{"type": "message", "attachments": [{"contentType":
      "application/vnd.microsoft.card.adaptive", "content": {...}}]}``, an Adaptive Card (1.4) with the
      subject, then each page and its changes, the newest first, cut to what Teams accepts with "and N
      more changes", and a "See every change" button to the changelog.
    - ``json`` (anything else): ``{"subject", "since", "site_url", "changes": [...], "stories": [...],
      "failing": [...]}`` (the test message adds ``message``, with no change).
      Each change has ``id``, ``page_url``, ``title``, ``kind`` (major, minor, new, moved, removed,
      withdrawn), ``note``, ``effective_date`` (YYYY-MM-DD), ``detected_at`` (UTC), ``site_link``,
      ``new_url`` and ``changeset``: counts of ``sections``, ``words_added``, ``words_removed``,
      ``attachments`` and ``history_added``, GOV.UK's ``change_notes``, ``sections_changed``
      (heading, status) and ``attachments_changed`` (title, status, old_title). Each story is one
      update as the email tells it, newest first: ``page_url``, ``title``, ``date``, ``kind``,
      ``headline``, GOV.UK's ``note``, ``note_check`` (``sentence``, ``silent``, ``unmentioned``: what
      the note leaves out), ``matters`` (at most three lines) and ``more_matters``, ``silent``,
      ``change_ids`` (the page's own), ``all_change_ids`` (every change the update tells, its
      documents' too), ``site_link`` and its ``documents`` (``page_url``, ``title``, ``change_ids``,
      ``explained_by``, ``silent``, ``also_at``, ``what_happened``). Each failing page has ``url``,
      ``title``, ``runs`` and ``reason``.

    Text from a page is escaped for Slack's and Teams' own markup, so a page cannot ping a workspace.
    """

    __kind__ = "webhook"
    SLACK_MAX_CHANGES = chat.SLACK_MAX_CHANGES

    def __init__(
        self,
        settings: WebhookSettings,
        *,
        timeout: float = 30.0,
        user_agent: str = "guidance-monitor",
        name: str = "",
        where: str = "digest.webhooks",
    ) -> None:
        self.settings = settings
        self.timeout = timeout
        self.user_agent = user_agent
        self.where = where
        self._name = name or outbox_names("webhook", [self.default_name(settings)])[0]

    @staticmethod
    def default_name(settings: WebhookSettings) -> str:
        """The outbox's name when ``name`` is not set: never the address, whose token may be rotated."""
        if settings.name:
            return settings.name
        if settings.url_env:
            return settings.url_env
        return f"{settings.format}@{shown_host(settings.url) or 'webhook'}"

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """One channel per ``digest.webhooks`` item, each with an outbox of its own."""
        hooks = config.digest.webhooks
        names = outbox_names("webhook", [cls.default_name(h) for h in hooks])
        return [
            cls(
                hook,
                timeout=config.fetch.timeout,
                user_agent=config.fetch.user_agent,
                name=name,
                where=f"digest.webhooks[{i}]",
            )
            for i, (hook, name) in enumerate(zip(hooks, names, strict=True))
        ]

    @property
    def aliases(self) -> list[str]:
        """Webhooks' outboxes were once named by their address: adopted, so nothing is posted again."""
        return [f"webhook:{self.settings.url}"] if self.settings.url else []

    @property
    def url(self) -> str:
        """The address, read from the environment at send time when ``url_env`` names it (never shown)."""
        if self.settings.url_env:
            return from_environment(self.settings.url_env, f"{self.where}.url_env")
        return self.settings.url

    @property
    def label(self) -> str:
        """Its name: three webhooks on one host are told apart, and a token is never shown."""
        return self.name

    def payload(self, digest: Digest) -> dict[str, Any]:
        """The JSON body in the shape the receiver's ``format`` expects (render words it)."""
        return chat.WEBHOOK_BODIES[self.settings.format](digest)

    def send(self, digest: Digest, key: str = "") -> str:
        url = self.url
        headers = {"User-Agent": self.user_agent}
        if key:
            headers["X-Guidance-Monitor-Delivery"] = key
        try:
            response = httpx.post(url, json=self.payload(digest), timeout=self.timeout, headers=headers)
        except httpx.ReadTimeout:
            log.warning(
                "guidance-monitor: %s: no answer within %ss; counted as sent", self.label, self.timeout
            )
            return f"posted; no answer within {self.timeout:g} s, counted as sent so it is not posted twice"
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DeliveryError(scrub(reason(exc), url)) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"answered HTTP {response.status_code}")
        return f"HTTP {response.status_code}"

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        """The JSON body that would be posted, named by host and format (never by the address)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        host = re.sub(r"[^a-z0-9]+", "-", self.label.split(":", 1)[1].lower()).strip("-")
        path = unused(out_dir / f"webhook-{host}-{self.settings.format}.json")
        path.write_text(
            json.dumps(self.payload(digest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path
