"""What every delivery channel shares: the base class a channel implements, what one send did, the
outbox's records a channel keeps, and the registry of channel kinds (built in, and from other packages).

A channel is shown to people by its kind and host only (``webhook:hooks.slack.com``,
``email:smtp.example.org``): an address may carry a token, so it is never printed or logged.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from ..model import Change
from ..plurals import plural
from ..render import chat
from ..render.chat import Digest
from ..settings import ChannelSettings, Config, Subscriber


class DeliveryError(RuntimeError):
    """A channel could not send: the reason is one plain line, with no secret in it."""


class Outbox(Protocol):
    """The outbox's records (:class:`monitor.store.Outbox`)."""

    def undelivered(self, channel: str) -> list[Change]: ...
    def adopt(self, channel: str, old_names: list[str]) -> None: ...
    def start(self, channel: str, message_id: str, change_ids: list[int], recipients: list[str]) -> int: ...
    def finish(self, attempt_id: int, outcome: str, detail: str = "") -> None: ...
    def unfinished(self, channel: str) -> list[Any]: ...
    def sent(
        self, channel: str, change_ids: list[int], detail: str, attempt_id: int | None = None
    ) -> None: ...
    def record_recipients(
        self,
        channel: str,
        change_ids: list[int],
        answers: dict[str, tuple[str, int | None, str]],
        attempt_id: int | None = None,
        *,
        give_up_before: str | None = None,
    ) -> list[str]: ...
    def recipient_answers(self, channel: str, change_ids: list[int]) -> dict[tuple[int, str], str]: ...
    def refusals(self, channel: str, change_ids: list[int]) -> list[tuple[str, int | None, str]]: ...
    def subscriber(self, channel: str) -> tuple[str, str | None, int] | None: ...
    def subscribe(self, channel: str, since: str) -> tuple[str, int]: ...
    def set_last_sent(self, channel: str, when: str) -> None: ...


def message_key(channel: str, change_ids: Sequence[int], recipients: Sequence[str] = ()) -> str:
    """A stable name for one message: the same changes to the same recipients always get the same one."""
    seed = f"{channel}\n{','.join(map(str, sorted(change_ids)))}\n{','.join(sorted(recipients))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


@dataclass
class Delivery:
    """What one channel did in one run."""

    channel: str
    """The channel as people see it: its name (``webhook:alerts``, ``email:smtp.example.org``)."""
    changes: int
    sent: bool
    detail: str
    written: Path | None = None
    """In a dry run: the file written instead of sending."""
    refused: list[str] = field(default_factory=list)
    """Recipients whose server refused the changes for good this run, with its answer: they stay in
    the outbox for them, tried again at each run until ``digest.give_up_after_days``."""
    deferred: list[str] = field(default_factory=list)
    """Recipients whose server said "try later": the changes wait in the outbox for them alone."""
    given_up: list[str] = field(default_factory=list)
    """Recipients given up on this run, after ``digest.give_up_after_days`` of refusals."""

    @property
    def problem(self) -> bool:
        """Whether this is a problem to report (standard error, exit status 1): something not sent."""
        return self.written is None and (not self.sent or bool(self.refused or self.given_up))

    def __str__(self) -> str:
        what = plural(self.changes, "change")
        if self.written is not None:
            return f"{self.channel}: {what} written to {self.written} (dry run: nothing sent or marked)"
        given_up = f"; given up on {'; '.join(self.given_up)}" if self.given_up else ""
        waiting = []
        if self.deferred:
            waiting.append(f"deferred by {', '.join(self.deferred)}")
        if self.refused:
            waiting.append(f"refused by {'; '.join(self.refused)}")
        if self.sent:
            return f"{self.channel}: sent {what} ({self.detail}){given_up}"
        if waiting:
            sent = f"{self.detail}; " if self.detail else ""
            return (
                f"{self.channel}: {what} {sent}{'; '.join(waiting)}{given_up}; "
                "kept in the outbox for them and tried again at the next run"
            )
        return (
            f"{self.channel}: {what} not sent ({self.detail}){given_up}; "
            "they stay in the outbox for the next run"
        )


