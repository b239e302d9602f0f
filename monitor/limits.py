"""What a run may fetch and how fast: the allow-list of origins and the per-host rate.

The fetcher asks both before every request it sends, redirect hops and retries included: the allow-list
whether the request may go at all, then the host's rate when it may start.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpx

from .govuk import ASSET_HOST, is_govuk_host

RATE_MARGIN = 0.1
"""Seconds added to the one-second window. A request reaches the server a little after it starts here,
and by a delay that varies (a new connection, a busy server thread, a loaded machine), so the window is
kept wide enough that the server never sees one start too many in any second."""

Origin = tuple[str, str, int]
"""Scheme, host and port: what a browser keeps apart, and what the allow-list compares."""

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str | httpx.URL) -> Origin | None:
    """The origin of an address, ports spelt out; None for an address that has no host.

    >>> origin("https://WWW.gov.uk/guidance/x"), origin("http://127.0.0.1:8001/a")
    (('https', 'www.gov.uk', 443), ('http', '127.0.0.1', 8001))
    """
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL:
        return None
    host = parsed.host.rstrip(".")
    if not host:
        return None
    return parsed.scheme, host, parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)


@dataclass(frozen=True)
class AllowList:
    """The origins a run may fetch from: GOV.UK's own (its page origin as configured, its asset host) and
    those of the pages the user listed. A request to any other origin, a redirect included, is not sent:
    another port of an allowed host is another server, which nobody asked to be watched.

    The one exception is the TLS form of an allowed plain-HTTP origin on the standard ports (the usual
    ``http://`` to ``https://`` redirect of a site that was listed by its old address): the same site,
    made safer.

    >>> allowed = AllowList.of("https://www.gov.uk", ["http://www.example.org/a"])
    >>> allowed.allows("https://assets.publishing.service.gov.uk/x.pdf"), allowed.allows("https://www.gov.uk:8443/")
    (True, False)
    >>> allowed.allows("http://www.example.org/b"), allowed.allows("https://www.example.org/b")
    (True, True)
    >>> allowed.allows("http://www.gov.uk/x"), allowed.allows("https://evilgov.uk/")
    (False, False)
    """

    govuk: frozenset[Origin]
    listed: frozenset[Origin] = frozenset()

    @classmethod
    def of(cls, base_url: str, listed: Iterable[str] = ()) -> AllowList:
        """GOV.UK's origins from ``base_url`` (its asset host served the same way) and the origins of
        ``listed`` pages."""
        base = origin(base_url)
        govuk = set()
        if base is not None:
            scheme = base[0]
            govuk = {base, (scheme, ASSET_HOST, DEFAULT_PORTS.get(scheme, 0))}
        # An origin depends only on what comes before the path: each site's address is read once,
        # however many of its pages are listed.
        sites = {"/".join(url.split("/", 3)[:3]) for url in listed}
        return cls(frozenset(govuk), frozenset(o for o in map(origin, sites) if o is not None))

    def allows(self, url: str | httpx.URL) -> bool:
        found = origin(url)
        if found is None:
            return False
        if found in self.govuk or found in self.listed:
            return True
        scheme, host, port = found
        plain = ("http", host, 80)
        return (scheme, port) == ("https", 443) and (plain in self.govuk or plain in self.listed)

    def is_govuk(self, url: str) -> bool:
        """Whether a page at ``url`` is a GOV.UK page (which can only move "off GOV.UK")."""
        found = origin(url)
        return found is not None and (found in self.govuk or is_govuk_host(found[1]))

    def knows_host(self, url: str | httpx.URL) -> bool:
        """Whether some allowed origin has this address's host, so that only its scheme or port is not."""
        found = origin(url)
        return found is not None and any(o[1] == found[1] for o in self.govuk | self.listed)


class HostRate:
    """A slot scheduler for one host: no more than ``rate`` request starts in any one-second window.

    Starts are spaced ``1 / rate`` apart, and a start also waits until the ``n``-th previous one is more
    than a second old, so the limit holds strictly even for a window that begins on a start. ``clock`` and
    ``sleep`` are the monotonic clock and the wait, given so that a test can run the window on a fake clock.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.per_window = max(1, math.floor(rate))
        self.starts: deque[float] = deque(maxlen=self.per_window)
        self.lock = asyncio.Lock()
        self.clock = clock
        self.sleep = sleep

    async def wait(self) -> None:
        if not self.lock.locked() and self._free(self.clock()):
            return
        async with self.lock:
            now = self.clock()
            slot = now
            if self.starts:
                slot = max(slot, self.starts[-1] + self.interval)
                if len(self.starts) == self.per_window:
                    slot = max(slot, self.starts[0] + 1.0 + RATE_MARGIN)
            if slot > now:
                await self.sleep(slot - now)
            self.starts.append(self.clock())

    def _free(self, now: float) -> bool:
        """Take the slot at once when nobody is queued and the window allows it: no lock, no await, so
        a limit that is not binding costs next to nothing per request."""
        starts = self.starts
        if starts and (
            now < starts[-1] + self.interval
            or (len(starts) == self.per_window and now < starts[0] + 1.0 + RATE_MARGIN)
        ):
            return False
        starts.append(now)
        return True
