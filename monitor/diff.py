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
from .tokens import WORD, Token, count_words, tokens

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


def _opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> Opcodes:
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
    """A readable word-level diff: runs of equal, deleted and inserted words, deletions before insertions.

    Tokens are compared by their text alone, so re-flowed paragraphs change nothing; the runs keep the
    line breaks of the page (the new page's for unchanged and inserted text, the old page's for deleted
    text), so a list item stays a line of its own.
    """
    a, b = tokens(old_text), tokens(new_text)
    keys_a, keys_b = [t.text for t in a], [t.text for t in b]
    return _readable(a, b, _at_line_starts(a, b, _opcodes(keys_a, keys_b)))


def _at_line_starts(a: list[Token], b: list[Token], opcodes: Opcodes) -> Opcodes:
    """Slide each pure insertion or deletion along the repeated tokens around it to start a line where
    it can: a new list item then reads as one new line ("- item"), never as "item" plus the next "-"."""
    codes = [list(code) for code in opcodes]
    for k, code in enumerate(codes):
        tag = code[0]
        if tag not in ("insert", "delete") or k == 0 or k == len(codes) - 1:
            continue
        before, after = codes[k - 1], codes[k + 1]
        if before[0] != "equal" or after[0] != "equal":
            continue
        seq, lo, hi = (b, 3, 4) if tag == "insert" else (a, 1, 2)
        start, end = code[lo], code[hi]
        # How far the run can slide left (into the equal run before) and right (into the one after).
        left = 0
        while start - left > before[lo] and seq[start - left - 1].text == seq[end - left - 1].text:
            left += 1
        right = 0
        while end + right < after[hi] and seq[start + right].text == seq[end + right].text:
            right += 1
        shift = next(
            (s for s in range(-left, right + 1) if seq[start + s].before == "\n"),
            0,
        )
        if shift:
            before[2] += shift
            before[4] += shift
            code[1:5] = [n + shift for n in code[1:5]]
            after[1] += shift
            after[3] += shift
    return [tuple(code) for code in codes if code[1] != code[2] or code[3] != code[4]]  # type: ignore[misc]


def _text(run: Sequence[Token]) -> str:
    """A run of tokens as text: inner spacing as on the page, a line break before it kept, a space not."""
    if not run:
        return ""
    head = "\n" if run[0].before == "\n" else ""
    return head + run[0].text + "".join(t.before + t.text for t in run[1:])


def _readable(a: list[Token], b: list[Token], opcodes: Opcodes) -> list[DiffOp]:
    # Each chunk is [tag, i1, i2, j1, j2]; an "equal" run of at most BRIDGE_WORDS words between two
    # replacements is folded into them.
    merged: list[list] = []
    for tag, i1, i2, j1, j2 in opcodes:
        merged.append([tag, i1, i2, j1, j2])
        while (
            len(merged) >= 3
            and merged[-1][0] == "replace"
            and merged[-2][0] == "equal"
            and merged[-3][0] == "replace"
            and sum(1 for t in b[merged[-2][3] : merged[-2][4]] if WORD.fullmatch(t.text)) <= BRIDGE_WORDS
        ):
            first, _, last = merged[-3:]
            del merged[-3:]
            merged.append(["replace", first[1], last[2], first[3], last[4]])
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in merged:
        if tag == "equal":
            ops.append(DiffOp("equal", _text(b[j1:j2])))
            continue
        if i2 > i1:
            ops.append(DiffOp("delete", _text(a[i1:i2])))
        if j2 > j1:
            ops.append(DiffOp("insert", _text(b[j1:j2])))
    if ops and ops[0].text.startswith("\n"):
        ops[0] = DiffOp(ops[0].op, ops[0].text[1:])
    return ops


def _counts(ops: Iterable[DiffOp]) -> tuple[int, int]:
    added = sum(count_words(op.text) for op in ops if op.op == "insert")
    removed = sum(count_words(op.text) for op in ops if op.op == "delete")
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
        ops = word_diff(o.text, n.text) if text_changed else [DiffOp("equal", _text(tokens(n.text)))]
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
        text = _text(tokens(new[j].text))
        ops = [DiffOp("insert", text)] if text else []
        placed.append(
            ((j, 0), SectionChange(_norm(new[j].heading), "added", None, count_words(text), 0, ops))
        )
    for i in old_left:
        anchor = max((new_pos_of_old[k] for k in new_pos_of_old if k < i), default=-1)
        text = _text(tokens(old[i].text))
        ops = [DiffOp("delete", text)] if text else []
        change = SectionChange(_norm(old[i].heading), "removed", None, 0, count_words(text), ops)
        placed.append(((anchor + 0.5, i), change))
    placed.sort(key=lambda p: p[0])
    return [change for _, change in placed]


# --------------------------------------------------------------------------- attachments


def _same_file(a: Attachment, b: Attachment) -> bool:
    """False only when both sides know the file and it differs."""
    if a.content_hash and b.content_hash and a.content_hash != b.content_hash:
        return False
    return not (a.size is not None and b.size is not None and a.size != b.size)


def _kind(attachment: Attachment) -> str:
    return attachment.kind.strip().lower()


def attachment_change(old: Attachment, new: Attachment) -> AttachmentChange | None:
    """What changed between two listings of one attachment, said exactly: a new title, a new address,
    a new file (its format and size on each side). None when the listing is the same."""
    title, old_title = _norm(new.title), _norm(old.title)
    moved = attachment_url_key(old.url) != attachment_url_key(new.url)
    new_kind = bool(_kind(old) and _kind(new) and _kind(old) != _kind(new))
    new_file = new_kind or not _same_file(old, new)
    if title == old_title and not moved and not new_file:
        return None
    change = AttachmentChange(
        title,
        new.url,
        "renamed" if title != old_title else "modified",
        old_title if title != old_title else None,
    )
    if moved:
        change.old_url = old.url
    if new_file:
        change.kind, change.old_kind = _kind(new) or None, _kind(old) or None
        change.size, change.old_size = new.size, old.size
    return change


def diff_attachments(old: Sequence[Attachment], new: Sequence[Attachment]) -> list[AttachmentChange]:
    """Match attachments by address, then by file hash, then by title; a title listed twice pairs twice."""
    old_left, new_left = list(range(len(old))), list(range(len(new)))
    by_url = _pair_by_key(
        old, new, lambda a: attachment_url_key(a.url) if a.url else None, old_left, new_left
    )
    by_hash = _pair_by_key(old, new, lambda a: a.content_hash or None, old_left, new_left)
    by_title = _pair_by_key(old, new, lambda a: _norm(a.title).casefold() or None, old_left, new_left)

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
