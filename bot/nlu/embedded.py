"""The default, in-process intent classifier: sentence meaning plus TF-IDF n-grams in one calibrated model.

Two kinds of features side by side: a multilingual sentence encoder's vector (meaning that carries
across paraphrase and across languages) and TF-IDF character and word n-grams (spelling, Roman-script
Urdu, words the encoder splits badly). One LinearSVC over both, with sigmoid calibration, so that its
probabilities can be thresholded. Without the encoder (a processor lacking AVX2) the same model is
trained on the n-grams alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion
from sklearn.svm import LinearSVC

from bot.nlu.base import FALLBACK_INTENT, URGENT_INTENTS, Parse, Triage, triage_for
from bot.nlu.data import TRAIN_DIR, Example, data_hash, load_examples
from bot.nlu.encoder import SentenceEncoder, shared_encoder
from bot.nlu.normalise import normalise
from bot.nlu.tfidf import DirectTfidf, stacked

log = logging.getLogger(__name__)

# Tuned on a stratified 20% validation split of intents/data (never intents/test or intents/blind):
# see `dhrbot nlu train --tune` and docs/benchmarks-nlu.md. Below it we answer "nlu_fallback" and
# the dialogue asks the person to put it another way, rather than guessing.
DEFAULT_THRESHOLD = 0.28
# An urgent intent at the top of the ranking is named even when less sure (below DEFAULT_THRESHOLD).
URGENT_NAMING_THRESHOLD = 0.2
# Triage, tuned for recall on validation splits of intents/data (docs/benchmarks-nlu.md has the curve):
# the classifier alone calls a message urgent when an urgent intent tops the ranking at this
# probability or more (the safety lexicon calls it urgent whatever the classifier says).
URGENT_THRESHOLD = 0.4
# The uncertain band: the urgent intents together get at least CHECK_THRESHOLD, and either one of
# them tops the ranking or they get at least CHECK_SHARE of the top intent's probability. The bot then
# asks directly whether anyone is in danger now (`check`) rather than deciding for the person.
CHECK_THRESHOLD = 0.1
CHECK_SHARE = 0.3
# Also asked for a message the bot did not understand when distress and danger together reach this.
DISTRESS_CHECK_THRESHOLD = 0.35
DISTRESS_INTENTS = frozenset({"express_distress", *URGENT_INTENTS})
# A message whose sentence vector is no closer than this to any training example is about something
# else ("my car needs new tyres"): the bot says it did not understand instead of guessing, unless the
# message may mean danger. Validation messages: 1st percentile 0.884; unrelated probes 0.82-0.87.
IN_DOMAIN_SIMILARITY = 0.87
# How much the sentence vector weighs against the two l2-normalised TF-IDF blocks.
DENSE_WEIGHT = 1.5
MODEL_VERSION = "embedded-v4"  # bump when features or model change, so caches rebuild


def _split_words(text: str) -> list[str]:
    # Whitespace split on normalised text: regex \w would cut Indic words at their vowel signs.
    return text.split()


def build_features() -> FeatureUnion:
    """Character n-grams survive misspellings and unknown scripts; word n-grams carry phrasing."""
    return FeatureUnion(
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


@dataclass
class IntentModel:
    """A fitted model: the TF-IDF features, how sentence vectors are centred and scaled, and the classifier."""

    features: FeatureUnion
    model: CalibratedClassifierCV
    encoder_name: str | None
    dense_mean: Any = None  # the training vectors' mean (e5 vectors all share a large common part)
    dense_scale: float = 0.0
    examples: Any = None  # the training examples' unit vectors (float16), for "is this about us at all?"

    def similarity(self, vector: Any) -> float:
        """Cosine similarity of a message's vector to the nearest training example."""
        return float((self.examples @ np.asarray(vector, dtype=np.float16)).max())

    @property
    def classes_(self) -> Any:
        """The intents, in the order of the probability columns."""
        return self.model.classes_

    def dense(self, vectors: Any) -> Any:
        """Sentence vectors as classifier features: centred, then scaled to DENSE_WEIGHT on average."""
        return (np.asarray(vectors, dtype=np.float64) - self.dense_mean) * self.dense_scale

    def matrix(self, texts: Sequence[str], vectors: Any | None) -> Any:
        """The full feature matrix (TF-IDF, then the sentence vectors when the model uses them)."""
        tfidf = self.features.transform(list(texts))
        if self.encoder_name is None:
            return tfidf
        return sp.hstack([tfidf, sp.csr_matrix(self.dense(vectors))]).tocsr()

    def predict_proba(self, texts: Sequence[str], vectors: Any | None = None) -> Any:
        """scikit-learn's probabilities (the slow, validated path; used in training and tests)."""
        return self.model.predict_proba(self.matrix(texts, vectors))


