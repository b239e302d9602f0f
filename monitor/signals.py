"""Which section changes matter to a reader: a duty, a date or an amount changed, or text was removed.

Pure: the word diff of each section (:attr:`SectionChange.diff`) in, :class:`~monitor.model.Signal` out.
A SENCO or a compliance lead reads a change for three things (did a duty change, did a date move, did an
amount change) and wants to know when text went; these are found by rules a reader can check, never
guessed, and a wrong tag is worse than none. The rules are held to a table of real section changes
labelled by hand (``tests/signal_cases.yaml``, whose header says how each kind is labelled).

- The old and new text of a section are rebuilt from its word diff and cut into sentences (and list
  items). The two lists of sentences are compared as a whole, so an unchanged sentence, and a sentence
  that only moved (within the section, or to another section of the same diff), is never looked at; one
  that moved and was edited on the way is compared with itself where it now stands.
- Each run of changed sentences is a *block*; in it, an old sentence is paired with the new one it was
  edited into, where the two are alike enough. A signal needs the thing itself to change: an obligation
  word (``duty``), a date (``date``) or an amount (``amount``) added, dropped or swapped for another
  (counted as multisets over the block, each kept in its own sentence where the sentence was edited),
  or the same obligation word binding another party to the same act. A reworded sentence with the same
  duty, date and amount yields nothing, and neither does a rewritten paragraph that says them again.
  "May" counts only where it takes the place of another obligation word, since it says what is
  possible as often as what is allowed; an age counts where it changed or came with a new sentence,
  since it describes a group as often as it sets who is covered.
- ``removed-text``: one run of whole sentences gone, where the block put nothing new in their place and
  their words do not live on in the block's new text, nor in one new sentence elsewhere in the section
  (sentences merged or split, a list item folded into the sentence before the list, are not removals).
  A run is one signal, never a tag for each date or obligation word inside it; a run of one sentence
  that carried an obligation is told as that obligation removed (``duty``).
- A change carries at most :data:`MOST_SIGNALS` signals, the strongest of each kind first.

Only sections paired old to new (modified, renamed, moved) carry signals: a whole section added or
removed is already the news. Signals depend on the word diff alone, so a change stored before signals
existed can be given them again with :func:`section_signals`.

``link`` (a link's target changed under the same words) is a kind the model knows but nothing emits:
readers keep a section as its readable text only, so a link's target is not in the data a section
change carries, and guessing it from the words would break the rule that a wrong tag is worse than none.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from .mentions import Mention, amounts, bare, dates, duties, same_date, sentences, sides
from .model import DiffOp, SectionChange, Signal
from .textdiff import ratio_at_least
from .tokens import count_words

PAIR_SIMILARITY = 0.5
"""Two changed sentences this alike (by words) are one sentence edited, not one removed and one added."""
KEPT_WORDS = 0.5
"""A sentence whose longer words are at least this much still in its block's new text was merged into
another sentence, not removed."""
MOVED_SIMILARITY = 0.85
"""A sentence removed from one block and one added to another that share this much of their words is
one sentence that moved (and may have been edited on the way)."""
MIN_REMOVED_WORDS = 4
"""Shorter runs ("Yes.", a list item of two words) are too small to call a removal of text."""

MOST_SIGNALS = 5
"""A change carries at most this many signals, the strongest kept: a page rewritten over months adds
dozens of obligations, and fifty tags are read as none. The diff still shows every word."""

SIGNALLED = ("modified", "renamed", "moved")
"""Only sections paired old to new carry signals: an added or removed section is already the news."""

# --------------------------------------------------------------------------- blocks


@dataclass
class _Block:
    """A run of changed sentences: old ones and new ones, with the unchanged sentence on each side."""

    old: list[str]
    new: list[str]
    before: str
    after: str
    pairs: dict[int, int]
    """old sentence index -> new sentence index, for sentences that are one sentence edited."""


def _blocks(ops: Sequence[DiffOp]) -> list[_Block]:
    old_tokens, new_tokens = sides(ops)
    old, new = sentences(old_tokens), sentences(new_tokens)
    blocks: list[_Block] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        blocks.append(
            _Block(
                old=old[i1:i2],
                new=new[j1:j2],
                before=old[i1 - 1] if i1 else "",
                after=old[i2] if i2 < len(old) else "",
                pairs={},
            )
        )
    return blocks


def _drop_moved(blocks: Sequence[_Block]) -> None:
    """A sentence removed in one place and added in another (of any section) moved: it is not a change."""
    removed = Counter(s for b in blocks for s in b.old)
    added = Counter(s for b in blocks for s in b.new)
    moved = removed & added
    for side in ("old", "new"):
        left = Counter(moved)
        for block in blocks:
            kept = []
            for sentence in getattr(block, side):
                if left[sentence]:
                    left[sentence] -= 1
                else:
                    kept.append(sentence)
            setattr(block, side, kept)


def _moved_and_edited(blocks: Sequence[_Block]) -> list[tuple[int, _Block]]:
    """Sentences that moved to another block and were edited on the way ("Exemptions Where ..." became
    the first sentence of a new "Exemptions" section) are taken out of both blocks and compared as one
    sentence, in a block of their own placed where the sentence now stands.

    Returns (index of the block that received the sentence, the new block). Candidates come from an
    index of words: a sentence sharing enough of a removed sentence's words must hold at least one of its
    rarest few, so a whole rewritten page costs a few lookups per sentence, not a comparison of each pair.
    """
    postings: dict[str, set[tuple[int, int]]] = defaultdict(set)
    new_sets: dict[tuple[int, int], set[str]] = {}
    for b, block in enumerate(blocks):
        for j, sentence in enumerate(block.new):
            words = set(_words(sentence))
            new_sets[(b, j)] = words
            for word in words:
                postings[word].add((b, j))
    taken: set[tuple[int, int]] = set()
    found: list[tuple[int, _Block]] = []
    for a, source in enumerate(blocks):
        kept = []
        for sentence in source.old:
            words = set(_words(sentence))
            spare = len(words) - math.ceil(MOVED_SIMILARITY * len(words))
            rarest = sorted(words, key=lambda w: (len(postings.get(w, ())), w))[: spare + 1]
            candidates = sorted({c for w in rarest for c in postings.get(w, ())} - taken)
            hit = next(
                (
                    (b, j)
                    for b, j in candidates
                    if b != a
                    and len(words & new_sets[(b, j)])
                    >= MOVED_SIMILARITY * max(len(words), len(new_sets[(b, j)]))
                ),
                None,
            )
            if len(words) < MIN_REMOVED_WORDS or hit is None:
                kept.append(sentence)
                continue
            taken.add(hit)
            b, j = hit
            target = blocks[b]
            found.append((b, _Block([sentence], [target.new[j]], target.before, target.after, {})))
        source.old = kept
    for b, block in enumerate(blocks):
        block.new = [s for j, s in enumerate(block.new) if (b, j) not in taken]
    return found


def _words(sentence: str) -> list[str]:
    return [w for w in (bare(t) for t in sentence.split()) if w]


def _pair(block: _Block) -> None:
    """Pair each old sentence with the most alike new one after the last paired, if alike enough."""
    new_words = [_words(s) for s in block.new]
    last = -1
    for i, sentence in enumerate(block.old):
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(_words(sentence))
        best, best_ratio = -1, PAIR_SIMILARITY
        for j in range(last + 1, len(block.new)):
            matcher.set_seq1(new_words[j])
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best >= 0:
            block.pairs[i] = best
            last = best


# --------------------------------------------------------------------------- signals


def _compare(
    kind: str,
    block: _Block,
    find: Callable[[str], list[Mention]],
    gone: set[int],
    same: Callable[[str, str], bool] | None = None,
) -> list[Signal]:
    """Signals for what ``find`` sees added, dropped or swapped between the block's two sides.

    ``gone``: old sentences removed whole, which are told as one removal, never word by word.
    """
    old = [(i, m) for i, s in enumerate(block.old) if i not in gone for m in find(s)]
    new = [(j, m) for j, s in enumerate(block.new) for m in find(s)]
    # The same words on both sides: none was added, dropped or swapped, though one may bind another.
    balanced = Counter(m.key for _, m in old) == Counter(m.key for _, m in new)
    if balanced and (kind != "duty" or not block.pairs):
        return []
    used: set[int] = set()
    kept: list[tuple[int, Mention, int, Mention]] = []
    """Mentions kept in the sentence they stood in, edited in place: (old sentence, mention, new
    sentence, mention)."""

    def take(accept: Callable[[int, Mention], bool]) -> tuple[int, Mention] | None:
        for n, (j, other) in enumerate(new):
            if n not in used and accept(j, other):
                used.add(n)
                return j, other
        return None

    def alike(a: str, b: str) -> bool:
        return a == b or (same is not None and same(a, b))

    paired_new = set(block.pairs.values())

    def free(i: int, j: int) -> bool:
        """Mentions cross sentences only where a sentence was split or merged (has no partner): a
        sentence edited in place keeps its obligations to itself."""
        return i not in block.pairs or j not in paired_new

    # A mention kept in the sentence it stood in (as it was, then written out), then anywhere it may go.
    tests: list[Callable[[int, Mention, int, Mention], bool]] = [
        lambda i, m, j, o: block.pairs.get(i) == j and o.key == m.key,
        lambda i, m, j, o: block.pairs.get(i) == j and alike(m.key, o.key),
        lambda i, m, j, o: free(i, j) and o.key == m.key,
        lambda i, m, j, o: free(i, j) and alike(m.key, o.key),
    ]
    left = list(old)
    for number, test in enumerate(tests):
        still = []
        for i, mention in left:
            hit = take(_taking(test, i, mention))
            if hit is None:
                still.append((i, mention))
            elif number == 0:
                kept.append((i, mention, *hit))
        left = still
    # An obligation word repeated in a sentence that keeps it ("You should clean these should
    # regularly") adds no obligation, and one of two dropped from such a sentence removes none.
    kept_old = {(i, m.key) for i, m, _, _ in kept if m.around is not None}
    kept_new = {(j, o.key) for _, _, j, o in kept if o.around is not None}
    removed = [(i, m) for i, m in left if (i, m.key) not in kept_old and not balanced]
    added = [
        (j, m)
        for n, (j, m) in enumerate(new)
        if n not in used and (j, m.key) not in kept_new and not balanced
    ]

    def swaps(i: int, mention: Mention) -> int | None:
        """The added mention that takes this one's place: in the sentence it was edited into, or, for
        a sentence rewritten past pairing, in a new sentence without a partner, the words around the
        obligation kept ("you should:" -> "you must:")."""
        partner = block.pairs.get(i)
        if partner is None and len(block.old) == len(block.new) == 1:
            partner = 0
        for k, (j, other) in enumerate(added):
            if j == partner and mention.replaced_by(other):
                return k
        if partner is not None or mention.around is None:
            return None
        if len(block.old) - len(gone) == 1:
            # One sentence rewritten as several: the first obligation they carry takes its place.
            return next((k for k, (j, _) in enumerate(added) if j not in paired_new), None)
        for k, (j, other) in enumerate(added):
            if j not in paired_new and other.around is not None and mention.replaced_by(other):
                return k
        return None

    found: list[Signal] = []
    for i, mention, j, other in kept:
        if _bound_changed(mention, other):
            found.append(_signal(kind, block, mention.phrase, other.phrase, i, j))
    for i, mention in removed:
        swap = swaps(i, mention)
        if swap is not None:
            j, other = added.pop(swap)
            found.append(_signal(kind, block, mention.phrase, other.phrase, i, j))
        elif mention.alone == "always":
            found.append(_signal(kind, block, mention.phrase, "", i, block.pairs.get(i)))
    only_added = all(i in gone for i in range(len(block.old)))
    for j, other in added:
        if other.alone == "always" or (other.alone == "added" and only_added):
            partner = next((i for i, k in block.pairs.items() if k == j), None)
            found.append(_signal(kind, block, "", other.phrase, partner, j))
    return found


def _taking(
    test: Callable[[int, Mention, int, Mention], bool], i: int, mention: Mention
) -> Callable[[int, Mention], bool]:
    """``test`` with the old side fixed: whether a new mention ``(j, o)`` takes up ``mention``."""
    return lambda j, other: test(i, mention, j, other)


def _bound_changed(old: Mention, new: Mention) -> bool:
    """The same obligation word binding someone else to the same act ("Employers must protect" ->
    "Educational providers must protect"): the verb after it kept, not one word of who it binds."""
    if old.around is None or new.around is None or not old.around[1] or old.alone == "never":
        return False
    return (
        old.around[1] == new.around[1] and bool(old.subject and new.subject) and not old.subject & new.subject
    )


def _signal(kind: str, block: _Block, old: str, new: str, i: int | None, j: int | None) -> Signal:
    return Signal(
        kind=kind,  # type: ignore[arg-type]
        old=old,
        new=new,
        old_sentence=block.old[i] if i is not None else "",
        new_sentence=block.new[j] if j is not None else "",
        before=block.before,
        after=block.after,
    )


def _removed_runs(block: _Block, elsewhere: Sequence[set[str]] = ()) -> list[list[int]]:
    """Runs of whole old sentences dropped with nothing new put in their place.

    ``elsewhere``: the words of each new sentence in the section's other blocks. A list item folded
    into the sentence that introduced the list ("You will need to consider: ... - the provision of
    specialist teaching" became "You will need to consider the provision of specialist teaching and
    ...") lies in another block, the unchanged items between them; its words live on there.
    """
    paired_new = set(block.pairs.values())
    if any(j not in paired_new for j in range(len(block.new))):
        return []
    kept = Counter(w for s in block.new for w in _words(s))
    runs: list[list[int]] = []
    previous = -2
    for i, sentence in enumerate(block.old):
        if i in block.pairs:
            continue
        longer = [w for w in _words(sentence) if len(w) > 3]
        if longer and sum(1 for w in longer if kept[w]) / len(longer) >= KEPT_WORDS:
            continue
        if longer and any(
            sum(1 for w in longer if w in words) / len(longer) >= KEPT_WORDS for words in elsewhere
        ):
            continue
        if i == previous + 1 and runs:
            runs[-1].append(i)
        else:
            runs.append([i])
        previous = i
    return runs


def _removed(block: _Block, run: Sequence[int]) -> list[Signal]:
    """One signal for a run of removed sentences: the obligation it took away where the run is one
    sentence that carried one ("Schools are required to ..." removed with its sentence), else the
    text removed. The words inside a removed paragraph (its dates, amounts and obligation words) are
    not each a signal: the paragraph went, and that is the news."""
    if len(run) == 1:
        obligations = [m for m in duties(block.old[run[0]]) if m.alone == "always"]
        if obligations:
            return [_signal("duty", block, obligations[0].phrase, "", run[0], None)]
    text = " ".join(block.old[i] for i in run)
    if count_words(text) < MIN_REMOVED_WORDS:
        return []
    return [Signal("removed-text", text, "", text, "", before=block.before, after=block.after)]


def _block_signals(block: _Block, elsewhere: Sequence[set[str]] = ()) -> list[Signal]:
    if not block.old and not block.new:
        return []
    _pair(block)
    runs = _removed_runs(block, elsewhere)
    gone = {i for run in runs for i in run}
    return (
        _compare("duty", block, duties, gone)
        + _compare("date", block, dates, gone, same_date)
        + _compare("amount", block, amounts, gone)
        + [signal for run in runs for signal in _removed(block, run)]
    )


def section_signals(changes: Sequence[SectionChange]) -> list[list[Signal]]:
    """The signals of each section change of one diff, in the same order (empty for added, removed and
    unchanged-text sections). Sentences that moved between sections of the diff are not changes."""
    owner: list[int] = []
    pool: list[_Block] = []
    for k, change in enumerate(changes):
        # Whole added or removed sections take part only so that text moved into or out of them cancels.
        if change.status in SIGNALLED or change.status in ("added", "removed"):
            for block in _blocks(change.diff):
                owner.append(k)
                pool.append(block)
    _drop_moved(pool)
    for b, block in _moved_and_edited(pool):
        owner.append(owner[b])
        pool.append(block)
    blocks_of: dict[int, list[int]] = defaultdict(list)
    for b, k in enumerate(owner):
        blocks_of[k].append(b)
    new_words = [[set(_words(s)) for s in block.new] for block in pool]
    found: list[list[Signal]] = [[] for _ in changes]
    for k, section in blocks_of.items():
        if changes[k].status not in SIGNALLED:
            continue
        for b in section:
            elsewhere = [words for c in section if c != b for words in new_words[c]]
            found[k] += _block_signals(pool[b], elsewhere)
        found[k] = _without_moved_edits(found[k])
    return _strongest(found)


def _strength(signal: Signal) -> int:
    """How much a signal says, strongest first: an obligation whose force or party changed; a date
    or an amount changed; one added to or dropped from an edited sentence; one in a sentence added
    or removed whole; text removed."""
    if signal.kind == "removed-text":
        return 4
    if signal.old and signal.new:
        return 0 if signal.kind == "duty" else 1
    return 2 if signal.old_sentence and signal.new_sentence else 3


def _strongest(found: list[list[Signal]]) -> list[list[Signal]]:
    """At most :data:`MOST_SIGNALS` signals over the sections of one change: the strongest of each
    kind first, so that a change of date is not hidden behind five obligations, then the strongest
    of the rest, each section's in its own order."""
    every = [(k, n, s) for k, signals in enumerate(found) for n, s in enumerate(signals)]
    if len(every) <= MOST_SIGNALS:
        return found
    ranked = sorted(every, key=lambda item: (_strength(item[2]), item[0], item[1]))
    chosen: list[tuple[int, int]] = []
    kinds: set[str] = set()
    for k, n, signal in ranked:
        if signal.kind not in kinds:
            kinds.add(signal.kind)
            chosen.append((k, n))
    chosen += [(k, n) for k, n, _ in ranked if (k, n) not in chosen]
    keep = set(chosen[:MOST_SIGNALS])
    return [[s for n, s in enumerate(signals) if (k, n) in keep] for k, signals in enumerate(found)]


_FIND = {"duty": duties, "date": dates, "amount": amounts}


def _without_moved_edits(signals: list[Signal]) -> list[Signal]:
    """A sentence edited and moved within its section ("providers should support pupils ..., for
    example, ..." became "providers should help pupils ..." a paragraph earlier) lies in two blocks, too
    changed to be found as moved: its obligation word, date or amount dropped from one block and added
    to the other is no change. Such a drop and add (each sentence without a partner in its own block,
    the two sentences as alike as an edited sentence) cancel."""
    drops = [
        n for n, s in enumerate(signals) if s.kind in _FIND and s.old and not s.new and not s.new_sentence
    ]
    adds = [
        n for n, s in enumerate(signals) if s.kind in _FIND and s.new and not s.old and not s.old_sentence
    ]
    gone: set[int] = set()
    for d in drops:
        dropped = signals[d]
        keys = [m.key for m in _FIND[dropped.kind](dropped.old)]
        matcher = SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(_words(dropped.old_sentence))
        for a in adds:
            added = signals[a]
            if a in gone or added.kind != dropped.kind:
                continue
            if [m.key for m in _FIND[added.kind](added.new)] != keys:
                continue
            matcher.set_seq1(_words(added.new_sentence))
            if ratio_at_least(matcher, PAIR_SIMILARITY):
                gone |= {d, a}
                break
    return [s for n, s in enumerate(signals) if n not in gone]


def with_signals(changes: Sequence[SectionChange]) -> list[SectionChange]:
    """The section changes of one diff, each carrying its signals."""
    return [replace(c, signals=found) for c, found in zip(changes, section_signals(changes), strict=True)]
