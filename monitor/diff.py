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

import bisect
import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from difflib import SequenceMatcher
from typing import Any, NamedTuple, TypeVar
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
from .tokens import WORD, Token, count_words, fold, folded_lines, tokens

RENAME_SIMILARITY = 0.6
"""Below this share of common words, a section under a new heading is a different section."""
HEADING_SIMILARITY = 0.9
"""Headings this alike (by characters, ignoring case and numbering) pair whatever their text."""
BRIDGE_WORDS = 2
"""Unchanged runs this short between two replacements are folded into them, so a rewritten sentence
reads as one deletion and one insertion rather than alternating fragments."""
ITEM_SIMILARITY = 0.4
"""Where several items were replaced, two items (paragraphs, list items, table rows) sharing at least this
share of their words, in order, can be one item changed; below it, one item went and another came."""

COMPARISON_CELLS = 1_000_000
"""The most pairs (of tokens, or of items) one comparison may weigh. Past it a word diff could keep a
reader waiting, so the items are shown whole instead; no real paragraph comes near it."""
DIFF_CELLS = 40_000_000
"""The most pairs all the comparisons of one diff may weigh together: what bounds a diff whatever the
input. Real pages use a small part of it; what is left over when it runs out is shown item by item."""
ALIGN_DIRECT = 10_000
"""Items of a stretch are aligned exactly (difflib) up to this many pairs; a longer stretch first on
the items the two sides share that repeat least (anchors), then stretch by stretch between them."""
ANCHOR_PAIRS = 200_000
"""The most candidate anchor pairs one stretch weighs: an item repeated too often to anchor on (a
"- schools" bullet in every list) is left to the stretches between the anchors."""
PAIRED_ITEMS = 10_000
"""The most (old item, new item) pairs one replaced stretch is weighed in for its changed items; a longer
rewrite is shown whole, its old items deleted and its new ones inserted."""
SECTION_PAIRS = 40_000
"""The most pairs of leftover sections weighed for a renamed section; beyond it they are reported removed
and added."""

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


# --------------------------------------------------------------------------- how much comparing a diff may do


class Effort:
    """What one diff may still spend on comparing, counted in pairs of tokens or items weighed: a size,
    never a clock, so the same two pages always give the same diff.

    A comparison that would cost more than :data:`COMPARISON_CELLS` at once, or than is left of
    :data:`DIFF_CELLS`, is refused: its items are then shown whole, deleted and inserted, and ``refused``
    says so until the caller clears it (:func:`diff_sections` asks it section by section).
    """

    def __init__(self) -> None:
        self.left = DIFF_CELLS
        self.refused = False

    def pay(self, cells: int) -> bool:
        """Whether a comparison weighing ``cells`` pairs may go ahead; it is then paid for."""
        if cells > COMPARISON_CELLS or cells > self.left:
            return False
        self.left -= cells
        return True

    def spend(self, cells: int) -> bool:
        """:meth:`pay`, where a refusal means items are shown whole: ``refused`` then says so."""
        if self.pay(cells):
            return True
        self.refused = True
        return False


# --------------------------------------------------------------------------- aligning sequences

Opcodes = list[tuple[str, int, int, int, int]]


def _ends(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int
) -> tuple[int, int]:
    """How many items a[alo:ahi] and b[blo:bhi] share at their head and, after it, at their tail."""
    head = 0
    while alo + head < ahi and blo + head < bhi and a[alo + head] == b[blo + head]:
        head += 1
    tail = 0
    while alo + head < ahi - tail and blo + head < bhi - tail and a[ahi - 1 - tail] == b[bhi - 1 - tail]:
        tail += 1
    return head, tail


