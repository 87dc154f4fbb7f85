"""The family web chat over HTTP: private, uncached, and refusing what it should."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.storage.models import Message
from bot.web.app import CHAT_COOKIE, create_app


def test_chat_page_has_a_quick_exit_and_is_never_cached(service):
    client = TestClient(create_app(service))
    page = client.get("/chat")
    assert page.status_code == 200
    assert 'id="quick-exit"' in page.text and "Quick exit" in page.text
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert CHAT_COOKIE in cookie and "HttpOnly" in cookie and "expires" not in cookie.lower()


def test_a_conversation_through_the_web_chat(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    first = client.post("/chat/send", json={"text": "hello"}).json()["replies"]
    assert "999" in first[0]["text"]
    assert "English" in [c["label"] for c in first[-1]["choices"]]
    second = client.post("/chat/send", json={"text": "1"}).json()["replies"]
    assert any("safe for you to talk" in r["text"] for r in second)


def test_two_browsers_are_two_people(service):
    one, two = TestClient(create_app(service)), TestClient(create_app(service))
    for c in (one, two):
        c.get("/chat")
        c.post("/chat/send", json={"text": "hello"})
    one.post("/chat/send", json={"text": "1"})
    reply = two.post("/chat/send", json={"text": "hello again"}).json()["replies"]
    assert "Which language" in reply[-1]["text"], "the second person is still at the language menu"


def test_malformed_or_cross_site_posts_are_refused_and_store_nothing(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    assert (
        client.post("/chat/send", content=b"not json", headers={"content-type": "application/json"}).status_code == 400
    )
    assert client.post("/chat/send", json={"text": ""}).status_code == 400
    assert client.post("/chat/send", json={"text": 5000}).status_code == 400
    assert client.post("/chat/send", json={"text": "hi"}, headers={"origin": "https://evil.example"}).status_code == 403
    with service.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 0


def test_health_and_readiness(service):
    client = TestClient(create_app(service))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_quick_exit_forgets_the_chat_cookie(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    response = client.post("/chat/exit")
    assert CHAT_COOKIE in response.headers["set-cookie"] and "Max-Age=0" in response.headers["set-cookie"]


def test_reloading_the_page_mid_form_shows_the_question_again_and_answers_nothing(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    first = client.post("/chat/start").json()["replies"]
    assert "English" in [c["label"] for c in first[-1]["choices"]]
    for answer in ["1", "1", "2", "2", "7"]:  # English, safe, nobody reads, no code, the form
        client.post("/chat/send", json={"text": answer})
    with service.db.session() as s:
        before = s.scalar(select(func.count(Message.id)).where(Message.direction == "in"))
    client.get("/chat")  # a reload
    again = client.post("/chat/start").json()["replies"]
    assert "How did you know the person who died?" in again[-1]["text"]
    assert again[-1]["choices"], "the quick replies come back too"
    with service.db.session() as s:
        assert s.scalar(select(func.count(Message.id)).where(Message.direction == "in")) == before


def test_reloading_the_page_at_a_pick_several_question_still_lets_the_person_pick_several(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    client.post("/chat/start")
    replies: list[dict] = []
    for answer in ["1", "1", "2", "2", "7", "1", "my sister"]:  # ... the form, then how they knew them
        replies = client.post("/chat/send", json={"text": answer}).json()["replies"]
        if replies[-1].get("many"):
            break
    assert replies[-1]["many"], "the form reached the question where several answers may be picked"
    client.get("/chat")  # a reload
    again = client.post("/chat/start").json()["replies"]
    assert again[-1]["text"] == replies[-1]["text"]
    assert again[-1]["many"], "the buttons still combine"
