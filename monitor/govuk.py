"""GOV.UK's address rules, in one place: its hosts, its asset host, the Content API, tracking
parameters, page slugs and the one spelling of a page's address.

Every stage that asks "is this GOV.UK?", "is this the same site?" or "which page is this?" asks here, so
the rules cannot drift apart (a suffix test such as ``endswith("gov.uk")`` would accept ``evilgov.uk``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

WWW = "https://www.gov.uk"
"""GOV.UK's own address, for pages given as a path."""

PAGE_HOSTS = frozenset({"www.gov.uk", "gov.uk"})
"""The hosts GOV.UK serves its pages from."""

ASSET_HOST = "assets.publishing.service.gov.uk"
"""Where GOV.UK keeps the files (PDFs, spreadsheets) attached to its pages."""

TRACKING_PARAMETER = re.compile(
    r"^(utm_\w+|gclid|fbclid|dclid|msclkid|mc_[ce]id|_ga|_gl|_hsenc|_hsmi|igshid)$", re.I
)
"""Query parameters that say how a reader arrived, never which page they read."""


def host_of(url: str) -> str:
    """The URL's host in lower case, without port or credentials; ``""`` for a path."""
    return (urlsplit(url).hostname or "").lower()


def is_govuk_host(host: str) -> bool:
    """``gov.uk`` or one of its sub-domains: a label boundary, so ``evilgov.uk`` is not GOV.UK.

    >>> is_govuk_host("www.gov.uk"), is_govuk_host("assets.publishing.service.gov.uk")
    (True, True)
    >>> is_govuk_host("evilgov.uk"), is_govuk_host("gov.uk.example.com")
    (False, False)
    """
    host = host.lower().rstrip(".")
    return host == "gov.uk" or host.endswith(".gov.uk")


def is_govuk_page(url: str) -> bool:
    """An address on GOV.UK's page hosts (www.gov.uk), not a department's own site or the asset host."""
    return host_of(url) in PAGE_HOSTS


def same_origin(url: str, base: str) -> bool:
    """Same scheme, host and port.

    >>> same_origin("https://www.gov.uk/a", "https://WWW.gov.uk/b")
    True
    >>> same_origin("http://www.gov.uk/a", "https://www.gov.uk/")
    False
    """
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme.lower(), a.netloc.lower()) == (b.scheme.lower(), b.netloc.lower())


def same_site(url: str, parent_url: str) -> bool:
    """The parent's own origin, or GOV.UK's asset host for a parent on GOV.UK: where a publication's own
    documents live.

    >>> same_site("https://assets.publishing.service.gov.uk/x.pdf", "https://www.gov.uk/p")
    True
    >>> same_site("https://assets.publishing.service.gov.uk/x.pdf", "https://evilgov.uk/p")
    False
    """
    if same_origin(url, parent_url):
        return True
    return host_of(url) == ASSET_HOST and is_govuk_host(host_of(parent_url))


def api_url(base_url: str, path: str) -> str:
    """The Content API address of a GOV.UK page given as a path or a full address.

    >>> api_url("https://www.gov.uk/", "https://www.gov.uk/guidance/x?y=1#z")
    'https://www.gov.uk/api/content/guidance/x'
    >>> api_url("https://www.gov.uk", "guidance/x")
    'https://www.gov.uk/api/content/guidance/x'
    """
    parts = urlsplit(path)
    page_path = parts.path if parts.scheme else path.split("?", 1)[0].split("#", 1)[0]
    if not page_path.startswith("/"):
        page_path = "/" + page_path
    return f"{base_url.rstrip('/')}/api/content{page_path}"


def page_path_of_api(url: str) -> str:
    """A Content API address's page path (``/api/content/x`` -> ``/x``); other paths unchanged."""
    path = urlsplit(url).path
    return path[len("/api/content") :] if path.startswith("/api/content/") else path


def without_tracking(query: str) -> str:
    """A query string less its tracking parameters, the rest in their order.

    >>> without_tracking("utm_source=x&page=2&gclid=y")
    'page=2'
    """
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not TRACKING_PARAMETER.match(k)]
    return urlencode(kept)


def absolute(href: str | None, base: str) -> str:
    """``href`` made absolute against ``base``, without tracking parameters or a fragment.

    >>> absolute("/x?utm_source=a&b=1#top", "https://www.gov.uk/y")
    'https://www.gov.uk/x?b=1'
    """
    url = urljoin(base, (href or "").strip())
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, without_tracking(parts.query), ""))


@functools.lru_cache(maxsize=65_536)
def normalise(url: str, base_url: str = WWW) -> str:
    """The one spelling of a page's address, so two spellings of one page are one page.

    A path is a page on ``base_url``; scheme and host lose their case; a full www.gov.uk (or gov.uk)
    address is the same page as its path on ``base_url`` (which is www.gov.uk except in tests and the
    demo); the fragment, tracking parameters and a trailing slash go.

    >>> normalise("/x/")
    'https://www.gov.uk/x'
    >>> normalise("HTTPS://WWW.GOV.UK/x?utm_source=y#f")
    'https://www.gov.uk/x'
    >>> normalise("https://gov.uk/x", "http://127.0.0.1:8000")
    'http://127.0.0.1:8000/x'
    >>> normalise("https://example.com/")
    'https://example.com/'
    """
    url = url.strip()
    base = urlsplit(base_url.strip())
    if url.startswith("/") and not url.startswith("//"):
        url = f"{base.scheme}://{base.netloc}{url}"
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if (parts.hostname or "").lower() in PAGE_HOSTS:
        scheme, netloc = base.scheme.lower(), base.netloc.lower()
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, netloc, path, without_tracking(parts.query), ""))


def page_slug(url: str) -> str:
    """A stable, readable file name for a watched page: its GOV.UK path, with the host when elsewhere.

    >>> page_slug("https://www.gov.uk/government/publications/x")
    'government-publications-x'
    """
    parts = urlsplit(url)
    stem = parts.path.strip("/")
    if parts.netloc and parts.netloc not in PAGE_HOSTS:
        stem = f"{parts.netloc}/{stem}"
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "page"
    if len(slug) > 120 or slug != stem.lower().replace("/", "-"):
        slug = f"{slug[:120].rstrip('-')}-{hashlib.sha1(url.encode()).hexdigest()[:8]}"
    return slug
