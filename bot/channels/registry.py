"""Every channel in one table: its name, whether it is sent from the outbox, and how it treats privacy.

The dialogue engine, the outbox dispatcher and the web app read what they need from here and never
name a channel themselves. This table is plain data; `bot.channels.wiring` builds each channel's
sender and webhook routes from it. Adding a channel is one entry here and one in the wiring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.policy import WHATSAPP_WINDOW
from bot.dialogue.messages import discreet_notice


@dataclass(frozen=True)
class Channel:
    """What the rest of the service needs to know about one way of reaching a person."""

    name: str
    # Replies to a turn are shown at once in the request that sent the message (the web page, the
    # terminal); otherwise they wait in the outbox for the dispatcher.
    synchronous: bool
    # Whether the outbox dispatcher sends this channel's messages (through a sender built in the wiring).
    dispatched: bool = True
    # The wording sent instead of the content to a person in discreet mode, because the channel shows
    # a preview on a lock screen; None when the channel shows nothing outside the conversation.
    discreet_preview: Callable[[], str] | None = None
    # Whether a new message makes the device ring or show it (then safe days and times apply).
    notifies: bool = True
    # A provider window after the person's last message, outside which only approved templates go.
    reply_window: timedelta | None = None
    # Addresses that last only as long as a browser session: the person needs a code to come back.
    ephemeral: bool = False
    # The channel itself always shows the emergency number (the web chat's notice): the greeting need not.
    shows_emergency_number: bool = False

    def outside_reply_window(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """Whether only an approved template may go now (WhatsApp: nothing from the person in 24 hours)."""
        if self.reply_window is None:
            return False
        return last_inbound_at is None or now - last_inbound_at >= self.reply_window


_CHANNELS = (
    Channel("sms", synchronous=False, discreet_preview=discreet_notice),
    Channel("whatsapp", synchronous=False, discreet_preview=discreet_notice, reply_window=WHATSAPP_WINDOW),
    Channel("telegram", synchronous=False, discreet_preview=discreet_notice),
    # The web chat answers in the page at once; anything sent later (an advocate's reply, a reminder, an
    # update) goes through the outbox to the open page. Nothing shows outside the page, so neither
    # discreet previews nor safe times apply, and the browser session ends when the browser closes.
    Channel("web", synchronous=True, notifies=False, ephemeral=True, shows_emergency_number=True),
    Channel("cli", synchronous=True, dispatched=False),  # `dhrbot chat`: the terminal shows replies at once
)
CHANNELS: dict[str, Channel] = {c.name: c for c in _CHANNELS}


def channel(name: str) -> Channel:
    """The channel with this name; an unknown one says what to do."""
    try:
        return CHANNELS[name]
    except KeyError:
        known = ", ".join(CHANNELS)
        raise KeyError(f"unknown channel {name!r}: add it to bot/channels/registry.py (known: {known})") from None
