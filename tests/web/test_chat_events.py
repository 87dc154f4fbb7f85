"""Live messages on the web chat over HTTP: Server-Sent Events that a reconnecting page resumes."""

from __future__ import annotations

import json
import time

import httpx
from sqlalchemy import select

from bot.channels.dispatcher import Dispatcher
from bot.channels.wiring import build_senders
from bot.storage.models import Contact, Message
from bot.storage.outbox import enqueue
from bot.web.app import create_app
from tests.conftest import only_on
from tests.live import serving


def _send_later(service, contact_id: int, text: str) -> None:
    """A message for the person sent later (as a chair's update is), through the outbox."""
    with service.db.session() as s:
        contact = s.get(Contact, contact_id)
        assert enqueue(s, contact, text, author="system", prompted=False) is not None
    Dispatcher(service, build_senders(service.settings)).run_once()


def _events(stream: httpx.Response, wanted: int, within: float = 5.0) -> list[tuple[str, dict]]:
    """The first `wanted` message events of a stream (id and data)."""
    found: list[tuple[str, dict]] = []
    event_id = ""
    deadline = time.monotonic() + within
    for line in stream.iter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            found.append((event_id, json.loads(line[6:])))
            if len(found) == wanted:
                break
        assert time.monotonic() < deadline, "the message did not arrive in time"
    return found


def test_a_later_message_reaches_the_open_page_and_a_reconnecting_page_misses_nothing(service):
    with serving(create_app(service)) as url, httpx.Client(base_url=url, timeout=10) as client:
        client.get("/chat")
        since = client.post("/chat/start").json()["since"]
        with service.db.session() as s:
            contact_id = s.scalars(select(Contact.id)).one()

        with client.stream("GET", "/chat/events", params={"since": since}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            _send_later(service, contact_id, "First update")
            [(first_id, first)] = _events(stream, 1)
        assert first["text"] == "First update" and first["author"] == "system"

        # While the page is away (a tunnel, a sleeping phone), another message is sent.
        _send_later(service, contact_id, "Second update")
        with client.stream("GET", "/chat/events", headers={"Last-Event-ID": first_id}) as stream:
            texts = [data["text"] for _id, data in _events(stream, 2)]
        # The page also ignores any message id it already shows (the server looks a little way back,
        # for messages whose sending committed late).
        assert texts[-1] == "Second update"
        assert set(texts) <= {"First update", "Second update"}

        with service.db.session() as s:
            statuses = s.scalars(select(Message.status).where(Message.author == "system")).all()
        assert statuses == ["sent", "sent"], "the web chat's own sender delivered both"


def test_a_reloaded_page_does_not_repeat_a_message_from_before_the_persons_last_message(service):
    with serving(create_app(service)) as url, httpx.Client(base_url=url, timeout=10) as client:
        client.get("/chat")
        since = client.post("/chat/start").json()["since"]
        with service.db.session() as s:
            contact_id = s.scalars(select(Contact.id)).one()
        with client.stream("GET", "/chat/events", params={"since": since}) as stream:
            _send_later(service, contact_id, "Shown live before they wrote")
            _events(stream, 1)
        client.post("/chat/send", json={"text": "1"})  # the person answers, then reloads the page
        client.get("/chat")
        since = client.post("/chat/start").json()["since"]
        with client.stream("GET", "/chat/events", params={"since": since}) as stream:
            _send_later(service, contact_id, "Sent after the reload")
            texts = [data["text"] for _id, data in _events(stream, 1)]
    assert texts == ["Sent after the reload"], "the earlier message is not added below their answer"


def test_another_pages_messages_never_reach_this_page(service):
    with serving(create_app(service)) as url:
        with httpx.Client(base_url=url, timeout=10) as one, httpx.Client(base_url=url, timeout=10) as two:
            for c in (one, two):
                c.get("/chat")
            since = one.post("/chat/start").json()["since"]
            two.post("/chat/start")
            with service.db.session() as s:
                first, second = s.scalars(select(Contact.id).order_by(Contact.id)).all()
            with one.stream("GET", "/chat/events", params={"since": since}) as stream:
                _send_later(service, second, "For the second person only")
                _send_later(service, first, "For the first person")
                texts = [data["text"] for _id, data in _events(stream, 1)]
    assert texts == ["For the first person"]


@only_on("postgresql")  # several web processes need PostgreSQL
def test_with_several_web_processes_a_message_written_elsewhere_reaches_the_open_page(service, tmp_path):
    """`dhrbot serve --workers 2` on PostgreSQL: the page is served by one process, the message is written
    by another (here, this test) and sent by the parent's dispatcher; the page shows it within 2 s."""
    import os
    import signal
    import subprocess
    import sys

    from bot.settings import PROJECT_ROOT
    from tests.live import free_port

    var = tmp_path / "serve"
    var.mkdir()
    if (PROJECT_ROOT / "var" / "nlu").exists():  # the trained NLU the test run already cached
        (var / "nlu").symlink_to(PROJECT_ROOT / "var" / "nlu")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": service.settings.database_url, "VAR_DIR": str(var), "WEB_WORKERS": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "dhrbot serve exited"
            assert time.monotonic() < deadline, "dhrbot serve did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as page:
            page.get("/chat")
            since = page.post("/chat/start").json()["since"]
            with service.db.session() as s:
                contact_id = s.scalars(select(Contact.id)).one()
            with page.stream("GET", "/chat/events", params={"since": since}) as stream:
                with service.db.session() as s:
                    contact = s.get(Contact, contact_id)
                    assert enqueue(s, contact, "An update from the review", author="system", prompted=False)
                written = time.monotonic()
                [(_id, data)] = _events(stream, 1)
                took = time.monotonic() - written
        assert data["text"] == "An update from the review"
        assert took <= 2.0, f"the page had it after {took:.2f} s"
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output[-3000:]
    assert "Traceback" not in output
