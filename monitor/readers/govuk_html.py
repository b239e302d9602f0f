"""The GOV.UK HTML reader: www.gov.uk pages in every markup era since 2014."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from lxml import etree

from ..model import Attachment, Document, HistoryEntry, ParseError
from . import Reader
from .common import (
    absolute_url,
    display_date,
    fold,
    page_type_for,
    timestamp_date,
)
from .govuk_attachments import (
    ATTACHMENT_BLOCKS,
    html_attachments,
    in_body,
    parent_url,
    withdrawn,
)
from .govuk_formats import FORMATS, latest_update_note, phase
from .govuk_history import element_date, history
from .markup import (
    HELD,
    ClassIndex,
    block_text,
    drop,
    find,
    first,
    hold,
    parse_html,
    sections,
    text_of,
)

GOVUK_MARKERS = (b"gem-c-", b"app-c-", b"govuk-", b"govspeak", b"whitehall-content", b'name="govuk:')

# Page chrome: never part of a section. Selected by class (captures have their ids stripped).
CHROME = (
    "gem-c-cookie-banner",
    "govuk-cookie-banner",
    "gem-c-skip-link",
    "govuk-skip-link",
    "gem-c-layout-super-navigation-header",
    "gem-c-layout-header",
    "govuk-header",
    "gem-c-layout-footer",
    "govuk-footer",
    "gem-c-phase-banner",
    "govuk-phase-banner",
    "gem-c-emergency-banner",
    "gem-c-global-banner",
    "gem-c-breadcrumbs",
    "govuk-breadcrumbs",
    "gem-c-contextual-breadcrumbs",
    "gem-c-step-nav-header",
    "gem-c-step-nav-related",
    "gem-c-feedback",
    "gem-c-contents-list",
    "contents-list-container",
    "gem-c-related-navigation",
    "gem-c-contextual-sidebar",
    "gem-c-contextual-footer",
    "gem-c-print-link",
    "app-c-back-to-top",
    "gem-c-back-to-top-link",
    "sticky-element",
    "gem-c-single-page-notification-button",
    "gem-c-subscription-links",
    "gem-c-share-links",
    "gem-c-devolved-nations",
    "gem-c-title",
    "gem-c-title__context",
    "gem-c-heading__context",
    "gem-c-lead-paragraph",
    "gem-c-metadata",
    "app-c-publisher-metadata",
    "app-c-published-dates",
    "gem-c-published-dates",
    "gem-c-notice",
    "app-c-notice",
    "gem-c-inverse-header",
    "publication-external",
    "gem-c-organisation-logo",
    "print-meta-data",
    "gem-c-pagination",
    "govuk-pagination",
    "part-navigation-container",
    "attachment",
    "gem-c-attachment",
    "gem-c-summary-banner",
    "important-metadata",
    "release-date-changed",
    # 2014-2016 Whitehall page furniture
    "heading-with-extra",
    "heading-extra",
    "metadata-list",
    "document-footer-meta",
    "footer-categories",
    "header-global",
    "footer-wrapper",
    "withdrawal-notice",
    "contextual-info",  # the in-page "Contents" box: links to the headings that follow
    "document-share-links",  # "Share this page" on Facebook and Twitter
)


CONTEXT_LABELS = {
    "national statistics": "national_statistics",
    "official statistics": "official_statistics",
    "accredited official statistics": "accredited_official_statistics",
    "statistical data set": "statistical_data_set",
    "open consultation": "open_consultation",
    "closed consultation": "closed_consultation",
    "consultation outcome": "consultation_outcome",
    "consultation": "consultation",
    "open call for evidence": "open_call_for_evidence",
    "closed call for evidence": "closed_call_for_evidence",
    "call for evidence outcome": "call_for_evidence_outcome",
    "call for evidence": "call_for_evidence",
    "official statistics announcement": "official_statistics_announcement",
    "accredited official statistics announcement": "national_statistics_announcement",
    "national statistics announcement": "national_statistics_announcement",
    "news story": "news_story",
    "press release": "press_release",
    "speech": "speech",
    "case study": "case_study",
    "collection": "document_collection",
}
"""The caption above the title ("Closed consultation"), GOV.UK's name of the document type, as the type."""
SCHEMA_BY_TYPE = {
    **{name: "consultation" for name in ("open_consultation", "closed_consultation", "consultation_outcome")},
    **{
        name: "call_for_evidence"
        for name in ("open_call_for_evidence", "closed_call_for_evidence", "call_for_evidence_outcome")
    },
    "official_statistics_announcement": "statistics_announcement",
    "national_statistics_announcement": "statistics_announcement",
    "news_story": "news_article",
    "press_release": "news_article",
}
"""The schema a document type belongs to, for pages that name only their type."""
MAIN_CLASSES = {
    "html-publication": "html_publication",
    "detailed-guide": "detailed_guide",
    "publication": "publication",
    "guide": "guide",
    "statistical-data-set": "statistical_data_set",
    "statistics-announcement": "statistics_announcement",
    "specialist-document": "specialist_document",
    "manual": "manual",
    "answer": "answer",
    "consultation": "consultation",
    "document-collection": "document_collection",
    "call-for-evidence": "call_for_evidence",
    "news-article": "news_article",
    "speech": "speech",
    "case-study": "case_study",
    "travel-advice": "travel_advice",
}


