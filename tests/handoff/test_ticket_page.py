"""The advocate's ticket page answers the first questions at a glance: why, which message, who, how long."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.storage.models import Contact, Ticket
from tests.people import Person

from .conftest import World, csrf_of, logged_in

URDU_DANGER = "وہ مجھے جان سے مار دے گا"  # "he will kill me"


def _urgent_in_urdu(world: World) -> int:
    person = Person(world.service.engine, address="+447700900123")
    person.says("hello")
    person.picks("اردو")
    person.says(URDU_DANGER)
    with world.service.db.session() as s:
        contact_id = s.scalars(select(Contact.id).order_by(Contact.id.desc())).first()
        ticket = s.scalars(select(Ticket).where(Ticket.contact_id == contact_id)).one()
        assert ticket.priority == "urgent"
        return ticket.id


def test_an_urgent_ticket_says_why_which_message_and_the_language_in_english(client: TestClient, world: World) -> None:
    ticket_id = _urgent_in_urdu(world)
    logged_in(client, world, "adv_a")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    head = page.split('<section class="actions">')[0]
    assert "May be in danger" in head, "the reason in plain words"
    assert "safety_concern" not in page
    assert f'id="trigger-message">{URDU_DANGER}</blockquote>' in head, "the message that raised it, up top"
    assert 'id="ticket-language">Urdu<' in head
    assert "organisation queue" in head, "who it waits for and that everyone in the queue sees it"
    assert "In English" in page and "How did you know the person who died?" not in head
    assert "If you are in danger" in page or "999" in page
    take_at = page.index('id="take"')
    assert take_at < page.index('<ol class="conversation"'), "take comes before the transcript"


def test_the_assistants_routine_is_folded_and_its_words_shown_in_english(client: TestClient, world: World) -> None:
    ticket_id = _urgent_in_urdu(world)
    logged_in(client, world, "adv_a")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert "<details><summary>The assistant&#39;s routine messages" in page
    conversation = page.split('<ol class="conversation"')[1]
    assert conversation.index("In English") > 0


def test_an_unlinked_ticket_can_be_linked_to_a_case_the_advocate_works_on(client: TestClient, world: World) -> None:
    ticket_id = _urgent_in_urdu(world)
    csrf = logged_in(client, world, "adv_a")
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert 'id="link-case"' in page and "A-2026-1" in page and "B-2026-1" not in page
    response = client.post(
        f"/staff/tickets/{ticket_id}/link", data={"csrf": csrf_of(page), "case_id": world.ids["case_b"]}
    )
    assert response.status_code == 409, "not a case this advocate works on"
    client.post(f"/staff/tickets/{ticket_id}/link", data={"csrf": csrf, "case_id": world.ids["case_a"]})
    with world.service.db.session() as s:
        ticket = s.get_one(Ticket, ticket_id)
        assert ticket.case_id == world.ids["case_a"]
        assert s.get_one(Contact, ticket.contact_id).case_id == world.ids["case_a"]


def test_close_and_transfer_ask_first(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "adv_a")
    url = f"/staff/tickets/{world.ids['ticket_a']}"
    asked = client.post(url + "/transfer", data={"csrf": csrf, "target_id": world.ids["adv_a2"]})
    assert "Transfer this conversation to Amir Deputy-A?" in asked.text
    assert "Close this ticket?" in client.post(url + "/close", data={"csrf": csrf}).text
    with world.service.db.session() as s:
        ticket = s.get_one(Ticket, world.ids["ticket_a"])
        assert (ticket.status, ticket.routed_to_id) == ("waiting", world.ids["adv_a"])


def test_the_inbox_previews_the_last_message_and_names_its_folders_plainly(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    page = client.get("/staff/inbox/all").text
    assert "My sister was frightened of him for years" in page, "the last message, previewed"
    assert "Not taken yet" in page and "Unassigned" not in page
    assert "Asked to talk to a person" in page
