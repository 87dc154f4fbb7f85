"""A small keyword NLU: the fallback used when the trained classifier is not available."""

from __future__ import annotations

import re

from bot.nlu.base import FALLBACK_INTENT, Parse, triage_for

_KEYWORDS: list[tuple[str, str]] = [
    ("self_harm_risk", r"kill myself|end (it|my life)|don'?t want to (live|be here)|suicid|want to die"),
    ("safety_concern", r"outside my (house|door)|threaten|scared (he|she|they)|hurt me|in danger|forced marriage"),
    ("ask_what_is_review", r"what is (a |the )?review|what'?s a review|dhr|dardr"),
    ("ask_process_steps", r"how long|stages?|steps?|what happens next|timescale"),
    ("ask_how_to_contribute", r"how (can|do) i (take part|help|contribute)|take part"),
    ("request_advocate", r"advocate|talk to (a|someone)|speak to (a|someone)"),
    ("ask_privacy", r"privacy|private|who (can )?sees?|confidential"),
    ("ask_support", r"helpline|support|counsell?ing"),
    ("delete_my_data", r"delete (my|all)|erase|remove my (data|information)"),
    ("thank_you", r"^(thanks|thank you|thx|ty)\b"),
    ("greet", r"^(hi|hello|hey|salam|salaam)\b"),
    ("goodbye", r"^(bye|goodbye)\b"),
    ("affirm", r"^(yes|yeah|yep|ok|okay|sure)\b"),
    ("deny", r"^(no|nope|not really)\b"),
]


class KeywordNLU:
    """Regular expressions over English words; understands little, but never needs training."""

    def parse(self, text: str, language: str | None = None, *, free_text: bool = True) -> Parse:
        """Match the first intent whose keywords appear."""
        low = text.casefold()
        for intent, pattern in _KEYWORDS:
            if re.search(pattern, low):
                return Parse(text, intent, 1.0, [(intent, 1.0)], language, triage_for(intent))
        return Parse(text, FALLBACK_INTENT, 0.0, [], language, "none")
