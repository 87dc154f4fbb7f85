"""Messaging channels (Telegram, SMS, WhatsApp), their webhooks and the outbox dispatcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

    from bot.service import Service
    from bot.web.turns import TurnThreads


def channels_router(service: Service, turns: TurnThreads) -> APIRouter:
    """The provider webhooks, to mount on the web app."""
    from bot.channels.router import channels_router as build

    return build(service, turns)
