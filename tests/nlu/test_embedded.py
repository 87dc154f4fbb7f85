"""The embedded classifier on the held-out split, its safety net, and its on-disk cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.nlu import ComposedNLU
from bot.nlu.cli import evaluate
from bot.nlu.data import PROJECT_ROOT, load_examples
from bot.nlu.embedded import EmbeddedClassifier
from bot.nlu.langid import LANGUAGES
from bot.nlu.normalise import normalise

# Measured 2026-12-06 with the sentence encoder (docs/benchmarks-nlu.md). intents/test: accuracy 0.930,
# per language 0.86-0.97, urgent recall 0.996 (1.0 with the danger question), false urgent 0.009,
# danger question on 0.093 of the rest. intents/blind: accuracy 0.922, per language 0.81-1.0,
# urgent recall 0.962 (0.992 with the question), false urgent 0.063, question on 0.178. The bars sit
# a few points below, so that a change that makes the bot misunderstand families more often fails.
BARS = {
    "test": {"accuracy": 0.90, "language": 0.83, "urgent": 0.99, "asked": 1.0, "false_urgent": 0.04, "check": 0.11},
    "blind": {"accuracy": 0.89, "language": 0.78, "urgent": 0.94, "asked": 0.99, "false_urgent": 0.08, "check": 0.20},
}


@pytest.mark.parametrize("split", list(BARS))
def test_held_out_accuracy_and_urgent_recall(embedded_nlu: ComposedNLU, split: str) -> None:
    bars = BARS[split]
    result = evaluate(embedded_nlu, PROJECT_ROOT / "intents" / split)
    assert result["accuracy"] >= bars["accuracy"]
    missed = [e for e in result["errors"] if e["gold"] in {"self_harm_risk", "safety_concern"}]
    assert result["urgent_recall"] >= bars["urgent"], missed
    # Messages showing danger or self-harm are either urgent or get the direct danger question.
    assert result["urgent_or_check_recall"] >= bars["asked"], [e for e in missed if e["triage"] != "check"]
    assert result["false_urgent_rate"] <= bars["false_urgent"]
    assert result["check_rate"] <= bars["check"]
    weak = {lang: s["accuracy"] for lang, s in result["per_language"].items() if s["accuracy"] < bars["language"]}
    assert not weak, f"languages understood too poorly: {weak}"
    # Every language is scored on the held-out split; the blind split was written before Welsh joined.
    expected = set(LANGUAGES) if split == "test" else set(LANGUAGES) - {"cy"}
    assert set(result["per_language"]) == expected


@pytest.mark.parametrize("split", ["test", "blind"])
def test_held_out_splits_are_never_in_training(split: str) -> None:
    train = {normalise(e.text) for e in load_examples(PROJECT_ROOT / "intents" / "data")}
    leaked = [e.text for e in load_examples(PROJECT_ROOT / "intents" / split) if normalise(e.text) in train]
    assert leaked == []


def test_fallback_when_unsure(embedded_nlu: ComposedNLU) -> None:
    parsed = embedded_nlu.parse("purple elephant calculator 42")
    assert parsed.intent == "nlu_fallback"
    # A bare number is a menu choice for the dialogue, never a guessed "yes".
    assert embedded_nlu.parse("1").intent == "nlu_fallback"


@pytest.mark.parametrize("text", ["vvbn", "qwxz", "zzkq", "hjkl", "blorp"])
def test_keyboard_mashing_is_not_understood_and_never_urgent(embedded_nlu: ComposedNLU, text: str) -> None:
    parsed = embedded_nlu.parse(text)
    assert (parsed.intent, parsed.triage) == ("nlu_fallback", "none")


def test_cache_is_reused_then_rebuilt_when_data_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("nlu_en.yml", "nlu_fr.yml"):
        shutil.copy(PROJECT_ROOT / "intents" / "data" / name, data / name)
    cache = tmp_path / "cache"

    first = EmbeddedClassifier(cache_dir=cache, data_dir=data)
    first.load()
    assert first.trained_now
    first_model = first.cache_path()
    assert first_model.exists()

    again = EmbeddedClassifier(cache_dir=cache, data_dir=data)
    again.load()
    assert not again.trained_now, "unchanged data must load the cached model, not retrain"

    with (data / "nlu_en.yml").open("a", encoding="utf-8") as f:
        f.write("- intent: ask_support\n  examples: |\n    - is there a befriending service for widows\n")
    changed = EmbeddedClassifier(cache_dir=cache, data_dir=data)
    changed.load()
    assert changed.trained_now, "changed data must retrain"
    assert changed.cache_path() != first_model
    assert not first_model.exists(), "the stale model is removed, not left to pile up"


def test_normalisation_folds_what_keyboards_vary() -> None:
    assert normalise("كيف") == normalise("کیف")  # Arabic vs Persian kaf/yeh
    assert normalise("مـــدرسة") == normalise("مدرسه")  # tatweel, teh marbuta
    assert normalise("١٢٣ ۴۵۶") == "123 456"  # Arabic-Indic and Persian digits
    assert normalise("مُحَمَّد") == normalise("محمد")  # harakat
    assert normalise("ＤＯＮ’Ｔ") == "dont"  # full-width letters, curly apostrophe


def test_direct_scoring_gives_exactly_the_calibrated_models_probabilities(
    embedded_nlu: ComposedNLU, test_dir: Path
) -> None:
    import numpy as np

    from bot.nlu.data import load_examples
    from bot.nlu.embedded import CalibratedScorer

    classifier = embedded_nlu.classifier
    fitted = classifier.load()  # type: ignore[attr-defined]
    texts = [e.text for e in load_examples(test_dir)][:300]
    encoder = classifier.encoder  # type: ignore[attr-defined]
    vectors = encoder.encode(texts) if encoder is not None else None
    expected = fitted.predict_proba(texts, vectors)
    scorer = CalibratedScorer(fitted)
    got = np.array(
        [
            scorer.proba(t, None if vectors is None else v)
            for t, v in zip(texts, vectors if vectors is not None else texts)
        ]
    )
    assert np.abs(expected - got).max() < 1e-6
