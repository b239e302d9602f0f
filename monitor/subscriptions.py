"""Who gets which changes, and when: the subscribers of ``digest.subscribers``.

Pure: no I/O and no clock of its own (the scheduler's ``now`` is passed in), so every rule here is a
table of cases in the tests. A SENCO wants the SEND pages daily, a head teacher a weekly summary of
everything, a journalist an immediate message for one page:

.. code-block:: yaml

    digest:
      subscribers:
        - email: senco@school.example
          searches: [DfE SEND guidance]
          frequency: daily
        - email: head@school.example
          frequency: weekly
          day: monday
        - email: reporter@paper.example
          pages: [https://www.gov.uk/government/publications/mandatory-qualification-for-sencos]
          signals: [duty, date]
          frequency: immediate
        - notify: ntfy://ntfy.sh/send-team
          searches: [DfE SEND guidance]

A subscriber has an ``email`` address (or a list of them, for one message), Apprise URLs under
``notify``, or both. ``digest.email.to``, with subscribers or without, is one more subscriber, of
everything at every run, on the outbox channel ``email`` it always used (so nothing already sent is sent
again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, get_args
from urllib.parse import urlsplit

from . import govuk
from .clock import london_moment
from .model import Change, PageState, SignalKind
from .settings import Frequency, Subscriber

FREQUENCIES: tuple[str, ...] = get_args(Frequency)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SIGNAL_KINDS: tuple[str, ...] = get_args(SignalKind)
KEYS = ("email", "notify", "pages", "searches", "signals", "frequency", "day")
DEFAULT_CHANNEL = Subscriber.channel
"""The outbox channel of ``digest.email.to``: the one the digest used before subscribers existed."""

_GLOB = set("*?[")


class SubscriberError(ValueError):
    """A ``digest.subscribers`` entry that cannot be used; the message is one line naming the key."""


# --------------------------------------------------------------------------- configuration


def parse_subscribers(
    raw: Any, where: str = "digest.subscribers", searches: Collection[str] | None = None
) -> list[Subscriber]:
    """The ``digest.subscribers`` list, checked key by key; ``searches`` are the names the configuration
    defines (a subscriber naming another is a mistake). Raises :class:`SubscriberError`."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SubscriberError(f"{where}: must be a list of subscribers")
    found: list[Subscriber] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(raw):
        at = f"{where}[{i}]"
        subscriber = _subscriber(item, at, searches)
        if subscriber.channel in seen:
            which = f"email: {subscriber.to[0]}" if subscriber.to else f"notify: {subscriber.notify[0]}"
            raise SubscriberError(f"{at}.{which} is already a subscriber ({seen[subscriber.channel]})")
        seen[subscriber.channel] = at
        found.append(subscriber)
    return found


def _subscriber(raw: Any, at: str, searches: Collection[str] | None) -> Subscriber:
    if not isinstance(raw, dict):
        raise SubscriberError(f"{at}: must be a mapping with an email")
    unknown = sorted(set(map(str, raw)) - set(KEYS))
    if unknown:
        raise SubscriberError(f"{at}.{unknown[0]}: unknown key (known: {', '.join(KEYS)})")
    if "email" not in raw and "notify" not in raw:
        raise SubscriberError(f"{at}.email: missing (an email address, or Apprise URLs under notify)")
    to = _strings(raw.get("email"), f"{at}.email")
    if "email" in raw and (not to or not all("@" in a and _one_line(a) for a in to)):
        raise SubscriberError(f"{at}.email: must be an email address or a list of them")
    notify = _strings(raw.get("notify"), f"{at}.notify")
    for k, url in enumerate(notify):
        if "://" not in url or not _one_line(url):
            raise SubscriberError(f"{at}.notify[{k}]: must be an Apprise URL such as ntfy://ntfy.sh/TOPIC")
    pages = _strings(raw.get("pages"), f"{at}.pages")
    for k, page in enumerate(pages):
        if "://" in page and urlsplit(page).scheme not in ("http", "https"):
            raise SubscriberError(f"{at}.pages[{k}]: must be an http(s) address or a path glob, not {page!r}")
    named = _strings(raw.get("searches"), f"{at}.searches")
    for k, name in enumerate(named):
        if searches is not None and name not in searches:
            known = ", ".join(sorted(searches)) or "none are configured"
            raise SubscriberError(f"{at}.searches[{k}]: no search named {name!r} in searches ({known})")
    kinds = _strings(raw.get("signals"), f"{at}.signals")
    for k, kind in enumerate(kinds):
        if kind not in SIGNAL_KINDS:
            raise SubscriberError(f"{at}.signals[{k}]: must be one of {', '.join(SIGNAL_KINDS)}")
    frequency = raw.get("frequency", "daily")
    if frequency not in FREQUENCIES:
        raise SubscriberError(f"{at}.frequency: must be one of {', '.join(FREQUENCIES)}")
    day = raw.get("day", "monday")
    if not isinstance(day, str) or day.strip().lower() not in WEEKDAYS:
        raise SubscriberError(f"{at}.day: must be a day of the week (monday to sunday)")
    return Subscriber(
        to=tuple(a.strip() for a in to),
        pages=tuple(pages),
        searches=tuple(named),
        signals=tuple(kinds),
        frequency=frequency,
        day=day.strip().lower(),
        channel=f"email:{to[0].strip().lower()}" if to else f"notify:{notify_name(notify[0])}",
        notify=tuple(notify),
    )


