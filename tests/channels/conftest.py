"""Fixtures for the channel tests: provider stand-ins, a service configured to use them, helpers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.channels.dispatcher import DispatchConfig, Dispatcher
from bot.channels.wiring import build_senders
from bot.nlu.base import NLU
from bot.service import Service, build_service
from bot.settings import Settings
from bot.storage.models import utcnow
from bot.web.app import create_app
from tests.channels.standins import Server, StandIn

PUBLIC = "https://dhr.example.org"
TG_TOKEN = "123456:TEST-token"
TG_SECRET = "tg-webhook-secret-0123456789"
TW_SID = "AC" + "1" * 32
TW_TOKEN = "twilio-auth-token-for-tests"
SMS_FROM = "+447700900000"
WA_FROM = "whatsapp:+447700900999"
TEMPLATE = "HX" + "a" * 32


@pytest.fixture(scope="session")
def standin_server() -> Iterator[tuple[StandIn, Server]]:
    standin = StandIn(twilio_auth=(TW_SID, TW_TOKEN))
    with Server(standin.app()) as server:
        standin.url = server.url
        yield standin, server


@pytest.fixture
def standin(standin_server: tuple[StandIn, Server]) -> Iterator[StandIn]:
    """The providers' APIs on loopback, with no calls recorded yet."""
    stand, _server = standin_server
    stand.reset()
    yield stand
    stand.reset()


@pytest.fixture
def channel_settings(settings: Settings, standin: StandIn) -> Settings:
    """The test settings, with Telegram and Twilio pointed at the stand-ins."""
    return settings.model_copy(
        update={
            "public_base_url": PUBLIC,
            "telegram_bot_token": TG_TOKEN,
            "telegram_webhook_secret": TG_SECRET,
            "telegram_api_base_url": standin.url,
            "twilio_account_sid": TW_SID,
            "twilio_auth_token": TW_TOKEN,
            "twilio_sms_from": SMS_FROM,
            "twilio_whatsapp_from": WA_FROM,
            "twilio_api_base_url": standin.url,
            "twilio_whatsapp_template_sid": TEMPLATE,
        }
    )


@pytest.fixture
def channel_service(channel_settings: Settings, nlu: NLU) -> Iterator[Service]:
    svc = build_service(channel_settings, nlu=nlu)
    yield svc
    svc.db.dispose()


@pytest.fixture
def client(channel_service: Service) -> Iterator[TestClient]:
    """The whole web app, with its lifespan running (python-telegram-bot is started in it)."""
    with TestClient(create_app(channel_service), base_url=PUBLIC) as c:
        yield c


class Clock:
    """Real time, moved forward by hand, or frozen at a moment."""

    def __init__(self) -> None:
        self.offset = timedelta(0)
        self.frozen: datetime | None = None

    def __call__(self) -> datetime:
        return self.frozen if self.frozen is not None else utcnow() + self.offset

    def advance(self, **kw: float) -> None:
        if self.frozen is not None:
            self.frozen += timedelta(**kw)
        self.offset += timedelta(**kw)

    def freeze(self, moment: datetime) -> None:
        self.frozen = moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_dispatcher(channel_service: Service, clock: Clock) -> Iterator[Any]:
    """Dispatchers with real senders pointed at the stand-ins, on the test's clock."""
    made: list[Dispatcher] = []

    def make(**config: Any) -> Dispatcher:
        cfg = DispatchConfig(whatsapp_template_sid=TEMPLATE, **{"idle_sleep": 0.01, **config})
        d = Dispatcher(channel_service, build_senders(channel_service.settings), config=cfg, clock=clock)
        made.append(d)
        return d

    yield make
    for d in made:
        for sender in set(d.senders.values()):
            sender.close()


# ---------------------------------------------------------------------- provider requests
def twilio_post(
    client: TestClient,
    form: dict[str, str],
    path: str = "/webhooks/twilio",
    *,
    token: str = TW_TOKEN,
    sign: bool = True,
    signature: str | None = None,
) -> Any:
    """POST a form the way Twilio does, signed with the real RequestValidator algorithm."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if sign:
        headers["X-Twilio-Signature"] = signature or RequestValidator(token).compute_signature(PUBLIC + path, form)
    return client.post(path, content=urlencode(form), headers=headers)


_sid = iter(range(1, 10**9))


def sms(
    text: str, frm: str = "+447700900123", *, whatsapp: bool = False, sid: str | None = None, **extra: str
) -> dict[str, str]:
    """A Twilio messaging webhook form."""
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "MessageSid": sid or f"SM{next(_sid):032d}",
        "AccountSid": TW_SID,
        "From": prefix + frm,
        "To": WA_FROM if whatsapp else SMS_FROM,
        "Body": text,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


_update = iter(range(10_000, 10**9))


def tg_message(
    text: str, chat_id: int = 777001, *, update_id: int | None = None, language: str = "en", **extra: Any
) -> dict[str, Any]:
    """A Telegram update carrying a private message, as the Bot API posts it."""
    uid = update_id or next(_update)
    user = {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": language}
    message: dict[str, Any] = {
        "message_id": uid,
        "date": int(utcnow().timestamp()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
        "from": user,
    }
    if text:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    message.update(extra)
    return {"update_id": uid, "message": message}


def tg_callback(
    data: str, chat_id: int = 777001, *, update_id: int | None = None, message_id: int = 1
) -> dict[str, Any]:
    """A Telegram update for a tap on an inline keyboard button."""
    uid = update_id or next(_update)
    user = {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"}
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"cb{uid}",
            "from": user,
            "chat_instance": "ci1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(utcnow().timestamp()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Sam"},
                "from": {"id": 4242, "is_bot": True, "first_name": "DHR"},
                "text": "question",
            },
        },
    }


def tg_post(client: TestClient, update: dict[str, Any] | str, *, secret: str | None = TG_SECRET) -> Any:
    """POST an update the way Telegram does, with the secret token header."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, str) else json.dumps(update)
    return client.post("/webhooks/telegram", content=body, headers=headers)
