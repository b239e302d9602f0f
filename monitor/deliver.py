"""Send what changed (email, webhooks, Apprise notifications) and publish the static changelog: the edge
where output leaves us. Only sending and the outbox live here; every word sent is ``render``'s.

Delivery has an outbox: the store remembers which change went out on which channel (and, for email, to
which recipient), so each change is sent once per channel. A send that fails marks nothing: the changes
wait for the next run. Each message is recorded as an attempt before it is handed over, under a
Message-ID derived from the changes it carries, so a run killed between the server's acceptance and the
outbox's mark resends that one message, recognisably the same. Channels are small classes registered by
their ``__kind__``; their docstrings are the user documentation of each channel.

A channel is shown to people by its kind and host only (``webhook:hooks.slack.com``,
``email:smtp.example.org``): an address may carry a token, so it is never printed or logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from datetime import time as clock_time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

import httpx

from .clock import LONDON, utc_timestamp
from .model import Change, Config, EmailSettings, NotifySettings, PageState, Subscriber, WebhookSettings
from .render import chat
from .render.chat import Digest
from .subscriptions import DEFAULT_CHANNEL, due, matches, subscribers

log = logging.getLogger(__name__)


__all__ = ["Channel", "DeliveryError", "Digest", "deliver", "deliver_pending", "channels", "notify_test"]


class DeliveryError(RuntimeError):
    """A channel could not send: the reason is one plain line, with no secret in it."""


# The static changelog is written by monitor/site.py; these names stay importable from here.


class OutboxStore(Protocol):
    """What delivery needs from :class:`monitor.store.Store`."""

    def pages(self, active_only: bool = True) -> list[PageState]: ...
    def changes(self, *, since: str | None = None, include_backfilled: bool = True) -> list[Change]: ...
    def undelivered(self, channel: str) -> list[Change]: ...
    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None: ...
    def organisations(self, urls: list[str]) -> dict[str, list[str]]: ...
    def checked_before(self, url: str, before: str) -> str | None: ...


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
    ) -> None: ...
    def recipient_answers(self, channel: str, change_ids: list[int]) -> dict[tuple[int, str], str]: ...
    def refusals(self, channel: str, change_ids: list[int]) -> list[tuple[str, int | None, str]]: ...
    def subscriber(self, channel: str) -> tuple[str, str | None] | None: ...
    def subscribe(self, channel: str, since: str) -> str: ...
    def set_last_sent(self, channel: str, when: str) -> None: ...


def message_key(channel: str, change_ids: Sequence[int], recipients: Sequence[str] = ()) -> str:
    """A stable name for one message: the same changes to the same recipients always get the same one."""
    seed = f"{channel}\n{','.join(map(str, sorted(change_ids)))}\n{','.join(sorted(recipients))}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


@dataclass
class Delivery:
    """What one channel did in one run."""

    channel: str
    """The channel as people see it: kind and host (``webhook:hooks.slack.com``)."""
    changes: int
    sent: bool
    detail: str
    written: Path | None = None
    """In a dry run: the file written instead of sending."""
    refused: list[str] = field(default_factory=list)
    """Recipients that refused for good (reported once, never retried)."""
    deferred: list[str] = field(default_factory=list)
    """Recipients whose server said "try later": the changes wait in the outbox for them alone."""

    def __str__(self) -> str:
        what = f"{self.changes} change{'s' if self.changes != 1 else ''}"
        if self.written is not None:
            return f"{self.channel}: {what} written to {self.written} (dry run: nothing sent or marked)"
        refused = f"; refused, not retried: {'; '.join(self.refused)}" if self.refused else ""
        if self.sent:
            return f"{self.channel}: sent {what} ({self.detail}){refused}"
        if self.deferred and self.detail.startswith("sent to"):
            return (
                f"{self.channel}: {what} {self.detail}; deferred by {', '.join(self.deferred)}, "
                f"for whom they stay in the outbox for the next run{refused}"
            )
        return (
            f"{self.channel}: {what} not sent ({self.detail}){refused}; "
            "they stay in the outbox for the next run"
        )


# --------------------------------------------------------------------------- channels


class Channel:
    """A way of telling people what changed. Subclasses set ``__kind__`` and document themselves."""

    __kind__: ClassVar[str] = ""
    registry: ClassVar[dict[str, type[Channel]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__kind__:
            Channel.registry[cls.__kind__] = cls

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """The channels of this kind that ``config`` sets up."""
        return []

    @property
    def name(self) -> str:
        """The outbox's name for this channel: a change is delivered once per name."""
        return self.__kind__

    @property
    def label(self) -> str:
        """The channel as people see it (kind and host): never its address or credentials."""
        return self.__kind__

    aliases: list[str] = []
    """Names this channel's outbox had before (carried over on first use)."""

    subscriber: Subscriber | None = None
    """The person this channel writes to, with their pages and rhythm (None: every change, every run)."""

    def send(self, digest: Digest, key: str = "") -> str:
        """Send the digest; return a plain detail for the outbox, or raise DeliveryError."""
        raise NotImplementedError

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        """Write what would be sent into ``out_dir`` instead of sending it."""
        raise NotImplementedError

    def test(self) -> str:
        """Send a test message (``notify --test``); return a detail or raise DeliveryError."""
        return self.send(chat.test_digest(), "test")

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


