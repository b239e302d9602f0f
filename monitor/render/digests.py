"""The email digest: its subject line, plain text and HTML, with changes told as stories and the pages
that could not be checked named once they have failed often enough to matter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .. import story as story_rules
from ..changes import with_publication
from ..clock import LONDON, london_date, london_day
from ..deadlines import PageDate
from ..model import Change, PageState
from .changesets import has_word_diff
from .dates import coming_up_context
from .email_size import within_budget
from .labels import KIND_LABELS, plural
from .matters import cut
from .plain_text import header
from .records import change_link, page_link
from .stories import newest_news_first, story_key
from .templates import render_template

ORGANISATION_ABBREVIATIONS = {
    "Department for Education": "DfE",
    "Education and Skills Funding Agency": "ESFA",
    "Standards and Testing Agency": "STA",
    "Teaching Regulation Agency": "TRA",
    "Office for Standards in Education, Children's Services and Skills": "Ofsted",
    "Ofqual": "Ofqual",
    "Department of Health and Social Care": "DHSC",
    "UK Health Security Agency": "UKHSA",
}
"""How GOV.UK itself abbreviates the organisations a digest's subject line is likely to name."""


def _name_key(name: str) -> str:
    """An organisation's name compared as a reader would: mirrors capitalise and space it their own way."""
    return " ".join(name.split()).casefold()


_ABBREVIATION_BY_KEY = {_name_key(name): short for name, short in ORGANISATION_ABBREVIATIONS.items()}


@dataclass
class PageGroup:
    """A page's changes in one message, for wording the subject and the chat summaries."""

    url: str
    title: str
    changes: list[Change]


@dataclass
class Failing:
    """A page that has failed to be checked often enough to be named: people need to know a page is
    not being watched, not only that nothing changed."""

    url: str
    title: str
    runs: int
    reason: str


def group_by_page(changes: Iterable[Change], pages: Sequence[PageState] = ()) -> list[PageGroup]:
    """Changes gathered under their page, the page with the latest change first, its changes in order."""
    titles = {p.url: p.title for p in pages}
    groups: dict[str, PageGroup] = {}
    for change in sorted(changes, key=lambda c: (c.detected_at or "", c.id or 0)):
        group = groups.get(change.page_url)
        if group is None:
            group = groups[change.page_url] = PageGroup(change.page_url, "", [])
        group.changes.append(change)
        group.title = change.title or group.title
    for group in groups.values():
        group.title = group.title or titles.get(group.url) or group.url
    return sorted(groups.values(), key=lambda g: g.changes[-1].detected_at or "", reverse=True)


def failing_pages(pages: Iterable[PageState], alert_after_failures: int) -> list[Failing]:
    """The watched pages that have failed ``alert_after_failures`` checks in a row or more."""
    return [
        Failing(p.url, p.title or p.url, p.consecutive_failures, p.last_error or "no reason recorded")
        for p in pages
        if p.active and p.consecutive_failures >= alert_after_failures
    ]


def organisation_prefix(organisations: Iterable[Sequence[str]]) -> str:
    """ "DfE" when every page comes from one organisation, else "GOV.UK"."""
    firsts = {orgs[0] for orgs in organisations if orgs}
    if len(firsts) != 1:
        return "GOV.UK"
    name = firsts.pop()
    # a name from a page: no control characters, and short enough for a subject
    return _ABBREVIATION_BY_KEY.get(_name_key(name), header(name, 60))


def digest_subject(
    groups: Sequence[PageGroup],
    failing: Sequence[Failing],
    *,
    since: str | date | None,
    prefix: str = "GOV.UK",
) -> str:
    """A subject that counts pages: how many changed, else how many are newly watched, else how many
    could not be checked."""
    changed = [g for g in groups if any(c.kind != "new" for c in g.changes)]
    since_text = f" since {london_date(since, year=_needs_year(since))}" if since else ""
    if changed:
        n = len(changed)
        return f"{plural(n, prefix + ' guidance page')} changed{since_text}"
    if groups:
        n = len(groups)
        return f"Now watching {plural(n, prefix + ' guidance page')}"
    n = len(failing)
    return f"We could not check {plural(n, prefix + ' guidance page')}"


def _needs_year(since: str | date | None) -> bool:
    """Whether a date in a subject needs its year: only when it is not this year."""
    if since is None:
        return False
    year = since.year if isinstance(since, date) else int(str(since)[:4])
    return year != datetime.now(LONDON).year


SUBJECT_LIMIT = 78
"""A subject line longer than this is cut by many mail programs (RFC 5322's line length)."""


