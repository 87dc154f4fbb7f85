"""The safety net: phrases that mean someone may be in danger or may harm themselves, in every language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.nlu.base import URGENT_INTENTS
from bot.nlu.data import INTENTS_DIR
from bot.nlu.normalise import normalise

LEXICON_DIR = INTENTS_DIR / "lexicon"

# Edit-distance tolerance by token length. Short tokens must match exactly: "live"/"love" or
# "die"/"diet" are one edit apart and we must not alarm on ordinary words.
_EXACT_BELOW = 5


def _allowed_edits(length: int) -> int:
    if length < _EXACT_BELOW:
        return 0
    return 1 if length < 9 else 2


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early past `limit`."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=65536)
def _token_matches(word: str, wanted: str) -> bool:
    # Cached: the same lexicon words ("want", "kill", "me") recur across hundreds of phrases.
    if word == wanted:
        return True
    # Both must be long enough: a 3-letter word never fuzzily matches a long phrase word.
    limit = _allowed_edits(min(len(word), len(wanted)))
    return limit > 0 and _edit_distance(word, wanted, limit) <= limit


def _may_contain(squashed: str, phrase: Phrase) -> bool:
    """Whether the run-together phrase could appear in the run-together message (allowing one typo)."""
    target = "".join(phrase.tokens)
    if len(target) < 6:
        return False
    if target in squashed:
        return True
    # One typo anywhere: then either the first or the second half of the phrase appears intact.
    half = len(target) // 2
    return len(target) >= 10 and (target[:half] in squashed or target[half:] in squashed)


@dataclass(frozen=True)
class Phrase:
    """One lexicon entry: the urgent intent it signals, as written and as normalised tokens."""

    intent: str
    text: str
    tokens: tuple[str, ...]
    language: str


def load_lexicon(folder: Path = LEXICON_DIR) -> list[Phrase]:
    """Every phrase from intents/lexicon/<lang>.yml (keys: self_harm_risk, safety_concern)."""
    phrases: list[Phrase] = []
    for path in sorted(folder.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lang = str(doc.get("language", path.stem))
        for intent in URGENT_INTENTS:
            for raw in doc.get(intent) or []:
                tokens = tuple(normalise(str(raw)).split())
                if tokens:
                    phrases.append(Phrase(intent, str(raw), tokens, lang))
    # Longest phrases first so the reported match is the most specific one.
    phrases.sort(key=lambda p: -len(p.tokens))
    return phrases


def _deletions(word: str, depth: int = 2) -> set[str]:
    """The word with up to `depth` letters removed: two words within that many edits share one."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class SafetyLexicon:
    """Matches a message against every language's urgent phrases, tolerant of small misspellings.

    Indexes make a match cost about as much as the message is long, not as the lexicon is big; every
    candidate they find is still checked with the same rules, so the answer never depends on them.
    """

    def __init__(self, phrases: list[Phrase]) -> None:
        self.phrases = phrases
        # First word -> positions of the phrases starting with it.
        self._by_first: dict[str, list[int]] = {}
        for n, p in enumerate(phrases):
            self._by_first.setdefault(p.tokens[0], []).append(n)
        # Any two words within 2 edits (transpositions included) share a form with up to two
        # letters removed from each; only words of 5+ letters are ever matched fuzzily.
        self._first_by_deletion: dict[str, set[str]] = {}
        # A word more than 2 letters longer than every first word cannot be within 2 edits of one:
        # it skips the deletion forms, which grow with the square of its length (a pasted link).
        self._fuzzy_up_to = max((len(first) for first in self._by_first), default=0) + 2
        for first in self._by_first:
            if len(first) >= _EXACT_BELOW:
                for form in _deletions(first):
                    self._first_by_deletion.setdefault(form, set()).add(first)
        # The run-together phrase, and its halves for long ones: what `_may_contain` looks for.
        self._by_piece: dict[str, set[int]] = {}
        for n, p in enumerate(phrases):
            target = "".join(p.tokens)
            if len(target) < 6:
                continue
            pieces = [target]
            if len(target) >= 10:
                half = len(target) // 2
                pieces += [target[:half], target[half:]]
            for piece in pieces:
                self._by_piece.setdefault(piece, set()).add(n)
        self._piece_lengths = sorted({len(piece) for piece in self._by_piece})

    def _candidates(self, words: list[str]) -> list[int]:
        """Positions of the phrases that pass the cheap pre-check, in lexicon order."""
        found: set[int] = set()
        for w in set(words):
            firsts = {w} if w in self._by_first else set()
            if _EXACT_BELOW <= len(w) <= self._fuzzy_up_to:
                for form in _deletions(w):
                    firsts |= self._first_by_deletion.get(form, set())
            for first in firsts:
                if _token_matches(w, first):
                    found.update(self._by_first[first])
        squashed = "".join(words)
        for length in self._piece_lengths:
            if length > len(squashed):
                break
            for i in range(len(squashed) - length + 1):
                hit = self._by_piece.get(squashed[i : i + length])
                if hit:
                    found |= hit
        return sorted(found)

    def _scan(self, words: list[str]) -> list[int]:
        """The same positions as `_candidates`, found by trying every phrase (the indexes' reference)."""
        squashed = "".join(words)
        return [
            n
            for n, p in enumerate(self.phrases)
            if any(_token_matches(w, p.tokens[0]) for w in words) or _may_contain(squashed, p)
        ]

    def match(self, text: str, *, scan: bool = False) -> Phrase | None:
        """The first urgent phrase found in the message, or None (`scan`: without the indexes)."""
        words = normalise(text).split()
        if not words:
            return None
        joined_cache: dict[tuple[int, int], str] = {}
        for n in self._scan(words) if scan else self._candidates(words):
            p = self.phrases[n]
            size = len(p.tokens)
            # 1) token by token, each token exact or within a small edit distance
            for i in range(len(words) - size + 1):
                if all(_token_matches(w, t) for w, t in zip(words[i : i + size], p.tokens)):
                    return p
            # 2) words split or run together ("kill my self", "killmyself"), on word boundaries only,
            #    so "want to diet" never matches "want to die".
            target = "".join(p.tokens)
            if len(target) < 6:
                continue
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + size + 2) + 1):
                    key = (i, j)
                    joined = joined_cache.get(key)
                    if joined is None:
                        joined = joined_cache[key] = "".join(words[i:j])
                    if len(joined) > len(target) + 2:
                        break
                    if joined == target or (len(target) >= 10 and _edit_distance(joined, target, 1) <= 1):
                        return p
        return None


@lru_cache(maxsize=4)
def default_lexicon(folder: Path = LEXICON_DIR) -> SafetyLexicon:
    """The lexicon shipped in intents/lexicon, loaded once per process."""
    return SafetyLexicon(load_lexicon(folder))


def check_safety(text: str) -> tuple[str, str] | None:
    """(urgent intent, matched phrase) if the message contains a danger or self-harm phrase, else None."""
    hit = default_lexicon().match(text)
    return (hit.intent, hit.text) if hit else None
