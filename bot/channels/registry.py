"""Every channel in one table: its name, webhook routes, sender, and how it treats the person's privacy.

The dialogue engine, the outbox dispatcher and the web app read what they need from here and never
name a channel themselves. Adding a channel is one entry in `_CHANNELS` (and its module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.channels.policy import WHATSAPP_WINDOW
from bot.i18n import _

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.channels.base import Sender
    from bot.service import Service
    from bot.settings import Settings
    from bot.web.turns import TurnThreads

SenderFactory = Callable[["Settings"], "Sender | None"]
RouterFactory = Callable[["Service", "TurnThreads"], "APIRouter"]


def discreet_notice() -> str:
    """The neutral words sent instead of the content when others may see the person's phone."""
    return _("You have a new message. Reply to read it.")


@dataclass(frozen=True)
class Channel:
    """What the rest of the service needs to know about one way of reaching a person."""

    name: str
    # Replies to a turn are shown at once in the request that sent the message (the web page, the
    # terminal); otherwise they wait in the outbox for the dispatcher.
    synchronous: bool
    # Builds the output side, or None when the channel is not configured (no credentials).
    sender: SenderFactory | None = None
    # Builds the routes the channel receives messages on (provider webhooks, the web chat).
    router: RouterFactory | None = None
    # The wording sent instead of the content to a person in discreet mode, because the channel shows
    # a preview on a lock screen; None when the channel shows nothing outside the conversation.
    discreet_preview: Callable[[], str] | None = None
    # Whether a new message makes the device ring or show it (then safe days and times apply).
    notifies: bool = True
    # A provider window after the person's last message, outside which only approved templates go.
    reply_window: timedelta | None = None
    # Addresses that last only as long as a browser session: the person needs a code to come back.
    ephemeral: bool = False

    @property
    def dispatched(self) -> bool:
        """Whether the outbox dispatcher sends this channel's messages."""
        return self.sender is not None

    def outside_reply_window(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """Whether only an approved template may go now (WhatsApp: nothing from the person in 24 hours)."""
        if self.reply_window is None:
            return False
        return last_inbound_at is None or now - last_inbound_at >= self.reply_window


# ---------------------------------------------------------------------------------------- factories
def _telegram_sender(settings: Settings) -> Sender | None:
    if not settings.telegram_bot_token:
        return None
    from bot.channels.telegram import TelegramSender

    return TelegramSender(settings)


def _twilio_sender(settings: Settings) -> Sender | None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None
    from bot.channels.twilio_channel import TwilioSender

    return TwilioSender(settings)


def _web_sender(settings: Settings) -> Sender | None:
    from bot.web.live import WebSender

    return WebSender()


def _provider_webhooks(service: Service, turns: TurnThreads) -> APIRouter:
    from bot.channels.router import channels_router

    return channels_router(service, turns)


def _web_chat(service: Service, turns: TurnThreads) -> APIRouter:
    from bot.web.chat import chat_router

    return chat_router(service, turns)


_CHANNELS = (
    Channel(
        "sms", synchronous=False, sender=_twilio_sender, router=_provider_webhooks, discreet_preview=discreet_notice
    ),
    Channel(
        "whatsapp",
        synchronous=False,
        sender=_twilio_sender,
        router=_provider_webhooks,
        discreet_preview=discreet_notice,
        reply_window=WHATSAPP_WINDOW,
    ),
    Channel(
        "telegram",
        synchronous=False,
        sender=_telegram_sender,
        router=_provider_webhooks,
        discreet_preview=discreet_notice,
    ),
    # The web chat answers in the page at once; anything sent later (an advocate's reply, a reminder, an
    # update) goes through the outbox to the open page. Nothing shows outside the page, so neither
    # discreet previews nor safe times apply, and the browser session ends when the browser closes.
    Channel("web", synchronous=True, sender=_web_sender, router=_web_chat, notifies=False, ephemeral=True),
    Channel("cli", synchronous=True),  # `dhrbot chat`: the terminal shows replies at once
)
CHANNELS: dict[str, Channel] = {c.name: c for c in _CHANNELS}


def channel(name: str) -> Channel:
    """The channel with this name; an unknown one says what to do."""
    try:
        return CHANNELS[name]
    except KeyError:
        known = ", ".join(CHANNELS)
        raise KeyError(f"unknown channel {name!r}: add it to bot/channels/registry.py (known: {known})") from None


def build_senders(settings: Settings) -> list[Sender]:
    """One sender for each configured output side (SMS and WhatsApp share Twilio's)."""
    senders: list[Sender] = []
    built: set[SenderFactory] = set()
    for c in _CHANNELS:
        if c.sender is None or c.sender in built:
            continue
        built.add(c.sender)
        sender = c.sender(settings)
        if sender is not None:
            senders.append(sender)
    return senders


def routers(service: Service, turns: TurnThreads) -> list[APIRouter]:
    """The routes every channel receives messages on, each built once."""
    factories = list(dict.fromkeys(c.router for c in _CHANNELS if c.router is not None))
    return [factory(service, turns) for factory in factories]