class Channel:
    """A way of telling people what changed; its docstring is the user documentation of the channel.

    A subclass sets ``__kind__`` (the name that ``digest.channels`` items and ``notify --list-channels``
    use; defining the class registers it) and implements :meth:`send`. The run does the rest: it keeps
    the outbox, so each change goes once on each channel, and a send that raises :class:`DeliveryError`
    leaves its changes waiting for the next run, the reason shown as one line. A channel from another
    package is made from its ``digest.channels`` item; the built-in channels read their own keys
    (``digest.email``, ``digest.webhooks``, ``digest.notify``) and override :meth:`configured`.
    """

    __kind__: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Channel]]] = {}
    _name = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            Channel.registry[cls.__kind__] = cls

    def __init__(self, options: Mapping[str, Any] | None = None, *, name: str = "") -> None:
        """A channel from a ``digest.channels`` item: ``options`` are the item's keys other than ``kind``
        and ``name``. Raise ValueError saying which option is wrong: it is shown as a configuration
        error. Only check and keep them here, never connect: the channel is also made when the
        configuration is checked, by every command."""
        self.options = dict(options or {})
        self._name = name

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """The channels of this kind that ``config`` sets up: one per ``digest.channels`` item of this
        kind, each with an outbox of its own named ``KIND:NAME`` (or ``KIND`` when the item has no
        ``name``; a second one alike is numbered)."""
        items = [(i, item) for i, item in enumerate(config.digest.channels) if item.kind == cls.__kind__]
        names = outbox_names(cls.__kind__, [item.name for _, item in items])
        try:
            return [
                plugin_channel(item, f"digest.channels[{i}]", name=name)
                for (i, item), name in zip(items, names, strict=True)
            ]
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None

    @property
    def name(self) -> str:
        """The outbox's name for this channel: a change is delivered once per name."""
        return self._name or self.__kind__

    @property
    def label(self) -> str:
        """The channel as people see it (its kind and name, or host): never an address or credentials."""
        return self.name

    @property
    def aliases(self) -> list[str]:
        """Names this channel's outbox had before (carried over on first use)."""
        return []

    subscriber: Subscriber | None = None
    """The person this channel writes to, with their pages and rhythm (None: every change, every run)."""

    def send(self, digest: Digest, key: str = "") -> str:
        """Send the digest; return a plain detail for the outbox, or raise DeliveryError.

        ``digest.subject`` and ``digest.rendered`` (subject, plain text, HTML) word it as the email does;
        ``digest.changes`` are the changes themselves. ``key`` is the same whenever the same changes are
        sent again (after a run stopped between sending and marking), so a receiver can drop a repeat.
        """
        raise NotImplementedError

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        """Write what would be sent into ``out_dir`` instead of sending it (``digest --dry-run``). This
        writes the plain-text notification; a channel that sends another shape writes that instead."""
        out_dir.mkdir(parents=True, exist_ok=True)
        title, body = chat.notification(digest)
        slug = re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")
        path = unused(out_dir / f"{self.__kind__}-{slug}.txt")
        path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        return path

    def test(self) -> str:
        """Send the test message (``notify --test``), which says it is a test and names this channel;
        return a detail or raise DeliveryError."""
        return self.send(chat.test_message(self.label), "test")

    def deliver(self, digest: Digest, outbox: Outbox) -> Delivery:
        """Send one digest and keep the outbox: the attempt is recorded before the message goes, the
        changes are marked with the attempt closed once it went."""
        ids = digest.change_ids
        key = message_key(self.name, ids)
        attempt = outbox.start(self.name, key, ids, []) if ids else None
        try:
            detail = self.send(digest, key)
        except DeliveryError as exc:
            if attempt is not None:
                outbox.finish(attempt, "failed", str(exc))
            return Delivery(self.label, len(digest.changes), False, str(exc))
        outbox.sent(self.name, ids, detail, attempt)
        return Delivery(self.label, len(digest.changes), True, detail)


