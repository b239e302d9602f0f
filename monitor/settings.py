"""The configuration as the monitor uses it: what ``config.yaml`` (and ``add``) asked for, checked.

:mod:`monitor.config` reads and checks the YAML file and builds these; every other stage reads them and
never the file, so a key is checked once, in one place, with one message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class FetchSettings:
    rate_per_host: float = 2.0
    concurrency: int = 4
    timeout: float = 30.0
    user_agent: str = "guidance-monitor/0.1 (+https://github.com/guidance-monitor/guidance-monitor)"
    source: Literal["html", "api", "auto"] = "auto"
    max_bytes: int = 20_000_000
    retries: int = 3
    alert_after_failures: int = 3
    recheck_days: int = 7


@dataclass
class EmailSettings:
    to: list[str] = field(default_factory=list)
    from_: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    starttls: bool = True
    ssl: bool = False
    username_env: str = "SMTP_USER"
    password_env: str = "SMTP_PASSWORD"
    unsubscribe: str = ""
    """The address that takes unsubscribe requests (``List-Unsubscribe``'s mailto); ``from`` when unset."""

    @property
    def configured(self) -> bool:
        return bool(self.to and self.smtp_host)


WEBHOOK_FORMATS = ("slack", "teams", "json")
"""The bodies a hand-written webhook can post (``digest.webhooks[].format``), in one place."""


@dataclass
class WebhookSettings:
    url: str = ""
    format: Literal["slack", "teams", "json"] = "json"
    url_env: str = ""
    """The environment variable holding the address, so its token stays out of the file."""
    name: str = ""
    """The outbox's name for the webhook: a change is sent once per name, whatever the address."""


@dataclass
class NotifySettings:
    """One ``digest.notify`` item: an Apprise URL, written with ``${NAME}`` parts or read from ``url_env``."""

    url: str = ""
    url_env: str = ""
    name: str = ""


Frequency = Literal["immediate", "daily", "weekly"]


@dataclass(frozen=True)
class Subscriber:
    """One person (or one shared inbox) with their own pages and rhythm.

    Read from ``digest.subscribers`` by ``monitor.subscriptions``, which holds the rules that use it.
    ``to`` are the addresses of its one message; ``pages`` are addresses or globs on the page's path
    (``/government/publications/*senco*``); ``searches`` name entries of ``searches``; with neither,
    every page is theirs. ``signals`` keeps only changes with a signal of those kinds; empty keeps every
    change. ``channel`` names the subscriber in the outbox (one row per subscriber and change).
    """

    to: tuple[str, ...]
    pages: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    frequency: Frequency = "daily"
    day: str = "monday"
    channel: str = "email"
    notify: tuple[str, ...] = ()
    """Apprise URLs that get their messages too (or instead, when ``to`` is empty)."""


@dataclass
class ChannelSettings:
    """One item of ``digest.channels``: a channel kind another installed package provides."""

    kind: str
    name: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    """The item's other keys, which the channel itself checks."""


@dataclass
class DigestSettings:
    email: EmailSettings = field(default_factory=EmailSettings)
    webhooks: list[WebhookSettings] = field(default_factory=list)
    site_url: str = ""
    subscribers: list[Subscriber] = field(default_factory=list)
    """``digest.subscribers``; empty means ``email.to`` is one subscriber of everything, daily."""
    notify: list[NotifySettings] = field(default_factory=list)
    channels: list[ChannelSettings] = field(default_factory=list)
    give_up_after_days: int = 7
    """How long a recipient's permanent refusal is tried again at each run before it is given up."""
    unsubscribe_url: str = ""
    """An https address taking one-click unsubscribe POSTs (RFC 8058), ``{email}`` the subscriber's."""


@dataclass
class ScheduleSettings:
    cron: str = "0 7 * * *"
    timezone: str = "Europe/London"


@dataclass
class PageConfig:
    url: str
    follow_documents: bool = False
    selector: str | None = None
    """For a page outside GOV.UK: the CSS selector of the element that holds the document."""
    name: str | None = None


@dataclass
class SearchConfig:
    name: str
    organisations: list[str] = field(default_factory=list)
    supergroup: str | None = None
    query: str = ""
    max_pages: int = 200
    follow_documents: bool = False


@dataclass
class Config:
    database: str = "data/monitor.db"
    site_dir: str = "site"
    govuk_base_url: str = "https://www.gov.uk"
    pages: list[PageConfig] = field(default_factory=list)
    searches: list[SearchConfig] = field(default_factory=list)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    path: str | None = None
    """The file this configuration was read from; relative paths in it are relative to its folder."""
