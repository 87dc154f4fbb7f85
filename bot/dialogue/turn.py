"""One turn of a conversation: the message, the person, and reading what they chose."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.content.helplines import Helplines
from bot.dialogue.codes import CodePolicy, ResumeAttempt
from bot.dialogue.messages import Choice, Inbound, Outbound
from bot.dialogue.words import is_command, normalise
from bot.i18n import _
from bot.nlu.base import NLU
from bot.storage.models import Contact


@dataclass
class Turn:
    """One message from a person and everything needed to answer it."""

    session: Session
    contact: Contact
    inbound: Inbound
    nlu: NLU
    helplines: Helplines
    replies: list[Outbound] = field(default_factory=list)
    intent: str | None = None
    detected_language: str | None = None
    too_long: bool = False  # the message was over the length cap; `inbound.text` holds only its start
    max_message_chars: int = 4096
    code_policy: CodePolicy = field(default_factory=CodePolicy)
    resume: ResumeAttempt | None = None  # what came of a RESUME code in this message (checked by the engine)

    def say(self, text: str, choices: Sequence[Choice] = (), many: bool = False) -> None:
        """Queue a reply in the person's language (the caller has already translated it)."""
        self.replies.append(Outbound(text, tuple(choices), many))

    @property
    def text(self) -> str:
        """The words the person sent."""
        return self.inbound.text.strip()

    @property
    def data(self) -> dict[str, Any]:
        """Small bookkeeping for the current state (never personal content)."""
        return self.contact.state_data

    def go(self, state: str, **data: Any) -> None:
        """Move the conversation to a new state."""
        self.contact.state = state
        self.contact.state_data = {**self.contact.state_data, **data}

    def set_data(self, **data: Any) -> None:
        """Update bookkeeping (reassigned, so the change is saved)."""
        self.contact.state_data = {**self.contact.state_data, **data}

    def is_word(self, key: str) -> bool:
        """Whether the message is a command word in the person's language or English."""
        return is_command(self.text, key, self.contact.language or "en")


def ascii_digits(text: str) -> str:
    """Arabic-Indic, Persian, Devanagari and other digits read as 0-9."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def pick(text: str, choices: Sequence[Choice]) -> str | None:
    """The choice a reply names: by its number, its label, or its value."""
    t = normalise(ascii_digits(text)).rstrip(".)")
    if t.isdigit() and 1 <= int(t) <= len(choices):
        return choices[int(t) - 1].value
    for c in choices:
        if t in (normalise(c.label), c.value.lower()):
            return c.value
    return None


def pick_many(text: str, choices: Sequence[Choice]) -> list[str] | None:
    """Several choices from "1 3 5", "1,3" or labels separated by commas; None if any is unclear."""
    whole = pick(text, choices)
    if whole is not None:
        return [whole]
    digits = ascii_digits(text)
    only_numbers = re.fullmatch(r"[\d\s,;،.]+", digits) is not None
    parts = [p for p in re.split(r"[,;،.\s]+" if only_numbers else r"[,;،\n]+", digits) if p.strip()]
    picked: list[str] = []
    for part in parts:
        value = pick(part, choices)
        if value is None:
            return None
        if value not in picked:
            picked.append(value)
    return picked or None


class Step:
    """Common ground for the parts of a conversation: the turn, the person, and the usual replies."""

    # Steps the parts of a conversation call on one another; each is defined in one part.
    show_menu: Callable[[], None]
    to_a_person: Callable[..., None]
    _reprompt: Callable[[], None]
    _continue_form: Callable[[], None]
    _latest_version: Callable[[], Any]
    _help: Callable[[], None]
    start_form: Callable[[], None]
    show_contribute: Callable[[], None]
    offers_contribution: Callable[[Any], bool]
    ask_language: Callable[[], None]
    open_topic: Callable[[str], None]
    _reach_menu: Callable[[], None]
    _messages_while_away: Callable[[], None]
    _code_after_saving: Callable[[], None]

    def __init__(self, turn: Turn) -> None:
        self.t = turn
        self.c = turn.contact

    # Replies every step uses.
    def _yes_no(self) -> list[Choice]:
        return [Choice("yes", _("Yes")), Choice("no", _("No"))]

    def _yes_or_no(self) -> str | None:
        """Yes or no, by button, number, word, or understood intent."""
        t = self.t
        picked = pick(t.text, self._yes_no())
        if picked:
            return picked
        yes, no = t.is_word("yes"), t.is_word("no")
        if yes and no:
            return None  # e.g. Polish "no" means "yeah": ask again rather than guess
        if yes:
            return "yes"
        if no:
            return "no"
        if t.intent == "affirm":
            return "yes"
        if t.intent == "deny":
            return "no"
        return None

    def _sorry(self) -> None:
        self.t.say(_("Sorry, I didn't catch that. Please choose one of the options."))
