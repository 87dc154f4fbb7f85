"""The channel-neutral shape of a message coming in and of the bot's replies going out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import _
from bot.storage.models import utcnow


def discreet_notice() -> str:
    """The neutral words a person in discreet mode sees instead of a message we send first.

    The channel registry sends these as the stand-in for a discreet person's message, so what first
    contact promises is, word for word, what their phone shows.
    """
    return _("You have a new message. Reply to read it.")


@dataclass(frozen=True)
class Media:
    """A voice note, photo or file a person sent (bytes fetched at the channel edge)."""

    content_type: str
    data: bytes


@dataclass(frozen=True)
class Inbound:
    """One message from a person, normalised at the channel edge."""

    channel: str  # sms | whatsapp | telegram | web | cli
    address: str  # phone number, Telegram chat id, web session id
    text: str
    provider_message_id: str | None = None  # for idempotency: a repeat changes nothing
    media: tuple[Media, ...] = ()
    language_hint: str | None = None  # e.g. Telegram's language_code; only a hint
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Choice:
    """A quick reply: what the person sees, and the value the bot acts on."""

    value: str
    label: str


@dataclass(frozen=True)
class Outbound:
    """One reply: text plus optional quick replies that degrade to numbered options."""

    text: str
    choices: tuple[Choice, ...] = ()
    many: bool = False  # several choices may be picked ("1 3 5")

    def as_plain_text(self) -> str:
        """The reply for channels without buttons (SMS): choices become a numbered list."""
        if not self.choices:
            return self.text
        lines = [f"{n}. {c.label}" for n, c in enumerate(self.choices, start=1)]
        return self.text + "\n\n" + "\n".join(lines)
