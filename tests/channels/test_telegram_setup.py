"""`dhrbot telegram set-webhook` and polling mode, against the Bot API stand-in."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.channels.telegram import build_application, set_webhook
from bot.dialogue.messages import Inbound
from bot.storage.models import Message
from tests.channels.conftest import PUBLIC, TG_SECRET, tg_message


def test_set_webhook_registers_our_url_with_the_secret(channel_settings, standin):
    assert asyncio.run(set_webhook(channel_settings)) is True

    (call,) = standin.sent("telegram", "setWebhook")
    assert call["url"] == PUBLIC + "/webhooks/telegram"
    assert call["secret_token"] == TG_SECRET
    assert call["allowed_updates"] == ["message", "callback_query"]


def test_polling_mode_hands_updates_to_the_engine(channel_service, standin):
    standin.updates.append(tg_message("hello", chat_id=606, update_id=880001))
    seen: list[Inbound] = []

    async def poll() -> None:
        done = asyncio.Event()

        async def on_inbound(inbound: Inbound) -> None:
            await asyncio.to_thread(channel_service.engine.handle, inbound)
            seen.append(inbound)
            done.set()

        app = build_application(channel_service.settings, on_inbound, polling=True)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.01, timeout=0)
            await app.start()
            await asyncio.wait_for(done.wait(), timeout=10)
            await app.updater.stop()
            await app.stop()

    asyncio.run(poll())

    assert [(i.address, i.text, i.provider_message_id) for i in seen] == [("606", "hello", "880001")]
    assert standin.sent("telegram", "deleteWebhook"), "polling removes a webhook first"
    with channel_service.db.session() as s:
        assert s.scalars(select(Message).where(Message.direction == "in")).one().channel == "telegram"
