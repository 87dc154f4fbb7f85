"""Out of hours, an urgent message reaches whoever is on call, and the family is told so honestly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.i18n import use_language
from bot.storage.models import AuditEntry, Contact, OnCallShift, StaffUser, Ticket, utcnow
from handoff import rota
from handoff.auth import create_user
from handoff.queue import open_ticket, routing_chain
from handoff.tickets import escalate_overdue, reply_expectation

from .conftest import World, csrf_of, logged_in

NEVER = {"timezone": "Europe/London"}  # no working days: always out of hours
ALWAYS = {"timezone": "Europe/London", **{d: ["00:00", "23:59"] for d in rota.WEEKDAYS}}


def _on_call_advocate(world: World, hours: Mapping[str, object]) -> int:
    """Org A's named advocate works `hours`; a third Org A advocate is on call from an hour ago."""
    with world.service.db.session() as s:
        world.user(s, "adv_a").working_hours = dict(hours)
        world.user(s, "adv_a2").working_hours = dict(hours)
        night = create_user(
            s, email="night@example.org", name="Nia Night-A", role="advocate", organisation="Org A", password="x" * 12
        ).user
        admin = world.user(s, "admin")
        rota.add_shift(s, night, utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=8), admin)
        return night.id


def test_out_of_hours_an_urgent_ticket_goes_to_the_advocate_on_call_and_the_family_is_told(world: World) -> None:
    night = _on_call_advocate(world, NEVER)
    with world.service.db.session() as s:
        family = s.get(Contact, world.ids["fam_a"])
        assert family is not None
        assert routing_chain(s, family)[0] == world.ids["adv_a"], "what is not urgent waits for the named advocate"
        assert routing_chain(s, family, urgent=True)[0] == night, "urgent: on call first, the named advocate is off"
        ticket = s.get(Ticket, world.ids["ticket_a"])
        assert ticket is not None
        ticket.routed_to_id = night
        with use_language("en"):
            told = reply_expectation(s, ticket)
        assert "on call now" in told and "not working right now" not in told


def test_a_new_urgent_ticket_out_of_hours_is_routed_to_the_rota(world: World) -> None:
    night = _on_call_advocate(world, NEVER)
    with world.service.db.session() as s:
        family = s.get(Contact, world.ids["fam_b"])
        assert family is not None
        family.case_id = world.ids["case_a"]
        for ticket in s.scalars(select(Ticket).where(Ticket.contact_id == family.id)):
            ticket.status = "closed"
        s.flush()
        ticket = open_ticket(s, family, reason="safety_concern", urgent=True)
        assert ticket.routed_to_id == night


def test_in_hours_the_named_advocate_comes_first_and_escalation_ends_with_whoever_is_on_call(world: World) -> None:
    night = _on_call_advocate(world, ALWAYS)
    with world.service.db.session() as s:
        family = s.get(Contact, world.ids["fam_a"])
        assert family is not None
        assert routing_chain(s, family, urgent=True) == [world.ids["adv_a"], world.ids["adv_a2"], night]
        ticket = s.get(Ticket, world.ids["ticket_a"])
        assert ticket is not None
        ticket.priority = "urgent"
        ticket.opened_on = utcnow() - timedelta(minutes=25)
        escalate_overdue(s, utcnow(), timedelta(minutes=10))
        escalate_overdue(s, utcnow(), timedelta(minutes=10))
        assert ticket.routed_to_id == night, "lead, then deputy, then the advocate on call"


def test_the_ticket_page_shows_the_escalation_clock(client: TestClient, world: World) -> None:
    with world.service.db.session() as s:
        ticket = s.get(Ticket, world.ids["ticket_a"])
        assert ticket is not None
        ticket.priority = "urgent"
    logged_in(client, world, "adv_a")
    page = client.get(f"/staff/tickets/{world.ids['ticket_a']}").text
    assert "Moves to Amir Deputy-A in" in page


def test_an_administrator_puts_someone_on_call_and_takes_them_off(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "admin")
    page = client.get("/staff/admin").text
    assert "On call out of hours" in page
    bad = client.post(
        "/staff/admin/rota",
        data={"csrf": csrf, "staff_id": world.ids["adv_a2"], "starts": "2030-01-06T09:00", "ends": "2030-01-05T18:00"},
    )
    assert bad.status_code == 400 and "must end after it starts" in bad.text
    client.post(
        "/staff/admin/rota",
        data={"csrf": csrf, "staff_id": world.ids["adv_a"], "starts": "2030-01-05T18:00", "ends": "2030-01-06T09:00"},
    )
    with world.service.db.session() as s:
        shift = s.scalars(select(OnCallShift).where(OnCallShift.staff_id == world.ids["adv_a"])).one()
        assert shift.starts_at.hour == 18 and shift.ends_at.hour == 9, "UK time in winter is UTC"
        assert s.scalars(select(AuditEntry).where(AuditEntry.object_type == "on_call_shift")).first()
        assert s.get(StaffUser, world.ids["adv_a"]) is not None
    page = client.get("/staff/admin").text
    client.post(f"/staff/admin/rota/{shift.id}/delete", data={"csrf": csrf_of(page)})
    with world.service.db.session() as s:
        assert s.get(OnCallShift, shift.id) is None
