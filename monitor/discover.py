"""Find pages worth watching with the GOV.UK Search API (``<govuk_base_url>/api/search.json``).

A SENCO should hear about a new SEND guidance page, not only about changes to the pages someone thought to
list. Each configured search is paged through newest first (``order=-public_timestamp``); pages not yet
watched are added, and a page whose ``public_timestamp`` has not moved is left unfetched for the run, unless
its last check is older than ``fetch.recheck_days``, so that silent ("minor") edits, which GOV.UK does not
timestamp, are still caught weekly.

Building the query and reading the answer are pure; the request goes through :class:`monitor.fetch.Fetcher`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urljoin

from .clock import london_day, parse_timestamp, utc_timestamp
from .govuk import normalise
from .model import Change, RunSummary
from .plurals import plural
from .settings import Config, SearchConfig

if TYPE_CHECKING:
    from .fetch import Fetcher
    from .store import Store

log = logging.getLogger(__name__)

FIELDS = ("link", "title", "public_timestamp", "latest_change_note", "format", "content_store_document_type")
"""Only what discovery uses: GOV.UK returns a dozen fields by default."""

FOUND = "Found by a GOV.UK search"
"""The note of a found page's ``new`` change when GOV.UK gives no change note."""

PAGE_SIZE = 100
"""Results asked for per request (GOV.UK allows up to 1500; smaller pages keep each answer quick)."""


class SearchError(Exception):
    """GOV.UK refused or garbled a search; the message names the parameter at fault where GOV.UK did."""


@dataclass(frozen=True)
class SearchResult:
    """One result of a search, in GOV.UK's field names."""

    url: str
    title: str = ""
    public_timestamp: str | None = None
    latest_change_note: str = ""
    format: str = ""
    content_store_document_type: str = ""


@dataclass
class Discovery:
    """What the searches of one run found, and what went wrong with them (run goes on regardless)."""

    results: list[SearchResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(``search 'NAME'``, reason) for each search that failed, as a run lists its failures."""
    follow: set[str] = field(default_factory=set)
    """Pages found by a search with ``follow_documents``."""
    added: list[str] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)
    """Pages whose full fetch this run can leave out."""
    found_by: dict[str, str] = field(default_factory=dict)
    """The name of the (first) search that found each page: ``searches:`` subscribers follow it."""


# --------------------------------------------------------------------------- pure: query and answer


def search_params(search: SearchConfig, *, start: int, count: int) -> list[tuple[str, str]]:
    """The query string of one page of results; a repeated ``filter_organisations`` means "any of"."""
    params: list[tuple[str, str]] = [("count", str(count)), ("start", str(start))]
    params.append(("order", "-public_timestamp"))
    params.extend(("filter_organisations", org) for org in search.organisations)
    if search.supergroup:
        params.append(("filter_content_purpose_supergroup", search.supergroup))
    if search.query:
        params.append(("q", search.query))
    params.append(("fields", ",".join(FIELDS)))
    return params


def search_url(base_url: str, search: SearchConfig, *, start: int, count: int) -> str:
    query = urlencode(search_params(search, start=start, count=count))
    return f"{base_url.rstrip('/')}/api/search.json?{query}"


def read_results(body: bytes, base_url: str) -> tuple[list[SearchResult], int]:
    """The results of one answer and GOV.UK's ``total``; raises SearchError for an answer of another shape.

    ``link`` is usually a path on GOV.UK but may be an absolute address of content elsewhere; either way
    it is given the page's one spelling (:func:`monitor.govuk.normalise`), as every other way in does.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SearchError("GOV.UK's answer is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise SearchError("GOV.UK's answer has no list of results")
    results = []
    for item in data["results"]:
        if not isinstance(item, dict) or not isinstance(item.get("link"), str) or not item["link"]:
            continue
        results.append(
            SearchResult(
                url=normalise(urljoin(base_url.rstrip("/") + "/", item["link"].strip()), base_url),
                title=_text(item.get("title")),
                public_timestamp=_text(item.get("public_timestamp")) or None,
                latest_change_note=_text(item.get("latest_change_note")),
                format=_text(item.get("format")),
                content_store_document_type=_text(item.get("content_store_document_type")),
            )
        )
    total = data.get("total")
    return results, total if isinstance(total, int) and not isinstance(total, bool) else len(results)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


_PARAMETER_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    # Search API's own messages (lib/parameter_parser): the name is quoted, or listed after a colon.
    (re.compile(r"Unexpected parameters: ([^.]+)"), lambda m: m[1].strip()),
    (re.compile(r'"(\w+)" is not a valid (filter|reject) field'), lambda m: f"{m[2]}_{m[1]}"),
    (re.compile(r'"(\w+)" is not a valid sort field'), lambda m: "order"),
    (re.compile(r'for parameter "(\w+)"'), lambda m: m[1]),
    (re.compile(r"not valid return fields"), lambda m: "fields"),
)