class GovukHtml(Reader):
    """GOV.UK pages as www.gov.uk serves them (the whole page or only its ``<main>``), in every markup
    since 2014, English or Welsh: dates, every change note, sections, attachments, organisations and
    people, and per format a collection's groups and their documents, a consultation's status and dates,
    a statistics release's date and status, travel advice's latest update.

    Reads the title, "From:" organisations (and apart from them the ministers and officials), "Published"
    and "Last updated" dates (a 2014 "History: Updated ..." line too), the full change history in every
    markup era (``.footer-change-notes`` 2014-16, ``app-c-published-dates`` to 2025,
    ``gem-c-published-dates``, and the history inside ``gem-c-metadata`` from 2026), the lead paragraph,
    a withdrawal notice, the attached documents (``section.attachment`` and ``gem-c-attachment``, a CSV
    offered as "View online" and "Download CSV" included), and one section per h1-h3 heading of the body,
    kept when only an image or an attachment stands under it. Per format: a collection's groups with the
    documents each lists, a consultation's or call for evidence's status and dates, a statistics
    release's date, status and cancellation, travel advice's "Latest update". Welsh pages' terms and
    months are read as the English. Cookie banners, "Is this page useful?", contents lists, breadcrumbs,
    related links and the email sign-up button are left out.
    """

    __kind__ = "govuk-html"
    priority = 30

    @classmethod
    def detects(cls, body: bytes, url: str, content_type: str) -> bool:
        head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        return head.startswith(b"<") and any(marker in body for marker in GOVUK_MARKERS)

    def read(self, body: bytes, url: str, content_type: str, *, selector: str | None = None) -> Document:
        root = parse_html(body)
        main = _main(root)
        page = ClassIndex(main)
        heading, title = _title(page, root)
        if not title:
            raise ParseError("no GOV.UK document title (no h1) found in the page")
        schema, document_type = _types(page, root)
        kind = page_type_for(schema, document_type)
        terms = _terms(main)  # read once: a 2014 page's change notes are 80 of them
        published, last_updated = _dates(page, terms)
        summary = _summary(page)
        organisations, people = _contributors(page, terms)
        facts: dict[str, Any] = dict(
            url=url,
            title=title,
            page_type=kind,
            summary=text_of(summary) or _banner_summary(page),
            organisations=organisations,
            published=published,
            last_updated=last_updated,
            change_history=history(page) or _latest_update(terms, last_updated),
            withdrawn=withdrawn(page),
            attachments=_listed_documents(page, url) + html_attachments(main, url, page),
            parent_url=parent_url(url) if kind == "html_publication" else None,
            people=people,
            metadata=HTML_METADATA.get(schema, _no_metadata)(page, document_type),
        )
        for element in (heading, summary):
            if element is not None:
                drop(element)
        for element in in_body(page.all(*ATTACHMENT_BLOCKS)):
            hold(element)
        for element in page.all(*CHROME):
            drop(element)
        for element in list(main.iterdescendants("header", "footer", "form", "nav")):
            drop(element)
        found = sections(main, title, page=page)
        if not found and not (facts["metadata"] and schema in FORMATS and FORMATS[schema].empty_ok):
            raise ParseError(f"no body text or headings found under the title {title!r}")
        return Document(sections=found, **facts)