def _anchors(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int, effort: Effort
) -> list[tuple[int, int]] | None:
    """The longest in-order run of equal items in a[alo:ahi] and b[blo:bhi], counting only the items that
    repeat least (their pairs within :data:`ANCHOR_PAIRS`): what a long list certainly kept, found without
    weighing every item against every other. Empty when the two share nothing, None when what they share
    cannot be afforded."""
    if not effort.pay((ahi - alo) + (bhi - blo)):
        return None
    where: dict[Hashable, list[int]] = defaultdict(list)
    for i in range(alo, ahi):
        where[a[i]].append(i)
    in_b = Counter(b[blo:bhi])
    weights = sorted(
        (len(where[key]) * count, n) for n, (key, count) in enumerate(in_b.items()) if key in where
    )
    keys = list(in_b)
    chosen: set[Hashable] = set()
    total = 0
    for weight, n in weights:
        if total + weight > ANCHOR_PAIRS:
            break
        chosen.add(keys[n])
        total += weight
    if not chosen or not effort.pay(total):
        return None if weights else []
    # By new position, and by old position backwards within one: an increasing run of old positions then
    # takes at most one old item for each new one.
    pairs = [(i, j) for j in range(blo, bhi) if b[j] in chosen for i in reversed(where[b[j]])]
    keep = _longest_increasing([i for i, _ in pairs])
    return [pairs[k] for k in sorted(keep)]


