"""The durable outbox: exactly once under racing dispatchers, retries, give-up, opt-outs, and the
person's rules (safe times, discreet mode, WhatsApp's 24-hour window), sending to the stand-ins."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy import func, select

from bot.channels.dispatcher import nudge
from bot.channels.worker import wake_on_notify
from bot.dialogue.messages import Inbound
from bot.storage.models import Address, Contact, Message
from bot.storage.outbox import enqueue
from tests.channels.conftest import TEMPLATE
from tests.conftest import only_on

WEDNESDAY_10AM = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)  # London is on GMT in January
_ids = count(1)


def writes(service, clock, text, address="+447700900321", channel="sms"):
    """The person sends a message (at the test clock's time)."""
    return service.engine.handle(
        Inbound(
            channel=channel, address=address, text=text, provider_message_id=f"in-{next(_ids)}", received_at=clock()
        )
    )


def advocate_says(service, text, address="+447700900321", channel="sms", **contact_changes):
    """An advocate's message for the person behind this address: not prompted by them."""
    from bot.storage.crypto import cipher

    with service.db.session() as s:
        index = cipher().blind_index(f"{channel}:{address}")
        addr = s.scalars(select(Address).where(Address.address_index == index)).one()
        contact = s.get(Contact, addr.contact_id)
        for key, value in contact_changes.items():
            setattr(contact, key, value)
        message = enqueue(s, contact, text, author="advocate")
        assert message is not None
        return message.id


def status_of(service, message_id):
    with service.db.session() as s:
        return s.get(Message, message_id)


def settle(dispatcher):
    """Run the dispatcher until the outbox has nothing due."""
    while dispatcher.run_once():
        pass


# ---------------------------------------------------------------------- exactly once
def test_two_dispatchers_racing_send_each_message_exactly_once(channel_service, standin, make_dispatcher):
    for n in range(40):
        channel_service.engine.handle(
            Inbound(channel="sms", address=f"+4477009{n:05d}", text="hello", provider_message_id=f"race-{n}")
        )
        channel_service.engine.handle(
            Inbound(channel="telegram", address=str(900000 + n), text="hello", provider_message_id=f"race-tg-{n}")
        )
    with channel_service.db.session() as s:
        expected = s.scalar(select(func.count()).select_from(Message).where(Message.direction == "out")) or 0
    standin.delay = 0.002  # sends overlap with the other dispatcher's claims
    dispatchers = [make_dispatcher(batch=5), make_dispatcher(batch=5)]
    threads = [threading.Thread(target=settle, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    sms_sends = standin.sent("twilio", "Messages")
    tg_sends = standin.sent("telegram", "sendMessage")
    assert len(sms_sends) + len(tg_sends) == expected
    with channel_service.db.session() as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).all()
        assert {m.status for m in out} == {"sent"}
        assert len({m.provider_id for m in out}) == expected
        assert {m.attempts for m in out} == {1}
    # Each person's replies reached the provider in the order they were written (the stand-in numbers
    # the messages it accepts in arrival order).
    arrival = {
        m.id: int(m.provider_id[2:], 16) if m.channel == "sms" else int(m.provider_id.split(":")[1]) for m in out
    }
    by_person: dict[int, list[int]] = {}
    for m in sorted(out, key=lambda m: m.id):
        by_person.setdefault(m.contact_id, []).append(arrival[m.id])
    assert all(order == sorted(order) for order in by_person.values())


def test_a_dispatcher_killed_mid_send_has_its_claim_taken_over_after_the_lease(
    channel_service, standin, make_dispatcher, clock
):
    writes(channel_service, clock, "hello")
    crashed, survivor = make_dispatcher(), make_dispatcher()
    claimed = crashed.claim()  # ...and the process dies before sending
    assert claimed

    assert survivor.run_once() == 0  # the claim is still leased
    clock.advance(seconds=crashed.config.lease.total_seconds() + 1)
    settle(survivor)

    assert len(standin.sent("twilio", "Messages")) == len(claimed)
    for message_id in claimed:
        message = status_of(channel_service, message_id)
        assert (message.status, message.attempts) == ("sent", 2)


@only_on("postgresql")  # LISTEN/NOTIFY is PostgreSQL's; on SQLite everything runs in one process
def test_a_turn_answered_in_another_process_wakes_an_idle_dispatcher(channel_service, standin, make_dispatcher):
    # With several web processes, the dispatchers live elsewhere: PostgreSQL's NOTIFY at commit is
    # what wakes them. This dispatcher would otherwise sleep for 30 seconds.
    stop = threading.Event()
    idle = make_dispatcher(idle_sleep=30.0)
    threads = [
        threading.Thread(target=wake_on_notify, args=(channel_service, stop)),
        threading.Thread(target=idle.run_forever, args=(stop,)),
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)  # listening, and the dispatcher asleep
        started = time.monotonic()
        channel_service.engine.handle(  # a turn, and no nudge in this process
            Inbound(channel="sms", address="+447700900555", text="hello", provider_message_id="SMwake")
        )
        while not standin.sent("twilio", "Messages") and time.monotonic() - started < 10:
            time.sleep(0.02)
        assert standin.sent("twilio", "Messages"), "the reply waited for the idle poll"
    finally:
        stop.set()
        nudge()
        for t in threads:
            t.join(timeout=10)


def test_web_and_terminal_replies_are_never_dispatched(channel_service, standin, make_dispatcher):
    channel_service.engine.handle(Inbound(channel="web", address="session-1", text="hello"))
    channel_service.engine.handle(Inbound(channel="cli", address="terminal", text="hello"))

    assert make_dispatcher().run_once() == 0
    assert standin.calls == [] or all(c.method == "getMe" for c in standin.calls)


# ---------------------------------------------------------------------- retries
def test_a_provider_5xx_is_retried_with_back_off_then_sent(channel_service, standin, make_dispatcher, clock):
    writes(channel_service, clock, "hello")
    standin.fail_next("Messages", 503, {"code": 20500, "message": "Service unavailable"}, times=10)
    dispatcher = make_dispatcher(backoff=timedelta(seconds=30))

    dispatcher.run_once()
    with channel_service.db.session() as s:
        first = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).first()
        assert first is not None and first.status == "queued" and first.attempts == 1
        assert first.next_attempt_at is not None and first.next_attempt_at >= clock() + timedelta(seconds=29)
        assert "503" in (first.last_error or "")
        message_id = first.id
    standin.failures.clear()

    dispatcher.run_once()
    assert status_of(channel_service, message_id).status == "queued"  # not due yet: backing off

    clock.advance(seconds=31)
    settle(dispatcher)
    message = status_of(channel_service, message_id)
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, None)


