"""The number or address a family member gave for the review to contact them: the chair sees it only with
their consent to share, and the advocate handling their request sees what they offered for it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from bot.storage.models import ContributionVersion, TicketEvent

from .conftest import World, logged_in

PHONE_A, PHONE_B = "07700 900111", "07700 900222"


def _add_phone(world: World, family: str, phone: str) -> None:
    with world.service.db.session() as s:
        latest = s.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == world.ids[family])
            .order_by(ContributionVersion.version.desc())
        ).first()
        assert latest is not None
        answers = {**latest.answers, "contact_channel": "phone", "contact_phone": phone}
        s.add(
            ContributionVersion(
                contact_id=latest.contact_id, case_id=latest.case_id, version=latest.version + 1,
                answers=answers, channel="web",
            )
        )  # fmt: skip


def test_the_chair_sees_the_phone_number_only_with_consent_to_share(client: TestClient, world: World) -> None:
    _add_phone(world, "fam_a", PHONE_A)  # shares with the chair
    _add_phone(world, "fam_b", PHONE_B)  # does not
    logged_in(client, world, "chair_a")
    page_a = client.get(f"/staff/cases/{world.ids['case_a']}").text
    assert PHONE_A in page_a and "A phone call" in page_a
    client.post("/staff/logout", data={})
    client.cookies.clear()
    logged_in(client, world, "chair_b")
    page_b = client.get(f"/staff/cases/{world.ids['case_b']}").text
    assert PHONE_B not in page_b
    assert "A phone call" not in page_b, "without consent to share, none of their answers reach the chair"
    assert PHONE_B not in client.get(f"/staff/cases/{world.ids['case_b']}/export.csv").text


def test_the_advocate_sees_the_safe_way_to_reach_someone_on_their_ticket(client: TestClient, world: World) -> None:
    with world.service.db.session() as s:
        s.add(TicketEvent(ticket_id=world.ids["ticket_a"], kind="safe contact", note="A text message: 07700 900333"))
    logged_in(client, world, "adv_a")
    page = client.get(f"/staff/tickets/{world.ids['ticket_a']}").text
    assert "07700 900333" in page
    with world.service.db.session() as s:
        raw = s.execute(text("SELECT note FROM ticket_events WHERE kind = 'safe contact'")).scalar_one()
    assert "07700" not in raw, "kept encrypted at rest"
