"""Two texts compared item by item, then word by word, within a budget.

Pure. A section's text is a run of items (paragraphs, list items, table rows, one a line); the items
are aligned first (unchanged, changed, inserted, deleted) and each changed item gets its own word diff,
so a rewritten list never reads as one run of text. Every comparison is paid from one :class:`Effort`,
counted in pairs weighed and never in time, so a diff ends whatever its input; what the budget cannot
afford word by word is shown item by item, whole. :mod:`monitor.diff` uses this for sections, and
anything else that compares text (signals, notes) gets the same words.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from difflib import SequenceMatcher
from typing import Any, NamedTuple, TypeVar

from .model import DiffOp
from .tokens import WORD, Token, folded_lines, tokens

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

T = TypeVar("T")


def words(text: str) -> list[str]:
    """Word tokens of readable text: the unit every comparison here is made in."""
    return unicodedata.normalize("NFC", text).split()


def ratio_at_least(matcher: SequenceMatcher[str], floor: float) -> float:
    """``matcher.ratio()`` when it can reach ``floor``, else 0; the cheap upper bounds are tried first."""
    if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
        return 0.0
    score = matcher.ratio()
    return score if score >= floor else 0.0


# --------------------------------------------------------------------------- generic pairing


def pair_by_key(
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


def longest_increasing(values: Sequence[int]) -> set[int]:
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
    keep = longest_increasing([i for i, _ in pairs])
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


def items(text: str) -> list[Item]:
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
    return ratio_at_least(matcher, ITEM_SIMILARITY)


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
    old, new = items(old_text), items(new_text)
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
