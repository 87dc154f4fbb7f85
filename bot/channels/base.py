"""What every messaging channel offers the dispatcher: send one message, or say why it could not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.dialogue.messages import Choice, Outbound


@dataclass(frozen=True)
class Delivery:
    """One send to a provider: who to, what, and (WhatsApp only) an approved template instead of text."""

    channel: str  # sms | whatsapp | telegram
    address: str  # phone number in E.164, or Telegram chat id
    reply: Outbound
    template_sid: str | None = None  # WhatsApp content template, used outside the 24-hour window
    parts_done: int = 0  # parts of a long message the provider already has: a retry goes on after them
    # An earlier attempt from this moment may have reached the provider: look before sending again.
    unsure_since: datetime | None = None
    # Told after each part the provider accepted (part number, of how many, its id); raises ClaimLost to stop.
    on_part: Callable[[int, int, str], None] | None = field(default=None, compare=False, repr=False)

    def part_sent(self, number: int, of: int, provider_id: str) -> None:
        """Record one part as sent, so that a retry never sends it again."""
        if self.on_part is not None:
            self.on_part(number, of, provider_id)


class SendError(Exception):
    """A send that did not happen; `temporary` ones are retried with back-off."""

    def __init__(self, detail: str, *, temporary: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.temporary = temporary
        self.retry_after = retry_after


class AmbiguousSend(SendError):
    """The request reached the provider, but no answer came in time: the message may have been sent.

    `checkable`: the provider can be asked afterwards whether it has the message (Twilio can list
    what was sent to a number; Telegram's Bot API cannot)."""

    def __init__(self, detail: str, *, checkable: bool) -> None:
        super().__init__(detail, temporary=True)
        self.checkable = checkable


class ClaimLost(Exception):
    """Another dispatcher holds this message now: stop sending it."""


class RecipientBlocked(SendError):
    """The person opted out at the provider (Twilio 21610) or blocked the bot (Telegram 403)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, temporary=False)


class Sender(Protocol):
    """The output side of a channel: only sending is required; buttons degrade to numbered text."""

    channels: frozenset[str]

    def send(self, delivery: Delivery) -> str:
        """Send and return the provider's id for the message; raise SendError otherwise."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def reply_from_row(body: str, choices: list[dict[str, str]] | None) -> Outbound:
    """The stored outbox row as a reply again (its choices become buttons or numbered options)."""
    return Outbound(text=body, choices=tuple(Choice(c["value"], c["label"]) for c in choices or ()))


def split_text(text: str, limit: int) -> list[str]:
    """Text cut into parts a provider accepts, at paragraph, line or word boundaries where possible."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit  # one very long word: cut it
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return [p for p in parts if p] or [""]
