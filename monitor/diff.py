"""Say exactly what changed between two captures of one page, and nothing else.

Pure: two :class:`~monitor.model.Document` in, one :class:`~monitor.model.ChangeSet` out. Everything is
compared as word tokens by their folded keys (:mod:`monitor.tokens`), so markup, attribute order, entity
encoding, the way text was split into lines and typography (curly or straight quotes, dashes, spaces,
ellipses) never make a change; only what a reader reads does.

A section's text is compared item by item (paragraphs, list items, table rows): items are aligned first,
then each changed item gets its own word diff. What a diff may weigh is bounded by a size, never a clock
(:class:`Effort`), so a diff ends whatever the two pages are; what it cannot afford word by word it shows
item by item, whole, and says so (``SectionChange.by_paragraph``).

``kind`` follows GOV.UK's own distinction: ``major`` when a change-history entry was added or "Last
updated" moved (what GOV.UK's email alerts report), ``minor`` when the visible content changed without
either (a silent edit), ``withdrawn`` when a withdrawal notice appeared, else ``none``.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import govuk
from .model import (
    Attachment,
    AttachmentChange,
    ChangeKind,
    ChangeSet,
    DiffOp,
    Document,
    DocumentSummary,
    HistoryEntry,
    MetadataChange,
    Section,
    SectionChange,
    SectionStatus,
)
from .signals import with_signals
from .textdiff import Effort, items, longest_increasing, pair_by_key, ratio_at_least, word_diff, words
from .tokens import count_words, fold

RENAME_SIMILARITY = 0.6
"""Below this share of common words, a section under a new heading is a different section."""
HEADING_SIMILARITY = 0.9
"""Headings this alike (by characters, ignoring case and numbering) pair whatever their text."""

SECTION_PAIRS = 40_000
"""The most pairs of leftover sections weighed for a renamed section; beyond it they are reported removed
and added."""

HTML_PUBLICATION = "html_publication"

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[a-z]\)|\([a-z0-9]+\))\s+", re.I)


# --------------------------------------------------------------------------- normalising


def _norm(text: str | None) -> str:
    return " ".join(words(text or ""))


def _heading_key(heading: str) -> str:
    """Headings compare without case, typography or their "3." numbering, which shifts when a section
    above goes."""
    return _NUMBERING.sub("", fold(heading)).casefold()


def attachment_url_key(url: str) -> str:
    """An attachment's address without what does not identify the file: scheme, GOV.UK host, fragment,
    trailing slash, tracking parameters and query order."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not govuk.TRACKING_PARAMETER.match(k)
    )
    path = parts.path.rstrip("/") or "/"
    where = "" if not host or host in govuk.PAGE_HOSTS else host
    return f"{where}{path}" + (f"?{urlencode(query)}" if query else "")


# --------------------------------------------------------------------------- sections


def _counts(ops: Iterable[DiffOp]) -> tuple[int, int]:
    added = sum(count_words(op.text) for op in ops if op.op == "insert")
    removed = sum(count_words(op.text) for op in ops if op.op == "delete")
    return added, removed


def _heading_similarity(old: str, new: str) -> float:
    """Near-identical headings ("Latest updates and reviews" -> "... review") name the same section even
    when its text was rewritten; a different number ("Annex 10" -> "Annex 11") never does."""
    a, b = _heading_key(old), _heading_key(new)
    if re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return 0.0
    return ratio_at_least(SequenceMatcher(None, a, b, autojunk=False), HEADING_SIMILARITY)