def _main(root: etree._Element) -> etree._Element:
    """``<main>``; on pages from before it existed, ``#content``, else the body."""
    found = next(root.iter("main"), None)
    if found is None:
        found = next((el for el in root.iter(etree.Element) if el.get("id") == "content"), None)
    if found is None:
        found = next(root.iter("body"), None)
    return root if found is None else found


def _title(page: ClassIndex, root: etree._Element) -> tuple[etree._Element | None, str]:
    """The page's h1 and its text, else the ``<title>`` without " - GOV.UK"."""
    heading = first(
        page.first("gem-c-title__text", "gem-c-heading__text", tag="h1"), next(page.root.iter("h1"), None)
    )
    title = text_of(_without_caption(heading))
    if not title:
        found = root.xpath("//title")
        title = re.sub(r"\s+[-–]\s+GOV\.UK$", "", text_of(found[0])) if found else ""
    return heading, title


def _is_caption(el: etree._Element) -> bool:
    return any(
        c == "gem-c-heading__context" or c.startswith("govuk-caption-") for c in el.get("class", "").split()
    )


def _without_caption(heading: etree._Element | None) -> etree._Element | None:
    """The heading without a caption set inside it ("Guidance" above the title, the heading
    component's ``context_inside``): the caption names the kind of page, not the page."""
    if heading is None or not any(_is_caption(el) for el in heading.iterdescendants()):
        return heading
    heading = copy.deepcopy(heading)
    for el in [el for el in heading.iterdescendants() if _is_caption(el)]:
        drop(el)
    return heading


def _meta(root: etree._Element, name: str) -> str:
    """The ``content`` of the first ``<meta name=...>`` that has one (a tag walk: XPath costs 20 times as
    much)."""
    for meta in root.iter("meta"):
        if meta.get("name") == name and (content := meta.get("content")) is not None:
            stated: str = content.strip()
            return stated
    return ""


def _types(page: ClassIndex, root: etree._Element) -> tuple[str, str]:
    """The page's schema and document type: from its ``govuk:`` meta tags, else ``<main>``'s or the
    article's class, else the caption above the title."""
    schema = _meta(root, "govuk:schema-name")
    document_type = _meta(root, "govuk:format")
    if not document_type:
        label = text_of(
            first(page.first("gem-c-title__context", "gem-c-heading__context"), page.first("type", tag="p"))
        ).lower()
        document_type = CONTEXT_LABELS.get(label, "")
    if not schema:
        names = (page.root.get("class") or "").split()
        article = next(page.root.iter("article"), None)
        if article is not None:
            names += (article.get("class") or "").split()
        schema = next((MAIN_CLASSES[name] for name in names if name in MAIN_CLASSES), "")
    return schema or SCHEMA_BY_TYPE.get(document_type, ""), document_type


def _summary(page: ClassIndex) -> etree._Element | None:
    """The lead paragraph (``.gem-c-lead-paragraph``; ``div.summary`` before 2017)."""
    return first(page.first("gem-c-lead-paragraph"), page.first("summary", tag="div"))