def _scrub(text: str, *secrets: str) -> str:
    """One line without the secret parts of an address (the whole address, its path, its query)."""
    for secret in secrets:
        if not secret:
            continue
        parts = urlsplit(secret)
        for piece in (secret, parts.path, parts.query, parts.netloc if not shown_host(secret) else ""):
            if piece and len(piece) > 3:
                text = text.replace(piece, "…")
    return text


class EmailChannel(Channel):
    """Email: one digest per run, to everyone in ``digest.email.to``; or, with ``digest.subscribers``,
    one digest per subscriber with exactly the changes of their pages, at their rhythm.

    The message is multipart/alternative: plain text, and HTML with inline styles (read in Outlook and
    Gmail). Pages are grouped, each titled and linked to GOV.UK, with GOV.UK's change note, then what
    changed section by section: inserted words green and underlined, deleted words red and struck
    through (``[+inserted+]`` / ``[-deleted-]`` in the text part), attachments added, removed or renamed,
    a warning on changes made without a change note, and a link to the change on the changelog when
    ``digest.site_url`` is set. Pages that could not be checked for ``fetch.alert_after_failures`` runs
    are listed at the end.

    Each recipient's answer is kept: a recipient the server defers (4xx) gets the changes on a later run,
    alone; one it refuses (5xx) is reported once and not retried; the others are not held back. A
    message the server accepted (250) is sent, whatever it answers to the closing QUIT. Every digest
    carries a ``Message-ID`` derived from its changes and recipients, the same when it is resent, so
    mail systems recognise a copy. A digest larger than the server's advertised ``SIZE`` is split into
    several messages, and a single change too large for one has its long section texts cut short (the
    changelog has them whole); one the server still refuses for size is reported, never blocking later
    changes.

    Settings (``digest.email``): ``to``, ``from``, ``smtp_host``, ``smtp_port`` (587), ``starttls``
    (true: upgrade the connection with STARTTLS), ``ssl`` (true: implicit TLS, usually port 465),
    ``username_env`` / ``password_env``: the names of the environment variables holding the login
    (default ``SMTP_USER`` / ``SMTP_PASSWORD``); without them set, no login is attempted. The server's
    certificate is checked against the system's trusted authorities (``SSL_CERT_FILE`` overrides them).

    Subscribers (``digest.subscribers``, each with ``email``, ``pages``, ``searches``, ``signals``,
    ``frequency`` and ``day``) share the server settings of ``digest.email``. Each gets the changes of
    their pages (addresses or path globs), of the pages their searches found, with a signal of their
    kinds when ``signals`` is set, once, in one message per period: ``immediate`` at every run with
    something new, ``daily`` once per London day, ``weekly`` on their ``day`` (or at the first run after
    it), that one grouped by page with each page's latest change first. A subscriber with nothing new
    gets nothing; a message that could not be sent goes at the next run, with what came meanwhile. A
    subscriber gets the changes found from the day they were added to the configuration, not before.
    Without subscribers, ``digest.email.to`` gets every change at every run (daily with the default
    schedule), as it always did.
    """

    __kind__ = "email"
    FINAL = ("sent", "refused")

    def __init__(
        self, settings: EmailSettings, *, timeout: float = 30.0, subscriber: Subscriber | None = None
    ) -> None:
        self.settings = replace(settings, to=list(subscriber.to)) if subscriber else settings
        self.timeout = timeout
        self.subscriber = subscriber

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        email = config.digest.email
        chosen = subscribers(config.digest.subscribers, email.to)
        if chosen and (email.smtp_host or preview):
            return [cls(email, timeout=config.fetch.timeout, subscriber=s) for s in chosen]
        return [cls(email, timeout=config.fetch.timeout)] if preview else []

    @property
    def name(self) -> str:
        return self.subscriber.channel if self.subscriber else self.__kind__

    @property
    def label(self) -> str:
        return f"email:{self.settings.smtp_host or 'not configured'}"

    @property
    def sender(self) -> str:
        return self.settings.from_ or "guidance-monitor@localhost"

    def message(
        self, digest: Digest, *, now: datetime | None = None, recipients: Sequence[str] = ()
    ) -> EmailMessage:
        subject, text, html = digest.rendered
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.settings.to) or "undisclosed-recipients:;"
        msg["Date"] = format_datetime(now or datetime.now(UTC))
        if digest.change_ids:
            key = message_key(self.name, digest.change_ids, recipients or self.settings.to)
            msg["Message-ID"] = f"<{key}.digest@guidance-monitor.invalid>"
            msg["X-Guidance-Monitor-Changes"] = ",".join(str(i) for i in digest.change_ids)
        else:
            msg["Message-ID"] = make_msgid("digest", domain="guidance-monitor.invalid")
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    @contextlib.contextmanager
    def connection(self) -> Iterator[smtplib.SMTP]:
        """A logged-in connection. Its closing QUIT may fail (a 421, a reset): what was accepted before
        stands, so that is ignored."""
        s = self.settings
        if not s.configured:
            raise DeliveryError("email is not configured (digest.email.to and smtp_host)")
        context = ssl.create_default_context()
        user, password = os.environ.get(s.username_env), os.environ.get(s.password_env)
        if s.ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if s.starttls and not s.ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if user and password:
                smtp.login(user, password)
            yield smtp
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _failure(self, exc: BaseException) -> DeliveryError:
        return DeliveryError(f"{self.settings.smtp_host}:{self.settings.smtp_port}: {_reason(exc)}")

    def send(self, digest: Digest, key: str = "") -> str:
        """Send to every recipient, no outbox (``digest --since --send``, ``notify --test``)."""
        try:
            with self.connection() as smtp:
                answers, _ = self._transmit(smtp, digest, list(self.settings.to), None, final=True)
        except (OSError, smtplib.SMTPException) as exc:
            raise self._failure(exc) from None
        sent = [r for r, (status, _, _) in answers.items() if status == "sent"]
        if not sent:
            raise DeliveryError(f"{self.settings.smtp_host}: {_answers_text(answers)}")
        return _answers_text(answers)

    def deliver(self, digest: Digest, outbox: Outbox) -> Delivery:
        ids = digest.change_ids
        to = list(self.settings.to)
        answers = outbox.recipient_answers(self.name, ids)
        groups: dict[tuple[int, ...], list[str]] = {}
        for recipient in to:
            need = tuple(i for i in ids if answers.get((i, recipient)) not in self.FINAL)
            if need or not ids:
                groups.setdefault(need, []).append(recipient)
        by_id = {c.id: c for c in digest.changes}
        refused: list[str] = []
        error = ""
        if groups:
            try:
                with self.connection() as smtp:
                    for need, recipients in groups.items():
                        part = digest.only([by_id[i] for i in need]) if ids else digest
                        self._fit(smtp, part, recipients, outbox, refused)
            except (OSError, smtplib.SMTPException, DeliveryError) as exc:
                error = str(exc) if isinstance(exc, DeliveryError) else str(self._failure(exc))
        answers = outbox.recipient_answers(self.name, ids)
        done = [i for i in ids if all(answers.get((i, r)) in self.FINAL for r in to)]
        deferred = sorted({r for (i, r), status in answers.items() if status == "deferred" and i not in done})
        if done:
            accepted = sorted({r for (i, r), status in answers.items() if status == "sent" and i in done})
            given_up = "; ".join(f"{r} ({code} {text})" for r, code, text in outbox.refusals(self.name, done))
            detail = f"sent to {', '.join(accepted) or 'nobody'}" + (
                f"; refused by {given_up}" if given_up else ""
            )
            outbox.sent(self.name, done, detail)
        if error or deferred or len(done) < len(ids):
            got = sorted({r for (_, r), status in answers.items() if status == "sent"} - set(deferred))
            if error:
                reason = error
            elif got:
                reason = f"sent to {', '.join(got)}"
            else:
                reason = f"deferred by {', '.join(deferred)}: tried again on the next run"
            return Delivery(
                self.label,
                len(digest.changes),
                False,
                reason,
                refused=refused,
                deferred=deferred if got else [],
            )
        accepted = [r for r in to if any(answers.get((i, r)) == "sent" for i in ids)] if ids else to
        detail = "to " + (", ".join(accepted) or "nobody")
        return Delivery(self.label, len(digest.changes), True, detail, refused=refused)

    def _fit(
        self, smtp: smtplib.SMTP, digest: Digest, recipients: list[str], outbox: Outbox, refused: list[str]
    ) -> None:
        """Send ``digest`` in as many messages as the server's size limit needs."""
        limit = int(smtp.esmtp_features.get("size", "0") or 0) if smtp.has_extn("size") else 0
        queue: list[tuple[Digest, bool]] = [(digest, False)]
        while queue:
            part, short = queue.pop(0)
            size = sum(_estimate(c) for c in part.changes)
            too_big = bool(limit) and size > limit and (len(part.changes) > 1 or not short)
            if not too_big:  # the estimate keeps a 5 MB section from being rendered only to be split
                msg = self.message(part, recipients=recipients)
                data = _wire(msg)
                size = len(data)
                too_big = bool(limit) and size > limit
            if not too_big:
                answers, code = self._transmit(smtp, part, recipients, outbox, final=short, built=(msg, data))
                too_big = code == 552 and not answers
                refused += [f"{r} ({c} {t})" for r, (s, c, t) in answers.items() if s == "refused"]
            if not too_big:
                continue
            if len(part.changes) > 1:
                half = len(part.changes) // 2
                queue[:0] = [(part.only(part.changes[:half]), False), (part.only(part.changes[half:]), False)]
            elif not short:
                queue.insert(0, (part.only([chat.shortened(c) for c in part.changes]), True))
            else:
                text = f"too large for the server ({size} bytes, its limit {limit or 'unstated'})"
                refused += [f"{r} (552 {text})" for r in recipients]
                outbox.record_recipients(
                    self.name, part.change_ids, {r: ("refused", 552, text) for r in recipients}
                )

    def _transmit(
        self,
        smtp: smtplib.SMTP,
        digest: Digest,
        recipients: list[str],
        outbox: Outbox | None,
        *,
        final: bool,
        built: tuple[EmailMessage, bytes] | None = None,
    ) -> tuple[dict[str, tuple[str, int | None, str]], int | None]:
        """One message through an open connection: MAIL, RCPT per recipient, the attempt recorded, DATA.

        Returns each recipient's answer and DATA's code. A 552 (too large) that ``final`` is False for
        records nothing: the caller splits the digest and tries again. ``built``: the message and its
        bytes when the caller has made them already (to measure them against the server's limit).
        """
        if built is None:
            message = self.message(digest, recipients=recipients)
            built = message, _wire(message)
        msg, data = built
        ids = digest.change_ids
        options = [f"SIZE={len(data)}"] if smtp.has_extn("size") else []
        answers: dict[str, tuple[str, int | None, str]] = {}
        code, reply = smtp.mail(self.sender, options)
        if code != 250:
            smtp.rset()
            if code == 552 and not final:
                return {}, 552
            answers = {r: (_status(code), code, _text(reply)) for r in recipients}
        else:
            accepted = []
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code in (250, 251):
                    accepted.append(recipient)
                else:
                    answers[recipient] = (_status(code), code, _text(reply))
            if not accepted:
                smtp.rset()
            else:
                attempt = (
                    outbox.start(self.name, msg["Message-ID"], ids, accepted) if outbox and ids else None
                )
                try:
                    code, reply = smtp.data(data)
                except smtplib.SMTPResponseException as exc:
                    code, reply = exc.smtp_code, exc.smtp_error
                    smtp.rset()
                if code == 552 and not final:
                    if attempt is not None and outbox is not None:
                        outbox.finish(attempt, "too large")
                    return {}, 552
                status = "sent" if code == 250 else _status(code)
                text = msg["Message-ID"] if code == 250 else _text(reply)
                answers.update({r: (status, code, text) for r in accepted})
                if outbox is not None and ids:
                    outbox.record_recipients(self.name, ids, answers, attempt)
                return answers, code
        if outbox is not None and ids:
            outbox.record_recipients(self.name, ids, answers)
        return answers, None

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = _unused(out_dir / f"digest-{digest.newest:%Y%m%dT%H%MZ}.eml")
        path.write_bytes(bytes(self.message(digest)))
        return path


