"""Fetch pages politely and report every fault as a plain reason, never as an exception.

This is the only module that touches the network, through one ``httpx.AsyncClient`` a run, on httpx's own
transport: httpx keeps the connections alive, follows redirects (``response.history`` records them), keeps
cookies for the run, takes proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``) and decodes gzip.
What is added here uses only its public API:

- A request event hook sees every request before it is sent, redirect hops included. It refuses an origin
  (scheme, host and port) that is not on the run's allow-list (a page on GOV.UK that redirects elsewhere
  is "moved off GOV.UK", and nothing is requested there), a redirect loop and a redirect to a sign-in page;
  then it waits for the host's rate slot (both in :mod:`monitor.limits`). So every hop and every retry
  takes its own slot.
- Politeness: at most ``concurrency`` requests in flight, and per host at most ``rate_per_host`` request
  starts in any one-second window (GOV.UK asks for no more than 10 a second; the default is 2). A request
  takes its concurrency slot before its rate slot, so once its rate slot comes it starts at once: the
  server never sees a burst of requests that queued behind the concurrency limit.
- Size: a body is read as a stream and the reading stops once it passes ``max_bytes`` (counted after
  decoding, so a small gzipped body that unpacks to gigabytes stops there too).
- Robustness: connect errors, timeouts, truncated bodies, 429 and 5xx answers are retried by stamina
  (exponential backoff with jitter), honouring ``Retry-After`` as seconds or as a date, up to ``retries``
  tries. The tries share a budget of ``timeout * retries`` seconds: a ``Retry-After`` beyond that, or
  beyond 60 s, ends them at once. A 304 to a request that carried no validators (a cache answering a
  question the monitor never asked) is asked again once with ``Cache-Control: no-cache``. What is still
  wrong after that lands in ``FetchResult.error`` as one line a person can act on.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from .clock import utc_timestamp
from .config import absolute_url
from .govuk import host_of
from .limits import AllowList, HostRate, origin
from .model import FetchRequest, FetchResult
from .plurals import plural
from .settings import Config, FetchSettings

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
MAX_RETRY_AFTER = 60.0
"""The longest ``Retry-After`` we wait for: a server asking for more is treated as a failed try."""
BACKOFF_INITIAL = 0.25
BACKOFF_JITTER = 0.25
BACKOFF_CAP = 30.0

HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504}) | frozenset(range(520, 530))
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
NO_CACHE = {"Cache-Control": "no-cache", "Pragma": "no-cache"}

CHALLENGE_STATUSES = frozenset({401, 403, 429, 503})
CHALLENGE_MARKERS_ON_ERROR = (b"captcha", b"cf-chl", b"challenge-platform", b"access denied", b"_incapsula_")
"""Seen in the body of a 401/403/429/503: the answer is a bot or login challenge, not an outage."""
CHALLENGE_MARKERS_ON_OK = (b"cf-chl-", b"/cdn-cgi/challenge-platform/", b"_incapsula_resource")
"""Seen even in a 200 body: vendor challenge scripts that never appear on a real guidance page."""
SIGN_IN_SEGMENTS = frozenset({"sign-in", "signin", "login", "log-in"})
"""A redirect to an address with one of these path segments is a login wall in front of the page."""


def fetch_many(settings: FetchSettings, requests: Sequence[FetchRequest]) -> list[FetchResult]:
    """Fetch ``requests`` from synchronous code; results come back in the same order."""

    async def run() -> list[FetchResult]:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch_many(requests)

    return asyncio.run(run())


def allowed_hosts(config: Config, store: Store | None = None) -> AllowList:
    """The origins a run may fetch from: GOV.UK's (``govuk_base_url`` and its asset host) and those of the
    pages the user listed, in the configuration or with ``guidance-monitor add``. Pages found by search and
    documents followed from a page live on GOV.UK's origins, so they need no entry of their own."""
    listed = [absolute_url(config, page.url) for page in config.pages]
    if store is not None:
        listed += [page.url for page in store.pages() if page.source in ("config", "cli")]
    return AllowList.of(config.govuk_base_url, listed)