# --------------------------------------------------------------------------- the kinds of channel


@functools.cache
def from_packages() -> dict[str, str]:
    """The channel kinds other installed packages add (entry-point group ``guidance_monitor.channels``),
    each with its package. Loaded once, when first needed: a run without ``digest.channels`` never
    imports a plugin."""
    from ..plugins import load

    return load("guidance_monitor.channels", Channel, Channel.registry, "channel")


def kinds() -> list[tuple[str, str]]:
    """Every channel kind available, built in and from other packages, with the first paragraph of its
    docstring (``notify --list-channels``)."""
    from ..plugins import described

    return described(Channel.registry, from_packages())


def plugin_channel(item: ChannelSettings, where: str, *, name: str = "") -> Channel:
    """The channel a ``digest.channels`` item sets up. Raises ValueError, one line, when no installed
    package provides its kind or the channel refuses its options."""
    if not item.kind:
        raise ValueError(f"{where}.kind: missing (the kind of channel, as the package providing it names it)")
    plugins = from_packages()
    if item.kind not in plugins:
        if item.kind in Channel.registry:
            raise ValueError(f"{where}.kind: {item.kind} is built in and set by its own key under digest")
        available = ", ".join(sorted(plugins)) or "no package providing a channel is installed"
        raise ValueError(f"{where}.kind: no channel of kind {item.kind!r} (available: {available})")
    try:
        return Channel.registry[item.kind](item.options, name=name)
    except ValueError as exc:
        raise ValueError(f"{where}: {reason(exc)}") from None
    except Exception as exc:  # another package's code: its fault is one line, never a traceback
        raise ValueError(f"{where}: the {item.kind} channel cannot be set up ({unexpected(exc)})") from None


def channels(config: Config, *, preview: bool = False) -> list[Channel]:
    """The channels configured, found through the registry: email when it has recipients and a server
    (always, for a preview), one per webhook, one per ``digest.notify`` item and one per
    ``digest.channels`` item."""
    if config.digest.channels:
        from_packages()
    return [ch for kind in Channel.registry.values() for ch in kind.configured(config, preview=preview)]


# --------------------------------------------------------------------------- shared by the channels


def outbox_names(kind: str, names: list[str]) -> list[str]:
    """``kind:name`` for each (``kind`` alone for no name), the second and later of one name numbered
    (``#2``) in config order."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append((f"{kind}:{name}" if name else kind) + (f"#{seen[name]}" if seen[name] > 1 else ""))
    return out


def from_environment(variable: str, where: str) -> str:
    """The value of an environment variable the configuration names, or why it cannot be used."""
    value = os.environ.get(variable, "").strip()
    if not value:
        raise DeliveryError(f"{where}: the environment variable {variable} is not set")
    return value


def reason(exc: BaseException) -> str:
    """An exception in one line."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def unexpected(exc: BaseException) -> str:
    """A fault no channel expects, named by its type alone: its text may hold an address with a token."""
    return f"unexpected {type(exc).__name__}"


def unused(path: Path) -> Path:
    """``path``, or the first of ``name-2``, ``name-3``… that does not exist, so a preview never
    overwrites another written in the same run."""
    n = 1
    candidate = path
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def shown_host(url: str) -> str:
    """The host of an address when it is a host name (``hooks.slack.com``), never a token that some
    services put where the host goes (``slack://T000/B000/XXXX``): those show as nothing."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    if host == "localhost":
        return host
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(host))
    if re.fullmatch(r"(?:[a-z0-9-]{1,63}\.)+[a-z]{2,63}", host):
        return host
    return ""


def scrub(text: str, *secrets: str) -> str:
    """One line without the secret parts of an address (the whole address, its path, its query)."""
    for secret in secrets:
        if not secret:
            continue
        parts = urlsplit(secret)
        for piece in (secret, parts.path, parts.query, parts.netloc if not shown_host(secret) else ""):
            if piece and len(piece) > 3:
                text = text.replace(piece, "…")
    return text