def fit_model(examples: Sequence[Example], vectors: Any | None, encoder_name: str | None) -> IntentModel:
    """Fit a fresh model on the given examples (and their sentence vectors, if an encoder is used)."""
    texts = [e.text for e in examples]
    labels = [e.intent for e in examples]
    features = build_features()
    tfidf = features.fit_transform(texts)
    model_in: Any = tfidf
    mean: Any = None
    scale = 0.0
    if encoder_name is not None:
        dense = np.asarray(vectors, dtype=np.float64)
        mean = dense.mean(axis=0)
        scale = DENSE_WEIGHT / float(np.linalg.norm(dense - mean, axis=1).mean())
        model_in = sp.hstack([tfidf, sp.csr_matrix((dense - mean) * scale)]).tocsr()
    # LinearSVC is as accurate as logistic regression here and ~10x faster to fit; 3-fold sigmoid
    # calibration turns its margins into probabilities we can threshold.
    model = CalibratedClassifierCV(LinearSVC(C=1.0), method="sigmoid", cv=3)
    model.fit(model_in, labels)
    stored = np.asarray(vectors, dtype=np.float16) if encoder_name is not None else None
    return IntentModel(features, model, encoder_name, mean, scale, stored)


def decide(ranking: list[tuple[str, float]], threshold: float) -> tuple[str, float]:
    """The intent to act on: the top one if sure enough (urgent ones at a lower bar), else fallback."""
    intent, conf = ranking[0]
    if conf >= threshold or (intent in URGENT_INTENTS and conf >= URGENT_NAMING_THRESHOLD):
        return intent, conf
    return FALLBACK_INTENT, conf


def triage_from(intent: str, ranking: list[tuple[str, float]], understood: bool = True) -> Triage:
    """Urgent, check (ask whether anyone is in danger now), sensitive or none, from the whole ranking."""
    if not understood or not ranking:
        return triage_for(intent)
    probs = dict(ranking)
    top_conf = ranking[0][1]
    if intent in URGENT_INTENTS and probs.get(intent, 0.0) >= URGENT_THRESHOLD:
        return "urgent"
    danger = sum(probs.get(i, 0.0) for i in URGENT_INTENTS)
    if danger >= CHECK_THRESHOLD and (ranking[0][0] in URGENT_INTENTS or danger >= CHECK_SHARE * top_conf):
        return "check"
    if intent == FALLBACK_INTENT and sum(probs.get(i, 0.0) for i in DISTRESS_INTENTS) >= DISTRESS_CHECK_THRESHOLD:
        return "check"
    return "none" if intent in URGENT_INTENTS else triage_for(intent)


