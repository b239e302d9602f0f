"""Say exactly what changed between two captures of one page, and nothing else.

Pure: two :class:`~monitor.model.Document` in, one :class:`~monitor.model.ChangeSet` out. Everything is
compared as word tokens with whitespace collapsed, so markup, attribute order, entity encoding and the
way text was split into paragraphs never make a change; only what a reader sees does.

``kind`` follows GOV.UK's own distinction: ``major`` when a change-history entry was added or "Last
updated" moved (what GOV.UK's email alerts report), ``minor`` when the visible content changed without
either (a silent edit), ``withdrawn`` when a withdrawal notice appeared, else ``none``.
"""

from __future__ import annotations

import bisect
import heapq
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import govuk
from .model import (
    Attachment,
    AttachmentChange,
    ChangeSet,
    DiffOp,
    Document,
    DocumentSummary,
    HistoryEntry,
    MetadataChange,
    Section,
    SectionChange,
)
from .signals import with_signals

RENAME_SIMILARITY = 0.6
"""Below this share of common words, a section under a new heading is a different section."""
HEADING_SIMILARITY = 0.9
"""Headings this alike (by characters, ignoring case and numbering) pair whatever their text."""
BRIDGE_WORDS = 2
"""Unchanged runs this short between two replacements are folded into them, so a rewritten sentence
reads as one deletion and one insertion rather than alternating fragments."""

HTML_PUBLICATION = "html_publication"

T = TypeVar("T")

_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[a-z]\)|\([a-z0-9]+\))\s+", re.I)


# --------------------------------------------------------------------------- normalising


def words(text: str) -> list[str]:
    """Word tokens of readable text: the unit every comparison here is made in."""
    return unicodedata.normalize("NFC", text).split()


def _norm(text: str | None) -> str:
    return " ".join(words(text or ""))


def _heading_key(heading: str) -> str:
    """Headings compare without case or their "3." numbering, which shifts when a section above goes."""
    return _NUMBERING.sub("", _norm(heading)).casefold()


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


# --------------------------------------------------------------------------- generic pairing


def _pair_by_key(
    old: Sequence[T],
    new: Sequence[T],
    key: Callable[[T], Hashable | None],
    old_left: list[int],
    new_left: list[int],
) -> list[tuple[int, int]]:
    """Pair still-unpaired items with equal keys, in document order, so a key listed twice pairs twice.

    ``old_left``/``new_left`` (indexes not yet paired) are updated in place; a ``None`` key never pairs.
    """
    waiting: dict[Hashable, list[int]] = defaultdict(list)
    for i in old_left:
        k = key(old[i])
        if k is not None:
            waiting[k].append(i)
    pairs: list[tuple[int, int]] = []
    for j in list(new_left):
        k = key(new[j])
        if k is not None and waiting.get(k):
            i = waiting[k].pop(0)
            pairs.append((i, j))
            old_left.remove(i)
            new_left.remove(j)
    return pairs


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []
    tail_pos: list[int] = []
    back: list[int] = [-1] * len(values)
    for pos, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(pos)
        else:
            tails[k] = value
            tail_pos[k] = pos
        back[pos] = tail_pos[k - 1] if k else -1
    keep: set[int] = set()
    pos = tail_pos[-1] if tail_pos else -1
    while pos != -1:
        keep.add(pos)
        pos = back[pos]
    return keep


# --------------------------------------------------------------------------- word diff


Opcodes = list[tuple[str, int, int, int, int]]


