"""The default, in-process intent classifier: TF-IDF character and word n-grams and a linear model."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.nlu.base import FALLBACK_INTENT, URGENT_INTENTS, Parse, triage_for
from bot.nlu.data import TRAIN_DIR, Example, data_hash, load_examples
from bot.nlu.normalise import normalise
from bot.nlu.tfidf import DirectTfidf, stacked

log = logging.getLogger(__name__)

# Tuned (0.28) on a stratified 20% validation split of intents/data (never intents/test): see
# `dhrbot nlu train --tune` and docs/benchmarks-nlu.md. Below it we answer "nlu_fallback" and the
# dialogue asks the person to put it another way, rather than guessing.
DEFAULT_THRESHOLD = 0.28
# An urgent intent at the top of the ranking is kept even when less sure: showing helplines to
# someone who did not need them costs little; missing "I don't want to live" is the worst failure.
URGENT_THRESHOLD = 0.2
MODEL_VERSION = "embedded-v2"  # bump when features or model change, so caches rebuild


def _split_words(text: str) -> list[str]:
    # Whitespace split on normalised text: regex \w would cut Indic words at their vowel signs.
    return text.split()


def build_pipeline() -> Pipeline:
    """Character n-grams survive misspellings and unknown scripts; word n-grams carry phrasing."""
    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(1, 5),
                    preprocessor=normalise,
                    sublinear_tf=True,
                    min_df=1,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    preprocessor=normalise,
                    tokenizer=_split_words,
                    token_pattern=None,
                    sublinear_tf=True,
                ),
            ),
        ]
    )
    # LinearSVC is as accurate as logistic regression here and ~10x faster to fit; 3-fold sigmoid
    # calibration turns its margins into probabilities we can threshold.
    model = CalibratedClassifierCV(LinearSVC(C=1.0), method="sigmoid", cv=3)
    return Pipeline([("features", features), ("model", model)])


def train_pipeline(examples: Sequence[Example]) -> Pipeline:
    """Fit a fresh pipeline on the given examples."""
    pipe = build_pipeline()
    pipe.fit([e.text for e in examples], [e.intent for e in examples])
    return pipe


def decide(ranking: list[tuple[str, float]], threshold: float) -> tuple[str, float]:
    """The intent to act on: the top one if sure enough (urgent ones at a lower bar), else fallback."""
    intent, conf = ranking[0]
    # Danger and self-harm can split their probability between them ("I will take my life" vs "they
    # will..."): when one leads, their sum is what says the message is urgent.
    urgent_mass = sum(p for name, p in ranking if name in URGENT_INTENTS)
    if conf >= threshold or (intent in URGENT_INTENTS and urgent_mass >= URGENT_THRESHOLD):
        return intent, conf
    return FALLBACK_INTENT, conf


class CalibratedScorer:
    """The calibrated model's probabilities, computed directly with NumPy.

    Exactly what `Pipeline.predict_proba` returns for the sigmoid-calibrated LinearSVC, but without
    scikit-learn's per-call input validation, which cost most of a parse (docs/benchmarks.md): the
    TF-IDF features are looked up from each vectorizer's vocabulary, then one product and one sigmoid
    per calibration fold.
    """

    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe
        features: Any = pipe.named_steps["features"]
        self.vectorizers: list[DirectTfidf] = []
        for _name, vec in features.transformer_list:
            self.vectorizers.append(DirectTfidf(vec, offset=sum(len(v) for v in self.vectorizers)))
        model: Any = pipe.named_steps["model"]
        self.folds = []
        for fold in model.calibrated_classifiers_:
            if list(fold.estimator.classes_) != list(model.classes_):
                raise ValueError("a calibration fold lacks an intent: cannot score directly")
            a = np.array([c.a_ for c in fold.calibrators])
            b = np.array([c.b_ for c in fold.calibrators])
            self.folds.append((np.ascontiguousarray(fold.estimator.coef_.T), fold.estimator.intercept_, a, b))

    def proba(self, text: str) -> Any:
        """Probability of each intent (in `pipe.classes_` order) for one message."""
        cols, values = stacked(self.vectorizers, text)
        total = np.zeros(len(self.folds[0][1]))
        for coef, intercept, a, b in self.folds:
            decision = values @ coef[cols] + intercept
            p = 1.0 / (1.0 + np.exp(a * decision + b))
            s = p.sum()
            total += p / s if s > 0 else np.full_like(p, 1.0 / len(p))
        return total / len(self.folds)


class EmbeddedClassifier:
    """Intent classifier trained from intents/data, cached on disk by a hash of the data."""

    def __init__(
        self,
        cache_dir: Path,
        data_dir: Path = TRAIN_DIR,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.data_dir = Path(data_dir)
        self.threshold = threshold
        self._pipe: Pipeline | None = None
        self.trained_now = False  # True when the last load had to (re)train: tests and `nlu train` use it
        self.train_seconds: float | None = None
        self._known: tuple[frozenset[str], frozenset[str]] | None = None
        self._scorer: CalibratedScorer | None = None

    def cache_path(self) -> Path:
        """Where the model for the current data lives; the name changes whenever the data does."""
        key = data_hash(self.data_dir, MODEL_VERSION, sklearn.__version__)
        return self.cache_dir / f"embedded-{key}.joblib"

    def load(self, *, force: bool = False) -> Pipeline:
        """The fitted model: from the cache if the data is unchanged, else trained and cached."""
        if self._pipe is not None and not force:
            return self._pipe
        path = self.cache_path()
        if path.exists() and not force:
            try:
                self._pipe = joblib.load(path)
                self.trained_now = False
                return self._pipe
            except Exception:  # a truncated or incompatible cache file is just rebuilt
                log.warning("NLU cache %s unreadable; retraining", path, exc_info=True)
        examples = load_examples(self.data_dir)
        if not examples:
            raise RuntimeError(f"no NLU training examples found under {self.data_dir}")
        start = time.perf_counter()
        pipe = train_pipeline(examples)
        self.train_seconds = time.perf_counter() - start
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        joblib.dump(pipe, tmp)
        tmp.replace(path)  # atomic: a concurrent reader never sees half a file
        for old in self.cache_dir.glob("embedded-*.joblib"):
            if old != path:
                old.unlink(missing_ok=True)
        log.info("trained embedded NLU on %d examples in %.1fs -> %s", len(examples), self.train_seconds, path)
        self._pipe = pipe
        self.trained_now = True
        return pipe

    def recognises_any_word(self, text: str) -> bool:
        """Whether the message shares any word, or any 4-letter piece of a word, with the training data.

        Keyboard mashing ("vvbn", "qwxz") otherwise gets a confident-looking guess from character
        n-grams, and a guessed urgent intent would page an advocate for nothing. The 4-letter pieces
        keep inflected words (Turkish, Polish, Somali suffixes) recognised.
        """
        if self._known is None:
            pipe = self.load()
            words_vec = dict(pipe.named_steps["features"].transformer_list)["words"]
            words = {w for w in words_vec.vocabulary_ if " " not in w}
            pieces = {w[i : i + 4] for w in words for i in range(len(w) - 3)}
            self._known = (frozenset(words), frozenset(pieces))
        vocab, grams = self._known
        for w in normalise(text).split():
            if w in vocab or any(w[i : i + 4] in grams for i in range(len(w) - 3)):
                return True
        return False

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first."""
        pipe = self.load()
        if self._scorer is None or self._scorer.pipe is not pipe:
            self._scorer = CalibratedScorer(pipe)
        probs = self._scorer.proba(text)
        classes: Any = pipe.classes_
        order = np.argsort(-probs)
        return [(str(classes[i]), float(probs[i])) for i in order]

    def parse(self, text: str, language: str | None = None) -> Parse:
        """Classify one message (no safety lexicon here: the composed NLU adds it)."""
        words = normalise(text).split()
        # (isalpha() is False for Indic words with vowel signs, so look for any letter instead.)
        if not any(any(ch.isalpha() for ch in w) and not any(ch.isdigit() for ch in w) for w in words):
            # Only numbers or codes ("1", "3 5", "K7MQ-2XPB"): a menu pick for the dialogue, not a
            # sentence to guess an intent from.
            return Parse(text=text, intent=FALLBACK_INTENT, confidence=0.0, language=language)
        ranking = self.rank(text)
        intent, conf = decide(ranking, self.threshold)
        if not self.recognises_any_word(text):
            intent = FALLBACK_INTENT
        return Parse(
            text=text,
            intent=intent,
            confidence=conf,
            ranking=ranking[:10],
            language=language,
            triage=triage_for(intent),
        )


