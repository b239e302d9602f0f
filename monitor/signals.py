"""Which section changes matter to a reader: a duty, a date or an amount changed, or text was removed.

Pure: the word diff of each section (:attr:`SectionChange.diff`) in, :class:`~monitor.model.Signal` out.
A SENCO or a compliance lead reads a change for three things (did a duty change, did a date move, did an
amount change) and wants to know when text went; these are found by rules a reader can check, never
guessed, and a wrong tag is worse than none:

- The old and new text of a section are rebuilt from its word diff and cut into sentences (and list
  items). The two lists of sentences are compared as a whole, so an unchanged sentence, and a sentence
  that only moved (within the section, or to another section of the same diff), is never looked at; one
  that moved and was edited on the way is compared with itself where it now stands.
- Each run of changed sentences is a *block*. A signal is emitted only when what the block says
  differs: its obligation words (``duty``), its dates (``date``) or its amounts (``amount``) are not the
  same on both sides, counted as multisets. So a reworded sentence with the same duty, date and amount
  yields nothing, and neither does a rewritten paragraph unless an obligation word, a date or an amount
  was added, dropped or swapped. Within a section, one dropped from a sentence in one block and added
  to a sentence as alike as an edited one in another block (a sentence edited and moved) cancel.
- ``removed-text``: one or more whole sentences gone, where the block put nothing new in their place and
  their words do not live on in the block's new text, nor in one new sentence elsewhere in the section
  (sentences merged or split, a list item folded into the sentence before the list, are not removals).

Only sections paired old to new (modified, renamed, moved) carry signals: a whole section added or
removed is already the news. Signals depend on the word diff alone, so a change stored before signals
existed can be given them again with :func:`section_signals`.

``link`` (a link's target changed under the same words) is a kind the model knows but nothing emits:
readers keep a section as its readable text only, so a link's target is not in the data a section
change carries, and guessing it from the words would break the rule that a wrong tag is worse than none.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from .model import DiffOp, SectionChange, Signal
from .tokens import count_words, glued

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

SIGNALLED = ("modified", "renamed", "moved")
"""Only sections paired old to new carry signals: an added or removed section is already the news."""

# --------------------------------------------------------------------------- sentences

_TOKEN = re.compile(r"\n+|\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'’”)\]]*$")
_SENTENCE_START = re.compile(r"^[\"'‘“(\[]?[A-Z0-9£]")
_ABBREVIATION = re.compile(r"^(?:e\.g|i\.e|etc|no|vs|para|paras|ref|st|dr|mr|mrs|ms)\.$", re.I)
_BULLETS = {"-", "•", "*", "–", "—"}


def _sides(ops: Iterable[DiffOp]) -> tuple[list[str], list[str]]:
    """The old and the new text of a section as tokens; a line break, where the diff keeps one, is a token."""
    old: list[str] = []
    new: list[str] = []
    for op in ops:
        tokens = _TOKEN.findall(op.text)
        if op.op != "insert":
            _extend(old, tokens)
        if op.op != "delete":
            _extend(new, tokens)
    return old, new


def _extend(side: list[str], tokens: list[str]) -> None:
    """Tokens added to one side, a run's first glued to the last one ("£" + "1,500") where the page
    wrote them together: the diff splits punctuation from words, a phrase quotes them as written.

    ``tokens`` is not changed: an unchanged run's tokens go to both sides. An unchanged run carries the
    new page's line breaks, so after a deletion the break at its head may not be the old page's; one
    between marks that glue ("Public Health England (" + "PHE)") is no page's, and is dropped rather
    than cut a sentence in two.
    """
    if not tokens or not side or side[-1].startswith("\n"):
        side += tokens
        return
    first = 1 if tokens[0].startswith("\n") and len(tokens) > 1 and glued(side[-1], tokens[1]) else 0
    if glued(side[-1], tokens[first]) and not tokens[first].startswith("\n"):
        side[-1] += tokens[first]
        first += 1
    side += tokens[first:]


def sentences(tokens: Sequence[str]) -> list[str]:
    """Sentences and list items, in order: the unit a reader quotes and the unit compared here."""
    found: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            found.append(" ".join(current))
            current.clear()

    for k, token in enumerate(tokens):
        if token.startswith("\n"):
            close()
            continue
        if token in _BULLETS and current:
            close()
        current.append(token)
        following = tokens[k + 1] if k + 1 < len(tokens) else ""
        if (
            _SENTENCE_END.search(token)
            and not _ABBREVIATION.match(token)
            and (not following or following in _BULLETS or _SENTENCE_START.match(following))
        ):
            close()
    close()
    return found


# --------------------------------------------------------------------------- what a sentence says


@dataclass(frozen=True)
class Mention:
    """One obligation word, date or amount in a sentence: ``key`` compares, ``phrase`` is shown."""

    key: str
    phrase: str
    around: tuple[str, str] | None = None
    """For an obligation word: the words just before and after it. A "should" becomes a "must" only
    where one of them stays ("SENCOs should complete" -> "SENCOs must complete"); two unrelated
    obligations in one edited sentence are one dropped and one added."""

    def replaced_by(self, other: Mention) -> bool:
        if self.around is None or other.around is None:
            return True
        return any(a and a == b for a, b in zip(self.around, other.around, strict=True))


def _bare(token: str) -> str:
    return token.strip("\"'‘’“”()[]{},.;:!?").casefold()


_NEGATIONS = {"not", "never", "n't"}
_CLAUSE_END = (",", ";", ":", ")", ".", "?", "!")


def duties(sentence: str) -> list[Mention]:
    """The obligation words of a sentence: must, must not, should, should not, may, may not, required,
    mandatory, statutory, expected to, have to (each with its negation). "May" the month is not one."""
    tokens = sentence.split()
    words = [_bare(t) for t in tokens]
    found: list[Mention] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        start, end, key = i, i + 1, ""
        if word in ("must", "should", "may", "mustn't", "shouldn't", "mustn’t", "shouldn’t"):
            if word == "may" and _is_month_may(tokens, i):
                continue
            key = word.replace("’", "'").replace("n't", "")
            if word.endswith(("n't", "n’t")):
                key += " not"
            elif following == "not":
                key, end = f"{word} not", i + 2
        elif word in ("required", "mandatory", "statutory") or (
            word in ("expected", "have", "has", "had") and following == "to"
        ):
            key = {"has": "have", "had": "have"}.get(word, word)
            if following == "to" and word not in ("required", "mandatory", "statutory"):
                key, end = f"{key} to", i + 2
            if word != "statutory" and (before in _NEGATIONS or before.endswith(("n't", "n’t"))):
                key, start = f"not {key}", i - 1
            elif word != "statutory" and before == "longer" and i > 1 and words[i - 2] == "no":
                key, start = f"not {key}", i - 2
        if key:
            # A word beyond a comma or a bracket belongs to another clause: the phrase stops there.
            first = start - 1 if start and not tokens[start - 1].endswith(_CLAUSE_END) else start
            last = end + 1 if not tokens[end - 1].endswith(_CLAUSE_END) else end
            phrase = " ".join(tokens[first:last])
            around = (words[start - 1] if start else "", words[end] if end < len(words) else "")
            found.append(Mention(key, phrase.strip(",;:()"), around))
    return found


def _is_month_may(tokens: Sequence[str], i: int) -> bool:
    """The month, not permission: "10 May", "May 2021", or a capitalised "May" inside a sentence."""
    if not tokens[i].startswith("May"):
        return False
    before = tokens[i - 1] if i else ""
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    return bool(i > 0 or re.match(r"\d", following) or re.match(r"\d", before))


_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_NUMBER_WORD = r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)"
_SEASON = r"(?:[Aa]utumn|[Ss]pring|[Ss]ummer)"
_YEAR = r"(?:19|20)\d{2}"
_YEAR_RANGE = rf"{_YEAR}\s*(?:to|-|–|/)\s*(?:{_YEAR}|\d{{2}})\b"
_DATE = re.compile(
    "|".join(
        [
            rf"\b(?:academic|financial|school|tax)\s+years?\s+{_YEAR_RANGE}",
            rf"\b{_YEAR_RANGE}\s+(?:academic|financial|school|tax)\s+years?\b",
            rf"\b{_YEAR_RANGE}",
            r"\b\d{4}-\d{2}-\d{2}\b",
            r"\b\d{1,2}/\d{1,2}/\d{2,4}\b",
            rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+{_YEAR})?\b",
            rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}\b",
            rf"\b{_MONTH}\s+{_YEAR}\b",
            r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\b",
            rf"\b{_SEASON}(?:\s+(?:term|half[- ]term))?\s+{_YEAR}\b",
            rf"\b{_SEASON}\s+(?:term|half[- ]term)\b",
            rf"\bwithin\s+(?:\d+|{_NUMBER_WORD}|one|a|an)\s+(?:working\s+|school\s+|calendar\s+)?"
            r"(?:days?|weeks?|months?|years?|terms?)\b",
            rf"\b(?:in|by|from|since|until|after|before|during)\s+(?P<year>{_YEAR})\b",
        ]
    )
)

_UNIT = (
    r"(?:minutes?|hours?|days?|weeks?|months?|years?|terms?|sessions?|lessons?|pupils?|students?|"
    r"children|staff|adults?|people|places?|tests?|times|metres?|miles?|credits?)"
)
_AMOUNT = re.compile(
    "|".join(
        [
            r"[£$€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|bn|m|k)\b)?",
            r"\b\d[\d,]*(?:\.\d+)?\s?(?:%|per\s?cent\b)",
            r"\baged\s+(?:between\s+)?\d+(?:\s*(?:to|-|–|and)\s*\d+)?",
            r"\b(?:under|over)\s+(?:the\s+age\s+of\s+\d+|\d+s)\b",
            r"\bage\s+of\s+\d+\b",
            r"\b\d+(?:\s*-?\s*(?:to|-|–)\s*\d+)?[- ]years?[- ]olds?\b",
            r"\byears?\s+\d{1,2}\b(?:\s*(?:to|and|-|–)\s*\d{1,2}\b)?",
            r"\bday\s+\d{1,2}\b",
            r"\b(?:once|twice|three\s+times)"
            r"(?:[- ]weekly|[- ]daily|\s+(?:a|per|each)\s+(?:day|week|month|term|year))",
            rf"(?<![\w-])(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD})(?:\s*(?:to|-|–|or)\s*\d[\d,]*)?[- ]?"
            rf"(?:full\s+|working\s+|school\s+|calendar\s+|clear\s+|further\s+)?{_UNIT}\b",
        ]
    )
)


def _masked(sentence: str, pattern: re.Pattern[str]) -> str:
    """The sentence with the spans ``pattern`` finds blanked, so an amount never reads a date's digits."""
    return pattern.sub(lambda m: " " * len(m.group()), sentence)


