"""Telegram through python-telegram-bot, inside our own ASGI app (webhook) or polling for development."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import httpx
from telegram import Audio, Bot, Document, InlineKeyboardButton, InlineKeyboardMarkup, Message, PhotoSize, Update, Voice
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import AmbiguousSend, Delivery, RecipientBlocked, SendError, split_text
from bot.dialogue.messages import Inbound, Media
from bot.i18n import _, use_language
from bot.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096  # the Bot API's limit for one message
MAX_MEDIA_BYTES = 20 * 1024 * 1024  # the Bot API's own download limit

# A webhook request collects the messages its update carried here, and hands them to the engine
# itself, so that a failure answers 500 (Telegram retries) instead of being swallowed by the library.
_COLLECTED: ContextVar[list[Inbound] | None] = ContextVar("telegram_collected", default=None)

OnInbound = Callable[[Inbound], Awaitable[None]]
# "<chat id>:<message id>" of the message whose button was tapped -> (is it out of date, person's language)
TapCheck = Callable[[str], tuple[bool, str | None]]


def api_urls(settings: Settings) -> tuple[str, str]:
    """The Bot API and file URLs for the configured server (a local stand-in in tests)."""
    base = settings.telegram_api_base_url.rstrip("/")
    return f"{base}/bot", f"{base}/file/bot"


def build_application(
    settings: Settings,
    on_inbound: OnInbound | None = None,
    *,
    polling: bool = False,
    tap_check: TapCheck | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The library's Application with our handlers; webhook mode has no updater of its own."""
    base_url, file_url = api_urls(settings)
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        Application.builder().token(settings.telegram_bot_token).base_url(base_url)
    )
    builder = builder.base_file_url(file_url)
    if not polling:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data["on_inbound"] = on_inbound
    app.bot_data["tap_check"] = tap_check
    private = filters.ChatType.PRIVATE  # never talk in groups: others would read the conversation
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, on_message))
    app.add_handler(CallbackQueryHandler(on_callback))
    return app


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message from a person: text, a /start deep link, a voice note or a photo."""
    msg = update.message
    if msg is None or update.effective_chat is None:
        return
    text = msg.text or msg.caption or ""
    if text.startswith("/start"):
        # Deep link t.me/<bot>?start=K7MQ2XPB arrives as "/start K7MQ2XPB": an invitation code.
        code = text.split(maxsplit=1)[1].strip() if len(text.split(maxsplit=1)) > 1 else ""
        text = f"JOIN {code}" if code else "/start"
    media = await _media_of(msg)
    user = update.effective_user
    inbound = Inbound(
        channel=CHANNEL,
        address=str(update.effective_chat.id),
        text=text,
        provider_message_id=str(update.update_id),
        media=media,
        language_hint=user.language_code if user else None,
    )
    await _deliver(inbound, context)


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a quick-reply button: answered at once, and read as the option's number."""
    query = update.callback_query
    if query is None:
        return
    chat = update.effective_chat
    if chat is None or chat.type != "private" or not query.data:
        await query.answer()
        return
    check: TapCheck | None = context.bot_data.get("tap_check")
    if check is not None and query.message is not None:
        # A number means an option of the question being asked now: a tap on an older keyboard would
        # answer the wrong question (say, consent to share), so it is refused with a short notice.
        stale, language = await asyncio.to_thread(check, f"{chat.id}:{query.message.message_id}")
        if stale:
            with use_language(language):
                notice = _("Those buttons belong to an earlier message. Please use the newest ones.")
            await query.answer(notice)
            return
    await query.answer()
    inbound = Inbound(
        channel=CHANNEL,
        address=str(chat.id),
        text=str(query.data),
        provider_message_id=str(update.update_id),
        language_hint=query.from_user.language_code if query.from_user else None,
    )
    await _deliver(inbound, context)


async def _deliver(inbound: Inbound, context: ContextTypes.DEFAULT_TYPE) -> None:
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(inbound)
        return
    on_inbound: OnInbound | None = context.bot_data.get("on_inbound")
    if on_inbound is not None:
        await on_inbound(inbound)


