"""The outbox under faults: a claim taken over is fenced off, a slow batch keeps its claim, one bad
message fails alone, a long message resumes after the parts already sent, and a send the provider
took but answered too late is checked (Twilio) or retried once (Telegram), never sent blindly again."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy import text as sql
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.base import split_text
from bot.channels.dispatcher import MAX_ATTEMPTS
from bot.channels.telegram import MAX_TEXT
from bot.storage.crypto import cipher
from bot.storage.models import Address, Contact, Message
from bot.storage.outbox import enqueue
from tests.channels.conftest import TG_TOKEN
from tests.channels.test_dispatcher import WEDNESDAY_10AM, advocate_says, settle, writes

PERSON = "+447700900321"


def outbox_row(service, message_id):
    """Status, attempts and stored error of one outbound message (without reading its body)."""
    with service.db.session() as s:
        return s.execute(
            select(Message.status, Message.attempts, Message.last_error, Message.provider_id).where(
                Message.id == message_id
            )
        ).one()


def received(standin, text):
    """How many times the provider accepted this exact text: what the person's phone shows."""
    return sum(1 for a in standin.accepted if a.text == text)


def reply_to(service, text, address=PERSON, channel="sms"):
    """A reply the person asked for (so it goes at any hour), queued for them; returns its id."""
    with service.db.session() as s:
        addr = s.scalars(select(Address).where(Address.address_index == cipher().blind_index(f"{channel}:{address}")))
        contact = s.get(Contact, addr.one().contact_id)
        message = enqueue(s, contact, text, author="advocate", prompted=True)
        assert message is not None
        s.flush()
        return message.id


def someone_we_know(service, clock, dispatcher, address=PERSON, channel="sms"):
    """A person who has written before, whose replies have all gone."""
    writes(service, clock, "hello", address=address, channel=channel)
    settle(dispatcher)