def _opcodes(a: list[str], b: list[str]) -> Opcodes:
    """SequenceMatcher's opcodes, with the unchanged head and tail set aside first (it is quadratic)."""
    head = 0
    while head < min(len(a), len(b)) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(len(a), len(b)) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    matcher = SequenceMatcher(None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False)
    codes: Opcodes = [("equal", 0, head, 0, head)] if head else []
    codes += [
        (tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    if tail:
        codes.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return codes


def word_diff(old_text: str, new_text: str) -> list[DiffOp]:
    """A readable word-level diff: runs of equal, deleted and inserted words, deletions before insertions."""
    a, b = words(old_text), words(new_text)
    return _readable(a, b, _opcodes(a, b))


def _readable(a: list[str], b: list[str], opcodes: Opcodes) -> list[DiffOp]:
    # Each chunk is (equal words, None) or (deleted words, inserted words).
    chunks: list[tuple[list[str], list[str] | None]] = []
    for tag, i1, i2, j1, j2 in opcodes:
        chunks.append((a[i1:i2], None) if tag == "equal" else (a[i1:i2], b[j1:j2]))
    merged: list[tuple[list[str], list[str] | None]] = []
    for chunk in chunks:
        merged.append(chunk)
        while (
            len(merged) >= 3
            and merged[-1][1] is not None
            and merged[-2][1] is None
            and merged[-3][1] is not None
            and len(merged[-2][0]) <= BRIDGE_WORDS
            and all(merged[k][0] and merged[k][1] for k in (-1, -3))
        ):
            (d1, i1_), (eq, _), (d2, i2_) = merged[-3:]
            del merged[-3:]
            merged.append((d1 + eq + d2, (i1_ or []) + eq + (i2_ or [])))
    ops: list[DiffOp] = []
    for deleted, inserted in merged:
        if inserted is None:
            ops.append(DiffOp("equal", " ".join(deleted)))
            continue
        if deleted:
            ops.append(DiffOp("delete", " ".join(deleted)))
        if inserted:
            ops.append(DiffOp("insert", " ".join(inserted)))
    return ops


def _counts(ops: Iterable[DiffOp]) -> tuple[int, int]:
    added = sum(len(op.text.split()) for op in ops if op.op == "insert")
    removed = sum(len(op.text.split()) for op in ops if op.op == "delete")
    return added, removed


# --------------------------------------------------------------------------- sections


def _ratio_at_least(matcher: SequenceMatcher, floor: float) -> float:
    """``matcher.ratio()`` when it can reach ``floor``, else 0; the cheap upper bounds are tried first."""
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    score = matcher.ratio()
    return score if score >= floor else 0.0


def _heading_similarity(old: str, new: str) -> float:
    """Near-identical headings ("Latest updates and reviews" -> "... review") name the same section even
    when its text was rewritten; a different number ("Annex 10" -> "Annex 11") never does."""
    a, b = _heading_key(old), _heading_key(new)
    if re.findall(r"\d+", a) != re.findall(r"\d+", b):
        return 0.0
    return _ratio_at_least(SequenceMatcher(None, a, b, autojunk=False), HEADING_SIMILARITY)


def _similar_pairs(
    old: Sequence[Section],
    new: Sequence[Section],
    old_words: list[list[str]],
    new_words: list[list[str]],
    old_left: list[int],
    new_left: list[int],
    opcodes: dict[tuple[int, int], Opcodes],
) -> list[tuple[int, int]]:
    """Pair the sections left over by their most similar text, else a near-identical heading, best first.

    Exact ratios are dear, so pairs are visited in order of a cheap upper bound (shared vocabulary) and a
    ratio is computed only for a pair whose two sections are both still free when its turn comes; the
    opcodes of a pair taken on its text are kept in ``opcodes`` for its word diff.
    """
    queue: list[tuple[float, int, int, int, bool]] = []
    for j in new_left:
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(new_words[j])
        for i in old_left:
            bound = 0.0
            if old_words[i] and new_words[j]:
                matcher.set_seq1(old_words[i])
                if matcher.real_quick_ratio() >= RENAME_SIMILARITY:
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
        ratio = _ratio_at_least(matcher, RENAME_SIMILARITY)
        if ratio:
            opcodes[(i, j)] = matcher.get_opcodes()
        ratio = ratio or _heading_similarity(old[i].heading, new[j].heading)
        if ratio:
            heapq.heappush(queue, (-ratio, i, j, 1, True))
    return pairs


def diff_sections(old: Sequence[Section], new: Sequence[Section]) -> list[SectionChange]:
    """Match sections by heading, then by identical or similar text or a near-identical heading (a
    renamed section), and report what differs.

    ``moved`` is a section out of its old order or at a new heading level. Sections are listed in the
    new page's order; a removed section is listed where it used to be.
    """
    old_words = [words(s.text) for s in old]
    new_words = [words(s.text) for s in new]
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    pairs = _pair_by_key(old, new, lambda s: _heading_key(s.heading), old_left, new_left)
    pairs += _pair_by_key(
        old, new, lambda s: tuple(words(s.text)) if s.text.strip() else None, old_left, new_left
    )

    known: dict[tuple[int, int], Opcodes] = {}
    pairs += _similar_pairs(old, new, old_words, new_words, old_left, new_left, known)

    pairs.sort(key=lambda p: p[1])
    in_order = _longest_increasing([i for i, _ in pairs])
    placed: list[tuple[tuple[float, int], SectionChange]] = []
    new_pos_of_old: dict[int, int] = {}
    for pos, (i, j) in enumerate(pairs):
        new_pos_of_old[i] = j
        o, n = old[i], new[j]
        heading_changed = _norm(o.heading) != _norm(n.heading)
        renamed = heading_changed and _heading_key(o.heading) != _heading_key(n.heading)
        text_changed = old_words[i] != new_words[j]
        # A changed level moved the section in the outline (a chapter became a sub-section).
        moved = pos not in in_order or o.level != n.level
        if not (renamed or text_changed or moved):
            continue
        if text_changed:
            a, b = old_words[i], new_words[j]
            ops = _readable(a, b, known.get((i, j)) or _opcodes(a, b))
        else:
            ops = [DiffOp("equal", " ".join(new_words[j]))]
        added, removed = _counts(ops)
        status = "renamed" if renamed else "moved" if moved else "modified"
        change = SectionChange(
            heading=_norm(n.heading),
            status=status,
            old_heading=_norm(o.heading) if heading_changed else None,
            added_words=added,
            removed_words=removed,
            diff=ops,
        )
        placed.append(((j, 0), change))
    for j in new_left:
        text = " ".join(new_words[j])
        ops = [DiffOp("insert", text)] if text else []
        placed.append(
            ((j, 0), SectionChange(_norm(new[j].heading), "added", None, len(new_words[j]), 0, ops))
        )
    for i in old_left:
        anchor = max((new_pos_of_old[k] for k in new_pos_of_old if k < i), default=-1)
        text = " ".join(old_words[i])
        ops = [DiffOp("delete", text)] if text else []
        change = SectionChange(_norm(old[i].heading), "removed", None, 0, len(old_words[i]), ops)
        placed.append(((anchor + 0.5, i), change))
    placed.sort(key=lambda p: p[0])
    return [change for _, change in placed]


# --------------------------------------------------------------------------- attachments


def _same_file(a: Attachment, b: Attachment) -> bool:
    """False only when both sides know the file and it differs."""
    if a.content_hash and b.content_hash and a.content_hash != b.content_hash:
        return False
    return not (a.size is not None and b.size is not None and a.size != b.size)


def diff_attachments(old: Sequence[Attachment], new: Sequence[Attachment]) -> list[AttachmentChange]:
    """Match attachments by address, then by file hash, then by title; a title listed twice pairs twice."""
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    by_url = _pair_by_key(
        old, new, lambda a: attachment_url_key(a.url) if a.url else None, old_left, new_left
    )
    by_hash = _pair_by_key(old, new, lambda a: a.content_hash or None, old_left, new_left)
    by_title = _pair_by_key(old, new, lambda a: _norm(a.title).casefold() or None, old_left, new_left)

    changes: list[tuple[tuple[int, int], AttachmentChange]] = []
    for i, j in by_url + by_hash:
        o, n = old[i], new[j]
        if _norm(o.title) != _norm(n.title):
            changes.append(((0, j), AttachmentChange(_norm(n.title), n.url, "renamed", _norm(o.title))))
        elif not _same_file(o, n):
            changes.append(((0, j), AttachmentChange(_norm(n.title), n.url, "modified")))
    for _i, j in by_title:
        changes.append(((0, j), AttachmentChange(_norm(new[j].title), new[j].url, "modified")))
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
    _pair_by_key(old, new, lambda h: (h.date, _norm(h.note)), old_left, new_left)
    edits: list[MetadataChange] = []
    for key in (lambda h: h.date, lambda h: _norm(h.note) or None):
        for i, j in _pair_by_key(old, new, key, old_left, new_left):
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
    return [MetadataChange(name, a, b) for name, (a, b) in fields.items() if a != b]


def published_facts_moved(old: Document, new: Document) -> bool:
    """A fact GOV.UK announces on the page itself moved (a release date, a consultation's status): a change
    the page says it made, like a new change note, never a silent edit."""
    return old.metadata != new.metadata and bool(old.metadata or new.metadata)


# --------------------------------------------------------------------------- the diff


def diff(old: Document, new: Document) -> ChangeSet:
    """What differs between two captures of one page, and whether GOV.UK said so (``major``) or not."""
    history_added, history_edits = diff_history(old.change_history, new.change_history)
    sections = with_signals(diff_sections(old.sections, new.sections))
    attachments = diff_attachments(old.attachments, new.attachments)
    metadata = diff_metadata(old, new) + history_edits
    # An HTML publication's "Updated" is its parent's date: a move alone says nothing about this page.
    # A date that appears or vanishes is a reading of the page, not a move: a real first update adds
    # a history entry as well.
    date_moved = (
        old.last_updated is not None
        and new.last_updated is not None
        and old.last_updated != new.last_updated
        and HTML_PUBLICATION not in (old.page_type, new.page_type)
    )
    if new.withdrawn and not old.withdrawn:
        kind = "withdrawn"
    elif history_added or date_moved or published_facts_moved(old, new):
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
