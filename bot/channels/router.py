"""The provider webhooks: Telegram and Twilio in, the engine answers, replies wait in the outbox."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from telegram import Update
from telegram.ext import Application

from bot.channels import telegram as tg
from bot.channels import twilio_channel as tw
from bot.channels.delivery import record_delivery_status, stale_tap
from bot.channels.dispatcher import nudge
from bot.dialogue.messages import Inbound
from bot.service import Service
from bot.web.turns import TurnThreads

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
SIGNATURE_HEADER = "X-Twilio-Signature"


class _LazyTelegram:
    """The python-telegram-bot Application, started on the first update (it calls getMe)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self.app is None:
            async with self._lock:
                if self.app is None:
                    db = self.service.db
                    app = tg.build_application(self.service.settings, tap_check=lambda pid: stale_tap(db, pid))
                    await app.initialize()
                    self.app = app
        return self.app

    async def shutdown(self) -> None:
        if self.app is not None:
            await self.app.shutdown()
            self.app = None


def channels_router(service: Service, turns: TurnThreads) -> APIRouter:
    """Routes for POST /webhooks/telegram, /webhooks/twilio and /webhooks/twilio/status."""
    settings = service.settings
    telegram = _LazyTelegram(service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await telegram.shutdown()

    router = APIRouter(prefix="/webhooks", include_in_schema=True, lifespan=lifespan)

    @router.post("/telegram")
    async def telegram_webhook(request: Request) -> Response:
        """One Telegram update; the secret token Telegram echoes back is checked in constant time."""
        secret = settings.telegram_webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not settings.telegram_bot_token or not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            data: Any = await request.json()
        except ValueError:
            return Response("malformed JSON", status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response("not a Telegram update", status_code=400)
        # Telegram retries an update it thinks we missed. Handling a repeated button tap or voice note
        # again would answer the tap or fetch the file again, so those are looked up first; a repeated
        # text message is caught by the engine itself (a unique provider id), saving a query.
        message = data.get("message")
        plain_text = isinstance(message, dict) and isinstance(message.get("text"), str)
        seen = Inbound(channel=tg.CHANNEL, address="", text="", provider_message_id=str(data["update_id"]))
        if not plain_text and await turns.run(service.engine.is_duplicate, seen):
            return Response(status_code=200)
        app = await telegram.get()
        try:
            update = Update.de_json(data, app.bot)
        except (AttributeError, KeyError, TypeError, ValueError):
            return Response("not a Telegram update", status_code=400)
        for inbound in await tg.collect_inbound(app, update):
            await turns.run(service.engine.handle, inbound)
            nudge()
        return Response(status_code=200)

    async def signed_form(request: Request) -> dict[str, str] | None:
        """The form Twilio posted, if its X-Twilio-Signature matches; None otherwise."""
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - an unparseable body is simply not a signed Twilio request
            return None
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        url = tw.signed_url(settings.public_base_url, request.url.path, request.url.query)
        if not tw.signature_ok(settings, url, params, request.headers.get(SIGNATURE_HEADER)):
            return None
        return params

    @router.post("/twilio")
    async def twilio_webhook(request: Request) -> Response:
        """One SMS or WhatsApp message; answered with empty TwiML, the replies go out from the outbox."""
        params = await signed_form(request)
        if params is None:
            return Response(status_code=403)
        bare = tw.inbound_from_form(params)
        if not bare.provider_message_id or not bare.address:
            return Response("MessageSid and From are required", status_code=400)
        refs = tw.media_refs(params)
        if not refs:
            # The engine itself ignores a MessageSid it has already stored (Twilio retried).
            await turns.run(service.engine.handle, bare)
        elif not await turns.run(service.engine.is_duplicate, bare):  # don't fetch media twice
            media = await tw.fetch_media(settings, refs)
            await turns.run(service.engine.handle, tw.inbound_from_form(params, media))
        nudge()
        return Response(tw.EMPTY_TWIML, media_type="text/xml")

    @router.post("/twilio/status")
    async def twilio_status(request: Request) -> Response:
        """A delivery receipt for one of our messages."""
        params = await signed_form(request)
        if params is None:
            return Response(status_code=403)
        sid, status = params.get("MessageSid", ""), params.get("MessageStatus", "")
        if not sid or not status:
            return Response("MessageSid and MessageStatus are required", status_code=400)
        found = await turns.run(record_delivery_status, service.db, sid, status, params.get("ErrorCode"))
        if not found:
            log.info("delivery status for an unknown message id")
        return Response(status_code=200)

    return router
