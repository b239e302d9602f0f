"""Email over SMTP: the digest to ``digest.email.to``, or to each of ``digest.subscribers``."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from ..clock import utc_timestamp
from ..model import Change
from ..plurals import plural
from ..render import chat
from ..render.chat import Digest
from ..render.list_mail import ListMail, footer, list_headers
from ..render.plain_text import header, plain
from ..settings import Config, EmailSettings, Subscriber
from ..subscriptions import subscribers
from .channel import Channel, Delivery, DeliveryError, Outbox, message_key, reason, unused


@dataclass
class Said:
    """What the servers answered in one delivery that people must be told: refusals and give-ups."""

    refused: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)


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
    alone; one it refuses (5xx, at RCPT or at DATA) is reported with the server's reply on standard
    error, makes the run exit 1, and is tried again at each run (an address the operator mends then
    gets its changes, once) until ``digest.give_up_after_days`` (7) after the first refusal, when it is
    reported as given up; the others are not held back. A message the server accepted (250) is sent,
    whatever it answers to the closing QUIT. Every digest
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

    Every digest is list mail: ``List-Id``, ``Auto-Submitted: auto-generated`` and ``List-Unsubscribe``
    (a mailto to ``digest.email.unsubscribe``, default ``from``; for a subscriber also the https address
    of ``digest.unsubscribe_url``, ``{email}`` in it standing for their address, with
    ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``), and a footer saying why the reader gets it
    and how to stop it.

    Subscribers (``digest.subscribers``, each with ``email`` and/or ``notify``, ``pages``, ``searches``,
    ``signals``, ``frequency`` and ``day``) share the server settings of ``digest.email``. Each gets the
    changes of their pages (addresses or path globs), of the pages their searches found, with a signal of
    their kinds when ``signals`` is set, once, in one message per period: ``immediate`` at every run with
    something new, ``daily`` once per London day, ``weekly`` on their ``day`` (or at the first run after
    it), that one grouped by page with each page's latest change first. A subscriber with nothing new gets
    nothing; a message that could not be sent goes at the next run, with what came meanwhile. A subscriber
    gets the changes found from the day they were added to the configuration, and every change recorded
    after that, whatever the clock read then. ``digest.email.to`` gets every change at every run (daily
    with the default schedule), with subscribers or without, as it always did.
    """

    __kind__ = "email"
    FINAL = ("sent", "given_up")
    """A recipient's answers that end a change's delivery to them: never asked again."""

    def __init__(
        self,
        settings: EmailSettings,
        *,
        timeout: float = 30.0,
        subscriber: Subscriber | None = None,
        give_up_after_days: int = 7,
        unsubscribe_url: str = "",
    ) -> None:
        self.settings = replace(settings, to=list(subscriber.to)) if subscriber else settings
        self.timeout = timeout
        self.subscriber = subscriber
        self.give_up_after_days = give_up_after_days
        self.list_mail = ListMail(self.sender, settings.unsubscribe, unsubscribe_url)

    @classmethod
    def from_config(cls, config: Config, subscriber: Subscriber | None = None) -> EmailChannel:
        """The email channel of ``config``, to one subscriber or to ``digest.email.to``."""
        return cls(
            config.digest.email,
            timeout=config.fetch.timeout,
            subscriber=subscriber,
            give_up_after_days=config.digest.give_up_after_days,
            unsubscribe_url=config.digest.unsubscribe_url,
        )

    @classmethod
    def configured(cls, config: Config, *, preview: bool = False) -> list[Channel]:
        """One channel per subscriber with an address, and one for ``digest.email.to``, each with an
        outbox of its own; a preview shows the digest even with no server set."""
        email = config.digest.email
        chosen = [s for s in subscribers(config.digest.subscribers, email.to) if s.to]
        if chosen and (email.smtp_host or preview):
            return [cls.from_config(config, s) for s in chosen]
        return [cls.from_config(config)] if preview else []

    @property
    def name(self) -> str:
        """Each subscriber's outbox is their own, so one refusing never holds the others back."""
        return self.subscriber.channel if self.subscriber else self.__kind__

    @property
    def label(self) -> str:
        """A subscriber's channel by their address (not secret: it is in every line that says who got
        what); ``digest.email.to`` by the mail server."""
        if self.subscriber is not None and self.subscriber.channel != Subscriber.channel:
            return self.subscriber.channel
        return f"email:{self.settings.smtp_host or 'not configured'}"

    @property
    def sender(self) -> str:
        """``digest.email.from``; a server that needs no particular sender still needs one."""
        return self.settings.from_ or "guidance-monitor@localhost"

    def message(
        self, digest: Digest, *, now: datetime | None = None, recipients: Sequence[str] = ()
    ) -> EmailMessage:
        """The digest as one email. Its Message-ID is derived from the changes and ``recipients``, so a
        message sent again after an interrupted run is recognisably the same one."""
        if not digest.message and not digest.footer:
            digest = replace(digest, footer=footer(self.list_mail, self.subscriber))
        subject, text, html = digest.rendered
        msg = EmailMessage()
        msg["Subject"] = header(subject)
        msg["From"] = header(self.sender, 998)
        msg["To"] = header(", ".join(self.settings.to), 998) or "undisclosed-recipients:;"
        msg["Date"] = format_datetime(now or datetime.now(UTC))
        if not digest.message:
            for name, value in list_headers(self.list_mail, self.subscriber).items():
                msg[name] = value
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
        return DeliveryError(f"{self.settings.smtp_host}:{self.settings.smtp_port}: {reason(exc)}")

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
        """Send each recipient the changes they have not had. A recipient refused for good keeps the
        changes in the outbox for them alone and is tried again at each run until
        ``digest.give_up_after_days``; the others are not held back."""
        ids = digest.change_ids
        to = list(self.settings.to)
        answers = outbox.recipient_answers(self.name, ids)
        groups: dict[tuple[int, ...], list[str]] = {}
        for recipient in to:
            need = tuple(i for i in ids if answers.get((i, recipient)) not in self.FINAL)
            if need or not ids:
                groups.setdefault(need, []).append(recipient)
        by_id = {c.id: c for c in digest.changes}
        said = Said()
        error = ""
        if groups:
            try:
                with self.connection() as smtp:
                    for need, recipients in groups.items():
                        part = digest.only([by_id[i] for i in need]) if ids else digest
                        self._fit(smtp, part, recipients, outbox, said)
            except (OSError, smtplib.SMTPException, DeliveryError) as exc:
                error = str(exc) if isinstance(exc, DeliveryError) else str(self._failure(exc))
        answers = outbox.recipient_answers(self.name, ids)
        done = [i for i in ids if all(answers.get((i, r)) in self.FINAL for r in to)]
        waiting = {r for (i, r), status in answers.items() if i not in done and status not in self.FINAL}
        if done:
            accepted = sorted({r for (i, r), status in answers.items() if status == "sent" and i in done})
            given_up = "; ".join(f"{r} ({code} {text})" for r, code, text in outbox.refusals(self.name, done))
            detail = f"sent to {', '.join(accepted) or 'nobody'}" + (
                f"; given up on {given_up}" if given_up else ""
            )
            outbox.sent(self.name, done, detail)
        if error or len(done) < len(ids):
            got = sorted({r for (_, r), status in answers.items() if status == "sent"} - waiting)
            return Delivery(
                self.label,
                len(digest.changes),
                False,
                error or (f"sent to {', '.join(got)}" if got else ""),
                refused=said.refused,
                deferred=sorted(r for (i, r), s in answers.items() if s == "deferred" and i not in done),
                given_up=said.given_up,
            )
        accepted = [r for r in to if any(answers.get((i, r)) == "sent" for i in ids)] if ids else to
        detail = "to " + (", ".join(accepted) or "nobody")
        return Delivery(self.label, len(digest.changes), True, detail, given_up=said.given_up)

    def _fit(
        self, smtp: smtplib.SMTP, digest: Digest, recipients: list[str], outbox: Outbox, said: Said
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
                answers, code = self._transmit(
                    smtp, part, recipients, outbox, final=short, built=(msg, data), said=said
                )
                too_big = code == 552 and not answers
            if not too_big:
                continue
            if len(part.changes) > 1:
                half = len(part.changes) // 2
                queue[:0] = [(part.only(part.changes[:half]), False), (part.only(part.changes[half:]), False)]
            elif not short:
                queue.insert(0, (part.only([chat.shortened(c) for c in part.changes]), True))
            else:
                text = f"too large for the server ({plural(size, 'byte')}, its limit {limit or 'unstated'})"
                self._record(outbox, part.change_ids, {r: ("refused", 552, text) for r in recipients}, said)

    def _record(
        self,
        outbox: Outbox,
        ids: list[int],
        answers: dict[str, tuple[str, int | None, str]],
        said: Said,
        attempt: int | None = None,
    ) -> None:
        """Keep each recipient's answer; a refusal is said, and given up once it has lasted
        ``digest.give_up_after_days``."""
        cutoff = utc_timestamp(datetime.now(UTC) - timedelta(days=self.give_up_after_days))
        given_up = outbox.record_recipients(self.name, ids, answers, attempt, give_up_before=cutoff)
        for recipient, (status, code, text) in answers.items():
            if recipient in given_up:
                days = plural(self.give_up_after_days, "day")
                said.given_up.append(f"{recipient} ({code} {text}), refused for {days}")
            elif status == "refused":
                said.refused.append(f"{recipient} ({code} {text})")

    def _transmit(
        self,
        smtp: smtplib.SMTP,
        digest: Digest,
        recipients: list[str],
        outbox: Outbox | None,
        *,
        final: bool,
        built: tuple[EmailMessage, bytes] | None = None,
        said: Said | None = None,
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
        reply: bytes | str
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
                    self._record(outbox, ids, answers, said or Said(), attempt)
                return answers, code
        if outbox is not None and ids:
            self._record(outbox, ids, answers, said or Said())
        return answers, None

    def preview(self, digest: Digest, out_dir: Path) -> Path:
        """The message as an ``.eml`` file, named by when its newest change was found, so files sort in
        the order the changes were found and any mail program opens them."""
        out_dir.mkdir(parents=True, exist_ok=True)
        path = unused(out_dir / f"digest-{digest.newest:%Y%m%dT%H%MZ}.eml")
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
    """The bytes SMTP carries (CRLF line ends): what the server's size limit is measured against."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _status(code: int) -> str:
    """A recipient's state from the server's code: 4xx try again later, anything else refused."""
    return "deferred" if 400 <= code < 500 else "refused"


def _text(reply: bytes | str) -> str:
    """A server's reply as one short plain line, safe to store and show (it is the server's text)."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return plain(text)[:200]


def _answers_text(answers: dict[str, tuple[str, int | None, str]]) -> str:
    """Each recipient's answer, for a send without an outbox, where they are reported and not kept."""
    return "; ".join(f"{r}: {status} ({code})" for r, (status, code, _) in answers.items())