def test_back_off_doubles_and_the_message_fails_after_five_attempts(channel_service, standin, make_dispatcher, clock):
    writes(channel_service, clock, "hello", channel="telegram", address="31337")
    standin.fail_next("sendMessage", 502, {"description": "Bad Gateway"}, times=100)
    dispatcher = make_dispatcher(backoff=timedelta(seconds=10))
    claimed = dispatcher.run_once()
    message_id = dispatcher_first_out(channel_service)
    delays = []
    for _ in range(6):
        message = status_of(channel_service, message_id)
        if message.status != "queued":
            break
        delays.append(round((message.next_attempt_at - clock()).total_seconds()))
        clock.advance(seconds=delays[-1] + 1)
        dispatcher.run_once()

    message = status_of(channel_service, message_id)
    assert (message.status, message.attempts) == ("failed", 5)
    assert delays == [10, 20, 40, 80]
    assert len([p for p in standin.sent("telegram", "sendMessage") if p["chat_id"] == 31337]) == 5 * claimed


def dispatcher_first_out(service):
    with service.db.session() as s:
        return s.scalars(select(Message.id).where(Message.direction == "out").order_by(Message.id)).first()


def test_telegram_flood_control_waits_as_long_as_telegram_asks(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)  # the wait is measured from when the failure was recorded
    writes(channel_service, clock, "hello", channel="telegram", address="2024")
    standin.fail_next(
        "sendMessage", 429, {"description": "Too Many Requests: retry after 120", "parameters": {"retry_after": 120}}
    )

    make_dispatcher(backoff=timedelta(seconds=5), batch=1).run_once()

    message = status_of(channel_service, dispatcher_first_out(channel_service))
    assert message.status == "queued" and message.attempts == 1
    assert message.next_attempt_at >= clock() + timedelta(seconds=119)


def test_an_unreachable_provider_is_a_temporary_error(channel_service, standin, make_dispatcher, clock):
    writes(channel_service, clock, "hello")
    dispatcher = make_dispatcher()
    twilio = dispatcher.senders["sms"]
    twilio.client.http_client.base_url = "http://127.0.0.1:9"  # nothing listens on the discard port

    dispatcher.run_once()

    with channel_service.db.session() as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).all()
    assert {m.status for m in out} == {"queued"}
    assert all("unreachable" in (m.last_error or "") for m in out)


