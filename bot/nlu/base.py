"""The free-text understanding contract: every NLU backend turns a message into a Parse."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# "check": not sure enough to call it urgent, too close to ignore: the bot asks directly whether anyone
# is in danger right now (bot/dialogue/danger_check.py).
Triage = Literal["urgent", "check", "sensitive", "none"]

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank_you",
    "help",
    "change_language",
    "ask_what_is_review",
    "ask_process_steps",
    "ask_how_to_contribute",
    "register_contribution",
    "update_preferences",
    "not_ready",
    "request_advocate",
    "request_interpreter",
    "ask_privacy",
    "ask_report",
    "choose_pseudonym",
    "ask_support",
    "express_distress",
    "self_harm_risk",
    "safety_concern",
    "share_information",
    "delete_my_data",
    "opt_out",
    "complaint",
)
FALLBACK_INTENT = "nlu_fallback"
URGENT_INTENTS = frozenset({"self_harm_risk", "safety_concern"})
SENSITIVE_INTENTS = frozenset({"express_distress", "share_information", "complaint", "request_advocate"})


def triage_for(intent: str) -> Triage:
    """How quickly a human must see a message with this intent."""
    if intent in URGENT_INTENTS:
        return "urgent"
    if intent in SENSITIVE_INTENTS:
        return "sensitive"
    return "none"


@dataclass(frozen=True)
class Parse:
    """What one message seems to mean, in Rasa's /model/parse shape plus language and triage."""

    text: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    language: str | None = None
    triage: Triage = "none"
    entities: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Rasa's /model/parse response, with our language and triage keys added."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 4)},
            "intent_ranking": [{"name": n, "confidence": round(c, 4)} for n, c in self.ranking],
            "entities": self.entities,
            "language": self.language,
            "triage": self.triage,
        }


class NLU(Protocol):
    """A backend that understands free text (keyword, embedded classifier, or a Rasa server)."""

    def parse(self, text: str, language: str | None = None, *, free_text: bool = True) -> Parse:
        """Understand one message; `language` is the person's chosen language, if known.

        `free_text=False`: a quick-reply label or a command word, which skips the costly models.
        """
        ...