def _estimate(change: Change) -> int:
    """Fewest bytes a change takes in a digest: its inserted and deleted words appear whole in the text
    part and in the HTML part (unchanged runs are trimmed, so they are not counted)."""
    if change.changeset is None:
        return 0
    sections = change.changeset.sections
    return 2 * sum(len(op.text) for section in sections for op in section.diff if op.op != "equal")


def _wire(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _status(code: int) -> str:
    """A recipient's state from the server's code: 4xx try again later, anything else refused."""
    return "deferred" if 400 <= code < 500 else "refused"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return chat.plain(text)[:200]


def _answers_text(answers: dict[str, tuple[str, int | None, str]]) -> str:
    return "; ".join(f"{r}: {status} ({code})" for r, (status, code, _) in answers.items())


class FolderChannel(EmailChannel):
    """Folder: the email digest written as an ``.eml`` file into a folder instead of sent (the demo's
    inbox). It has its own outbox (``folder:<path>``), so each change is written once, in the file of
    the run that found it; the email channel is unaffected. Not set in config.yaml: used from code."""

    __kind__ = "folder"

    def __init__(self, settings: EmailSettings, folder: str | os.PathLike[str]) -> None:
        super().__init__(settings)
        self.folder = Path(folder).absolute()

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        return []

    @property
    def name(self) -> str:
        return f"folder:{self.folder}"

    @property
    def label(self) -> str:
        return f"folder:{self.folder}"

    deliver = Channel.deliver

    def send(self, digest: Digest, key: str = "") -> str:
        try:
            return str(self.preview(digest, self.folder))
        except OSError as exc:
            raise DeliveryError(f"{self.folder}: {_reason(exc)}") from None


def _named(kind: str, names: list[str]) -> list[str]:
    """``kind:name`` for each, the second and later of one name numbered (``#2``) in config order."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(f"{kind}:{name}" + (f"#{seen[name]}" if seen[name] > 1 else ""))
    return out


def _from_environment(variable: str, where: str) -> str:
    value = os.environ.get(variable, "").strip()
    if not value:
        raise DeliveryError(f"{where}: the environment variable {variable} is not set")
    return value


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
    webhook as ``webhook:<host>`` only.

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
        self._name = name or _named("webhook", [self.default_name(settings)])[0]

    @staticmethod
    def default_name(settings: WebhookSettings) -> str:
        if settings.name:
            return settings.name
        if settings.url_env:
            return settings.url_env
        return f"{settings.format}@{shown_host(settings.url) or 'webhook'}"

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        hooks = config.digest.webhooks
        names = _named("webhook", [cls.default_name(h) for h in hooks])
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
    def name(self) -> str:
        return self._name

    @property
    def aliases(self) -> list[str]:  # type: ignore[override]
        return [f"webhook:{self.settings.url}"] if self.settings.url else []

    @property
    def url(self) -> str:
        if self.settings.url_env:
            return _from_environment(self.settings.url_env, f"{self.where}.url_env")
        return self.settings.url

    @property
    def label(self) -> str:
        try:
            host = shown_host(self.url)
        except DeliveryError:
            host = ""
        return f"webhook:{host or self.settings.url_env or 'webhook'}"

    def payload(self, digest: Digest) -> dict[str, Any]:
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
            raise DeliveryError(_scrub(_reason(exc), url)) from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"answered HTTP {response.status_code}")
        return f"HTTP {response.status_code}"

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        host = re.sub(r"[^a-z0-9]+", "-", self.label.split(":", 1)[1].lower()).strip("-")
        path = _unused(out_dir / f"webhook-{host}-{self.settings.format}.json")
        path.write_text(
            json.dumps(self.payload(digest), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path


class NotifyChannel(Channel):
    """Notify: every service Apprise reaches (Slack, Microsoft Teams, Discord, Telegram, Matrix, ntfy,
    Google Chat, Pushover, email and a hundred more), one message per run on each of ``digest.notify``.

    Each item is an Apprise URL (https://github.com/caronc/apprise/wiki), such as ``ntfy://ntfy.sh/TOPIC``
    or ``tgram://${TELEGRAM_TOKEN}/CHAT_ID``: ``${NAME}`` is replaced by the environment variable
    ``NAME`` when the message is sent, so a token never sits in the file. ``{url_env: NAME}`` reads the
    whole URL from the environment; ``{url: URL, name: NAME}`` names the channel. The message is plain
    text: the subject as its title, then each page with its changes, GOV.UK's notes, the counts of what
    changed and the link to the changelog, cut at 3,500 characters (with a link to the changelog) so
    every service takes it. Each item has its own outbox under its name (default: ``url_env``, or the
    URL's scheme and host, a second one alike numbered): each change is sent once on each, and one that
    is down gets the changes later, once. Run output shows a channel as its scheme and host only.
    """

    __kind__ = "notify"

    def __init__(self, settings: NotifySettings, *, name: str = "", where: str = "digest.notify") -> None:
        self.settings = settings
        self.where = where
        self._name = name or _named("notify", [self.default_name(settings)])[0]

    @staticmethod
    def default_name(settings: NotifySettings) -> str:
        if settings.name or settings.url_env:
            return settings.name or settings.url_env
        scheme = settings.url.split("://", 1)[0].lower()
        host = (
            shown_host(settings.url) if "$" not in settings.url.split("://", 1)[-1].split("/", 1)[0] else ""
        )
        return f"{scheme}@{host}" if host else scheme

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        items = config.digest.notify
        names = _named("notify", [cls.default_name(s) for s in items])
        return [
            cls(s, name=n, where=f"digest.notify[{i}]")
            for i, (s, n) in enumerate(zip(items, names, strict=True))
        ]

    @property
    def name(self) -> str:
        return self._name

    @property
    def url(self) -> str:
        """The URL with ``${NAME}`` read from the environment (never shown)."""
        if self.settings.url_env:
            return _from_environment(self.settings.url_env, f"{self.where}.url_env")
        return re.sub(
            r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
            lambda m: _from_environment(m.group(1), f"{self.where}.url"),
            self.settings.url,
        )

    @property
    def label(self) -> str:
        try:
            url = self.url
        except DeliveryError:
            url = self.settings.url  # ``${NAME}`` unread: the scheme and a written host are no secret
        scheme = url.split("://", 1)[0].lower() if "://" in url else self.__kind__
        host = shown_host(url)
        return f"{scheme}:{host}" if host else scheme

    def _post(self, title: str, body: str) -> str:
        import apprise

        url = self.url
        service = apprise.Apprise.instantiate(url)
        if service is None:
            raise DeliveryError(f"{self.where}: not a URL Apprise knows")
        sender = apprise.Apprise()
        sender.add(service)
        with apprise.LogCapture(level=logging.WARNING) as logs:
            ok = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            said = [line.split(" - ", 2)[-1] for line in logs.getvalue().splitlines() if line.strip()]
            reason = _scrub(said[-1] if said else "the service did not accept it", url)
            raise DeliveryError(chat.plain(reason)[:200])
        return "accepted"

    def send(self, digest: Digest, key: str = "") -> str:
        return self._post(*chat.notification(digest))

    def test(self) -> str:
        return self._post(*chat.test_notification())

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        title, body = chat.notification(digest)
        slug = re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")
        path = _unused(out_dir / f"notify-{slug}.txt")
        path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        return path


def channels(config: Config, *, preview: bool = False) -> list[Channel]:
    """The channels configured, found through the registry: email when it has recipients and a server
    (always, for a preview), one per webhook and one per ``digest.notify`` item."""
    return [ch for kind in Channel.registry.values() for ch in kind.configured(config, preview=preview)]


# --------------------------------------------------------------------------- the outbox


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


def _newly_failing(pages: Sequence[PageState], threshold: int) -> bool:
    return any(p.active and p.consecutive_failures == threshold for p in pages)


def digest_of(
    config: Config,
    changes: list[Change],
    pages: list[PageState],
    store: OutboxStore,
    since: str | None = None,
    *,
    newest_first: bool = False,
) -> Digest:
    """The digest of ``changes`` with what render needs to word it: each page's organisations (for the
    subject) and, unless given, when the pages were last checked before these changes were found (what
    "since" means in "3 DfE guidance pages changed since 27 November"). ``newest_first``: each page's
    latest change first (a weekly summary)."""
    if since is None:
        earlier = [store.checked_before(c.page_url, c.detected_at) for c in changes if c.kind != "new"]
        since = min((e for e in earlier if e), default=None)
    return Digest(
        changes,
        pages,
        site_url=config.digest.site_url,
        since=since,
        alert_after_failures=config.fetch.alert_after_failures,
        organisations=store.organisations([c.page_url for c in changes]),
        newest_first=newest_first,
    )


def _batches(pending: list[Change], unfinished: list[Any], outbox: Outbox) -> list[list[Change]]:
    """The interrupted message first, with exactly the changes it carried (so the same Message-ID),
    then the rest."""
    left = {c.id: c for c in pending}
    batches = []
    for attempt in unfinished:
        part = [left.pop(i) for i in attempt.change_ids if i in left]
        outbox.finish(attempt.id, "interrupted", "sent again" if part else "")
        if part:
            batches.append(part)
    rest = list(left.values())
    if rest or not batches:
        batches.append(rest)
    return batches


class Subscription:
    """What a subscriber's channel sends: their changes, their pages, and whether this run is theirs."""

    def __init__(self, config: Config, subscriber: Subscriber, pages: list[PageState]) -> None:
        self.config = config
        self.subscriber = subscriber
        self.by_url = _with_inherited_search(pages)
        self.rhythm = subscriber if config.digest.subscribers else replace(subscriber, frequency="immediate")
        """``digest.email.to`` without subscribers sends at every run, as it always did."""

    @property
    def counts_from_start(self) -> bool:
        """``digest.email.to`` keeps the outbox it always had: every change not yet sent on it."""
        return self.subscriber.channel == DEFAULT_CHANNEL

    def theirs(self, change: Change) -> bool:
        page = self.by_url.get(change.page_url)
        return matches(self.subscriber, change, page, self.config.govuk_base_url)

    def pages(self) -> list[PageState]:
        """Their pages, for the list of pages that could not be checked."""
        return [
            p
            for p in self.by_url.values()
            if matches(self.subscriber, Change(p.url, "new", ""), p, self.config.govuk_base_url)
        ]


def _with_inherited_search(pages: list[PageState]) -> dict[str, PageState]:
    """Pages by address; a document followed from a page a search found counts as found by it too."""
    by_url = {p.url: p for p in pages}
    for page in pages:
        parent = by_url.get(page.parent_url or "")
        if page.search is None and parent is not None and parent.search:
            by_url[page.url] = replace(page, search=parent.search)
    return by_url


def london_day_start(now: datetime) -> str:
    """The UTC timestamp of the start of ``now``'s London day."""
    day = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(LONDON).date()
    return utc_timestamp(datetime.combine(day, clock_time(0), tzinfo=LONDON))


def deliver(
    config: Config,
    store: OutboxStore,
    *,
    dry_run_dir: str | os.PathLike[str] | None = None,
    only: Sequence[Channel] | None = None,
    now: datetime | None = None,
) -> list[Delivery]:
    """Send each undelivered change once on every channel; a failed send leaves it in the outbox.

    A channel sends when it has changes waiting, or when a page has just reached
    ``fetch.alert_after_failures`` failed runs. With ``dry_run_dir`` nothing is sent or marked: each
    channel writes what it would send (``.eml``, ``.json``, ``.txt``) there. ``only`` replaces the
    configured channels (the demo writes its digests with a :class:`FolderChannel`).

    A subscriber's channel sends only their changes, and only when their rhythm says this run (at
    ``now``, the run's clock) is due; the rest wait in the outbox. Their ``last_sent`` moves only when
    every message of the run went, so a failed send delays and never loses. A dry run shows what waits
    for each subscriber whatever their rhythm.
    """
    from .store import Outbox as StoreOutbox

    outbox: Outbox = StoreOutbox(store)  # type: ignore[arg-type]
    all_pages = store.pages(active_only=False)
    threshold = config.fetch.alert_after_failures
    now = now or datetime.now(UTC)
    results = []
    try:
        found = list(only) if only is not None else channels(config, preview=dry_run_dir is not None)
    except DeliveryError as exc:
        return [Delivery("config", 0, False, str(exc))]
    for channel in found:
        if dry_run_dir is None:
            outbox.adopt(channel.name, list(channel.aliases))
        pending = [c for c in outbox.undelivered(channel.name) if c.kind != "none"]
        pages = all_pages
        subscription = Subscription(config, channel.subscriber, all_pages) if channel.subscriber else None
        if subscription is not None:
            if not subscription.counts_from_start:
                known = outbox.subscriber(channel.name)
                since = known[0] if known else london_day_start(now)
                if dry_run_dir is None:
                    since = outbox.subscribe(channel.name, since)
                pending = [c for c in pending if c.detected_at >= since]
            pending = [c for c in pending if subscription.theirs(c)]
            pages = subscription.pages()
        if not pending and not _newly_failing(pages, threshold):
            continue
        newest_first = subscription is not None and subscription.rhythm.frequency == "weekly"
        if dry_run_dir is not None:
            digest = digest_of(config, pending, pages, store, newest_first=newest_first)
            path = channel.preview(digest, Path(dry_run_dir))
            results.append(Delivery(channel.label, len(pending), False, "dry run", written=path))
            continue
        if subscription is not None:
            last_sent = (outbox.subscriber(channel.name) or ("", None))[1]
            if not due(subscription.rhythm, last_sent, now):
                continue
        every_one_sent = True
        for batch in _batches(pending, outbox.unfinished(channel.name), outbox):
            try:
                digest = digest_of(config, batch, pages, store, newest_first=newest_first)
                result = channel.deliver(digest, outbox)
            except DeliveryError as exc:
                result = Delivery(channel.label, len(batch), False, str(exc))
            except Exception as exc:  # one channel's fault must not stop the others; its text may hold a URL
                result = Delivery(channel.label, len(batch), False, f"unexpected {type(exc).__name__}")
            if not result.sent:
                every_one_sent = False
                log.warning("guidance-monitor: %s", result)
            results.append(result)
        if subscription is not None and every_one_sent:
            outbox.subscribe(channel.name, london_day_start(now))
            outbox.set_last_sent(channel.name, utc_timestamp(now))
    return results


def deliver_pending(
    config: Config,
    store: OutboxStore,
    *,
    dry_run_dir: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """What :func:`deliver` sent (or wrote, in a dry run), one line per channel; failures are logged
    and kept in the outbox, never raised, so a run with the mail server down still succeeds. A
    recipient refused for good is reported in the line of the channel."""
    return [
        str(d)
        for d in deliver(config, store, dry_run_dir=dry_run_dir, now=now)
        if d.sent or d.refused or dry_run_dir
    ]


def notify_test(config: Config) -> list[Delivery]:
    """Send a test message on every configured channel (``notify --test``); nothing is marked."""
    results = []
    try:
        found = channels(config)
    except DeliveryError as exc:
        return [Delivery("config", 0, False, str(exc))]
    for channel in found:
        try:
            results.append(Delivery(channel.label, 0, True, channel.test()))
        except (DeliveryError, OSError, smtplib.SMTPException) as exc:
            results.append(Delivery(channel.label, 0, False, _reason(exc)))
    return results


def rebuild_digest(config: Config, store: OutboxStore, since: str) -> tuple[Digest, EmailMessage]:
    """The digest of every change detected since ``since`` (YYYY-MM-DD), outbox or not: for reading
    again, or for sending by hand (``digest --since DATE --send``)."""
    changes = list(reversed(store.changes(since=since, include_backfilled=False)))
    changes = [c for c in changes if c.kind != "none"]
    digest = digest_of(config, changes, store.pages(active_only=False), store, since=since)
    return digest, EmailChannel(config.digest.email, timeout=config.fetch.timeout).message(digest)


def send_rebuilt(config: Config, store: OutboxStore, digest: Digest) -> str:
    """Send a rebuilt digest by email and mark its changes delivered, so the next run does not repeat them."""
    detail = EmailChannel(config.digest.email, timeout=config.fetch.timeout).send(digest)
    store.mark_delivered("email", digest.change_ids, detail)
    return detail
