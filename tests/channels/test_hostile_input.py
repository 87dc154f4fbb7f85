"""Hostile input at the front door: huge texts and bodies, deeply nested JSON, never a server error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.nlu.base import NLU
from bot.service import Service, build_service
from bot.settings import Settings
from bot.storage.models import Message
from bot.web.app import CHAT_COOKIE, create_app
from tests.channels.conftest import PUBLIC, TG_SECRET, sms, tg_message, tg_post, twilio_post

SHORT_CAP = 200  # a small cap, so that the tests show the setting is what is obeyed


@pytest.fixture
def capped_service(channel_settings: Settings, nlu: NLU) -> Iterator[Service]:
    svc = build_service(channel_settings.model_copy(update={"max_message_chars": SHORT_CAP}), nlu=nlu)
    yield svc
    svc.db.dispose()


@pytest.fixture
def capped(capped_service: Service) -> Iterator[TestClient]:
    with TestClient(create_app(capped_service), base_url=PUBLIC) as c:
        yield c


def _inbound(service: Service) -> list[str]:
    with service.db.session() as s:
        return [m.body for m in s.scalars(select(Message).where(Message.direction == "in").order_by(Message.id))]


def _replies(service: Service) -> list[str]:
    with service.db.session() as s:
        return [m.body for m in s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id))]


def _count(service: Service) -> int:
    with service.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message)) or 0


def test_a_telegram_text_over_the_cap_gets_a_kind_reply_and_is_not_read_at_that_size(capped, capped_service):
    tg_post(capped, tg_message("hello", chat_id=41))
    tg_post(capped, tg_message("1", chat_id=41))  # English
    said_before = len(_replies(capped_service))

    response = tg_post(capped, tg_message("word " * 2000, chat_id=41))

    assert response.status_code == 200
    new_replies = _replies(capped_service)[said_before:]
    assert any("too long" in r for r in new_replies), new_replies
    assert any(str(SHORT_CAP) in r for r in new_replies), "the person is told how long a message may be"
    assert all(len(body) <= SHORT_CAP for body in _inbound(capped_service)), "only the start is kept"


def test_an_sms_over_the_cap_gets_a_kind_reply(capped, capped_service):
    response = twilio_post(capped, sms("a" * 5000, frm="+447700900555"))

    assert response.status_code == 200
    assert any("too long" in r for r in _replies(capped_service))
    assert all(len(body) <= SHORT_CAP for body in _inbound(capped_service))


def test_the_web_chat_answers_a_message_over_the_cap_kindly(capped_service):
    # The public address is https, so the chat's cookie is Secure: the browser must be on https too.
    client = TestClient(create_app(capped_service), base_url=PUBLIC)
    client.get("/chat")
    client.post("/chat/start")

    response = client.post("/chat/send", json={"text": "b" * 300})

    assert response.status_code == 200
    assert any("too long" in r["text"] for r in response.json()["replies"])


def test_an_absurdly_large_body_is_refused_before_it_is_parsed(client, channel_service):
    ten_megabytes = tg_message("x" * 10_000_000)
    declared = tg_post(client, ten_megabytes)

    def chunks() -> Iterator[bytes]:
        # No Content-Length: the body arrives in pieces and is counted as it comes.
        yield b'{"update_id": 1, "message": {"text": "'
        for _ in range(40):
            yield b"y" * 100_000
        yield b'"}}'

    streamed = client.post(
        "/webhooks/telegram",
        content=chunks(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )

    assert (declared.status_code, streamed.status_code) == (413, 413)
    assert _count(channel_service) == 0


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_refused_without_a_server_error(client, channel_service, depth):
    nested = "[" * depth + "]" * depth
    update = '{"update_id": 9, "message": {"x": ' + nested + "}}"
    browser = TestClient(create_app(channel_service), base_url=PUBLIC, raise_server_exceptions=False)
    browser.get("/chat")

    telegram = tg_post(client, update)
    chat = browser.post("/chat/send", content='{"text": ' + nested + "}", headers={"content-type": "application/json"})

    assert (telegram.status_code, chat.status_code) == (400, 400)
    assert _count(channel_service) == 0


def test_malformed_bodies_on_every_route_are_never_a_server_error(channel_service):
    browser = TestClient(create_app(channel_service), base_url=PUBLIC, raise_server_exceptions=False)
    browser.get("/chat")
    assert browser.cookies.get(CHAT_COOKIE)
    bodies = [b"", b"\xff\xfe\x00", b"{", b"null", b"[]", b'{"text": 5}', b"a=%ZZ&&==", b"\x00" * 1000]
    paths = ["/chat/send", "/chat/start", "/chat/exit", "/webhooks/telegram", "/webhooks/twilio"]
    paths += [
        "/webhooks/twilio/status",
        "/staff/login",
        "/staff/logout",
        "/staff/tickets/1/reply",
        "/staff/admin/users",
    ]
    content_types = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]
    content_types += ["multipart/form-data; boundary=x", "application/json; charset=utf-99"]
    for path in paths:
        for body in [*bodies, b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"z" * 100]:
            for content_type in content_types:
                response = browser.post(
                    path,
                    content=body,
                    headers={"content-type": content_type, "X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
                )
                assert response.status_code < 500, (path, body, content_type, response.status_code)