def _similar_pairs(
    old: Sequence[Section],
    new: Sequence[Section],
    old_words: list[list[str]],
    new_words: list[list[str]],
    old_left: list[int],
    new_left: list[int],
    effort: Effort,
) -> list[tuple[int, int]]:
    """Pair the sections left over by their most similar text, else a near-identical heading, best first.

    Exact ratios are dear, so pairs are visited in order of a cheap upper bound (shared vocabulary) and a
    ratio is computed only for a pair whose two sections are both still free when its turn comes, and only
    while ``effort`` affords it (else the bound stands for it). More than SECTION_PAIRS pairs of leftover
    sections are not weighed at all: they are reported removed and added.
    """
    if len(old_left) * len(new_left) > SECTION_PAIRS:
        return []
    queue: list[tuple[float, int, int, int, bool]] = []
    for j in new_left:
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(new_words[j])
        for i in old_left:
            bound = 0.0
            if old_words[i] and new_words[j]:
                matcher.set_seq1(old_words[i])
                if matcher.real_quick_ratio() >= RENAME_SIMILARITY and effort.pay(len(old_words[i])):
                    bound = matcher.quick_ratio()
            if bound >= RENAME_SIMILARITY:
                queue.append((-bound, i, j, 0, False))
            elif heading := _heading_similarity(old[i].heading, new[j].heading):
                queue.append((-heading, i, j, 0, True))
    heapq.heapify(queue)
    pairs: list[tuple[int, int]] = []
    while queue:
        score, i, j, _, exact = heapq.heappop(queue)
        if i not in old_left or j not in new_left:
            continue
        if exact:
            pairs.append((i, j))
            old_left.remove(i)
            new_left.remove(j)
            continue
        matcher = SequenceMatcher(None, old_words[i], new_words[j], autojunk=False)
        if effort.pay(len(old_words[i]) * len(new_words[j])):
            ratio = ratio_at_least(matcher, RENAME_SIMILARITY)
        else:
            ratio = -score
        ratio = ratio or _heading_similarity(old[i].heading, new[j].heading)
        if ratio:
            heapq.heappush(queue, (-ratio, i, j, 1, True))
    return pairs


def diff_sections(old: Sequence[Section], new: Sequence[Section], effort: Effort) -> list[SectionChange]:
    """Match sections by heading, then by identical or similar text or a near-identical heading (a
    renamed section), and report what differs.

    ``moved`` is a section out of its old order or at a new heading level. Sections are listed in the
    new page's order; a removed section is listed where it used to be. A section whose comparison
    ``effort`` could not afford word by word is shown item by item, whole, with ``by_paragraph`` set.
    """
    old_text, new_text = [fold(s.text) for s in old], [fold(s.text) for s in new]
    old_words, new_words = [t.split() for t in old_text], [t.split() for t in new_text]
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    pairs = pair_by_key(old, new, lambda s: _heading_key(s.heading), old_left, new_left)
    pairs += pair_by_key(old_text, new_text, lambda text: text or None, old_left, new_left)
    pairs += _similar_pairs(old, new, old_words, new_words, old_left, new_left, effort)

    pairs.sort(key=lambda p: p[1])
    in_order = longest_increasing([i for i, _ in pairs])
    placed: list[tuple[tuple[float, int], SectionChange]] = []
    new_pos_of_old: dict[int, int] = {}
    for pos, (i, j) in enumerate(pairs):
        new_pos_of_old[i] = j
        o, n = old[i], new[j]
        heading_changed = fold(o.heading) != fold(n.heading)
        renamed = heading_changed and _heading_key(o.heading) != _heading_key(n.heading)
        effort.refused = False
        ops = word_diff(o.text, n.text, effort) if old_words[i] != new_words[j] else []
        text_changed = any(op.op != "equal" for op in ops)
        # A changed level moved the section in the outline (a chapter became a sub-section).
        moved = pos not in in_order or o.level != n.level
        if not (renamed or text_changed or moved):
            continue
        if not text_changed:
            ops = [DiffOp("equal", "\n".join(item.text for item in items(n.text)))]
        added, removed = _counts(ops)
        status: SectionStatus = "renamed" if renamed else "moved" if moved else "modified"
        change = SectionChange(
            heading=_norm(n.heading),
            status=status,
            old_heading=_norm(o.heading) if heading_changed else None,
            added_words=added,
            removed_words=removed,
            diff=ops,
            by_paragraph=text_changed and effort.refused,
        )
        placed.append(((j, 0), change))
    for j in new_left:
        ops = word_diff("", new[j].text, effort)
        added = count_words(new[j].text)
        placed.append(((j, 0), SectionChange(_norm(new[j].heading), "added", None, added, 0, ops)))
    for i in old_left:
        anchor = max((new_pos_of_old[k] for k in new_pos_of_old if k < i), default=-1)
        ops = word_diff(old[i].text, "", effort)
        change = SectionChange(_norm(old[i].heading), "removed", None, 0, count_words(old[i].text), ops)
        placed.append(((anchor + 0.5, i), change))
    placed.sort(key=lambda p: p[0])
    return [change for _, change in placed]


