"""The engine under pressure: messages that arrive together, and deliveries that repeat."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.dialogue.messages import Inbound
from bot.service import Service
from bot.storage.models import Address, Contact, Message


def _at_once(service: Service, messages: list[Inbound]) -> list[list[str]]:
    """Hand every message to the engine at the same moment, each from its own thread."""
    start = threading.Barrier(len(messages))
    answers: list[list[str]] = [[] for _ in messages]
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        start.wait()
        try:
            answers[n] = [reply.text for reply in service.engine.handle(messages[n])]
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(len(messages))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return answers


def test_a_new_persons_first_two_messages_arriving_together_are_both_answered(service: Service) -> None:
    # Someone new sends "hello" and "hi" in quick succession: both webhooks create their record at
    # once. Neither may fail; both are kept, for one person.
    for n in range(8):
        number = f"+4477001{n:05d}"
        answers = _at_once(
            service,
            [
                Inbound(channel="sms", address=number, text=word, provider_message_id=f"SMrace{n}{word}")
                for word in ("hello", "hi")
            ],
        )
        assert all(answers), "each message gets a reply"
    with service.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Address)) == 8
        assert s.scalar(select(func.count()).select_from(Contact)) == 8
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 16


def test_the_same_message_delivered_twice_at_once_is_answered_once(service: Service) -> None:
    message = Inbound(channel="sms", address="+447700200300", text="hello", provider_message_id="SMtwice")
    answers = _at_once(service, [message, message])
    assert sorted(bool(a) for a in answers) == [False, True]
    with service.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 1
