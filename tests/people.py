"""A person talking to the bot, for tests that read like conversations."""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.engine import Engine
from bot.dialogue.messages import Inbound, Outbound
from bot.storage.models import utcnow


class Person:
    """Someone sending messages on one channel and reading the replies."""

    def __init__(self, engine: Engine, address: str = "+447700900001", channel: str = "sms") -> None:
        self.engine = engine
        self.address = address
        self.channel = channel
        self.replies: list[Outbound] = []
        self.now: datetime = utcnow()
        self._n = 0

    def says(self, text: str) -> str:
        """Send one message; returns everything the bot answered, as the person would read it."""
        self._n += 1
        inbound = Inbound(
            channel=self.channel, address=self.address, text=text,
            provider_message_id=f"{self.address}-{self._n}-{id(self)}", received_at=self.now,
        )  # fmt: skip
        self.replies = self.engine.handle(inbound)
        return self.heard

    @property
    def heard(self) -> str:
        """The last replies, as plain text with numbered options."""
        return "\n".join(r.as_plain_text() for r in self.replies)

    @property
    def options(self) -> list[str]:
        """The labels of the quick replies last offered."""
        offered = [r for r in self.replies if r.choices]
        return [c.label for c in offered[-1].choices] if offered else []

    def option_number(self, label_part: str) -> str:
        """The number to send to pick the option whose label contains these words."""
        for n, label in enumerate(self.options, start=1):
            if label_part.lower() in label.lower():
                return str(n)
        raise AssertionError(f"no option like {label_part!r} in {self.options}")

    def picks(self, label_part: str) -> str:
        """Choose an option by (part of) its label, sending its number like an SMS user would."""
        return self.says(self.option_number(label_part))

    def gets_through_first_contact(self, language: str = "English", others_read: str = "No") -> str:
        """Hello, language, safe to talk, who may read, no code: arrives at the menu."""
        self.says("hello")
        self.picks(language)
        self.picks("Yes")
        self.picks(others_read)
        return self.picks("don't have a code")
