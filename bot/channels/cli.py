"""`dhrbot telegram set-webhook` and `dhrbot telegram poll` (local development without a public URL)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys

from bot.settings import get_settings


def add_channel_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the channel sub-commands."""
    telegram = sub.add_parser("telegram", help="Telegram bot set-up").add_subparsers(
        dest="telegram_command", required=True
    )
    telegram.add_parser("set-webhook", help="register PUBLIC_BASE_URL/webhooks/telegram with the secret").set_defaults(
        func=cmd_set_webhook
    )
    telegram.add_parser("poll", help="fetch updates by polling (development) and dispatch replies").set_defaults(
        func=cmd_poll
    )


def cmd_set_webhook(args: argparse.Namespace) -> int:
    """Tell Telegram where to post updates, and the secret to post with them."""
    from bot.channels.telegram import set_webhook

    settings = get_settings()
    if not settings.telegram_bot_token or not settings.telegram_webhook_secret:
        print("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return 1
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", settings.telegram_webhook_secret):
        print("TELEGRAM_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1 to 256 characters)", file=sys.stderr)
        return 1
    if not settings.public_base_url.startswith("https://"):
        print("warning: Telegram only posts to https:// webhooks; PUBLIC_BASE_URL is not one", file=sys.stderr)
    ok = asyncio.run(set_webhook(settings))
    print(f"webhook {'set' if ok else 'NOT set'}: {settings.public_base_url.rstrip('/')}/webhooks/telegram")
    return 0 if ok else 1


def cmd_poll(args: argparse.Namespace) -> int:
    """Long-poll Telegram (this removes any webhook) and run a dispatcher alongside."""
    from bot.channels.delivery import stale_tap
    from bot.channels.telegram import build_application
    from bot.channels.worker import start_dispatcher_thread
    from bot.dialogue.messages import Inbound
    from bot.service import build_service

    settings = get_settings()
    if not settings.telegram_bot_token:
        print("set TELEGRAM_BOT_TOKEN first", file=sys.stderr)
        return 1
    service = build_service(settings)

    async def on_inbound(inbound: Inbound) -> None:
        await asyncio.to_thread(service.engine.handle, inbound)

    thread, stop = start_dispatcher_thread(service)
    try:
        db = service.db
        app = build_application(settings, on_inbound, polling=True, tap_check=lambda pid: stale_tap(db, pid))
        app.run_polling(allowed_updates=["message", "callback_query"])
    finally:
        stop.set()
        thread.join(timeout=10)
    return 0
