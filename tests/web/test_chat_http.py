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
    page = client.get("/chat").text
    first = client.post("/chat/send", json={"text": "hello"}).json()["replies"]
    assert "999" in page and "999" not in first[0]["text"], "one emergency line on the first screen: the page's"
    assert "55" in first[0]["text"], "and how to call when one cannot speak"
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


def test_a_chat_cookie_the_browser_chose_is_never_accepted(service):
    client = TestClient(create_app(service))
    client.cookies.set(CHAT_COOKIE, "chosen-by-the-visitor")
    page = client.get("/chat")
    issued = _issued(page)
    assert issued and issued != "chosen-by-the-visitor", "the server gives its own session instead"
    other = TestClient(create_app(service))
    other.cookies.set(CHAT_COOKIE, "chosen-by-the-visitor")
    assert other.post("/chat/send", json={"text": "hello"}).status_code == 400
    assert other.post("/chat/start").status_code == 400
    with service.db.session() as s:
        assert s.scalar(select(func.count(Message.id))) == 0


def test_quick_exit_ends_the_conversation_on_the_server_too(service):
    client = TestClient(create_app(service))
    client.get("/chat")
    client.post("/chat/start")
    for answer in ["1", "1", "2"]:  # English, safe to talk, nobody else reads
        client.post("/chat/send", json={"text": answer})
    old_cookie = client.cookies.get(CHAT_COOKIE)
    client.post("/chat/exit")
    # Someone who copied the cookie (or the browser's back button) cannot carry on the conversation.
    copy = TestClient(create_app(service))
    copy.cookies.set(CHAT_COOKIE, old_cookie)
    assert copy.post("/chat/start").status_code == 400
    assert copy.post("/chat/send", json={"text": "1"}).status_code == 400
    assert copy.get("/chat/events").status_code == 204, "no live messages for an ended session"
    fresh = _issued(copy.get("/chat"))  # a fresh page is a fresh, empty conversation
    assert fresh and fresh != old_cookie
    copy.cookies.clear()
    copy.cookies.set(CHAT_COOKIE, fresh)
    greeting = copy.post("/chat/start").json()["replies"]
    assert "English" in [c["label"] for c in greeting[-1]["choices"]], "back at the very start"


def test_the_chat_page_cannot_be_framed_and_loads_only_its_own_code(service):
    page = TestClient(create_app(service)).get("/chat")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "default-src 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text and "style=" not in page.text, "nothing inline that the policy would block"


def test_the_chat_cookie_is_secure_when_the_public_address_is_https(service):
    service.settings = service.settings.model_copy(update={"public_base_url": "https://review.example.org"})
    cookie = TestClient(create_app(service)).get("/chat").headers["set-cookie"]
    assert "Secure" in cookie


def test_the_chat_cookie_is_secure_behind_a_trusted_tls_proxy_only(service):
    import httpx

    from bot.web.workers import uvicorn_options
    from tests.live import serving

    def cookie_through_proxy(trusted: str) -> str:
        settings = service.settings.model_copy(update={"trusted_proxies": trusted})
        with serving(create_app(service), **uvicorn_options(settings) | {"log_level": "warning"}) as url:
            page = httpx.get(url + "/chat", headers={"X-Forwarded-Proto": "https"})
        return page.headers["set-cookie"]

    assert "Secure" in cookie_through_proxy("127.0.0.1"), "TLS ends at our proxy: the cookie is https-only"
    assert "Secure" not in cookie_through_proxy("10.9.9.9"), "anyone else's X-Forwarded-Proto is not believed"


def test_the_page_says_honestly_what_is_kept(service):
    text = TestClient(create_app(service)).get("/chat").text
    assert "Nothing is saved" not in text
    assert "kept safely by our team" in text


def _issued(response) -> str | None:
    """The chat session the server set in this response, if it set one."""
    import re

    found = re.search(CHAT_COOKIE + r"=([^;]+)", response.headers.get("set-cookie", ""))
    return found.group(1) if found else None


def test_opening_the_chat_page_writes_nothing_and_a_tampered_session_is_refused(service):
    from bot.storage.models import Contact, EndedChatSession

    client = TestClient(create_app(service))
    for _ in range(5):
        client.cookies.clear()
        key = _issued(client.get("/chat"))
    with service.db.session() as s:
        for table in (Contact, Message, EndedChatSession):
            assert s.scalar(select(func.count()).select_from(table)) == 0, "a crawler cannot fill the database"
    assert key is not None
    token, signature = key.rsplit(".", 1)
    tampered = TestClient(create_app(service))
    tampered.cookies.set(CHAT_COOKIE, token[:-1] + ("A" if token[-1] != "A" else "B") + "." + signature)
    assert tampered.post("/chat/start").status_code == 400
