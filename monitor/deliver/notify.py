"""Apprise: one plain-text notification per run on each of ``digest.notify`` (ntfy, Telegram, Matrix…)."""

from __future__ import annotations

import logging
import re

from ..render import chat
from ..render.chat import Digest
from ..render.plain_text import plain
from ..settings import Config, NotifySettings, Subscriber
from .channel import Channel, DeliveryError, from_environment, outbox_names, scrub, shown_host


class NotifyChannel(Channel):
    """Notify: every service Apprise reaches (Slack, Microsoft Teams, Discord, Telegram, Matrix, ntfy,
    Google Chat, Pushover, email and a hundred more), one message per run on each of ``digest.notify``.

    Each item is an Apprise URL (https://github.com/caronc/apprise/wiki), such as ``ntfy://ntfy.sh/TOPIC``
    or ``tgram://${TELEGRAM_TOKEN}/CHAT_ID``: ``${NAME}`` is replaced by the environment variable
    ``NAME`` when the message is sent, so a token never sits in the file. ``{url_env: NAME}`` reads the
    whole URL from the environment; ``{url: URL, name: NAME}`` names the channel. The message is plain
    text: the subject as its title, then each page with its changes, GOV.UK's notes, the counts of what
    changed and the link to the changelog, the newest change first, cut at 3,500 characters so every
    service takes it (a message cut short ends with "and N more changes" and the changelog's address).
    Each item has its own outbox under its name (default: ``url_env``, or the URL's scheme and host, a
    second one alike numbered): each change is sent once on each, and one that is down gets the changes
    later, once. Run output shows a channel by that name, never its URL.
    A subscriber's ``notify`` URLs get their changes at their rhythm, as their email does.
    """

    __kind__ = "notify"

    def __init__(
        self,
        settings: NotifySettings,
        *,
        name: str = "",
        where: str = "digest.notify",
        subscriber: Subscriber | None = None,
    ) -> None:
        self.settings = settings
        self.where = where
        self.subscriber = subscriber
        self._name = name or outbox_names("notify", [self.default_name(settings)])[0]

    @staticmethod
    def default_name(settings: NotifySettings) -> str:
        """The outbox's name when ``name`` is not set: the scheme and a written host, never a token."""
        if settings.name or settings.url_env:
            return settings.name or settings.url_env
        scheme = settings.url.split("://", 1)[0].lower()
        host = (
            shown_host(settings.url) if "$" not in settings.url.split("://", 1)[-1].split("/", 1)[0] else ""
        )
        return f"{scheme}@{host}" if host else scheme

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """One channel per ``digest.notify`` item, and one per Apprise URL of each subscriber (named by
        the subscriber: ``notify:senco@school.example``), each with an outbox of its own."""
        items = config.digest.notify
        names = outbox_names("notify", [cls.default_name(s) for s in items])
        found: list[Channel] = [
            cls(s, name=n, where=f"digest.notify[{i}]")
            for i, (s, n) in enumerate(zip(items, names, strict=True))
        ]
        for i, subscriber in enumerate(config.digest.subscribers):
            own = subscriber.channel.split(":", 1)[1] if not subscriber.to else subscriber.to[0].lower()
            for k, (url, name) in enumerate(
                zip(subscriber.notify, outbox_names("notify", [own] * len(subscriber.notify)), strict=True)
            ):
                where = f"digest.subscribers[{i}].notify[{k}]"
                found.append(cls(NotifySettings(url=url), name=name, where=where, subscriber=subscriber))
        return found

    @property
    def url(self) -> str:
        """The URL with ``${NAME}`` read from the environment (never shown)."""
        if self.settings.url_env:
            return from_environment(self.settings.url_env, f"{self.where}.url_env")
        return re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
            lambda m: from_environment(m.group(1), f"{self.where}.url"),
            self.settings.url,
        )

    @property
    def label(self) -> str:
        """Its name: unlike a host, unique among the channels, and never a token."""
        return self.name

    def _post(self, title: str, body: str) -> str:
        """Hand the message to Apprise; its own log says why a service refused, scrubbed of the URL."""
        import apprise

        url = self.url
        service = apprise.Apprise.instantiate(url)
        if service is None:
            raise DeliveryError(f"{self.where}: not a URL Apprise knows")
        sender = apprise.Apprise()
        sender.add(service)
        with apprise.LogCapture(level=logging.WARNING) as logs:  # type: ignore[no-untyped-call]
            ok = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            said = [line.split(" - ", 2)[-1] for line in logs.getvalue().splitlines() if line.strip()]
            reason = scrub(said[-1] if said else "the service did not accept it", url)
            raise DeliveryError(plain(reason)[:200])
        return "accepted"

    def send(self, digest: Digest, key: str = "") -> str:
        return self._post(*chat.notification(digest))
