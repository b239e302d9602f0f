"""The mirrored text reader: a GOV.UK page as news sites repost it, in plain text."""

from __future__ import annotations

import re

from ..model import Document, HistoryEntry, ParseError, Section
from . import Reader
from .common import display_date, fold

# GOV.UK's display names of document types, which reposts put before the title ("Guidance: ...").
FORMATS = (
    "Accredited official statistics|Case study|Closed consultation|Consultation outcome|Corporate report|"
    "Correspondence|Decision|Detailed guide|FOI release|Form|Guidance|Impact assessment|Independent report|"
    "Map|National statistics|News story|Notice|Official statistics|Open consultation|Policy paper|"
    "Press release|Promotional material|Regulation|Research and analysis|Speech|Statement to Parliament|"
    "Statistical data set|Statutory guidance|Transparency data|Collection|Consultation|Publication"
)
TITLE = re.compile(rf"^({FORMATS}):\s+(.+)$", re.IGNORECASE)
PUBLISHED = re.compile(r"^Published:?\s+(.+)$", re.IGNORECASE)
UPDATED = re.compile(r"^Last updated:?\s+(.+)$", re.IGNORECASE)
NUMBERED = re.compile(r"^(\d+)\.\s+(.*)$")


class MirrorText(Reader):
    """A GOV.UK page reposted as text by a news site: "<Type>: <title>", the organisation, "Details",
    "Published ...", "Last updated ..." and the updates numbered newest first.

    The repost prints no date beside each update, so the newest takes the "Last updated" date,
    "First published." takes the "Published" date and the others have no date (never a guessed one).
    The body is the text under "Details", up to "Published"; the site's own comments and links are left out.
    """

    __kind__ = "mirror-text"
    priority = 40

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        head = body[:512].lstrip()
        if head[:1] in (b"<", b"{", b"[") or head.startswith(b"%PDF"):
            return False
        text = body.decode("utf-8", "replace")
        return bool(re.search(r"^\s*Details\s*$", text, re.MULTILINE)) and bool(
            re.search(r"^\s*Published:?\s+\d", text, re.MULTILINE)
        )

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        lines = [fold(line) for line in body.decode("utf-8", "replace").splitlines()]
        try:
            details = lines.index("Details")
        except ValueError:
            raise ParseError("no 'Details' line in the mirrored text") from None
        header = [line for line in lines[:details] if line]
        title, page_type, organisations = _header(header)
        if not title:
            raise ParseError("no '<Type>: <title>' line before 'Details' in the mirrored text")
        found = next(
            ((i, match) for i in range(details, len(lines)) if (match := PUBLISHED.match(lines[i]))), None
        )
        if found is None:
            raise ParseError("no 'Published' line after 'Details' in the mirrored text")
        end, published_line = found
        text = "\n".join(line for line in lines[details + 1 : end] if line)
        published = display_date(published_line[1])
        last_updated = None
        rest = lines[end + 1 :]
        if rest and (match := UPDATED.match(rest[0])):
            last_updated = display_date(match[1])
            rest = rest[1:]
        doc = Document(
            url=url,
            title=title,
            page_type=page_type,
            organisations=organisations,
            published=published,
            last_updated=last_updated,
            change_history=_history(rest, published, last_updated),
            sections=[Section("Details", 2, text)] if text else [],
        )
        if not doc.sections:
            raise ParseError("no text under 'Details' in the mirrored text")
        return doc


def _header(header: list[str]) -> tuple[str, str, list[str]]:
    for index, line in enumerate(header):
        match = TITLE.match(line)
        if match:
            following = header[index + 1] if index + 1 < len(header) else ""
            organisations = [following] if following and not re.search(r"\d", following) else []
            return fold(match[2]), match[1].lower().replace(" ", "_"), organisations
    return "", "", []


def _history(lines: list[str], published: str | None, last_updated: str | None) -> list[HistoryEntry]:
    """The numbered updates, newest first; each note may run over several lines until a blank one."""
    notes: list[str] = []
    open_note = False
    for line in lines:
        match = NUMBERED.match(line)
        if match:
            notes.append(match[2])
            open_note = True
        elif not line:
            open_note = False
        elif open_note:
            notes[-1] += " " + line
        elif notes:
            break
    entries = []
    for index, note in enumerate(notes):
        if note.strip().rstrip(".").lower() == "first published":
            date = published
        elif index == 0:
            date = last_updated
        else:
            date = None
        entries.append(HistoryEntry(date, fold(note)))
    return entries