# --------------------------------------------------------------------------- attachments


def _same_file(a: Attachment, b: Attachment) -> bool:
    """False only when both sides know the file and it differs."""
    if a.content_hash and b.content_hash and a.content_hash != b.content_hash:
        return False
    if a.page_count is not None and b.page_count is not None and a.page_count != b.page_count:
        return False
    return not (a.size is not None and b.size is not None and a.size != b.size)


def _kind(attachment: Attachment) -> str:
    return attachment.kind.strip().lower()


def attachment_change(old: Attachment, new: Attachment) -> AttachmentChange | None:
    """What changed between two listings of one attachment, said exactly: a new title, a new address,
    a new file (its format and size on each side). None when the listing is the same."""
    title, old_title = _norm(new.title), _norm(old.title)
    renamed = fold(title) != fold(old_title)
    moved = attachment_url_key(old.url) != attachment_url_key(new.url)
    new_kind = bool(_kind(old) and _kind(new) and _kind(old) != _kind(new))
    new_file = new_kind or not _same_file(old, new)
    if not renamed and not moved and not new_file:
        return None
    change = AttachmentChange(
        title, new.url, "renamed" if renamed else "modified", old_title if renamed else None
    )
    if moved:
        change.old_url = old.url
    if new_file:
        change.kind, change.old_kind = _kind(new) or None, _kind(old) or None
        change.size, change.old_size = new.size, old.size
        change.page_count, change.old_page_count = new.page_count, old.page_count
    return change


def diff_attachments(old: Sequence[Attachment], new: Sequence[Attachment]) -> list[AttachmentChange]:
    """Match attachments by address, then by file hash, then by title; a title listed twice pairs twice."""
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    by_url = pair_by_key(old, new, lambda a: attachment_url_key(a.url) if a.url else None, old_left, new_left)
    by_hash = pair_by_key(old, new, lambda a: a.content_hash or None, old_left, new_left)
    by_title = pair_by_key(old, new, lambda a: fold(a.title).casefold() or None, old_left, new_left)

    changes: list[tuple[tuple[int, int], AttachmentChange]] = []
    for i, j in by_url + by_hash + by_title:
        change = attachment_change(old[i], new[j])
        if change is None and (i, j) in by_title:
            # Paired by title alone: GOV.UK gives no address, size or hash to tell the files apart.
            change = AttachmentChange(_norm(new[j].title), new[j].url, "modified")
        if change is not None:
            changes.append(((0, j), change))
    for j in new_left:
        changes.append(((0, j), AttachmentChange(_norm(new[j].title), new[j].url, "added")))
    for i in old_left:
        changes.append(((1, i), AttachmentChange(_norm(old[i].title), old[i].url, "removed")))
    changes.sort(key=lambda c: c[0])
    return [change for _, change in changes]


# --------------------------------------------------------------------------- history and metadata


def _entry_text(entry: HistoryEntry) -> str:
    return f"{entry.date}: {_norm(entry.note)}" if entry.date else _norm(entry.note)


def diff_history(
    old: Sequence[HistoryEntry], new: Sequence[HistoryEntry]
) -> tuple[list[HistoryEntry], list[MetadataChange]]:
    """Entries GOV.UK added, and edits to entries it already showed (a corrected note or date).

    An unmatched new entry that shares its date or its note with an unmatched old one is that entry
    edited, not a new update.
    """
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    pair_by_key(old, new, lambda h: (h.date, fold(h.note)), old_left, new_left)
    edits: list[MetadataChange] = []
    for key in (lambda h: h.date, lambda h: fold(h.note) or None):
        for i, j in pair_by_key(old, new, key, old_left, new_left):
            edits.append(MetadataChange("change_history", _entry_text(old[i]), _entry_text(new[j])))
    edits += [MetadataChange("change_history", _entry_text(old[i]), "") for i in old_left]
    added = [HistoryEntry(new[j].date, _norm(new[j].note)) for j in new_left]
    return added, edits


