"""The training, held-out and lexicon files cover every intent in every language, in the agreed amounts."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.nlu.base import INTENTS, URGENT_INTENTS
from bot.nlu.data import PROJECT_ROOT, load_examples
from bot.nlu.langid import LANGUAGES
from bot.nlu.lexicon import LEXICON_DIR, load_lexicon

DATA = PROJECT_ROOT / "intents" / "data"
TEST = PROJECT_ROOT / "intents" / "test"


def _minimum(lang: str, intent: str, *, held_out: bool) -> int:
    if held_out:
        return 8 if intent in URGENT_INTENTS else 3
    if lang == "en":
        return 30 if intent in URGENT_INTENTS else 25
    return 20 if intent in URGENT_INTENTS else 10


@pytest.mark.parametrize("held_out", [False, True], ids=["training", "held-out"])
def test_every_intent_in_every_language(held_out: bool) -> None:
    counts = Counter((e.language, e.intent) for e in load_examples(TEST if held_out else DATA))
    short = {
        f"{lang}/{intent}": counts[(lang, intent)]
        for lang in LANGUAGES
        for intent in INTENTS
        if counts[(lang, intent)] < _minimum(lang, intent, held_out=held_out)
    }
    assert not short, f"too few examples: {short}"
    assert {lang for lang, _ in counts} == set(LANGUAGES)
    assert {intent for _, intent in counts} == set(INTENTS), "unknown intent name in the data"


def test_no_example_is_taught_as_two_different_intents() -> None:
    seen: dict[str, set[str]] = {}
    for e in load_examples(DATA):
        seen.setdefault(e.text.casefold().strip(), set()).add(e.intent)
    assert {t: i for t, i in seen.items() if len(i) > 1} == {}


def test_safety_lexicon_covers_every_language() -> None:
    phrases = load_lexicon(LEXICON_DIR)
    for intent in URGENT_INTENTS:
        covered = {p.language for p in phrases if p.intent == intent}
        assert covered == set(LANGUAGES), f"{intent} has no phrases for {set(LANGUAGES) - covered}"