def _terms(main: etree._Element) -> list[tuple[str, etree._Element]]:
    """Every ``dt``/``dd`` pair of the page's metadata lists: (term without its colon, definition)."""
    pairs = []
    for dt in main.iter("dt"):
        dd = dt.getnext()
        while dd is not None and dd.tag != "dd":
            dd = dd.getnext() if dd.tag != "dt" else None
        if dd is not None:
            term = text_of(dt).rstrip(":").strip().lower()
            pairs.append((WELSH_TERMS.get(term, term), dd))
    return pairs


WELSH_TERMS = {
    "gan": "from",
    "cyhoeddwyd": "published",
    "diweddarwyd ddiwethaf": "last updated",
    "hanes": "history",
}
"""The metadata terms of GOV.UK's Welsh pages (govuk_publishing_components' cy locale), in English."""


PEOPLE_PATHS = ("/government/people/", "/government/ministers/")
"""Where a name under "From:" links when it is a person: their own page, or a minister's role (2014-16)."""

PERSON = re.compile(
    r"^(the )?(rt hon|right honourable|sir|dame|lord|baroness|dr)\b|\b(mp|msp|ms|qc|kc)$", re.I
)
"""A name under "From:" that is a person, where the page does not link it to their page."""


def _contributors(page: ClassIndex, terms: list[tuple[str, etree._Element]]) -> tuple[list[str], list[str]]:
    """ "From:": organisations, and apart from them the ministers and officials (linked to their page or
    their ministerial role, :data:`PEOPLE_PATHS`, or titled as people are)."""
    for term, dd in terms:
        if term == "from":
            links = [a for a in dd.iter("a") if not (a.get("href") or "").startswith("#") and text_of(a)]
            if links:
                named = [(text_of(a), any(p in (a.get("href") or "") for p in PEOPLE_PATHS)) for a in links]
            else:
                names = [name for name in re.split(r",\s*|\s+and\s+", text_of(dd)) if name]
                named = [(name, bool(PERSON.search(name))) for name in names]
            return [n for n, person in named if not person], [n for n, person in named if person]
    logos = [text_of(el) for el in page.all("gem-c-organisation-logo__name")]
    return [name for name in logos if name], []


def _organisations(page: ClassIndex) -> list[str]:
    return _contributors(page, _terms(page.root))[0]




_PUBLISHED = re.compile(r"\b(?:published|cyhoeddwyd(?: ar)?):?\s+(.{0,40})", re.IGNORECASE)
_UPDATED = re.compile(r"\b(?:updated|diweddarwyd ddiwethaf(?: ar)?):?\s+(.{0,40})", re.IGNORECASE)


_HISTORY = re.compile(r"(updated|published|diweddarwyd|cyhoeddwyd)\b\D{0,20}(.{0,40})", re.IGNORECASE)


def _dates(page: ClassIndex, terms: list[tuple[str, etree._Element]]) -> tuple[str | None, str | None]:
    published = updated = None
    for term, dd in terms:
        if term in ("published", "first published") and not published:
            published = element_date(dd)
        elif term in ("last updated", "updated") and not updated:
            updated = element_date(dd)
        elif term == "history" and (match := _HISTORY.match(text_of(dd))):
            # 2014-16: "History: Updated 13 June 2014" (or "Published ..." before any update).
            if match[1].lower() in ("updated", "diweddarwyd") and not updated:
                updated = display_date(match[2])
            elif match[1].lower() in ("published", "cyhoeddwyd") and not published:
                published = display_date(match[2])
    if published or updated:
        return published, updated
    holders = (
        "app-c-published-dates",
        "gem-c-published-dates",
        "publication-header__last-changed",
        "app-c-publication-header__last-changed",
    )
    for holder in page.all(*holders):
        text = text_of(holder)
        if not published and (match := _PUBLISHED.search(text)):
            published = display_date(match[1])
        if not updated and (match := _UPDATED.search(text)):
            updated = display_date(match[1])
    return published, updated


# --------------------------------------------------------------------------- what some formats add


def _banner_summary(page: ClassIndex) -> str:
    """A consultation's description, which its page shows in the summary banner, not as a lead paragraph."""
    return text_of(page.first("gem-c-summary-banner__text"))


