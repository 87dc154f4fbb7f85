"""Understanding free text: a safety lexicon, an intent classifier and language detection, composed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.nlu.base import FALLBACK_INTENT, INTENTS, NLU, URGENT_INTENTS, Parse, triage_for
from bot.nlu.embedded import DEFAULT_THRESHOLD, URGENT_THRESHOLD, EmbeddedClassifier, triage_from
from bot.nlu.langid import detect_language
from bot.nlu.lexicon import check_safety
from bot.nlu.rasa_client import RasaClient, RasaWithFallback

__all__ = ["FALLBACK_INTENT", "INTENTS", "NLU", "ComposedNLU", "Parse", "load_nlu", "triage_for"]

BACKENDS = ("embedded", "rasa")


class ComposedNLU:
    """What the dialogue calls: safety lexicon first, then the classifier, plus language and triage."""

    def __init__(self, classifier: NLU, second_opinion: EmbeddedClassifier | None = None) -> None:
        self.classifier = classifier
        # With Rasa as the classifier, the embedded model still gets a say on urgency (measured:
        # Rasa alone missed 5% of held-out urgent messages).
        self.second_opinion = second_opinion

    def parse(self, text: str, language: str | None = None, *, free_text: bool = True) -> Parse:
        """Understand one message; `language` (the person's chosen one) is only a hint to the classifier.

        `free_text=False` (a quick-reply label or a command word): the safety lexicon still reads it,
        but the sentence encoder and the Rasa server are not asked.
        """
        detected, _ = detect_language(text)
        hit = check_safety(text)
        if hit is not None:
            # The lexicon outranks any classifier: a missed "I don't want to live" is the worst failure.
            intent, phrase = hit
            return Parse(
                text=text,
                intent=intent,
                confidence=1.0,
                ranking=[(intent, 1.0)],
                language=detected,
                triage="urgent",
                entities=[{"entity": "safety_phrase", "value": phrase, "extractor": "lexicon"}],
            )
        parsed = self.classifier.parse(text, language, free_text=free_text)
        second = self.second_opinion
        if second is None or not free_text or parsed.triage == "urgent":
            return replace(parsed, language=detected)
        # With Rasa as the classifier, the embedded model still reads free text for danger: either
        # model seeing it is enough, and its urgent probability decides whether to ask (`check`).
        ranking = second.rank(text, second.vector(text))
        top, conf = ranking[0]
        if top in URGENT_INTENTS and conf >= URGENT_THRESHOLD and second.recognises_any_word(text):
            marker = {"entity": "safety_second_opinion", "value": top, "extractor": "embedded"}
            return replace(
                parsed,
                intent=top,
                confidence=conf,
                language=detected,
                triage="urgent",
                entities=[*parsed.entities, marker],
            )
        triage = triage_from(parsed.intent, ranking, second.recognises_any_word(text))
        if triage != "check":
            triage = triage_for(parsed.intent)
        return replace(parsed, language=detected, triage=triage)


def warm_up(embedded: EmbeddedClassifier | None = None) -> None:
    """Load the language models, lexicon and classifier now, so that no family's first message waits.

    Also what lets `dhrbot serve --workers N` share them: its web processes are forked after this, so
    everything loaded here is in memory once, not once per process (bot/web/workers.py).
    """
    for text in ("thank you for your help", "شكرا لك على المساعدة"):
        detect_language(text)
        check_safety(text)
        if embedded is not None:
            embedded.parse(text)  # builds what the classifier otherwise builds on first use


def load_nlu(
    backend: str,
    *,
    cache_dir: Path,
    rasa_url: str | None,
    rasa_token: str | None,
    timeout: float = 3.0,
    threshold: float = DEFAULT_THRESHOLD,
) -> ComposedNLU:
    """Build the NLU for a backend name ("embedded" or "rasa"); the embedded model is trained or loaded now."""
    embedded = EmbeddedClassifier(cache_dir=Path(cache_dir), threshold=threshold)
    embedded.load()  # train (seconds) or load the cache up front, not on a family's first message
    embedded.vector("thank you")  # page the encoder's weights in now, too
    warm_up(embedded)
    if backend == "embedded":
        return ComposedNLU(embedded)
    if backend == "rasa":
        if not rasa_url:
            raise ValueError("NLU_BACKEND=rasa needs RASA_URL (e.g. http://127.0.0.1:5005); see scripts/rasa/serve.sh")
        return ComposedNLU(
            RasaWithFallback(RasaClient(rasa_url, rasa_token, timeout), embedded), second_opinion=embedded
        )
    raise ValueError(f"unknown NLU backend {backend!r}: choose one of {', '.join(BACKENDS)}")