def diff_metadata(old: Document, new: Document) -> list[MetadataChange]:
    """Title, summary, organisations, people, the withdrawal notice, and each fact a page type shows beside
    its text (a release date, its status, a consultation's status and dates), each a change of its own
    named by its field ("release_date": "20 January 2016 9:30am" -> "9 February 2016 9:30am")."""
    fields = {
        "title": (_norm(old.title), _norm(new.title)),
        "summary": (_norm(old.summary), _norm(new.summary)),
        "organisations": ("; ".join(map(_norm, old.organisations)), "; ".join(map(_norm, new.organisations))),
        "people": ("; ".join(map(_norm, old.people)), "; ".join(map(_norm, new.people))),
        "withdrawn": (_norm(old.withdrawn), _norm(new.withdrawn)),
    }
    for name in dict.fromkeys([*old.metadata, *new.metadata]):
        fields[name] = (_norm(old.metadata.get(name)), _norm(new.metadata.get(name)))
    return [MetadataChange(name, a, b) for name, (a, b) in fields.items() if fold(a) != fold(b)]


def _date_moved(old: Document, new: Document) -> bool:
    """ "Last updated" (or an HTML publication's "Updated") moved. A date that appears or vanishes is a
    reading of the page, not a move: a real first update adds a history entry as well."""
    return None not in (old.last_updated, new.last_updated) and old.last_updated != new.last_updated


def updated_with_publication(old: Document, new: Document) -> bool:
    """An HTML publication whose "Updated" moved: the update was announced on the publication's page, with
    its change note there, not on this one."""
    return HTML_PUBLICATION in (old.page_type, new.page_type) and _date_moved(old, new)


def published_facts_moved(old: Document, new: Document) -> bool:
    """A fact GOV.UK announces on the page itself moved (a release date, a consultation's status): a change
    the page says it made, like a new change note, never a silent edit."""
    return {k: fold(v) for k, v in old.metadata.items()} != {k: fold(v) for k, v in new.metadata.items()}


# --------------------------------------------------------------------------- the diff


def diff(old: Document, new: Document) -> ChangeSet:
    """What differs between two captures of one page, and whether GOV.UK said so (``major``) or not."""
    history_added, history_edits = diff_history(old.change_history, new.change_history)
    sections = with_signals(diff_sections(old.sections, new.sections, Effort()))
    attachments = diff_attachments(old.attachments, new.attachments)
    metadata = diff_metadata(old, new) + history_edits
    # An HTML publication's "Updated" is its parent's date: a move alone says nothing about this page,
    # but with its text changed it says the publication announced this update.
    announced = _date_moved(old, new) and (
        HTML_PUBLICATION not in (old.page_type, new.page_type) or bool(sections or attachments or metadata)
    )
    kind: ChangeKind
    if new.withdrawn and not old.withdrawn:
        kind = "withdrawn"
    elif history_added or announced or published_facts_moved(old, new):
        kind = "major"
    elif sections or attachments or metadata:
        kind = "minor"
    else:
        kind = "none"
    return ChangeSet(
        kind=kind,
        old=DocumentSummary.of(old),
        new=DocumentSummary.of(new),
        history_added=history_added,
        sections=sections,
        attachments=attachments,
        metadata=metadata,
    )


def unrelated(old: Document, new: Document) -> list[str]:
    """Why two captures look like two different pages rather than two versions of one; empty when alike.

    ``diff`` compares whatever it is given, but a comparison of two different pages reads as a huge
    change, so it says so.
    """
    reasons = []
    stated = [d.url for d in (old, new) if d.url and urlsplit(d.url).path not in ("", "/")]
    if len(stated) == 2 and govuk.normalise(stated[0]) != govuk.normalise(stated[1]):
        reasons.append(f"they give different addresses ({old.url}, {new.url})")
    if old.published and new.published and old.published != new.published:
        reasons.append(f"first published on different days ({old.published}, {new.published})")
    if old.last_updated and new.last_updated and new.last_updated < old.last_updated:
        reasons.append(f'"Last updated" goes back from {old.last_updated} to {new.last_updated}')
    title_words = [{w for w in title.casefold().split() if len(w) > 3} for title in (old.title, new.title)]
    if all(title_words) and not title_words[0] & title_words[1]:
        reasons.append("their titles have no word in common")
    return reasons