def _stretch(
    a: Sequence[Hashable], b: Sequence[Hashable], alo: int, ahi: int, blo: int, bhi: int, effort: Effort
) -> Opcodes:
    """Opcodes for one stretch whose ends differ: exact (difflib) when it is short, else its anchors with
    each stretch between them left to align in turn ("align" entries); one replacement when neither can
    be afforded."""
    if alo == ahi or blo == bhi:
        tag = "insert" if alo == ahi else "delete"
        return [(tag, alo, ahi, blo, bhi)] if (alo, blo) != (ahi, bhi) else []
    cells = (ahi - alo) * (bhi - blo)
    if cells <= ALIGN_DIRECT and effort.pay(cells):
        matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
        return [
            (tag, i1 + alo, i2 + alo, j1 + blo, j2 + blo) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    anchors = _anchors(a, b, alo, ahi, blo, bhi, effort)
    if not anchors:
        effort.refused = effort.refused or anchors is None
        return [("replace", alo, ahi, blo, bhi)]
    codes: Opcodes = []
    i, j = alo, blo
    for ai, bj in anchors:
        if (i, j) != (ai, bj):
            codes.append(("align", i, ai, j, bj))
        codes.append(("equal", ai, ai + 1, bj, bj + 1))
        i, j = ai + 1, bj + 1
    if (i, j) != (ahi, bhi):
        codes.append(("align", i, ahi, j, bhi))
    return codes


def _align(a: Sequence[Hashable], b: Sequence[Hashable], effort: Effort) -> Opcodes:
    """difflib-style opcodes turning ``a`` into ``b``, within what ``effort`` allows.

    The unchanged head and tail are set aside first (difflib is quadratic), then the middle is aligned
    exactly when short, on anchors when long (:func:`_stretch`); adjacent runs of one kind are merged.
    """
    out: Opcodes = []
    todo: Opcodes = [("align", 0, len(a), 0, len(b))]
    while todo:
        tag, alo, ahi, blo, bhi = todo.pop()
        if tag != "align":
            out.append((tag, alo, ahi, blo, bhi))
            continue
        head, tail = _ends(a, b, alo, ahi, blo, bhi)
        pieces: Opcodes = [("equal", alo, alo + head, blo, blo + head)] if head else []
        pieces += _stretch(a, b, alo + head, ahi - tail, blo + head, bhi - tail, effort)
        if tail:
            pieces.append(("equal", ahi - tail, ahi, bhi - tail, bhi))
        todo.extend(reversed(pieces))
    merged: Opcodes = []
    for code in out:
        if merged and code[0] == merged[-1][0] == "equal":
            merged[-1] = ("equal", merged[-1][1], code[2], merged[-1][3], code[4])
        else:
            merged.append(code)
    return merged


# --------------------------------------------------------------------------- items and words


class Item(NamedTuple):
    """One block of a section's text: a paragraph, a list item ("- ..." or "3. ...") or a table row, as
    the page shows it and as it is compared (folded, a numbered item's number made "#", since a number
    moves whenever an item above it comes or goes: the insertion says that already)."""

    text: str
    key: str


_LIST_NUMBER = re.compile(r"\d{1,3}\. ")
_NUMBERED = "#. "


def _items(text: str) -> list[Item]:
    """The lines the readers give each block, without empty ones: cut and folded line by line, so the
    items of a long section are aligned without cutting its text into tokens."""
    items = []
    for line, key in zip(text.split("\n"), folded_lines(text), strict=True):
        shown = " ".join(line.split())
        if shown:
            number = _LIST_NUMBER.match(key)
            items.append(Item(shown, _NUMBERED + key[number.end() :] if number else key))
    return items


def _joined(items: Sequence[Item]) -> str:
    """A stretch of items run together, as if it were one paragraph."""
    return " ".join(item.key for item in items)


def _words_of(item: Item) -> list[str]:
    """An item's words (no punctuation, no list marker): what two items must share to be one item."""
    return WORD.findall(item.key)


def _item_tokens(item: Item) -> tuple[list[Token], list[str]]:
    """An item's tokens and the keys they compare by, its number (if numbered) made "#" as in its key."""
    found = tokens(item.text)
    keys = [t.key for t in found]
    if keys and item.key.startswith(_NUMBERED):
        keys[0] = "#"
    return found, keys


def _text(run: Sequence[Token]) -> str:
    """A run of tokens as text, spaced as on the page."""
    return "".join(t.before + t.text for t in run).lstrip(" ") if run else ""


def _readable(a: list[Token], b: list[Token], opcodes: Opcodes) -> list[DiffOp]:
    """One item's word diff as runs; an unchanged run of at most BRIDGE_WORDS words between two
    replacements is folded into them, so a rewritten sentence reads as one deletion and one insertion."""
    merged: list[list[Any]] = []
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
    return ops


def _changed_item(old: Item, new: Item, effort: Effort) -> list[DiffOp]:
    """One item's own word diff: its words aligned as a section's items are (:func:`_align`)."""
    (a, keys_a), (b, keys_b) = _item_tokens(old), _item_tokens(new)
    return _readable(a, b, _align(keys_a, keys_b, effort))


def _similarity(a: list[str], b: list[str], effort: Effort) -> float:
    """The share of words two items have in common, in order, when it can reach ITEM_SIMILARITY, else 0;
    past what ``effort`` affords, the share of words they have in common in any order."""
    if not a or not b:
        return 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if not effort.pay(len(a) * len(b)):
        return matcher.quick_ratio()
    return _ratio_at_least(matcher, ITEM_SIMILARITY)


def _paired(old: list[Item], new: list[Item], effort: Effort) -> list[tuple[int | None, int | None]]:
    """The items of one replaced stretch in reading order, each old item paired with the new item it
    became (one changed item) or alone (deleted or inserted).

    One item in place of one is that item changed when they share a word. Among more, pairs keep their
    order and are chosen for the most words in common over the stretch; deletions come before insertions
    between them. A stretch with too many items to weigh pairs nothing.
    """
    p, q = len(old), len(new)
    if p == q == 1:
        a, b = _words_of(old[0]), _words_of(new[0])
        return [(0, 0)] if set(a) & set(b) or not (a or b) else [(0, None), (None, 0)]
    similar: dict[tuple[int, int], float] = {}
    words_old, words_new = [_words_of(item) for item in old], [_words_of(item) for item in new]
    # Each pair is weighed at least once, word by word (difflib's quick ratio).
    cells = p * q + q * sum(map(len, words_old)) + p * sum(map(len, words_new))
    if p * q > PAIRED_ITEMS:
        effort.refused = True
    elif effort.spend(cells):
        for i in range(p):
            for j in range(q):
                score = _similarity(words_old[i], words_new[j], effort)
                if score >= ITEM_SIMILARITY:
                    similar[(i, j)] = score
    best = [[0.0] * (q + 1) for _ in range(p + 1)] if similar else []
    for i in range(1, p + 1 if similar else 0):
        for j in range(1, q + 1):
            score = similar.get((i - 1, j - 1), 0.0)
            taken = best[i - 1][j - 1] + score if score else 0.0
            best[i][j] = max(best[i - 1][j], best[i][j - 1], taken)
    pairs: list[tuple[int, int]] = []
    i, j = (p, q) if similar else (0, 0)
    while i and j:
        score = similar.get((i - 1, j - 1), 0.0)
        if score and best[i][j] == best[i - 1][j - 1] + score:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    order: list[tuple[int | None, int | None]] = []
    i = j = 0
    for pi, pj in [*reversed(pairs), (p, q)]:
        order += [(k, None) for k in range(i, pi)] + [(None, k) for k in range(j, pj)]
        if (pi, pj) != (p, q):
            order.append((pi, pj))
        i, j = pi + 1, pj + 1
    return order


def word_diff(old_text: str, new_text: str, effort: Effort | None = None) -> list[DiffOp]:
    """A readable diff of two texts, item by item: runs of equal, deleted and inserted words.

    Items (paragraphs, list items, table rows: the lines the readers give) are aligned first; an item that
    changed shows its own word diff, an inserted or deleted item is a run of its own, whole, so a rewritten
    list never reads as one run of text. Each item starts a line: the first run of every item but the
    first begins with a line break, and no other run holds one (:func:`monitor.tokens.diff_items` cuts
    the runs back into items). Tokens compare by their folded keys, so typography changes nothing; the
    runs show the new page's text where it is unchanged.
    """
    effort = effort or Effort()
    old, new = _items(old_text), _items(new_text)
    shown: list[list[DiffOp]] = []
    for tag, i1, i2, j1, j2 in _align([item.key for item in old], [item.key for item in new], effort):
        if tag == "equal" or _joined(old[i1:i2]) == _joined(new[j1:j2]):
            # (Or the same words cut into other paragraphs: nothing a reader reads has changed.)
            shown += [[DiffOp("equal", item.text)] for item in new[j1:j2]]
            continue
        for i, j in _paired(old[i1:i2], new[j1:j2], effort):
            if i is not None and j is not None:
                shown.append(_changed_item(old[i1 + i], new[j1 + j], effort))
            elif j is not None:
                shown.append([DiffOp("insert", new[j1 + j].text)])
            elif i is not None:
                shown.append([DiffOp("delete", old[i1 + i].text)])
    ops: list[DiffOp] = []
    for n, item in enumerate(shown):
        for k, op in enumerate(item):
            text = "\n" + op.text if n and not k else op.text
            if ops and ops[-1].op == op.op:
                ops[-1] = DiffOp(op.op, ops[-1].text + (text if text.startswith("\n") else " " + text))
            else:
                ops.append(DiffOp(op.op, text))
    return ops


# --------------------------------------------------------------------------- sections


def _counts(ops: Iterable[DiffOp]) -> tuple[int, int]:
    added = sum(count_words(op.text) for op in ops if op.op == "insert")
    removed = sum(count_words(op.text) for op in ops if op.op == "delete")
    return added, removed


def _ratio_at_least(matcher: SequenceMatcher[str], floor: float) -> float:
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
            ratio = _ratio_at_least(matcher, RENAME_SIMILARITY)
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
    pairs = _pair_by_key(old, new, lambda s: _heading_key(s.heading), old_left, new_left)
    pairs += _pair_by_key(old_text, new_text, lambda text: text or None, old_left, new_left)
    pairs += _similar_pairs(old, new, old_words, new_words, old_left, new_left, effort)

    pairs.sort(key=lambda p: p[1])
    in_order = _longest_increasing([i for i, _ in pairs])
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
            ops = [DiffOp("equal", "\n".join(item.text for item in _items(n.text)))]
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
    by_url = _pair_by_key(
        old, new, lambda a: attachment_url_key(a.url) if a.url else None, old_left, new_left
    )
    by_hash = _pair_by_key(old, new, lambda a: a.content_hash or None, old_left, new_left)
    by_title = _pair_by_key(old, new, lambda a: fold(a.title).casefold() or None, old_left, new_left)

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
    _pair_by_key(old, new, lambda h: (h.date, fold(h.note)), old_left, new_left)
    edits: list[MetadataChange] = []
    for key in (lambda h: h.date, lambda h: fold(h.note) or None):
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
    return [MetadataChange(name, a, b) for name, (a, b) in fields.items() if fold(a) != fold(b)]


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
    # An HTML publication's "Updated" is its parent's date: a move alone says nothing about this page.
    # A date that appears or vanishes is a reading of the page, not a move: a real first update adds
    # a history entry as well.
    date_moved = (
        old.last_updated is not None
        and new.last_updated is not None
        and old.last_updated != new.last_updated
        and HTML_PUBLICATION not in (old.page_type, new.page_type)
    )
    kind: ChangeKind
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
