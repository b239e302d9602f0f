"""Whether an answer is the page that was asked for, and not another page's.

A cache can mis-route: ``/a`` answered with ``/b``'s page, whole and valid. Read as ``/a``, it would be a
change with ``/b``'s title and notes, and ``/a``'s return a second one. GOV.UK pages name themselves: the
HTML page's ``<link rel="canonical">`` and ``<meta name="govuk:content-id">``, the Content API's
``base_path`` and ``content_id``. An answer that names another page is a failed check. An answer that
names nothing (a bare ``<main>``) and shares neither its title, nor any update, nor any heading with
the page's last version is held as suspect: it fails once, and is taken for the page only when the next
check answers it again.

Pure: bodies and Documents in, a reason or None out. The pipeline asks it before the change rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .model import Document

HEAD_REACH = 65_536
"""How far into an HTML body its ``<head>`` marks are looked for."""

_CANONICAL = re.compile(rb"""<link\b[^>]*\brel=["']?canonical["']?[^>]*>""", re.I)
_HREF = re.compile(rb"""\bhref=["']([^"']+)["']""", re.I)
_CONTENT_ID = re.compile(
    rb"""<meta\b[^>]*\bname=["']govuk:content-id["'][^>]*\bcontent=["']([0-9a-f-]{36})["']""", re.I
)
OTHER_PAGE = "answered with another page"
SUSPECT = "held as suspect"


@dataclass(frozen=True)
class Marks:
    """What an answer says of itself: the path of the page it is, and its GOV.UK content id."""

    path: str | None = None
    content_id: str | None = None
    from_api: bool = False
    bare: bool = True
    """An HTML answer that could have named itself: only such an answer is held as suspect."""


def marks(body: bytes, content_type: str) -> Marks:
    """The marks of a body: the Content API's ``base_path`` and ``content_id``, or the HTML page's
    canonical link and ``govuk:content-id`` meta."""
    if "json" in content_type.lower():
        try:
            item = json.loads(body)
        except ValueError:
            return Marks(bare=False)
        if not isinstance(item, dict):
            return Marks(bare=False)
        path, content_id = item.get("base_path"), item.get("content_id")
        return Marks(
            path if isinstance(path, str) else None,
            content_id if isinstance(content_id, str) else None,
            from_api=True,
            bare=False,
        )
    if not _is_html(content_type):
        return Marks(bare=False)  # a PDF or a mirror's text: nothing to name itself with, nor to hold
    head = body[:HEAD_REACH]
    path = None
    if (link := _CANONICAL.search(head)) and (href := _HREF.search(link.group(0))):
        path = urlsplit(href.group(1).decode("utf-8", "replace")).path or "/"
    found = _CONTENT_ID.search(head)
    return Marks(path, found.group(1).decode() if found else None)


def _is_html(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("", "text/html", "application/xhtml+xml")


def _same_path(named: str, asked: str, *, from_api: bool) -> bool:
    named, asked = named.rstrip("/") or "/", asked.rstrip("/") or "/"
    # A guide's parts (/guide/part) are served by the Content API as the guide's item (/guide).
    return named == asked or (from_api and named != "/" and asked.startswith(named + "/"))


def other_page(asked: list[str], answer: Marks, last: Marks | None) -> str | None:
    """Why an answer is another page's, by the marks it carries, or None. ``asked``: the addresses it
    stands for (the page's, and where a redirect led); ``last``: the marks of the page's last version."""
    paths = [urlsplit(url).path for url in asked]
    if answer.path is not None and not any(
        _same_path(answer.path, p, from_api=answer.from_api) for p in paths
    ):
        return f"{OTHER_PAGE}: {answer.path}"
    if answer.content_id and last is not None and last.content_id and answer.content_id != last.content_id:
        if answer.path is None:
            return f"{OTHER_PAGE} (content id {answer.content_id}, not {last.content_id})"
    return None


def _marks_of(document: Document) -> set[str]:
    """What a page keeps from one version to the next: its title, its updates, its headings."""
    found = {f"title:{document.title}"}
    found |= {f"update:{h.date}:{h.note}" for h in document.change_history}
    found |= {f"heading:{s.heading}" for s in document.sections if s.heading}
    return {" ".join(mark.casefold().split()) for mark in found}


def suspect(answer: Marks, document: Document, last: Document) -> str | None:
    """Why an answer with no marks of its own is held (it shares neither title, nor any update, nor any
    heading with the page's last version), or None. The reason names the answer's title, so a second
    answer of the same page gives the same reason: that is how the next check knows it was answered
    again."""
    if not answer.bare or answer.path is not None or answer.content_id is not None:
        return None
    if _marks_of(document) & _marks_of(last):
        return None
    return (
        f"{SUSPECT}: an answer without its address that shares no title, update or heading with the page "
        f'("{document.title}"); taken for the page if the next check answers it again'
    )