async def _media_of(msg: Message) -> tuple[Media, ...]:
    """The bytes of a voice note, audio, photo or document, fetched through the Bot API."""
    item: Voice | Audio | PhotoSize | Document
    if msg.voice:
        item, content_type = msg.voice, msg.voice.mime_type or "audio/ogg"
    elif msg.audio:
        item, content_type = msg.audio, msg.audio.mime_type or "audio/mpeg"
    elif msg.photo:
        item, content_type = msg.photo[-1], "image/jpeg"  # the largest size is last
    elif msg.document:
        item, content_type = msg.document, msg.document.mime_type or "application/octet-stream"
    else:
        return ()
    if item.file_size and item.file_size > MAX_MEDIA_BYTES:
        log.warning("telegram media of %s bytes not fetched (over the limit)", item.file_size)
        return ()
    file = await item.get_file()
    data = await file.download_as_bytearray()
    return (Media(content_type=content_type, data=bytes(data)),)


async def collect_inbound(app: Application[Any, Any, Any, Any, Any, Any], update: Update) -> list[Inbound]:
    """Run one webhook update through the handlers and return the messages it carried."""
    collected: list[Inbound] = []
    token = _COLLECTED.set(collected)
    try:
        await app.process_update(update)
    finally:
        _COLLECTED.reset(token)
    return collected


def keyboard(delivery: Delivery) -> InlineKeyboardMarkup | None:
    """Quick replies as inline buttons, one a row; the callback data is the option's number."""
    if not delivery.reply.choices:
        return None
    rows = [
        [InlineKeyboardButton(c.label, callback_data=str(n))] for n, c in enumerate(delivery.reply.choices, start=1)
    ]
    return InlineKeyboardMarkup(rows)


class TelegramSender:
    """Sends from a dispatcher thread, on that thread's own event loop."""

    channels = frozenset({CHANNEL})

    def __init__(self, settings: Settings) -> None:
        base_url, file_url = api_urls(settings)
        self._bot = Bot(settings.telegram_bot_token, base_url=base_url, base_file_url=file_url)
        self._loop = asyncio.new_event_loop()

    def send(self, delivery: Delivery) -> str:
        """Send one message; returns "<chat id>:<message id>"."""
        return self._loop.run_until_complete(self._send(delivery))

    async def _send(self, delivery: Delivery) -> str:
        # The Bot API cannot list what a bot sent, so `delivery.unsure_since` cannot be checked here.
        provider_id = ""
        try:
            parts = split_text(delivery.reply.text, MAX_TEXT)
            for n, part in enumerate(parts, start=1):  # the buttons go with the last part
                if n <= delivery.parts_done:
                    continue  # the person has this part already
                markup = keyboard(delivery) if n == len(parts) else None
                sent = await self._bot.send_message(chat_id=int(delivery.address), text=part, reply_markup=markup)
                provider_id = f"{sent.chat_id}:{sent.message_id}"
                delivery.part_sent(n, len(parts), provider_id)
        except Forbidden as exc:  # "bot was blocked by the user", "user is deactivated"
            raise RecipientBlocked(f"telegram 403: {exc.message}") from exc
        except RetryAfter as exc:
            with warnings.catch_warnings():  # an int now, a timedelta in a later major version
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                retry = exc.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            raise SendError(f"telegram flood control: {exc.message}", temporary=True, retry_after=seconds) from exc
        except BadRequest as exc:  # a subclass of NetworkError, but never worth retrying
            raise SendError(f"telegram 400: {exc.message}", temporary=False) from exc
        except TimedOut as exc:
            if isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
                raise SendError(f"telegram network: {exc.message}", temporary=True) from exc  # never left us
            raise AmbiguousSend(f"telegram: no answer in time ({exc.message})", checkable=False) from exc
        except NetworkError as exc:
            raise SendError(f"telegram network: {exc.message}", temporary=True) from exc
        except TelegramError as exc:
            raise SendError(f"telegram: {exc.message}", temporary=True) from exc
        return provider_id

    def close(self) -> None:
        """Close the HTTP connections and the loop."""
        try:
            self._loop.run_until_complete(self._bot.shutdown())
        finally:
            self._loop.close()


async def set_webhook(settings: Settings) -> bool:
    """Register PUBLIC_BASE_URL/webhooks/telegram with the secret Telegram will send back to us."""
    base_url, file_url = api_urls(settings)
    async with Bot(settings.telegram_bot_token, base_url=base_url, base_file_url=file_url) as bot:
        return await bot.set_webhook(
            url=settings.public_base_url.rstrip("/") + "/webhooks/telegram",
            secret_token=settings.telegram_webhook_secret,
            allowed_updates=["message", "callback_query"],
        )
