"""Which messages are free text worth the sentence encoder, and which are a button, a label or a command."""

from __future__ import annotations

from sqlalchemy import select

from bot.dialogue.messages import Choice
from bot.dialogue.turn import Turn, pick
from bot.dialogue.words import COMMANDS
from bot.storage.models import Message

# Quick-reply labels are short ("Yes", "Not now", "A meeting with the chair"); longer text is free text.
LONGEST_LABEL_WORDS = 8


def last_offered_choices(turn: Turn) -> list[Choice]:
    """The quick replies the bot offered in its last message to this person (none for someone new)."""
    if turn.contact.id is None:
        return []
    stored = turn.session.scalar(
        select(Message.choices)
        .where(Message.contact_id == turn.contact.id, Message.direction == "out", Message.choices.is_not(None))
        .order_by(Message.id.desc())
        .limit(1)
    )
    return [Choice(c["value"], c["label"]) for c in stored or ()]


def is_free_text(turn: Turn) -> bool:
    """False for a command word or a quick reply the bot just offered: those never reach the encoder."""
    text = turn.text
    if len(text.split()) > LONGEST_LABEL_WORDS:
        return True
    if any(turn.is_word(key) for key in COMMANDS):
        return False
    choices = last_offered_choices(turn)
    # Only a label or value, not a number: numbers never reach the NLU at all.
    return not choices or pick(text, choices) is None or text.strip().isdigit()