def _key(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.casefold())
    text = re.sub(r"\b(\d+)(?:st|nd|rd|th)\b", r"\1", text)
    text = text.replace("per cent", "%").replace("percent", "%").replace("–", "-")
    text = re.sub(r"(?<=\d)\s*(m|bn)\b", lambda m: {"m": " million", "bn": " billion"}[m.group(1)], text)
    text = re.sub(r"(?<=\d)(?=[a-z])", " ", text)
    words = re.split(r"[\s-]+", text.replace("£ ", "£"))
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w)


def dates(sentence: str) -> list[Mention]:
    """Dates, months, academic and financial years, terms, and "within N years" deadlines."""
    found = []
    for match in _DATE.finditer(sentence):
        text = match.group("year") or match.group()
        found.append(Mention(_key(text), text))
    return found


def amounts(sentence: str) -> list[Mention]:
    """Money, percentages, ages and year groups, and counts with a unit ("10 days", "3 tests")."""
    text = _masked(sentence, _DATE)
    return [Mention(_key(m.group()), m.group().strip()) for m in _AMOUNT.finditer(text)]


def _same_date(a: str, b: str) -> bool:
    """One date, the year only written out: "31 March" and "31 March 2021"."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short + " ") and bool(re.fullmatch(r"\d{4}", long[len(short) + 1 :]))


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
    old_tokens, new_tokens = _sides(ops)
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
    return [w for w in (_bare(t) for t in sentence.split()) if w]


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
    same: Callable[[str, str], bool] | None = None,
) -> list[Signal]:
    """Signals for what ``find`` sees added, dropped or swapped between the block's two sides."""
    old = [(i, m) for i, s in enumerate(block.old) for m in find(s)]
    new = [(j, m) for j, s in enumerate(block.new) for m in find(s)]
    if Counter(m.key for _, m in old) == Counter(m.key for _, m in new):
        return []
    used: set[int] = set()

    def take(accept: Callable[[int, Mention], bool]) -> bool:
        for n, (j, other) in enumerate(new):
            if n not in used and accept(j, other):
                used.add(n)
                return True
        return False

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
    for test in tests:
        still = []
        for i, mention in left:
            if not take(lambda j, o, i=i, m=mention, t=test: t(i, m, j, o)):
                still.append((i, mention))
        left = still
    removed = left
    added = [(j, m) for n, (j, m) in enumerate(new) if n not in used]

    found: list[Signal] = []
    for i, mention in removed:
        partner = block.pairs.get(i)
        if partner is None and len(block.old) == len(block.new) == 1:
            partner = 0
        swap = next((k for k, (j, o) in enumerate(added) if j == partner and mention.replaced_by(o)), None)
        if swap is not None:
            j, other = added.pop(swap)
            found.append(_signal(kind, block, mention.phrase, other.phrase, i, j))
        else:
            found.append(_signal(kind, block, mention.phrase, "", i, partner))
    for j, other in added:
        partner = next((i for i, k in block.pairs.items() if k == j), None)
        found.append(_signal(kind, block, "", other.phrase, partner, j))
    return found


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