class CalibratedScorer:
    """The calibrated model's probabilities, computed directly with NumPy.

    Exactly what `IntentModel.predict_proba` returns, but without scikit-learn's per-call input
    validation, which cost most of a parse (docs/benchmarks.md): the TF-IDF features are looked up
    from each vectorizer's vocabulary, the sentence vector is one small product, then one sigmoid per
    calibration fold.
    """

    def __init__(self, fitted: IntentModel) -> None:
        self.fitted = fitted
        self.vectorizers: list[DirectTfidf] = []
        for _name, vec in fitted.features.transformer_list:
            self.vectorizers.append(DirectTfidf(vec, offset=sum(len(v) for v in self.vectorizers)))
        n_sparse = sum(len(v) for v in self.vectorizers)
        model: Any = fitted.model
        self.folds = []
        for fold in model.calibrated_classifiers_:
            if list(fold.estimator.classes_) != list(model.classes_):
                raise ValueError("a calibration fold lacks an intent: cannot score directly")
            a = np.array([c.a_ for c in fold.calibrators])
            b = np.array([c.b_ for c in fold.calibrators])
            coef = np.ascontiguousarray(fold.estimator.coef_.T)
            self.folds.append((coef[:n_sparse], coef[n_sparse:], fold.estimator.intercept_, a, b))

    def proba(self, text: str, vector: Any | None = None) -> Any:
        """Probability of each intent (in `classes_` order) for one message and its sentence vector."""
        cols, values = stacked(self.vectorizers, text)
        dense = None
        if self.fitted.encoder_name is not None:
            # No vector (a quick reply or command, kept away from the encoder): the average meaning.
            dense = self.fitted.dense(vector) if vector is not None else None
        total = np.zeros(len(self.folds[0][2]))
        for coef, coef_dense, intercept, a, b in self.folds:
            decision = values @ coef[cols] + intercept
            if dense is not None:
                decision = decision + dense @ coef_dense
            p = 1.0 / (1.0 + np.exp(a * decision + b))
            s = p.sum()
            total += p / s if s > 0 else np.full_like(p, 1.0 / len(p))
        return total / len(self.folds)


def vector_cache_dir() -> Path:
    """Where training vectors are kept: shared by every var/ folder and checkout on this machine.

    They are vectors of the project's own training sentences (no personal data), and encoding all of
    them takes a minute or more on 2 cores, so a fresh var/ (a test, a new deployment) reuses them.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dhrbot" / "nlu-vectors"


class VectorCache:
    """Sentence vectors of the training texts, kept on disk so that retraining re-encodes only new text."""

    def __init__(self, cache_dir: Path, encoder: SentenceEncoder) -> None:
        tag = hashlib.sha256(encoder.name.encode()).hexdigest()[:8]
        self.path = Path(cache_dir) / f"vectors-{tag}.npz"
        self.encoder = encoder

    def vectors(self, texts: Sequence[str]) -> Any:
        """One vector per text, encoding (in batches) only those not seen before."""
        known: dict[str, Any] = {}
        if self.path.exists():
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    known = dict(zip(z["texts"].tolist(), z["vectors"]))
            except Exception:  # a truncated cache is simply rebuilt
                log.warning("vector cache %s unreadable; re-encoding", self.path, exc_info=True)
        missing = sorted({t for t in texts if t not in known})
        for i in range(0, len(missing), 64):
            batch = missing[i : i + 64]
            known.update(zip(batch, self.encoder.encode(batch)))
        if missing:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.stem}.{os.getpid()}.tmp.npz")  # several processes may train
            keep = sorted(known)
            np.savez(tmp, texts=np.array(keep), vectors=np.array([known[t] for t in keep], dtype=np.float32))
            tmp.replace(self.path)
        return np.array([known[t] for t in texts], dtype=np.float32)


def encode_examples(examples: Sequence[Example], encoder: SentenceEncoder | None) -> Any:
    """The training examples' sentence vectors (None without an encoder)."""
    if encoder is None:
        return None
    return VectorCache(vector_cache_dir(), encoder).vectors([e.text for e in examples])