def story_subject(
    stories: Sequence[story_rules.Story],
    failing: Sequence[Failing],
    *,
    since: str | date | None,
    prefix: str = "GOV.UK",
) -> str:
    """The digest's subject: one update's page and GOV.UK's note (``“<title>” updated: <note>``), else
    how many pages changed and how many updates."""
    changed = [s for s in stories if any(c.kind != "new" for c in s.all_changes)]
    if len(changed) == 1:
        story = changed[0]
        entry = story.headline
        if entry is not None:
            return _fit(story.title, "updated: ", entry.note)
        what = "changed without a change note" if story.silent else KIND_LABELS.get(story.kind, story.kind)
        if any(with_publication(c) for c in story.changes):
            what = "updated with its publication"
        return _fit(story.title, "", what.lower())
    # Else counts: a publication and its documents count as one page.
    if changed:
        n = len({s.url for s in changed})
        since_text = f" since {london_date(since, year=_needs_year(since))}" if since else ""
        return f"{plural(n, prefix + ' guidance page')} changed{since_text}: {plural(len(changed), 'update')}"
    watched = [PageGroup(url, "", []) for url in dict.fromkeys(s.url for s in stories)]
    return digest_subject(watched, failing, since=since, prefix=prefix)


TITLE_ROOM = 20
"""Characters a page's title keeps in a one-update subject when GOV.UK's note needs the room."""


def _fit(title: str, lead: str, what: str) -> str:
    """ "“Title” <lead><what>" within the subject limit, the title shortened before ``what`` is: GOV.UK's
    note is the news. A long title loses its qualifier after a colon ("Special schools…: coronavirus
    (COVID-19)"), then words from its end down to :data:`TITLE_ROOM` characters; only then is ``what``
    cut."""
    title = " ".join(title.split())
    what = " ".join(what.split())
    room = SUBJECT_LIMIT - len(f"“” {lead}") - len(what)
    if len(title) > room and ":" in title and len(title.split(":", 1)[0]) >= TITLE_ROOM:
        title = title.split(":", 1)[0].rstrip()
    title = cut(title, max(room, TITLE_ROOM))
    head = f"“{title}” {lead}"
    return head + cut(what, SUBJECT_LIMIT - len(head))


def digest(
    changes: Sequence[Change],
    pages: Sequence[PageState],
    *,
    since: str | date | None,
    site_url: str = "",
    alert_after_failures: int = 3,
    organisations: dict[str, list[str]] | None = None,
    context: Sequence[Change] = (),
    newest_first: bool = False,
    footer: str = "",
    coming_up: Sequence[PageDate] = (),
) -> tuple[str, str, str]:
    """The email digest: ``(subject, plain text, HTML with inline styles)``.

    Changes are told as stories (:mod:`monitor.story`): a publication's documents under it, newest
    news first as the changelog lists them. ``since`` is the date the digest covers from (default: the
    day of its oldest change); ``organisations`` maps page URLs to GOV.UK's organisation names for the
    subject line; ``context`` adds recorded changes not sent now (earlier runs) that may explain a
    document's change; ``newest_first`` groups each page's stories together, the page's latest state
    first, as a weekly summary reads, ending with ``coming_up``, the dates to act on; ``footer`` says
    why the reader gets it and how to stop it (list mail).
    """
    wanted = [c for c in changes if c.kind != "none" and not c.backfilled]
    stories = newest_news_first(story_rules.stories(wanted, pages, context=context))
    if newest_first:
        # The page changed last first; within a page, its latest state first (the sort is stable).
        latest: dict[str, str] = {}
        for story in stories:
            latest[story.url] = max(latest.get(story.url, ""), story.detected_at)
        stories.sort(key=lambda story: story.detected_at, reverse=True)
        stories.sort(key=lambda story: latest[story.url], reverse=True)
    failing = failing_pages(pages, alert_after_failures)
    if since is None and wanted:
        since = london_day(min(c.detected_at for c in wanted))
    orgs = organisations or {}
    prefix = organisation_prefix(orgs.get(s.url, []) for s in stories) if stories else "GOV.UK"
    subject = story_subject(stories, failing, since=since, prefix=prefix)
    context_vars = {
        "subject": subject,
        "stories": stories,
        "failing": failing,
        "site_url": site_url.rstrip("/"),
        "since": since,
        "word_diff_key": has_word_diff(wanted),
        "change_link": lambda c: change_link(c, site_url),
        "story_link": lambda st: f"{site_url.rstrip('/')}/changes/{story_key(st)}.html" if site_url else "",
        "page_link": lambda url: page_link(url, site_url),
        "footer": footer,
        **coming_up_context(coming_up, {p.url: p.title for p in pages}),
    }
    return (
        subject,
        render_template("digest.txt", **context_vars),
        within_budget(lambda limit: render_template("digest.html", **context_vars, item_limit=limit)),
    )