def test_a_permanent_provider_error_fails_at_once(channel_service, standin, make_dispatcher, clock):
    writes(channel_service, clock, "hello")
    standin.fail_next(
        "Messages", 400, {"code": 21211, "message": "The 'To' number is not a valid phone number."}, times=10
    )

    make_dispatcher().run_once()

    with channel_service.db.session() as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).all()
        assert {m.status for m in out} == {"failed"}
        assert all(m.attempts == 1 and "21211" in (m.last_error or "") for m in out)


# ---------------------------------------------------------------------- opt-outs
def test_twilio_21610_stops_the_contact_until_they_write_again(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello")
    standin.fail_next("Messages", 400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    dispatcher = make_dispatcher()

    settle(dispatcher)
    later = advocate_says(channel_service, "Jo from the advocacy service here.")
    settle(dispatcher)

    with channel_service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is True
        statuses = [m.status for m in s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id))]
    assert statuses[0] == "failed"
    assert set(statuses[1:]) == {"suppressed"}
    assert status_of(channel_service, later).status == "suppressed"
    assert len(standin.sent("twilio", "Messages")) == 1

    clock.advance(minutes=5)
    writes(channel_service, clock, "hello")
    settle(dispatcher)
    with channel_service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is False
    assert len(standin.sent("twilio", "Messages")) > 1


def test_a_telegram_block_stops_the_contact(channel_service, standin, make_dispatcher, clock):
    writes(channel_service, clock, "hello", channel="telegram", address="4455")
    standin.fail_next("sendMessage", 403, {"description": "Forbidden: bot was blocked by the user"})

    settle(make_dispatcher())

    with channel_service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is True
        out = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()
    assert out[0].status == "failed" and "blocked" in (out[0].last_error or "")
    assert {m.status for m in out[1:]} <= {"suppressed"}
    assert len(standin.sent("telegram", "sendMessage")) == 1


