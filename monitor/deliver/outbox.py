"""What drives the outbox: which changes go on which channel and to which subscriber, in which
batches, and when; the digests rebuilt by hand (``digest --since``).

The store remembers which change went out on which channel (and, for email, to which recipient), so
each change is sent once per channel. A send that fails marks nothing: the changes wait for the next
run. Each message is recorded as an attempt before it is handed over, under a key derived from the
changes it carries, so a run killed between the server's acceptance and the outbox's mark resends that
one message, recognisably the same.
"""

from __future__ import annotations

import os
import smtplib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from ..clock import LONDON, london_date, london_day, parse_timestamp, utc_timestamp
from ..deadlines import PageDate
from ..model import Change, PageState
from ..render.chat import Digest
from ..render.dates import COMING_UP_DAYS
from ..render.labels import plural
from ..settings import Config, Subscriber
from ..subscriptions import DEFAULT_CHANNEL, due, matches
from .channel import Channel, Delivery, DeliveryError, Outbox, channels, reason, unexpected
from .smtp import EmailChannel


class OutboxStore(Protocol):
    """What delivery needs from :class:`monitor.store.Store`."""

    def pages(self, active_only: bool = True) -> list[PageState]: ...
    def changes(self, *, since: str | None = None, include_backfilled: bool = True) -> list[Change]: ...
    def undelivered(self, channel: str) -> list[Change]: ...
    def mark_delivered(self, channel: str, change_ids: list[int], detail: str = "") -> None: ...
    def organisations(self, urls: list[str]) -> dict[str, list[str]]: ...
    def checked_before(self, url: str, before: str) -> str | None: ...
    def coming_up(self, urls: list[str], since: str, days: int) -> list[PageDate]: ...


def _newly_failing(pages: Sequence[PageState], threshold: int) -> bool:
    """Whether a page has just reached ``fetch.alert_after_failures``: said once, not at every run after."""
    return any(p.active and p.consecutive_failures == threshold for p in pages)


def digest_of(
    config: Config,
    changes: list[Change],
    pages: list[PageState],
    store: OutboxStore,
    since: str | None = None,
    *,
    newest_first: bool = False,
    now: datetime | None = None,
) -> Digest:
    """The digest of ``changes`` with what render needs to word it: each page's organisations (for the
    subject) and, unless given, when the pages were last checked before these changes were found (what
    "since" means in "3 DfE guidance pages changed since 27 November"). ``newest_first``: each page's
    latest change first (a weekly summary), which ends with the dates coming up in the
    :data:`COMING_UP_DAYS` days from ``now``."""
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
        coming_up=store.coming_up(
            [p.url for p in pages], london_day(utc_timestamp(now)) or "", COMING_UP_DAYS
        )
        if newest_first and now is not None
        else [],
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
        self.rhythm = subscriber
        """``digest.email.to`` is an ``immediate`` subscriber: every run's changes, as it always had."""

    @property
    def counts_from_start(self) -> bool:
        """``digest.email.to`` keeps the outbox it always had: every change not yet sent on it."""
        return self.subscriber.channel == DEFAULT_CHANNEL

    def theirs(self, change: Change) -> bool:
        """Whether the change is of their pages, searches and signals (``subscriptions`` decides)."""
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