def tune_threshold(
    examples: Sequence[Example], *, seed: int = 13, holdout: float = 0.2
) -> tuple[float, dict[str, float]]:
    """Pick the fallback threshold on a validation split of the training data (never the test set).

    The objective counts a confident wrong answer as bad as a right answer is good: below the
    threshold the bot asks again, which is safer than acting on a misunderstanding.
    """
    rng = random.Random(seed)
    by_key: dict[tuple[str, str | None], list[Example]] = {}
    for e in examples:
        by_key.setdefault((e.intent, e.language), []).append(e)
    train: list[Example] = []
    valid: list[Example] = []
    for group in by_key.values():
        group = list(group)
        rng.shuffle(group)
        n_val = max(1, round(len(group) * holdout)) if len(group) >= 4 else 0
        valid.extend(group[:n_val])
        train.extend(group[n_val:])
    pipe = train_pipeline(train)
    probs = pipe.predict_proba([e.text for e in valid])
    classes = list(pipe.classes_)
    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    correct = np.array([classes[i] == e.intent for i, e in zip(top, valid)])
    best_t, best_score = 0.0, -1e9
    for t in np.arange(0.10, 0.80, 0.01):
        accepted = conf >= t
        score = float((accepted & correct).sum() - (accepted & ~correct).sum())
        if score > best_score:
            best_t, best_score = float(round(t, 2)), score
    accepted = conf >= best_t
    stats = {
        "validation_size": float(len(valid)),
        "top1_accuracy": float(correct.mean()),
        "accepted_share": float(accepted.mean()),
        "accepted_precision": float(correct[accepted].mean()) if accepted.any() else 0.0,
    }
    return best_t, stats