def test_the_stop_confirmation_still_goes_but_nothing_after_it(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello", channel="telegram", address="5566")
    dispatcher = make_dispatcher()
    settle(dispatcher)
    sent_before = len(standin.sent("telegram", "sendMessage"))

    clock.advance(minutes=1)
    writes(channel_service, clock, "STOP", channel="telegram", address="5566")
    settle(dispatcher)
    reminder = advocate_says(channel_service, "A reminder about Thursday.", address="5566", channel="telegram")
    settle(dispatcher)

    assert len(standin.sent("telegram", "sendMessage")) == sent_before + 1  # only the confirmation
    assert status_of(channel_service, reminder).status == "suppressed"


# ---------------------------------------------------------------------- the person's rules
def test_whatsapp_outside_24_hours_sends_the_template_and_the_message_follows_a_reply(
    channel_service, standin, make_dispatcher, clock
):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello", channel="whatsapp")
    dispatcher = make_dispatcher()
    settle(dispatcher)
    free_text_before = [p for p in standin.sent("twilio", "Messages") if "Body" in p]
    assert free_text_before and all(p["To"] == "whatsapp:+447700900321" for p in free_text_before)

    clock.advance(hours=25)
    first = advocate_says(channel_service, "Jo here: the chair would like to meet.", channel="whatsapp")
    second = advocate_says(channel_service, "Jo again: any day next week works.", channel="whatsapp")
    settle(dispatcher)

    templates = [p for p in standin.sent("twilio", "Messages") if "ContentSid" in p]
    assert len(templates) == 1 and templates[0]["ContentSid"] == TEMPLATE and "Body" not in templates[0]
    assert [p for p in standin.sent("twilio", "Messages") if "Body" in p] == free_text_before
    assert (status_of(channel_service, first).status, status_of(channel_service, second).status) == (
        "awaiting_reply",
    ) * 2

    clock.advance(hours=2)
    writes(channel_service, clock, "hi", channel="whatsapp")
    settle(dispatcher)

    bodies = [p["Body"] for p in standin.sent("twilio", "Messages") if "Body" in p]
    assert "Jo here: the chair would like to meet." in bodies
    assert "Jo again: any day next week works." in bodies
    assert (status_of(channel_service, first).status, status_of(channel_service, second).status) == ("sent", "sent")


def test_unprompted_messages_wait_for_the_persons_safe_window(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello")
    dispatcher = make_dispatcher()
    settle(dispatcher)
    prompted_sends = len(standin.sent("twilio", "Messages"))
    assert prompted_sends >= 1  # replies to what the person just wrote go at once

    message_id = advocate_says(
        channel_service, "Jo here: a date for the meeting.", draft={"safe_days": ["mon"], "safe_times": ["evening"]}
    )
    settle(dispatcher)

    held = status_of(channel_service, message_id)
    monday_5pm = datetime(2027, 1, 11, 17, 0, tzinfo=UTC)
    assert (held.status, held.next_attempt_at, held.attempts) == ("held", monday_5pm, 0)
    assert len(standin.sent("twilio", "Messages")) == prompted_sends

    clock.freeze(monday_5pm - timedelta(minutes=1))
    settle(dispatcher)
    assert status_of(channel_service, message_id).status == "held"
    clock.freeze(monday_5pm + timedelta(minutes=1))
    settle(dispatcher)
    assert status_of(channel_service, message_id).status == "sent"
    assert standin.sent("twilio", "Messages")[-1]["Body"] == "Jo here: a date for the meeting."


def test_without_a_stated_preference_messages_wait_for_daytime(channel_service, standin, make_dispatcher, clock):
    clock.freeze(datetime(2027, 1, 6, 22, 30, tzinfo=UTC))
    writes(channel_service, clock, "hello")
    dispatcher = make_dispatcher()
    settle(dispatcher)

    message_id = advocate_says(channel_service, "Jo here.")
    settle(dispatcher)

    assert status_of(channel_service, message_id).next_attempt_at == datetime(2027, 1, 7, 9, 0, tzinfo=UTC)


def test_discreet_mode_sends_a_neutral_notice_and_the_content_after_a_reply(
    channel_service, standin, make_dispatcher, clock
):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello")
    dispatcher = make_dispatcher()
    settle(dispatcher)
    before = len(standin.sent("twilio", "Messages"))

    secret = "The review panel meets on Thursday about your sister."
    first = advocate_says(channel_service, secret, discreet=True)
    second = advocate_says(channel_service, "And a second update.")
    settle(dispatcher)

    new = [p["Body"] for p in standin.sent("twilio", "Messages")[before:]]
    assert new == ["You have a new message. Reply to read it."]
    assert (status_of(channel_service, first).status, status_of(channel_service, second).status) == (
        "awaiting_reply",
    ) * 2

    clock.advance(minutes=10)
    writes(channel_service, clock, "ok")
    settle(dispatcher)

    bodies = [p["Body"] for p in standin.sent("twilio", "Messages")]
    assert secret in bodies and "And a second update." in bodies
    with channel_service.db.session() as s:
        notice = s.scalars(select(Message).where(Message.author == "system")).one()
        assert notice.status == "sent" and notice.provider_id


def test_a_long_message_goes_in_parts_each_within_the_providers_limit(channel_service, standin, make_dispatcher, clock):
    clock.freeze(WEDNESDAY_10AM)
    writes(channel_service, clock, "hello")
    writes(channel_service, clock, "hello", channel="telegram", address="8080")
    dispatcher = make_dispatcher()
    settle(dispatcher)
    sms_before, tg_before = len(standin.sent("twilio", "Messages")), len(standin.sent("telegram", "sendMessage"))
    paragraph = "Notes from the review panel meeting. " * 30  # about 1,100 characters
    long_text = "\n\n".join([paragraph] * 5)  # about 5,500 characters

    sms_id = advocate_says(channel_service, long_text)
    tg_id = advocate_says(channel_service, long_text, address="8080", channel="telegram")
    settle(dispatcher)

    sms_parts = [p["Body"] for p in standin.sent("twilio", "Messages")[sms_before:]]
    tg_parts = [p["text"] for p in standin.sent("telegram", "sendMessage")[tg_before:]]
    assert len(sms_parts) > 1 and all(len(p) <= 1600 for p in sms_parts)
    assert len(tg_parts) > 1 and all(len(p) <= 4096 for p in tg_parts)
    assert "".join(sms_parts).replace(" ", "").replace("\n", "") == long_text.replace(" ", "").replace("\n", "")
    assert "".join(tg_parts).replace(" ", "").replace("\n", "") == long_text.replace(" ", "").replace("\n", "")
    assert (status_of(channel_service, sms_id).status, status_of(channel_service, tg_id).status) == ("sent", "sent")
