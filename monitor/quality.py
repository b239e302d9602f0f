"""The quality gate: whether an answer can be trusted as the page's content, before it is read.

A 200 is not always the page. A CDN can serve half an object with valid framing, GOV.UK can answer with its
own error, "Page not found" or maintenance page, a firewall with a "checking your browser" page styled like
the site, and a body can arrive in bytes its encoding does not allow. Read as the page, each would be a
change, and the next good answer a second one. This module names each as a failed fetch, with the reason.

It goes by the structure GOV.UK's pages share (alphagov/static's layouts and error templates): a full
page is framed by the GOV.UK layout (``govuk-template``, or the older ``#global-header``) and always ends
with its footer; content sits in ``<main>``; GOV.UK's error pages use the same layout with a
``mainstream error`` body class, a ``Status code: NNN`` line, a ``window.httpStatusCode`` script and titles
like "Page not found - GOV.UK". Pages saved as only their ``<main>`` (as the tests' captures are) are
read as what they are. Pure: bytes and headers in, a reason or None out; it works on bytes with plain
searches (no parse), so judging a new body costs little next to fetching it. A body the page was last
read from is not judged again: the run knows it by its hash.
"""

from __future__ import annotations

import codecs
import html
import json
import re

from .model import FetchResult

ERROR_HEADINGS = re.compile(
    rb"^(page not found|sorry,? we(?:'|&#39;|\xe2\x80\x99| a)re experiencing technical difficulties"
    rb"|the page you're looking for is no longer here|this page has been removed|bad request|forbidden"
    rb"|access denied|not allowed|too many requests|service unavailable|.*scheduled maintenance.*"
    rb"|.*\(\d{3}(?: error)?\))$"
)
"""Headings of GOV.UK's own error pages (alphagov/static ``app/views/root``): a page whose title is one of
these followed by " - GOV.UK" is the error, not the content."""

CHALLENGE_HEADINGS = re.compile(
    rb"(just a moment\.\.\.|checking your browser|checking if the site connection is secure"
    rb"|attention required! \||please verify you are a human|verifying you are human|are you a robot\?"
    rb"|request unsuccessful\. incapsula|ddos-guard)"
)
"""How the interstitials of bot filters (Cloudflare, Imperva, DDoS-Guard) begin their title or heading,
whatever site styling they wear: never how a guidance page's title begins."""

GOVUK_LAYOUT = (b"govuk-template", b'id="global-header"', b"govuk-header")
"""Marks of GOV.UK's page layout: a page that has one is a whole page, and ends with GOV.UK's footer."""

TEXT_TYPES = frozenset({"", "text/html", "application/xhtml+xml", "text/plain"})
"""The text the readers read besides JSON: HTML pages and the plain text of mirrors."""

HEAD_REACH = 65_536
"""How far into a page without ``<main>`` its title, heading and layout are looked for."""
HEADING_REACH = 8_192
"""How far past the start of ``<main>`` its heading is looked for."""

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)""")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""")
_STATUS = re.compile(rb"httpstatuscode\s*=\s*['\"]?(\d{3})|<pre>\s*status code:?\s*(\d{3})")
_TAGS = re.compile(rb"<[^>]*>")
_SPACE = re.compile(rb"\s+")


def check(fetch: FetchResult) -> str | None:
    """Why this answer cannot be trusted as the page's content, or None.

    The fetcher already names network faults, truncation, oversize bodies, redirects off the allow-list
    and challenge scripts; those come back as they are.
    """
    if fetch.error:
        return fetch.error
    if fetch.not_modified:
        return None
    if not fetch.body or fetch.body.isspace():
        return "empty body"
    return refusal(fetch.body, fetch.content_type)