def rejected_parameter(body: bytes) -> str | None:
    """The parameter a 422 answer (``{"error": "..."}``) names, as it appears in the query string."""
    try:
        message = json.loads(body).get("error", "")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if not isinstance(message, str):
        return None
    for pattern, name in _PARAMETER_PATTERNS:
        match = pattern.search(message)
        if match:
            return name(match)
    return None


def error_message(status: int | None, body: bytes, error: str | None) -> str:
    """One line for a failed search request."""
    if status == 422:
        parameter = rejected_parameter(body)
        if parameter:
            return f"GOV.UK rejected parameter {parameter}"
        return "GOV.UK rejected the search (HTTP 422)"
    if status is not None and status >= 400:
        return f"GOV.UK answered HTTP {status}"
    return error or "no answer from GOV.UK"


# --------------------------------------------------------------------------- searching


async def search(
    fetcher: Fetcher, base_url: str, config: SearchConfig, *, page_size: int = PAGE_SIZE
) -> list[SearchResult]:
    """Every result of one search, newest first, up to ``max_pages``; raises SearchError."""
    results: list[SearchResult] = []
    start = 0
    while len(results) < config.max_pages:
        count = min(page_size, config.max_pages - len(results))
        url = search_url(base_url, config, start=start, count=count)
        fetched = await fetcher.fetch(url, accept="application/json")
        if not fetched.ok or (fetched.status or 200) >= 400:
            raise SearchError(error_message(fetched.status, fetched.body, fetched.error))
        page, total = read_results(fetched.body, base_url)
        results.extend(page[:count])
        start += count
        if not page or start >= total:
            break
    return results


async def search_all(fetcher: Fetcher, config: Config, *, page_size: int | None = None) -> Discovery:
    """Run every configured search; a failed search is reported and the others go on."""
    page_size = page_size or PAGE_SIZE
    found = Discovery()
    seen: set[str] = set()
    for item in config.searches:
        try:
            results = await search(fetcher, config.govuk_base_url, item, page_size=page_size)
        except SearchError as exc:
            log.warning("search '%s': %s", item.name, exc)
            found.errors.append((f"search '{item.name}'", str(exc)))
            continue
        log.info("search '%s': %s", item.name, plural(len(results), "result"))
        for result in results:
            if item.follow_documents:
                found.follow.add(result.url)
            if result.url not in seen:
                seen.add(result.url)
                found.results.append(result)
                found.found_by[result.url] = item.name
    return found


# --------------------------------------------------------------------------- the watch list


def due(
    stored_timestamp: str | None,
    result: SearchResult,
    last_checked: str | None,
    failures: int,
    now: datetime,
    recheck_days: int,
) -> bool:
    """Whether a known page needs its full fetch this run.

    Yes when GOV.UK's ``public_timestamp`` moved (a major change), when the last check failed, or when the
    last check is ``recheck_days`` old (a minor change moves no timestamp, so this is how it is caught).
    """
    if result.public_timestamp is None or stored_timestamp != result.public_timestamp:
        return True
    if failures or not last_checked:
        return True
    try:
        checked = parse_timestamp(last_checked)
    except ValueError:
        return True
    return now - checked >= timedelta(days=recheck_days)


def apply(store: Store, config: Config, found: Discovery, *, now: datetime | None = None) -> Discovery:
    """Add the pages not yet watched, each with a ``new`` change carrying GOV.UK's latest change note,
    and work out which known pages can skip their full fetch this run.

    A page someone removed (inactive) stays removed: discovery never brings it back.
    """
    now = now or datetime.now(UTC)
    stamp = utc_timestamp(now)
    for result in found.results:
        page = store.page(result.url)
        if page is None:
            store.upsert_page(
                result.url, title=result.title or None, source="search", search=found.found_by.get(result.url)
            )
            store.add_change(
                Change(
                    page_url=result.url,
                    kind="new",
                    detected_at=stamp,
                    title=result.title,
                    note=result.latest_change_note or FOUND,
                    effective_date=london_day(result.public_timestamp) or london_day(stamp),
                )
            )
            store.set_search_timestamp(result.url, result.public_timestamp)
            if result.url in found.follow:
                store.set_follow_documents(result.url, True)
            found.added.append(result.url)
            log.info("new page from search: %s", result.url)
            continue
        if not page.active:
            continue
        stored = store.search_timestamp(result.url)
        if due(stored, result, page.last_checked, page.consecutive_failures, now, config.fetch.recheck_days):
            store.set_search_timestamp(result.url, result.public_timestamp)
        else:
            found.skip.add(result.url)
    return found


async def refresh(
    fetcher: Fetcher, config: Config, store: Store, summary: RunSummary, *, now: datetime | None = None
) -> set[str]:
    """The discovery step of a run, before the pages are checked: search, add what is new, and return the
    pages whose full fetch this run can leave out. A failed search is listed in ``summary.failures``."""
    if not config.searches:
        return set()
    found = apply(store, config, await search_all(fetcher, config), now=now)
    summary.failures.extend(found.errors)
    return found.skip