class EmbeddedClassifier:
    """Intent classifier trained from intents/data, cached on disk by a hash of the data and the encoder."""

    def __init__(
        self,
        cache_dir: Path,
        data_dir: Path = TRAIN_DIR,
        threshold: float = DEFAULT_THRESHOLD,
        encoder: SentenceEncoder | bool | None = True,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.data_dir = Path(data_dir)
        self.threshold = threshold
        # True: the process's shared encoder (None when it cannot run here); False: n-grams only.
        self.encoder: SentenceEncoder | None = (
            shared_encoder() if encoder is True else (None if encoder is False else encoder)
        )
        self._model: IntentModel | None = None
        self.trained_now = False  # True when the last load had to (re)train: tests and `nlu train` use it
        self.train_seconds: float | None = None
        self._known: tuple[frozenset[str], frozenset[str]] | None = None
        self._scorer: CalibratedScorer | None = None
        self._load_lock = threading.Lock()
        self.encoded = 0  # messages sent to the encoder by this classifier (the cost tests read it)

    @property
    def encoder_name(self) -> str | None:
        """Which sentence encoder the model uses (None: n-grams only)."""
        return self.encoder.name if self.encoder is not None else None

    def cache_path(self) -> Path:
        """Where the model for the current data lives; the name changes whenever the data does."""
        key = data_hash(self.data_dir, MODEL_VERSION, sklearn.__version__, self.encoder_name or "no-encoder")
        return self.cache_dir / f"embedded-{key}.joblib"

    def load(self, *, force: bool = False) -> IntentModel:
        """The fitted model: from the cache if the data is unchanged, else trained and cached."""
        with self._load_lock:
            if self._model is not None and not force:
                return self._model
            path = self.cache_path()
            if path.exists() and not force:
                try:
                    loaded = joblib.load(path)
                    if isinstance(loaded, IntentModel):
                        self._model = loaded
                        self.trained_now = False
                        return loaded
                except Exception:  # a truncated or incompatible cache file is just rebuilt
                    log.warning("NLU cache %s unreadable; retraining", path, exc_info=True)
            examples = load_examples(self.data_dir)
            if not examples:
                raise RuntimeError(f"no NLU training examples found under {self.data_dir}")
            start = time.perf_counter()
            vectors = encode_examples(examples, self.encoder)
            fitted = fit_model(examples, vectors, self.encoder_name)
            self.train_seconds = time.perf_counter() - start
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            joblib.dump(fitted, tmp)
            tmp.replace(path)  # atomic: a concurrent reader never sees half a file
            for old in self.cache_dir.glob("embedded-*.joblib"):
                if old != path:
                    old.unlink(missing_ok=True)
            log.info("trained embedded NLU on %d examples in %.1fs -> %s", len(examples), self.train_seconds, path)
            self._model = fitted
            self.trained_now = True
            return fitted

    def recognises_any_word(self, text: str) -> bool:
        """Whether the message shares any word, or any 4-letter piece of a word, with the training data.

        Keyboard mashing ("vvbn", "qwxz") otherwise gets a confident-looking guess from character
        n-grams, and a guessed urgent intent would page an advocate for nothing. The 4-letter pieces
        keep inflected words (Turkish, Polish, Somali suffixes) recognised.
        """
        if self._known is None:
            fitted = self.load()
            words_vec = dict(fitted.features.transformer_list)["words"]
            words = {w for w in words_vec.vocabulary_ if " " not in w}
            pieces = {w[i : i + 4] for w in words for i in range(len(w) - 3)}
            self._known = (frozenset(words), frozenset(pieces))
        vocab, grams = self._known
        for w in normalise(text).split():
            if w in vocab or any(w[i : i + 4] in grams for i in range(len(w) - 3)):
                return True
        return False

    def vector(self, text: str) -> Any | None:
        """The message's sentence vector (one encoder call), or None when no encoder is used."""
        if self.encoder is None:
            return None
        self.encoded += 1
        return self.encoder.encode([text])[0]

    def rank(self, text: str, vector: Any | None = None) -> list[tuple[str, float]]:
        """Every intent with its probability, most likely first (`vector`: the text's, if already encoded)."""
        fitted = self.load()
        if self._scorer is None or self._scorer.fitted is not fitted:
            self._scorer = CalibratedScorer(fitted)
        probs = self._scorer.proba(text, vector)
        classes: Any = fitted.classes_
        order = np.argsort(-probs)
        return [(str(classes[i]), float(probs[i])) for i in order]

    def parse(self, text: str, language: str | None = None, *, free_text: bool = True) -> Parse:
        """Classify one message (no safety lexicon here: the composed NLU adds it).

        `free_text=False` marks a quick-reply label or a command word: it is read from its n-grams
        only, and never costs an encoder call.
        """
        words = normalise(text).split()
        # (isalpha() is False for Indic words with vowel signs, so look for any letter instead.)
        if not any(any(ch.isalpha() for ch in w) and not any(ch.isdigit() for ch in w) for w in words):
            # Only numbers or codes ("1", "3 5", "K7MQ-2XPB"): a menu pick for the dialogue, not a
            # sentence to guess an intent from.
            return Parse(text=text, intent=FALLBACK_INTENT, confidence=0.0, language=language)
        understood = self.recognises_any_word(text)
        vector = self.vector(text) if free_text and understood else None
        ranking = self.rank(text, vector)
        intent, conf = decide(ranking, self.threshold)
        if not understood:
            intent = FALLBACK_INTENT
        triage = triage_from(intent, ranking, understood)
        fitted = self.load()
        if (
            vector is not None
            and triage not in ("urgent", "check")
            and fitted.similarity(vector) < IN_DOMAIN_SIMILARITY
        ):
            intent, triage = FALLBACK_INTENT, "none"  # about something else: ask, don't guess
        if triage == "check" and not free_text:
            triage = "none"  # a button the bot offered is an answer, not a worry to ask about
        return Parse(
            text=text,
            intent=intent,
            confidence=conf,
            ranking=ranking[:10],
            language=language,
            triage=triage,
        )


def validation_split(
    examples: Sequence[Example], *, seed: int = 13, holdout: float = 0.2
) -> tuple[list[Example], list[Example]]:
    """A stratified split of the training data by (intent, language): never the test or blind splits."""
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
    return train, valid


def tune_threshold(
    examples: Sequence[Example],
    *,
    encoder: SentenceEncoder | None = None,
    seed: int = 13,
    holdout: float = 0.2,
) -> tuple[float, dict[str, Any]]:
    """Pick the fallback threshold on a validation split of the training data (never the test sets),
    and report the urgent/check trade-off curve there.

    The objective counts a confident wrong answer as bad as a right answer is good: below the
    threshold the bot asks again, which is safer than acting on a misunderstanding.
    """
    train, valid = validation_split(examples, seed=seed, holdout=holdout)
    name = encoder.name if encoder is not None else None
    all_vectors = encode_examples(list(train) + list(valid), encoder)
    train_vectors = all_vectors[: len(train)] if all_vectors is not None else None
    valid_vectors = all_vectors[len(train) :] if all_vectors is not None else None
    fitted = fit_model(train, train_vectors, name)
    probs = fitted.predict_proba([e.text for e in valid], valid_vectors)
    classes = list(fitted.classes_)
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
    urgent_cols = [classes.index(i) for i in URGENT_INTENTS]
    danger = probs[:, urgent_cols].sum(axis=1)
    is_urgent = np.array([e.intent in URGENT_INTENTS for e in valid])
    top_is_urgent = np.array([classes[i] in URGENT_INTENTS for i in top])
    curve = []
    for urgent_t, check_t in [(u, c) for u in (0.2, 0.3, 0.4, 0.5) for c in (0.1, 0.15, 0.2)]:
        top_urgent = top_is_urgent & (conf >= urgent_t)
        flagged = top_urgent | ((danger >= check_t) & (top_is_urgent | (danger >= CHECK_SHARE * conf)))
        curve.append(
            {
                "urgent_threshold": urgent_t,
                "check_threshold": check_t,
                "urgent_or_check_recall": round(float(flagged[is_urgent].mean()), 4),
                "urgent_recall": round(float(top_urgent[is_urgent].mean()), 4),
                "false_urgent": round(float(top_urgent[~is_urgent].mean()), 4),
                "check_rate_non_urgent": round(float((flagged & ~top_urgent)[~is_urgent].mean()), 4),
            }
        )
    stats: dict[str, Any] = {
        "validation_size": len(valid),
        "top1_accuracy": round(float(correct.mean()), 4),
        "accepted_share": round(float(accepted.mean()), 4),
        "accepted_precision": round(float(correct[accepted].mean()), 4) if accepted.any() else 0.0,
        "urgent_curve": curve,
    }
    return best_t, stats