DOCUMENT_LISTS = ("gem-c-document-list", "document-list")
"""A collection group's list of its documents: the component (from 2017), and Whitehall's
``ol.document-list`` of ``li.document-row`` (2014-16), each document's title a link in an h3."""


def _listed_documents(page: ClassIndex, url: str) -> list[Attachment]:
    """The documents a collection lists in each group (:data:`DOCUMENT_LISTS`) as its attachments; each
    list leaves a mark, so a group without text of its own stays a section."""
    found = []
    for listing in page.all(*DOCUMENT_LISTS):
        for item in listing.iterchildren("li"):
            link = next((a for a in item.iter("a") if text_of(a)), None)
            if link is not None and link.get("href"):
                found.append(Attachment(text_of(link), absolute_url(link.get("href"), url), "html"))
        mark = etree.Element("p")
        mark.text = HELD
        listing.addprevious(mark)
        drop(listing)
    return found


def _latest_update(terms: list[tuple[str, etree._Element]], updated: str | None) -> list[HistoryEntry]:
    """The one change note of a format that keeps no history: travel advice's "Latest update" (dated
    with its "Updated" date), a statistics release's "Reason for change" of its date."""
    for term, dd in terms:
        if term in ("latest update", "reason for change") and (note := latest_update_note(text_of(dd))):
            return [HistoryEntry(updated, note)]
    return []


def _no_metadata(page: ClassIndex, document_type: str) -> dict[str, str]:
    return {}


def _phased(name: str) -> Callable[[ClassIndex, str], dict[str, str]]:
    """A consultation's or call for evidence's status (from its type) and the dates its summary banner
    shows: "ran from <opening> to <closing>", "closes at <closing>", or "opens <opening>"."""

    def read(page: ClassIndex, document_type: str) -> dict[str, str]:
        state = phase({"document_type": document_type}, name)
        facts = {f"{name}_status": state} if state else {}
        banner = page.first("gem-c-summary-banner")
        shown = [timestamp_date(t.get("datetime")) for t in banner.iter("time")] if banner is not None else []
        times = [t for t in shown if t]
        if state == "open" and times:
            facts["closing_date"] = times[0]
        elif len(times) >= 2:
            facts["opening_date"], facts["closing_date"] = times[0], times[1]
        return facts

    return read


_RELEASE = re.compile(r"^(.*?)\s*\((provisional|confirmed)\)$", re.IGNORECASE)


def _statistics_announcement(page: ClassIndex, document_type: str) -> dict[str, str]:
    """The release date and its status ("20 January 2016 9:30am (confirmed)"), a changed date's previous
    date and reason, and a cancellation ("Proposed release", "Cancellation date", the notice's reason)."""
    facts: dict[str, str] = {}
    for term, dd in _terms(page.root):
        value = text_of(dd)
        if term == "release date" and (match := _RELEASE.match(value)):
            facts["release_date"], facts["release_date_status"] = match[1], match[2].lower()
        elif term == "release date":
            facts["release_date"] = value
        elif term == "proposed release":
            facts["release_date"], facts["release_date_status"] = value, "cancelled"
        elif term == "previous date":
            facts["previous_release_date"] = value
        elif term == "cancellation date":
            facts["cancellation_date"] = display_date(value) or value
    if facts.get("release_date_status") == "cancelled":
        for notice in page.all("gem-c-notice"):
            title = text_of(find(notice, "gem-c-notice__title"))
            if title.lower() == "statistics release cancelled":
                reason = block_text(notice).replace(title, "", 1).strip()
                if reason:
                    facts["cancellation_reason"] = fold(reason)
    return {key: value for key, value in facts.items() if value}


HTML_METADATA: dict[str, Callable[[ClassIndex, str], dict[str, str]]] = {
    "consultation": _phased("consultation"),
    "call_for_evidence": _phased("call_for_evidence"),
    "statistics_announcement": _statistics_announcement,
}
"""What a format shows beside its text, read from its page (the Content API reader's rows give the same)."""