# ---------------------------------------------------------------------- claims and fencing
def test_a_dispatcher_whose_claim_was_taken_over_does_not_send_it_too(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    slow, other = make_dispatcher(), make_dispatcher()
    someone_we_know(channel_service, clock, other)
    text = "Jo here: the panel meets on Thursday."
    message_id = advocate_says(channel_service, text)

    assert slow.claim() == [message_id]
    clock.advance(seconds=slow.config.lease.total_seconds() + 1)  # the slow one stalled past its lease
    assert other.claim() == [message_id]
    standin.delay = 0.3  # both reach the provider at the same time
    threads = [threading.Thread(target=d.process, args=(message_id,)) for d in (slow, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert received(standin, text) == 1
    assert outbox_row(channel_service, message_id).status == "sent"


def test_a_slow_provider_does_not_let_a_batch_outlive_its_claim(channel_service, standin, make_dispatcher, clock):
    # Real time: 8 sends of 0.5 s each in one batch, a claim lasts 3 s unless renewed, and a second
    # dispatcher keeps looking for claims that ran out. Each message must reach the provider once.
    config = {"lease": timedelta(seconds=3), "renew_every": timedelta(seconds=1), "batch": 20}
    first, second = make_dispatcher(**config), make_dispatcher(**config)
    for n in range(4):
        someone_we_know(channel_service, clock, first, address=f"+4477009004{n:02d}")
    standin.reset()
    texts = [f"Jo here: an update for person {n}." for n in range(4)]
    for n, text in enumerate(texts):
        reply_to(channel_service, text, address=f"+4477009004{n:02d}")
        reply_to(channel_service, text + " (2)", address=f"+4477009004{n:02d}")
    standin.delay = 0.5

    worker = threading.Thread(target=settle, args=(first,))
    worker.start()
    while not standin.calls:
        time.sleep(0.01)
    while worker.is_alive():
        second.run_once()
        time.sleep(0.05)
    settle(second)

    assert [received(standin, t) for t in texts] == [1, 1, 1, 1]
    assert [received(standin, t + " (2)") for t in texts] == [1, 1, 1, 1]


def test_a_message_that_keeps_killing_its_dispatcher_fails_after_the_limit(
    channel_service, standin, make_dispatcher, clock
):
    clock.freeze(WEDNESDAY_10AM)
    dispatcher = make_dispatcher()
    someone_we_know(channel_service, clock, dispatcher)
    text = "Jo here: a message whose sending crashes the process."
    message_id = advocate_says(channel_service, text)

    for _ in range(MAX_ATTEMPTS):
        assert dispatcher.claim() == [message_id]  # ...and the process dies before it is sent
        clock.advance(seconds=dispatcher.config.lease.total_seconds() + 1)
    settle(dispatcher)

    row = outbox_row(channel_service, message_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "attempts" in (row.last_error or "")
    assert received(standin, text) == 0


# ---------------------------------------------------------------------- one bad message
def test_a_message_that_cannot_be_read_fails_alone_and_the_others_go(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    someone_we_know(channel_service, clock, dispatcher, address=PERSON)
    someone_we_know(channel_service, clock, dispatcher, address="+447700900999")
    poison = advocate_says(channel_service, "Written under a key this server no longer has.", address=PERSON)
    other = "Jo here: your next meeting is on Monday."
    fine = advocate_says(channel_service, other, address="+447700900999")
    with channel_service.db.session() as s:  # as after a key rotation gone wrong: written under another key
        foreign = Fernet(Fernet.generate_key()).encrypt(b"unreadable").decode()
        s.execute(sql("UPDATE messages SET body = :body WHERE id = :id"), {"body": foreign, "id": poison})

    dispatcher.run_once()  # both people's messages in one batch, the unreadable one first

    assert received(standin, other) == 1
    assert outbox_row(channel_service, fine).status == "sent"
    row = outbox_row(channel_service, poison)
    assert (row.status, row.attempts) == ("queued", 1)
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(hours=1)
        settle(dispatcher)
    row = outbox_row(channel_service, poison)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert "could not be read" in (row.last_error or "")


def test_provider_errors_are_stored_without_the_persons_number(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    dispatcher = make_dispatcher()
    someone_we_know(channel_service, clock, dispatcher)
    message_id = advocate_says(channel_service, "Jo here.")
    standin.fail_next("Messages", 400, {"code": 21211, "message": f"The 'To' number {PERSON} is not valid."})

    dispatcher.run_once()

    row = outbox_row(channel_service, message_id)
    assert row.status == "failed" and "21211" in (row.last_error or "")
    assert "7700900321" not in (row.last_error or "")


# ---------------------------------------------------------------------- long messages
def test_a_two_part_message_resumes_after_the_part_already_sent(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    someone_we_know(channel_service, clock, dispatcher, address="8080", channel="telegram")
    long_text = "Notes from the review panel. " * 200  # about 5,800 characters: two parts
    first_half, second_half = split_text(long_text, MAX_TEXT)
    message_id = advocate_says(channel_service, long_text, address="8080", channel="telegram")
    standin.fail_next("sendMessage", 502, {"description": "Bad Gateway"}, after=1)  # the second part fails once

    dispatcher.run_once()
    assert outbox_row(channel_service, message_id).status == "queued"
    clock.advance(seconds=11)
    settle(dispatcher)

    assert received(standin, first_half) == 1
    assert received(standin, second_half) == 1
    assert outbox_row(channel_service, message_id).status == "sent"


# ---------------------------------------------------------------------- accepted, then no answer in time
def test_a_twilio_send_answered_too_late_is_looked_up_not_sent_again(channel_service, standin, make_dispatcher, clock):
    # Real time: Twilio's records carry its own clock.
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    someone_we_know(channel_service, clock, dispatcher)
    text = "Jo here: the chair has read your account."
    message_id = reply_to(channel_service, text)
    dispatcher.senders["sms"].client.http_client.timeout = 0.3
    standin.hang_next("Messages", 1.0)  # Twilio takes it, and answers after the client gave up

    dispatcher.run_once()
    row = outbox_row(channel_service, message_id)
    assert row.status == "queued" and "no answer" in (row.last_error or "")
    clock.advance(seconds=11)
    settle(dispatcher)

    assert received(standin, text) == 1
    row = outbox_row(channel_service, message_id)
    sid = next(a.id for a in standin.accepted if a.text == text)
    assert (row.status, row.provider_id) == ("sent", sid)


def test_a_twilio_send_that_never_arrived_is_sent_once_more(channel_service, standin, make_dispatcher, clock):
    # Real time: Twilio's records carry its own clock.
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    someone_we_know(channel_service, clock, dispatcher)
    text = "Jo here: the chair has read your account."
    message_id = reply_to(channel_service, text)
    dispatcher.senders["sms"].client.http_client.timeout = 0.3
    standin.hang_next("Messages", 1.0)
    dispatcher.run_once()
    standin.accepted.clear()  # as if Twilio had lost it after all

    clock.advance(seconds=11)
    settle(dispatcher)

    assert received(standin, text) == 1
    assert outbox_row(channel_service, message_id).status == "sent"


def test_a_telegram_send_answered_too_late_is_retried_once_only(channel_service, standin, make_dispatcher, clock):
    # Telegram's Bot API cannot list what a bot sent: one retry is the most that may duplicate.
    clock.freeze(WEDNESDAY_10AM)
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    someone_we_know(channel_service, clock, dispatcher, address="5150", channel="telegram")
    text = "Jo here: a date for the meeting."
    message_id = advocate_says(channel_service, text, address="5150", channel="telegram")
    impatient = HTTPXRequest(read_timeout=0.3)
    dispatcher.senders["telegram"]._bot = Bot(TG_TOKEN, base_url=standin.url + "/bot", request=impatient)
    standin.hang_next("sendMessage", 1.0, times=2)

    for _ in range(6):
        dispatcher.run_once()
        clock.advance(minutes=10)

    assert received(standin, text) == 2
    row = outbox_row(channel_service, message_id)
    assert row.status == "failed" and "may have arrived" in (row.last_error or "")
