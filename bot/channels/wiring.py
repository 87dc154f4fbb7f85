"""How each channel in the registry is built: its sender (the output side) and its webhook routes.

Kept apart from the registry so that the dialogue engine can read the registry without depending on
every provider's client library and on the web app.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter

from bot.channels.base import Sender
from bot.channels.registry import CHANNELS
from bot.service import Service
from bot.settings import Settings
from bot.web.turns import TurnThreads

SenderFactory = Callable[[Settings], Sender | None]
RouterFactory = Callable[[Service, TurnThreads], APIRouter]


def _telegram_sender(settings: Settings) -> Sender | None:
    if not settings.telegram_bot_token:
        return None  # not configured
    from bot.channels.telegram import TelegramSender

    return TelegramSender(settings)


def _twilio_sender(settings: Settings) -> Sender | None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        return None  # not configured
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


# Per channel: what sends its messages (SMS and WhatsApp share Twilio's), and where it receives them.
SENDERS: dict[str, SenderFactory] = {
    "sms": _twilio_sender,
    "whatsapp": _twilio_sender,
    "telegram": _telegram_sender,
    "web": _web_sender,
}
ROUTERS: dict[str, RouterFactory] = {
    "sms": _provider_webhooks,
    "whatsapp": _provider_webhooks,
    "telegram": _provider_webhooks,
    "web": _web_chat,
}
assert set(SENDERS) == {name for name, c in CHANNELS.items() if c.dispatched}, "every dispatched channel has a sender"


def build_senders(settings: Settings) -> list[Sender]:
    """One sender for each configured output side (SMS and WhatsApp share Twilio's)."""
    senders: list[Sender] = []
    for factory in dict.fromkeys(SENDERS.values()):
        sender = factory(settings)
        if sender is not None:
            senders.append(sender)
    return senders


def routers(service: Service, turns: TurnThreads) -> list[APIRouter]:
    """The routes every channel receives messages on, each built once."""
    return [factory(service, turns) for factory in dict.fromkeys(ROUTERS.values())]
