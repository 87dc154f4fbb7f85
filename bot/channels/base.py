"""What every messaging channel offers the dispatcher: send one message, or say why it could not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.dialogue.messages import Choice, Outbound


@dataclass(frozen=True)
class Delivery:
    """One send to a provider: who to, what, and (WhatsApp only) an approved template instead of text."""

    channel: str  # sms | whatsapp | telegram
    address: str  # phone number in E.164, or Telegram chat id
    reply: Outbound
    template_sid: str | None = None  # WhatsApp content template, used outside the 24-hour window


class SendError(Exception):
    """A send that did not happen; `temporary` ones are retried with back-off."""

    def __init__(self, detail: str, *, temporary: bool, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.temporary = temporary
        self.retry_after = retry_after


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