def _removed_text(block: _Block, elsewhere: Sequence[set[str]] = ()) -> list[Signal]:
    """Runs of whole sentences dropped with nothing new put in their place.

    ``elsewhere``: the words of each new sentence in the section's other blocks. A list item folded
    into the sentence that introduced the list ("You will need to consider: ... - the provision of
    specialist teaching" became "You will need to consider the provision of specialist teaching and
    ...") lies in another block, the unchanged items between them; its words live on there.
    """
    paired_new = set(block.pairs.values())
    if any(j not in paired_new for j in range(len(block.new))):
        return []
    kept = Counter(w for s in block.new for w in _words(s))
    runs: list[list[str]] = []
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
            runs[-1].append(sentence)
        else:
            runs.append([sentence])
        previous = i
    found = []
    for run in runs:
        text = " ".join(run)
        if count_words(text) >= MIN_REMOVED_WORDS:
            found.append(Signal("removed-text", text, "", text, "", before=block.before, after=block.after))
    return found


def _block_signals(block: _Block, elsewhere: Sequence[set[str]] = ()) -> list[Signal]:
    if not block.old and not block.new:
        return []
    _pair(block)
    return (
        _compare("duty", block, duties)
        + _compare("date", block, dates, _same_date)
        + _compare("amount", block, amounts)
        + _removed_text(block, elsewhere)
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
    return found


_FIND = {"duty": duties, "date": dates, "amount": amounts}


def _ratio_at_least(matcher: SequenceMatcher[str], floor: float) -> bool:
    """Whether ``matcher.ratio()`` reaches ``floor``, the cheap upper bounds tried first."""
    return matcher.real_quick_ratio() >= floor and matcher.quick_ratio() >= floor and matcher.ratio() >= floor


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
            if _ratio_at_least(matcher, PAIR_SIMILARITY):
                gone |= {d, a}
                break
    return [s for n, s in enumerate(signals) if n not in gone]


def with_signals(changes: Sequence[SectionChange]) -> list[SectionChange]:
    """The section changes of one diff, each carrying its signals."""
    return [replace(c, signals=found) for c, found in zip(changes, section_signals(changes), strict=True)]