def refusal(body: bytes, content_type: str = "") -> str | None:
    """Why ``body`` (served as ``content_type``) is not a page's content, or None.

    >>> refusal(b"<main><h1>Guidance</h1></main>", "text/html")
    >>> refusal(b"<main><h1>Guid", "text/html")
    'incomplete page: <main> is never closed'
    >>> refusal(b'{"title": "x"', "application/json")
    "incomplete JSON: Expecting ',' delimiter at byte 13"
    """
    media = content_type.split(";", 1)[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    if body.startswith(b"%PDF-") or not (is_json or media in TEXT_TYPES):
        return None  # a PDF, a spreadsheet: the readers judge those (or refuse them) themselves
    reason = encoding_refusal(body, content_type, is_json=is_json)
    if reason is not None:
        return reason
    if is_json:
        try:
            json.loads(body)
        except ValueError as exc:
            position = getattr(exc, "pos", None)
            message = getattr(exc, "msg", str(exc))
            return f"incomplete JSON: {message}" + (f" at byte {position}" if position is not None else "")
        return None
    if media != "text/plain" or body[:256].lstrip()[:1] == b"<":
        return html_refusal(body)
    return None


def encoding_refusal(body: bytes, content_type: str = "", *, is_json: bool = False) -> str | None:
    """A body its encoding does not allow: the charset the server declared, else the page's ``<meta>``
    (or a byte-order mark), else UTF-8 (JSON's and GOV.UK's). Read anyway, such a body would come out with
    replacement characters, and the text would seem to change.

    >>> encoding_refusal(b"caf\\xc3\\xa9", "text/html; charset=utf-8")
    >>> encoding_refusal(b"caf\\xe9", "text/html; charset=utf-8")
    'not valid UTF-8 (byte 3 cannot be read)'
    >>> encoding_refusal(b"caf\\xe9", "text/html; charset=windows-1252")
    """
    name = _declared_charset(body, content_type, is_json=is_json) or "utf-8"
    try:
        codec = codecs.lookup(name)
    except LookupError:
        return None  # a charset we cannot judge is left to the reader
    try:
        codecs.decode(body, codec.name)
    except UnicodeDecodeError as exc:
        return f"not valid {name.upper()} (byte {exc.start} cannot be read)"
    return None


def html_refusal(body: bytes) -> str | None:
    """Why an HTML body is not the page: a challenge, GOV.UK's own error page, or an incomplete document.

    Title, heading and layout sit before the content and at its start, so only that much is lowered and
    searched; the end tags are looked for from the end. A whole page costs a few searches, not a parse.
    """
    main = _find(body, b"<main")
    head = body[: main + HEADING_REACH if main >= 0 else HEAD_REACH].lower()
    title = _text_of(head, b"title")
    heading = _text_of(head, b"h1")
    for text in (title, heading):
        if text and CHALLENGE_HEADINGS.match(text):
            return "blocked by a challenge page"
    framed = any(mark in head[: main if main >= 0 else len(head)] for mark in GOVUK_LAYOUT)
    return _govuk_error(body, head, title, framed) or _incomplete(body, main, framed)


def _govuk_error(body: bytes, head: bytes, title: bytes, framed: bool) -> str | None:
    error_body = framed and b"error" in _body_classes(head)
    named = title.endswith((b" - gov.uk", b" | gov.uk")) and bool(
        ERROR_HEADINGS.match(title.rsplit(b" ", 2)[0].strip())
    )
    script = b"httpStatusCode" in body
    if not (script or error_body or named):
        return None  # a "Status code: 200" in a page's own text is not enough
    low = body.lower()
    status = _STATUS.search(low)
    code = (status.group(1) or status.group(2)).decode() if status else ""
    shown = _text_of(body, b"h1", keep_case=True) or _text_of(body, b"title", keep_case=True)
    words = shown.decode("utf-8", "replace")
    if words.endswith((" - GOV.UK", " | GOV.UK")):
        words = words[: -len(" - GOV.UK")]
    detail = ", ".join(part for part in (words and f'"{words}"', code and f"status {code}") if part)
    return "GOV.UK error page instead of the page" + (f" ({detail})" if detail else "")


def _incomplete(body: bytes, main: int, framed: bool) -> str | None:
    """A document visibly cut short: content opened and never closed, or a whole GOV.UK page without the
    footer and ``</html>`` it always ends with. A page saved as only its ``<main>`` has no layout."""
    if main >= 0 and _rfind(body, b"</main>") < main:
        return "incomplete page: <main> is never closed"  # HTML never lets </main> be left out
    if framed:
        # Other sites may leave out </html>, as HTML allows; GOV.UK's layout always writes it.
        if _rfind(body, b"<footer") < 0:
            return "incomplete page: GOV.UK's footer is missing"
        if _rfind(body, b"</html>") < 0:
            return "incomplete page: the document ends before </html>"
    return None


def _find(body: bytes, token: bytes) -> int:
    """``body.find(token)``, in any letter case: the lower-case form first (GOV.UK's, and cheap)."""
    at = body.find(token)
    return at if at >= 0 else body.lower().find(token)


def _rfind(body: bytes, token: bytes) -> int:
    at = body.rfind(token)
    return at if at >= 0 else body.lower().rfind(token)


def _declared_charset(body: bytes, content_type: str, *, is_json: bool) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    match = _CHARSET_PARAM.search(content_type)
    if match:
        return match.group(1)
    if not is_json:
        found = _META_CHARSET.search(body[:1024].lower())
        if found:
            return found.group(1).decode("ascii")
    return None


def _body_classes(low: bytes) -> list[bytes]:
    start = low.find(b"<body")
    if start < 0:
        return []
    end = low.find(b">", start)
    match = re.search(rb"""class\s*=\s*["']([^"']*)""", low[start:end])
    return match.group(1).split() if match else []


def _text_of(doc: bytes, tag: bytes, *, keep_case: bool = False) -> bytes:
    """The text of the first ``<tag>`` element, tags dropped and spaces folded (``doc`` in lower case
    unless ``keep_case``, when the tag is found case-insensitively)."""
    low = doc.lower() if keep_case else doc
    start = low.find(b"<" + tag)
    while start >= 0 and low[start + 1 + len(tag) : start + 2 + len(tag)] not in (b">", b" ", b"\n", b"\t"):
        start = low.find(b"<" + tag, start + 1)
    if start < 0:
        return b""
    opened = low.find(b">", start)
    end = low.find(b"</" + tag, opened)
    if opened < 0 or end < 0 or end - opened > 2000:
        return b""
    text = _SPACE.sub(b" ", _TAGS.sub(b" ", doc[opened + 1 : end])).strip()
    return html.unescape(text.decode("utf-8", "replace")).encode()