@dataclass
class _Try:
    """One try at an address, redirects included: what the request hook saw, and what came of it."""

    url: str
    requested: list[str] = field(default_factory=list)
    """Every address requested so far, in order: all but the last answered with a redirect."""
    deadline: asyncio.Timeout | None = None
    response: httpx.Response | None = None
    body: bytes = b""
    redirects: list[str] = field(default_factory=list)
    final_url: str = ""
    fault: str | None = None
    retry: bool = False
    retry_after: float | None = None
    gave_up: str = ""
    """Why a retryable answer was not retried, when it was a server's request to wait too long."""

    def describe(self) -> str:
        if self.fault:
            return self.fault
        return f"HTTP {self.response.status_code}" if self.response is not None else "failed"


@dataclass
class _Clock:
    """When a fetch sent its first request (after its turn in the queue), for ``fetched_at`` and the
    duration."""

    started: float | None = None
    fetched_at: str = ""


_CURRENT: ContextVar[tuple[_Try, _Clock] | None] = ContextVar("guidance_monitor_fetch", default=None)
"""The try the running task is making, for the request hook: each fetch runs in its own task's context."""


class _Refused(Exception):
    """A request the hook would not let out; ``reason`` becomes the fetch's error."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.url = url


class _Retryable(Exception):
    """A try worth repeating, carried through stamina to its backoff hook."""

    def __init__(self, attempt: _Try) -> None:
        super().__init__(attempt.describe())
        self.attempt = attempt


def _log_retry(details: RetryDetails) -> None:
    cause = details.caused_by
    if isinstance(cause, _Retryable):
        url, retry, wait = cause.attempt.url, details.retry_num, details.wait_for
        log.info("%s: try %d failed (%s), retrying in %.2f s", url, retry, cause, wait)
    else:  # another module's retries, logged as stamina would, one level lower
        logging.getLogger("stamina").info(
            "%s: retry %d in %.2f s (%r)", details.name, details.retry_num, details.wait_for, cause
        )


# stamina's default hook logs each retry as a WARNING "stamina.retry_scheduled", which without logging set
# up (the plain `run` command) would reach the terminal; the Fetcher's own INFO line says it better.
set_on_retry_hooks([_log_retry])


class Fetcher:
    """Fetches pages for one run. Use as ``async with Fetcher(settings) as f: await f.fetch(url)``.

    ``allowed_hosts`` (see :func:`allowed_hosts`) limits every request, redirects included, to those
    origins; None fetches from anywhere (``guidance-monitor parse URL``).

    Outcomes, all in the returned :class:`FetchResult`, none raised:

    - 200 with a body: ``body``, ``content_type``, ``etag``, ``last_modified`` set, ``error`` None.
    - 304 to a conditional request: ``not_modified=True``, ``status=304``, empty body, ``error`` None. A 304
      to a request without validators, again when asked with ``no-cache``: ``"unexpected 304 ..."``.
    - 404 and 410: ``error="HTTP 404"`` (or 410) with ``status`` kept, so the pipeline can record the page
      as removed rather than as a failed fetch. Other 4xx: ``error="HTTP <status>"``; a 422 keeps its body,
      where an API says which parameter it refused (the GOV.UK Search API does).
    - 5xx and 429, still failing after ``retries`` tries: ``error="HTTP 500 after 3 tries"``.
    - Redirects are followed, up to 10: ``redirects`` lists the addresses that answered with a redirect,
      oldest first (the requested address first); ``final_url`` is the address that answered. A loop gives
      ``"redirect loop at <address>"``; a redirect off the allow-list ``"moved off GOV.UK to <address>"``
      (``"redirected to a host that is not watched: <address>"`` from a page elsewhere), not followed.
    - Faults: ``"connection refused"``, ``"timed out after 30 s"``, ``"truncated body: got X of Y bytes"``,
      ``"empty body"``, ``"body over N bytes"``, ``"blocked by a challenge page"`` (a WAF or login
      challenge: a 401/403/429/503 whose body carries one of ``CHALLENGE_MARKERS_ON_ERROR``, a 200 carrying
      a vendor challenge script, a ``cf-mitigated: challenge`` header, or a redirect to a sign-in path).
    """

    def __init__(self, settings: FetchSettings, *, allowed_hosts: AllowList | None = None) -> None:
        self.settings = settings
        self.allowed_hosts = allowed_hosts
        self._client: httpx.AsyncClient | None = None
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._hosts: dict[tuple[str, int | None], HostRate] = {}

    async def __aenter__(self) -> Fetcher:
        concurrency = self.settings.concurrency
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        # No transport= here: httpx makes its own (an AsyncHTTPTransport with these limits, which never
        # retries by itself; stamina does that above it), and mounts the proxies the environment names on
        # transports of the same kind. Given a transport, httpx would ignore the environment's proxies.
        client = httpx.AsyncClient(
            headers={"User-Agent": self.settings.user_agent, "Accept": "*/*"},
            timeout=httpx.Timeout(self.settings.timeout),
            limits=limits,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            event_hooks={"request": [self._before_request]},
        )
        self._client = await client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # ------------------------------------------------------------------ public

    async def fetch_many(self, requests: Sequence[FetchRequest]) -> list[FetchResult]:
        """Fetch every request, honouring concurrency and per-host rate; results in request order."""
        return list(
            await asyncio.gather(
                *(
                    self.fetch(r.url, etag=r.etag, last_modified=r.last_modified, accept=r.accept)
                    for r in requests
                )
            )
        )

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """Fetch one page, following redirects and retrying transient faults; never raises for them."""
        if self._client is None:
            raise RuntimeError("Fetcher is used outside its 'async with' block")
        headers = {"Accept": accept or HTML_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = FetchResult(url=url, final_url=url, attempts=0)
        clock = _Clock()
        try:
            attempt = await self._with_retries(url, headers, clock, result)
            status = attempt.response.status_code if attempt.response is not None else None
            if status == 304 and not (etag or last_modified) and not attempt.fault:
                # A cache answered a conditional request we never sent: ask it past its cache, once.
                attempt = await self._with_retries(url, {**headers, **NO_CACHE}, clock, result)
                status = attempt.response.status_code if attempt.response is not None else None
                if status == 304 and not attempt.fault:
                    attempt.fault = "unexpected 304 to a request without validators, again with no-cache"
            self._finish(result, attempt, headers)
        finally:
            result.fetched_at = clock.fetched_at
            if clock.started is not None:
                result.duration_ms = round((time.monotonic() - clock.started) * 1000)
        return result

    # ------------------------------------------------------------------ internals

    def _finish(self, result: FetchResult, attempt: _Try, sent: dict[str, str]) -> None:
        result.redirects = attempt.redirects
        result.final_url = attempt.final_url or result.url
        response = attempt.response
        if response is None:
            result.error = _with_tries(attempt.fault or "failed", result.attempts)
            return
        status = result.status = response.status_code
        tries = result.attempts
        result.content_type = response.headers.get("Content-Type", "")
        if attempt.fault:
            result.error = _with_tries(attempt.fault, tries)
        elif status == 304:
            result.not_modified = True
            result.etag = response.headers.get("ETag") or sent.get("If-None-Match")
            result.last_modified = response.headers.get("Last-Modified") or sent.get("If-Modified-Since")
        elif status in REDIRECT_STATUSES:
            result.error = f"HTTP {status} without a Location header"
        elif status >= 400 or status < 200:
            result.error = f"HTTP {status}" + (f" after {plural(tries, 'try', 'tries')}" if tries > 1 else "")
            if status == 422:
                result.body = attempt.body
            if attempt.gave_up:
                result.error += f" ({attempt.gave_up})"
        elif not attempt.body or attempt.body.isspace():
            result.error = "empty body"
        else:
            result.body = attempt.body
            result.etag = response.headers.get("ETag")
            result.last_modified = response.headers.get("Last-Modified")

    async def _with_retries(
        self, url: str, headers: dict[str, str], clock: _Clock, result: FetchResult
    ) -> _Try:
        """Try one address up to ``retries`` times (stamina decides when); returns the last try."""
        retries = max(1, self.settings.retries)
        budget = self.settings.timeout * retries
        begun = time.monotonic()

        def backoff(exc: BaseException) -> bool | float:
            """Retry a retryable try: after the server's ``Retry-After`` if it sent one, else stamina's
            exponential backoff; give up at once when the server asks for more than we can wait."""
            if not isinstance(exc, _Retryable):
                return False
            attempt = exc.attempt
            if attempt.retry_after is None or tries >= retries:
                return True
            if attempt.retry_after > min(MAX_RETRY_AFTER, budget - (time.monotonic() - begun)):
                log.info("%s: Retry-After %.0f s is too long, giving up", url, attempt.retry_after)
                attempt.gave_up = f"asked to retry after {attempt.retry_after:.0f} s"
                return False
            return attempt.retry_after

        tries = 1
        result.attempts += 1
        first: _Try | None = await self._try(url, headers, clock)
        assert first is not None
        if not first.retry or retries == 1:
            return first  # nearly every fetch: stamina's retry context is set up only for a failure
        try:
            async for retrying in stamina.retry_context(
                on=backoff,
                attempts=retries,
                timeout=budget,
                wait_initial=BACKOFF_INITIAL,
                wait_jitter=BACKOFF_JITTER,
                wait_max=BACKOFF_CAP,
            ):
                with retrying:
                    if first is not None:  # stamina's first try is the one already made
                        attempt, first = first, None
                    else:
                        tries += 1
                        result.attempts += 1
                        attempt = await self._try(url, headers, clock)
                    if attempt.retry:
                        raise _Retryable(attempt)
                    return attempt
        except _Retryable as exc:
            return exc.attempt
        raise AssertionError("stamina ended without an attempt")  # pragma: no cover

    async def _try(self, url: str, headers: dict[str, str], clock: _Clock) -> _Try:
        attempt = _Try(url)
        token = _CURRENT.set((attempt, clock))
        timeout = self.settings.timeout
        try:
            async with self._semaphore:
                async with asyncio.timeout(None) as attempt.deadline:
                    await self._request(attempt, headers)
        except _Refused as exc:
            attempt.fault, attempt.final_url = exc.reason, exc.url
            attempt.redirects = _hops(url, attempt.requested)
        except httpx.TooManyRedirects:
            attempt.fault = f"too many redirects (over {MAX_REDIRECTS})"
            attempt.redirects = _hops(url, attempt.requested)
            attempt.final_url = _hops(url, attempt.requested)[-1]
        except (TimeoutError, httpx.TimeoutException):
            attempt.fault, attempt.retry = f"timed out after {timeout:g} s", True
        except httpx.ConnectError as exc:
            attempt.fault, attempt.retry = _connect_fault(exc, url), True
        except httpx.RemoteProtocolError as exc:
            attempt.fault, attempt.retry = f"connection dropped: {_first_line(exc)}", True
        except httpx.UnsupportedProtocol as exc:
            attempt.fault = f"cannot fetch this address: {_first_line(exc)}"
        except httpx.TransportError as exc:
            attempt.fault, attempt.retry = f"network error: {_first_line(exc)}", True
        except httpx.InvalidURL as exc:
            attempt.fault = f"invalid address: {_first_line(exc)}"
        except httpx.HTTPError as exc:
            attempt.fault = f"{type(exc).__name__}: {_first_line(exc)}"
        finally:
            _CURRENT.reset(token)
        if attempt.fault and not attempt.final_url and attempt.requested:
            # A fault on the way (a timeout at the third hop): that hop is where the fetch ended.
            attempt.final_url = _hops(url, attempt.requested)[-1]
            attempt.redirects = _hops(url, attempt.requested[:-1])
        return attempt

    async def _before_request(self, request: httpx.Request) -> None:
        """httpx's request hook, run before every request of a try, redirect hops included: refuse what
        must not be requested, then wait for the host's rate slot and start the try's clock."""
        current = _CURRENT.get()
        if current is None:
            raise RuntimeError("a request outside Fetcher.fetch")
        attempt, clock = current
        url = str(request.url)
        if attempt.requested:
            if _is_sign_in(url):
                raise _Refused("blocked by a challenge page", url)
            if url in attempt.requested:
                raise _Refused(f"redirect loop at {url}", url)
        if self.allowed_hosts is not None and not self.allowed_hosts.allows(request.url):
            raise _Refused(self._off_the_list(attempt, url), url)
        attempt.requested.append(url)
        await self._rate(request.url).wait()
        now = time.monotonic()
        if clock.started is None:
            clock.started = now
            clock.fetched_at = utc_timestamp(datetime.now(UTC))
        if attempt.deadline is not None:
            # Each address gets the whole timeout from when it starts, not from its wait in the queue.
            attempt.deadline.reschedule(asyncio.get_running_loop().time() + self.settings.timeout)

    def _off_the_list(self, attempt: _Try, url: str) -> str:
        assert self.allowed_hosts is not None
        if not attempt.requested:
            if self.allowed_hosts.knows_host(url):
                scheme, host, port = origin(url) or ("", url, 0)
                return f"not fetched: {scheme}://{host}:{port} is not a watched origin"
            return f"not fetched: {host_of(url)} is not a watched host"
        if self.allowed_hosts.is_govuk(attempt.url):
            return f"moved off GOV.UK to {url}"
        return f"redirected to a host that is not watched: {url}"

    async def _request(self, attempt: _Try, headers: dict[str, str]) -> None:
        assert self._client is not None
        async with self._client.stream("GET", attempt.url, headers=headers) as response:
            attempt.response = response
            if response.history:
                attempt.redirects = _hops(attempt.url, (str(hop.url) for hop in response.history))
                attempt.final_url = str(response.url)
            else:
                attempt.final_url = attempt.url
            body = await self._read_body(attempt, response)
        if body is None:
            return
        if _is_challenge(response, body):
            attempt.fault = "blocked by a challenge page"
        elif response.status_code in RETRY_STATUSES:
            attempt.retry, attempt.retry_after = True, _retry_after(response)
        else:
            attempt.body = body

    async def _read_body(self, attempt: _Try, response: httpx.Response) -> bytes | None:
        """The whole decoded body, or None with the try's fault set: a body over the size limit is
        refused before it is read when it says so, and as soon as it passes the limit when it does not."""
        limit = self.settings.max_bytes
        declared = _content_length(response)
        if declared is not None and declared > limit:
            attempt.fault = f"body over {plural(limit, 'byte')}"
            return None
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    attempt.fault = f"body over {plural(limit, 'byte')}"
                    return None
                chunks.append(chunk)
        except httpx.RemoteProtocolError:
            got = response.num_bytes_downloaded
            told = f"{got} of {plural(declared, 'byte')}" if declared is not None else plural(got, "byte")
            attempt.fault, attempt.retry = f"truncated body: got {told}", True
            return None
        if declared is not None and response.num_bytes_downloaded < declared:
            got = response.num_bytes_downloaded
            attempt.fault, attempt.retry = f"truncated body: got {got} of {plural(declared, 'byte')}", True
            return None
        return b"".join(chunks)

    def _rate(self, url: httpx.URL) -> HostRate:
        key = (url.host, url.port)
        rate = self._hosts.get(key)
        if rate is None:
            rate = self._hosts[key] = HostRate(self.settings.rate_per_host)
        return rate


# --------------------------------------------------------------------------- helpers


def _hops(first: str, requested: Iterable[str]) -> list[str]:
    """The addresses that answered with a redirect, the first as it was asked for."""
    hops = list(requested)
    return [first, *hops[1:]] if hops else []


def _with_tries(fault: str, tries: int) -> str:
    return f"{fault} ({plural(tries, 'try', 'tries')})" if tries > 1 else fault


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _connect_fault(exc: httpx.ConnectError, url: str) -> str:
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(causes) < 10:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(
        isinstance(c, ConnectionRefusedError) or getattr(c, "errno", None) == errno.ECONNREFUSED
        for c in causes
    ):
        return "connection refused"
    text = " ".join(str(c) for c in causes).lower()
    if "name or service not known" in text or "name resolution" in text or "nodename" in text:
        return f"host not found: {urlsplit(url).hostname}"
    if "connection refused" in text or "connect call failed" in text:
        return "connection refused"
    return f"cannot connect: {_first_line(exc)}"


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds from now: a number of seconds or an HTTP date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_challenge(response: httpx.Response, body: bytes) -> bool:
    if response.headers.get("cf-mitigated", "").lower() == "challenge":
        return True
    head = body[:200_000].lower()
    if response.status_code in CHALLENGE_STATUSES:
        return any(marker in head for marker in CHALLENGE_MARKERS_ON_ERROR)
    return any(marker in head for marker in CHALLENGE_MARKERS_ON_OK)


def _is_sign_in(url: str) -> bool:
    return any(segment in SIGN_IN_SEGMENTS for segment in urlsplit(url).path.lower().split("/"))