def _one_line(text: str) -> bool:
    """Whether an address is one word: it goes into a header or a URL whole."""
    return not any(c.isspace() or ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text.strip())


def notify_name(url: str) -> str:
    """A subscriber's Apprise URL as their name when they have no email address: its scheme and host
    when the host is a written name, else the scheme and a short digest, never the URL (it may hold
    a token)."""
    scheme, _, rest = url.partition("://")
    try:
        host = (urlsplit(url).hostname or "") if "$" not in rest.split("/", 1)[0] else ""
    except ValueError:
        host = ""
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{scheme.lower()}@{host}/{digest}" if host and "." in host else f"{scheme.lower()}/{digest}"


def _strings(value: Any, at: str) -> list[str]:
    """A string or a list of non-empty strings (``pages: /x`` is ``pages: [/x]``)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise SubscriberError(f"{at}: must be a list of text values")
    return [v.strip() for v in items]


def subscribers(configured: Iterable[Subscriber], email_to: Iterable[str]) -> list[Subscriber]:
    """Who receives the digest: the configured subscribers, and ``digest.email.to`` as one more
    subscriber, of everything (when it lists anyone)."""
    to = tuple(email_to)
    return [*configured, *([Subscriber(to=to, frequency="immediate")] if to else [])]


# --------------------------------------------------------------------------- which changes


def matches(
    subscriber: Subscriber, change: Change, page: PageState | None = None, base_url: str = govuk.WWW
) -> bool:
    """Whether a change is one this subscriber asked for.

    A page is theirs when an address or path glob of ``pages`` names it, or its publication (a
    document's ``parent_url``), or when a search they name found it (``page.search``); with neither list,
    every page is. ``signals`` keeps content changes carrying a signal of those kinds; a page event
    (new, moved, removed, withdrawn) has no text to filter and reaches everyone the page belongs to.
    History published before monitoring began is never sent.
    """
    if change.backfilled:
        return False
    if (subscriber.pages or subscriber.searches) and not (
        _page_named(subscriber.pages, change, page, base_url)
        or (page is not None and page.search is not None and page.search in subscriber.searches)
    ):
        return False
    if subscriber.signals and change.changeset is not None and change.kind in ("major", "minor", "reverted"):
        kinds = {s.kind for section in change.changeset.sections for s in section.signals}
        return bool(kinds.intersection(subscriber.signals))
    return True


def _page_named(patterns: Iterable[str], change: Change, page: PageState | None, base_url: str) -> bool:
    addresses = [change.page_url, change.new_url]
    if page is not None:
        addresses += [page.url, page.current_url, page.parent_url]
    urls = {govuk.normalise(a, base_url) for a in addresses if a}
    paths = {urlsplit(u).path.lower() for u in urls}
    for pattern in patterns:
        globbed = bool(_GLOB.intersection(pattern))
        if "://" in pattern:
            wanted = govuk.normalise(pattern, base_url)
            if any(fnmatchcase(u.lower(), wanted.lower()) if globbed else u == wanted for u in urls):
                return True
        elif any(
            fnmatchcase(p, pattern.lower()) if globbed else p == (pattern.lower().rstrip("/") or "/")
            for p in paths
        ):
            return True
    return False


# --------------------------------------------------------------------------- when


def due(subscriber: Subscriber, last_sent: str | datetime | None, now: datetime) -> bool:
    """Whether this run should send this subscriber's message, on the London calendar.

    ``immediate``: every run. ``daily``: once per London day. ``weekly``: on the configured day, once per
    week; a week whose day passed with nothing sent (no run that day, or the mail server down) goes out
    at the next run. ``last_sent`` is when a message last reached them (None: never); a failed send does
    not move it, so an outage delays a message and loses none.
    """
    if subscriber.frequency == "immediate":
        return True
    today = _london_date(now)
    sent = _london_date(last_sent) if last_sent else None
    if subscriber.frequency == "daily":
        return sent is None or sent < today
    week_start = today - timedelta(days=(today.weekday() - WEEKDAYS.index(subscriber.day)) % 7)
    if sent is None:
        return today == week_start
    return sent < week_start


def _london_date(value: str | datetime) -> date:
    moment = london_moment(value)
    return moment.date() if isinstance(moment, datetime) else moment
