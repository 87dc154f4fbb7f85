"""Ticket operations, concurrency of claiming, escalation and working hours, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.content.helplines import Helplines
from bot.i18n import use_language
from bot.settings import PROJECT_ROOT
from bot.storage.models import Contact, Message, StaffUser, Ticket, TicketEvent
from handoff import tickets
from handoff.auth import create_user
from handoff.folders import FOLDERS
from handoff.queue import open_ticket

from .conftest import World


def test_take_silences_the_bot_and_records_who(world: World) -> None:
    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        assert tickets.take(s, ticket, me)
        assert ticket.status == "active" and ticket.assignee_id == me.id
        assert s.get_one(Contact, ticket.contact_id).human_holds is True
        kinds = [(e.kind, e.staff_id) for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))]
        assert ("taken", me.id) in kinds
        other = world.user(s, "adv_a2")
        assert not tickets.take(s, ticket, other), "a held ticket cannot be taken again"
        assert ticket.assignee_id == me.id


def test_many_advocates_claiming_at_once_gives_exactly_one_holder(world: World) -> None:
    db = world.service.db
    with db.session() as s:
        ids = [
            create_user(
                s, email=f"racer{i}@example.org", name=f"Racer {i}", role="advocate", organisation="Org A"
            ).user.id
            for i in range(8)
        ]
    barrier = threading.Barrier(len(ids))
    results: dict[int, bool] = {}
    errors: list[BaseException] = []

    def claim(staff_id: int) -> None:
        try:
            barrier.wait(timeout=10)
            with db.session() as s:
                results[staff_id] = tickets.take(
                    s, s.get_one(Ticket, world.ids["ticket_a"]), s.get_one(StaffUser, staff_id)
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(i,)) for i in ids]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors
    winners = [i for i, won in results.items() if won]
    assert len(winners) == 1
    with db.session() as s:
        ticket = s.get_one(Ticket, world.ids["ticket_a"])
        assert ticket.assignee_id == winners[0]
        taken = s.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "taken")
        ).all()
        assert len(taken) == 1


def test_reply_goes_to_the_outbox_on_the_familys_own_channel(world: World) -> None:
    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        with pytest.raises(tickets.TicketError):
            tickets.reply(s, ticket, me, "hello")  # not taken yet
        tickets.take(s, ticket, me)
        message = tickets.reply(s, ticket, me, "I am here to help")
        assert (message.direction, message.author, message.staff_id, message.channel, message.status) == (
            "out",
            "advocate",
            me.id,
            "sms",
            "queued",
        )
        assert message.body == "I am here to help"
        assert ticket.replied_on is not None
        with pytest.raises(tickets.TicketError):
            tickets.reply(s, ticket, world.user(s, "adv_a2"), "not mine")


def test_hand_back_and_close_give_the_conversation_back_to_the_bot(world: World) -> None:
    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        tickets.take(s, ticket, me)
        tickets.hand_back(s, ticket, me)
        assert ticket.status == "returned" and ticket.assignee_id is None
        assert s.get_one(Contact, ticket.contact_id).human_holds is False
        other = world.ticket(s, "ticket_b")
        adv_b = world.user(s, "adv_b")
        tickets.take(s, other, adv_b)
        tickets.close(s, other, adv_b)
        assert other.status == "closed" and other.closed_on is not None
        assert s.get_one(Contact, other.contact_id).human_holds is False
        with pytest.raises(tickets.TicketError):
            tickets.close(s, other, adv_b)


def test_transfer_only_to_an_advocate_who_may_see_it(world: World) -> None:
    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        tickets.take(s, ticket, me)
        with pytest.raises(tickets.TicketError):
            tickets.transfer(s, ticket, me, world.user(s, "adv_b"))  # another organisation
        tickets.transfer(s, ticket, me, world.user(s, "adv_a2"))
        assert ticket.assignee_id == world.ids["adv_a2"] and ticket.status == "active"


def test_private_notes_are_encrypted_events(world: World) -> None:
    with world.service.db.session() as s:
        event = tickets.add_note(s, world.ticket(s, "ticket_a"), world.user(s, "adv_a"), "Brother may read her phone")
        s.flush()
        raw = s.connection().exec_driver_sql(f"SELECT note FROM ticket_events WHERE id = {event.id}").scalar_one()
        assert "Brother" not in raw


def test_urgent_tickets_nobody_takes_escalate_lead_deputy_queue(world: World) -> None:
    with world.service.db.session() as s:
        fam = s.get_one(Contact, world.ids["fam_a"])
        ticket = world.ticket(s, "ticket_a")
        tickets.close(s, ticket, world.user(s, "adv_a"))
        urgent = open_ticket(s, fam, reason="self_harm_risk", urgent=True)
        assert urgent.routed_to_id == world.ids["adv_a"]
        opened = urgent.opened_on
        assert urgent not in tickets.escalate_overdue(s, opened + timedelta(minutes=5))
        assert urgent in tickets.escalate_overdue(s, opened + timedelta(minutes=11))
        assert urgent.routed_to_id == world.ids["adv_a2"]
        assert urgent not in tickets.escalate_overdue(s, opened + timedelta(minutes=15))
        assert urgent in tickets.escalate_overdue(s, opened + timedelta(minutes=21))
        assert urgent.routed_to_id is None and urgent.organisation_id is not None, "the organisation's queue"
        assert urgent not in tickets.escalate_overdue(s, opened + timedelta(hours=5))
        events = [e.kind for e in s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == urgent.id))]
        assert events.count("escalated") == 2


def test_folders_put_urgent_first_then_longest_waiting_and_never_leak(world: World) -> None:
    with world.service.db.session() as s:
        adv_a, adv_b = world.user(s, "adv_a"), world.user(s, "adv_b")
        fam2 = Contact(case_id=world.ids["case_a"], language="en", state="menu", state_data={})
        s.add(fam2)
        s.flush()
        urgent = open_ticket(s, fam2, reason="safety_concern", urgent=True)
        a_ids = [t.id for t in FOLDERS["all"].tickets(s, adv_a)]
        assert a_ids == [urgent.id, world.ids["ticket_a"]]
        assert world.ids["ticket_b"] not in a_ids
        assert [t.id for t in FOLDERS["all"].tickets(s, adv_b)] == [world.ids["ticket_b"]]
        assert world.ids["ticket_a"] in [t.id for t in FOLDERS["mine"].tickets(s, adv_a)]
        assert world.ids["ticket_a"] in [t.id for t in FOLDERS["unassigned"].tickets(s, world.user(s, "adv_a2"))]
        tickets.take(s, world.ticket(s, "ticket_a"), adv_a)
        assert world.ids["ticket_a"] not in [t.id for t in FOLDERS["unassigned"].tickets(s, adv_a)]


def _helplines() -> Helplines:
    return Helplines.load(PROJECT_ROOT / "bot" / "content" / "helplines.yaml")


def test_outside_working_hours_the_family_is_told_when_and_given_emergency_numbers(world: World) -> None:
    saturday_night = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
    with world.service.db.session() as s, use_language("en"):
        ticket = world.ticket(s, "ticket_b")
        text = tickets.reply_expectation(s, ticket, saturday_night, helplines=_helplines())
        assert "Monday" in text and "9" in text
        assert "116 123" in text  # Samaritans, for a self-harm ticket
        tuesday_morning = datetime(2026, 12, 8, 10, 30, tzinfo=UTC)
        assert "working now" in tickets.reply_expectation(s, ticket, tuesday_morning)


def test_an_advocates_own_working_hours_are_used(world: World) -> None:
    with world.service.db.session() as s, use_language("en"):
        world.user(s, "adv_b").working_hours = {"timezone": "Europe/London", "sat": ["10:00", "14:00"]}
        ticket = world.ticket(s, "ticket_b")
        assert "working now" in tickets.reply_expectation(s, ticket, datetime(2026, 12, 5, 11, 0, tzinfo=UTC))
        assert "Saturday" in tickets.reply_expectation(s, ticket, datetime(2026, 12, 7, 11, 0, tzinfo=UTC))


def test_recent_writers_get_the_reply_at_once_others_at_their_safe_times(world: World) -> None:
    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        tickets.take(s, ticket, me)
        contact = s.get_one(Contact, ticket.contact_id)
        contact.last_inbound_at = None
        assert tickets.reply(s, ticket, me, "later").prompted is False
        contact.last_inbound_at = ticket.opened_on
        assert tickets.reply(s, ticket, me, "now", now=ticket.opened_on + timedelta(minutes=5)).prompted is True
        assert s.scalars(select(Message).where(Message.author == "advocate")).all()


def test_the_escalation_timer_ticks_in_its_own_transaction(world: World) -> None:
    from handoff.timers import escalation_tick

    with world.service.db.session() as s:
        opened = world.ticket(s, "ticket_b").opened_on
    assert escalation_tick(world.service.db, opened + timedelta(minutes=1)) == 0
    assert escalation_tick(world.service.db, opened + timedelta(minutes=11)) == 1
    with world.service.db.session() as s:
        ticket = world.ticket(s, "ticket_b")
        assert ticket.escalations == 1 and ticket.routed_to_id is None, "case B has no deputy: its organisation's queue"


def test_user_create_command_prints_the_password_and_totp_secret_once(world: World, monkeypatch, capsys) -> None:
    import bot.service
    from bot.cli import main

    monkeypatch.setattr(bot.service, "build_service", lambda settings: world.service)
    assert (
        main(
            [
                "user",
                "create",
                "--email",
                "New@Example.org",
                "--name",
                "N",
                "--role",
                "advocate",
                "--organisation",
                "Org C",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "one-time password" in out and "otpauth://totp/" in out
    assert main(["user", "create", "--email", "x@example.org", "--name", "X", "--role", "advocate"]) == 2
    with world.service.db.session() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.email == "new@example.org")).one()
        assert user.totp_secret in out and user.password_hash not in out