def starts_after(change: Change, since: str, after_change: int | None) -> bool:
    """Whether a change counts for a subscriber who started at ``since``: found from that day on, or
    recorded after ``after_change``, the last change recorded before they started, whatever the clock
    read when it was (a clock set back must not lose it). A subscriber not yet recorded (a dry run
    before their first run) has no such change."""
    recorded_after = after_change is not None and change.id is not None and change.id > after_change
    return change.detected_at >= since or recorded_after


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
    from ..store import Outbox as StoreOutbox

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
                since, after = (known[0], known[2]) if known else (london_day_start(now), None)
                if dry_run_dir is None:
                    since, after = outbox.subscribe(channel.name, since)
                pending = [c for c in pending if starts_after(c, since, after)]
            pending = [c for c in pending if subscription.theirs(c)]
            pages = subscription.pages()
        if not pending and not _newly_failing(pages, threshold):
            continue
        newest_first = subscription is not None and subscription.rhythm.frequency == "weekly"
        if dry_run_dir is not None:
            digest = digest_of(config, pending, pages, store, newest_first=newest_first, now=now)
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
                digest = digest_of(config, batch, pages, store, newest_first=newest_first, now=now)
                result = channel.deliver(digest, outbox)
            except DeliveryError as exc:
                result = Delivery(channel.label, len(batch), False, str(exc))
            except Exception as exc:  # one channel's fault must not stop the others
                result = Delivery(channel.label, len(batch), False, unexpected(exc))
            every_one_sent = every_one_sent and result.sent
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
) -> list[Delivery]:
    """What :func:`deliver` did on each channel that had something to send (or wrote, in a dry run).
    Nothing is raised: a channel that could not send keeps its changes in the outbox, and says so in
    its :class:`Delivery`, whose ``problem`` the run reports on standard error with exit status 1."""
    return [
        d
        for d in deliver(config, store, dry_run_dir=dry_run_dir, now=now)
        if d.sent or d.problem or dry_run_dir
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
            results.append(Delivery(channel.label, 0, False, reason(exc)))
        except Exception as exc:  # as in a run: one channel's fault must not stop the others
            results.append(Delivery(channel.label, 0, False, unexpected(exc)))
    return results


def refusal_lines(config: Config, store: OutboxStore) -> list[str]:
    """The recipients whose server refuses changes still waiting for them, one line each, with its
    reply and the day they are given up (``pages`` and ``notify`` show them: mend the address before)."""
    from ..store import Outbox as StoreOutbox

    lines = []
    for r in StoreOutbox(store).waiting_refusals():  # type: ignore[arg-type]
        until = parse_timestamp(r.since) + timedelta(days=config.digest.give_up_after_days)
        lines.append(
            f"{r.channel}: {r.recipient} refused {plural(r.changes, 'change')} since {london_date(r.since)}"
            f" ({r.reply}); tried again at each run until {london_date(until)}"
        )
    return lines


def rebuild_digest(config: Config, store: OutboxStore, since: str) -> tuple[Digest, EmailMessage]:
    """The digest of every change detected since ``since`` (YYYY-MM-DD), outbox or not: for reading
    again, or for sending by hand (``digest --since DATE --send``)."""
    changes = list(reversed(store.changes(since=since, include_backfilled=False)))
    changes = [c for c in changes if c.kind != "none"]
    digest = digest_of(config, changes, store.pages(active_only=False), store, since=since)
    return digest, EmailChannel.from_config(config).message(digest)


def send_rebuilt(config: Config, store: OutboxStore, digest: Digest) -> list[Delivery]:
    """Send a rebuilt digest by email: to each subscriber their own (the changes of their pages, with
    their footer and unsubscribe headers) and to ``digest.email.to`` all of it, each marked delivered on
    its own outbox so the next run does not repeat it. A channel the changes are not for sends nothing."""
    pages = store.pages(active_only=False)
    results = []
    for channel in EmailChannel.configured(config):
        assert isinstance(channel, EmailChannel) and channel.subscriber is not None
        subscription = Subscription(config, channel.subscriber, pages)
        theirs = digest.only([c for c in digest.changes if subscription.theirs(c)])
        if not theirs.changes:
            continue
        try:
            detail = channel.send(theirs)
        except DeliveryError as exc:
            results.append(Delivery(channel.label, len(theirs.changes), False, str(exc)))
            continue
        store.mark_delivered(channel.name, theirs.change_ids, detail)
        results.append(Delivery(channel.label, len(theirs.changes), True, detail))
    return results
