"""The advocate inbox, the chair's view, exports and administration, through the staff web app."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.storage.models import AuditEntry, Case, Contact, Invitation, Message, Ticket
from handoff import tickets
from handoff.chair import registrants
from handoff.exports import case_pdf

from .conftest import FAMILY_WORDS_A, QUESTIONS_A, QUESTIONS_B, World, logged_in


def _audits(world: World, action: str, staff: str) -> list[AuditEntry]:
    with world.service.db.session() as s:
        return list(
            s.scalars(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.staff_id == world.ids[staff]))
        )


def test_advocate_sees_the_conversation_takes_it_and_replies(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "adv_a")
    inbox = client.get("/staff/inbox/mine").text
    assert f"/staff/tickets/{world.ids['ticket_a']}" in inbox
    assert f"/staff/tickets/{world.ids['ticket_b']}" not in inbox
    page = client.get(f"/staff/tickets/{world.ids['ticket_a']}").text
    assert FAMILY_WORDS_A in page
    assert len(_audits(world, "read", "adv_a")) == 1, "every read of a conversation is audited"
    url = f"/staff/tickets/{world.ids['ticket_a']}"
    assert client.post(url + "/take", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert (
        client.post(
            url + "/reply", data={"csrf": csrf, "text": "I am Asha, your advocate."}, follow_redirects=False
        ).status_code
        == 303
    )
    client.post(url + "/note", data={"csrf": csrf, "text": "Prefers mornings"})
    with world.service.db.session() as s:
        sent = s.scalars(select(Message).where(Message.author == "advocate")).one()
        assert (sent.contact_id, sent.channel, sent.status, sent.staff_id) == (
            world.ids["fam_a"],
            "sms",
            "queued",
            world.ids["adv_a"],
        )
        assert s.get_one(Contact, world.ids["fam_a"]).human_holds is True
    assert "Prefers mornings" in client.get(url).text


def test_canned_replies_are_offered_and_sent_in_the_familys_language(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "adv_a")
    url = f"/staff/tickets/{world.ids['ticket_a']}"
    client.post(url + "/take", data={"csrf": csrf})
    assert 'name="canned_key"' in client.get(url).text
    client.post(url + "/reply", data={"csrf": csrf, "canned_key": "interpreter"})
    from handoff.canned import render

    with world.service.db.session() as s:
        sent = s.scalars(select(Message).where(Message.author == "advocate")).one()
        assert sent.body == render("interpreter", "ur")


def test_someone_elses_held_ticket_cannot_be_taken(client: TestClient, world: World) -> None:
    with world.service.db.session() as s:
        tickets.take(s, world.ticket(s, "ticket_a"), world.user(s, "adv_a2"))
    csrf = logged_in(client, world, "adv_a")
    response = client.post(f"/staff/tickets/{world.ids['ticket_a']}/take", data={"csrf": csrf})
    assert response.status_code == 409 and "already taken" in response.text


def test_live_updates_stream(client: TestClient, world: World) -> None:
    logged_in(client, world, "adv_a")
    response = client.get(f"/staff/events?ticket={world.ids['ticket_a']}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("event: ready\ndata: ")
    assert 'data-events="/staff/events"' in client.get("/staff/inbox/all").text


def test_chair_sees_registrants_consented_words_and_queue_but_no_conversation(client: TestClient, world: World) -> None:
    with world.service.db.session() as s:
        ticket = world.ticket(s, "ticket_a")
        tickets.take(s, ticket, world.user(s, "adv_a"))
        tickets.reply(s, ticket, world.user(s, "adv_a"), "Advocate reply text")
        tickets.add_note(s, ticket, world.user(s, "adv_a"), "Private note text")
    logged_in(client, world, "chair_a")
    page = client.get(f"/staff/cases/{world.ids['case_a']}").text
    assert "Brother or sister" in page
    assert "Talk with the chair, with an advocate there" in page
    assert QUESTIONS_A in page
    assert "Version 2" in page, "the history of changes"
    assert "Asha Lead-A" in page and "active" in page
    for private in (FAMILY_WORDS_A, "Advocate reply text", "Private note text", "+447700900001"):
        assert private not in page
    assert len(_audits(world, "read", "chair_a")) == 1


def test_without_consent_the_chair_sees_that_they_registered_but_none_of_their_answers(
    client: TestClient, world: World
) -> None:
    logged_in(client, world, "chair_b")
    page = client.get(f"/staff/cases/{world.ids['case_b']}").text
    assert "Person 1" in page and "has not agreed to share their answers" in page
    assert "Friend" not in page and "Write an account" not in page
    assert QUESTIONS_B not in page
    body = client.get(f"/staff/cases/{world.ids['case_b']}/export.csv").text
    row = next(csv.DictReader(io.StringIO(body.split("\n", 1)[1])))
    assert row["shares_with_chair"] == "no" and row["questions"] == "not shared" and row["attachments"] == "0"
    assert row["relationship"] == "not shared" and row["ways"] == "not shared"
    assert QUESTIONS_B not in body


def test_exports_honour_consent_and_are_audited(client: TestClient, world: World) -> None:
    logged_in(client, world, "chair_a")
    body = client.get(f"/staff/cases/{world.ids['case_a']}/export.csv").text
    row = next(csv.DictReader(io.StringIO(body.split("\n", 1)[1])))
    assert row["questions"] == QUESTIONS_A and row["latest_version"] == "2" and row["consent_quote"] == "No"
    pdf = client.get(f"/staff/cases/{world.ids['case_a']}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert [e.detail for e in _audits(world, "export", "chair_a")] == ["csv", "pdf"]


def test_pdf_summary_handles_right_to_left_and_indic_scripts(world: World) -> None:
    with world.service.db.session() as s:
        from bot.storage.models import ContributionVersion

        s.add(
            ContributionVersion(
                contact_id=world.ids["fam_a"], case_id=world.ids["case_a"], version=3, channel="sms",
                answers={"relationship": "relative", "relationship_detail": "میری بہن · আমার বোন", "questions": "کیوں؟", "consent_share_chair": "yes"},
            )
        )  # fmt: skip
        s.flush()
        case = s.get_one(Case, world.ids["case_a"])
        assert registrants(s, case)[0].questions == "کیوں؟"
        assert case_pdf(s, case).startswith(b"%PDF")


def test_stage_tracker_and_family_update_in_each_language(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "chair_a")
    url = f"/staff/cases/{world.ids['case_a']}"
    assert client.post(url + "/stage", data={"csrf": csrf, "stage": 3}, follow_redirects=False).status_code == 303
    assert client.post(url + "/stage", data={"csrf": csrf, "stage": 9}, follow_redirects=False).status_code == 400
    preview = client.post(url + "/update", data={"csrf": csrf, "update": "stage"})
    assert "Check the update before it is sent" in preview.text and "Urdu" in preview.text
    confirmed = {"csrf": csrf, "update": "stage", "confirmed": "yes"}
    assert client.post(url + "/update", data=confirmed, follow_redirects=False).status_code == 303
    from bot.content.stages import STAGES
    from bot.i18n import _, use_language
    from handoff.canned import UPDATES

    with use_language("ur"):
        expected = _(UPDATES["stage"].text).format(stage=_(STAGES[2]))
    with world.service.db.session() as s:
        assert s.get_one(Case, world.ids["case_a"]).stage == 3
        sent = s.scalars(select(Message).where(Message.author == "system")).all()
        assert [(m.contact_id, m.body, m.prompted) for m in sent] == [(world.ids["fam_a"], expected, False)], (
            "only case A's family, at safe times"
        )


def test_administrator_creates_a_case_and_an_invitation_shown_once(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "admin")
    response = client.post(
        "/staff/admin/cases",
        data={
            "csrf": csrf,
            "reference": "C-2026-9",
            "label": "Rose",
            "chair": world.emails["chair_a"],
            "lead": world.emails["adv_a"],
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with world.service.db.session() as s:
        case = s.scalars(select(Case).where(Case.reference == "C-2026-9")).one()
        assert (case.chair_id, case.lead_advocate_id) == (world.ids["chair_a"], world.ids["adv_a"])
    page = client.post(f"/staff/admin/cases/{case.id}/invite", data={"csrf": csrf, "note": "for the sister"}).text
    code = re.search(r"JOIN ([A-Z0-9]{4}-[A-Z0-9]{4})", page)
    assert code, page
    with world.service.db.session() as s:
        stored = s.scalars(select(Invitation).where(Invitation.case_id == case.id)).one()
        assert code.group(1) not in stored.code_hash
    assert code.group(1) not in client.get("/staff/admin").text
    audit_page = client.get("/staff/admin/audit").text
    assert "invite" in audit_page and "Ada Admin" in audit_page


def test_admin_refuses_a_duplicate_case_with_a_reason(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "admin")
    response = client.post("/staff/admin/cases", data={"csrf": csrf, "reference": "A-2026-1", "label": "X"})
    assert response.status_code == 400 and "already exists" in response.text


def test_hand_back_and_close_from_the_inbox(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "adv_a")
    url = f"/staff/tickets/{world.ids['ticket_a']}"
    client.post(url + "/take", data={"csrf": csrf})
    asked = client.post(url + "/hand-back", data={"csrf": csrf})
    assert "Hand this conversation back to the assistant?" in asked.text, "asked first"
    with world.service.db.session() as s:
        assert s.get_one(Ticket, world.ids["ticket_a"]).status == "active", "nothing happens until confirmed"
    client.post(url + "/hand-back", data={"csrf": csrf, "confirmed": "yes"})
    with world.service.db.session() as s:
        assert s.get_one(Ticket, world.ids["ticket_a"]).status == "returned"
        assert s.get_one(Contact, world.ids["fam_a"]).human_holds is False


def test_administrator_reassigns_a_case_and_new_tickets_follow(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "admin")
    url = f"/staff/admin/cases/{world.ids['case_b']}/assign"
    bad = client.post(url, data={"csrf": csrf, "lead": world.emails["chair_a"]})
    assert bad.status_code == 400 and "not an active advocate" in bad.text
    ok = client.post(
        url,
        data={"csrf": csrf, "chair": world.emails["chair_b"], "lead": world.emails["adv_a2"]},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    with world.service.db.session() as s:
        case = s.get_one(Case, world.ids["case_b"])
        assert case is not None and case.lead_advocate_id == world.ids["adv_a2"] and case.deputy_advocate_id is None
        assert s.scalars(
            select(AuditEntry).where(AuditEntry.action == "assign", AuditEntry.object_type == "case")
        ).one()


def test_administrator_unlocks_and_switches_off_accounts(client: TestClient, world: World) -> None:
    from datetime import timedelta

    from bot.storage.models import StaffUser, utcnow

    with world.service.db.session() as s:
        s.get_one(StaffUser, world.ids["adv_b"]).locked_until = utcnow() + timedelta(minutes=10)
    csrf = logged_in(client, world, "admin")
    client.post(f"/staff/admin/users/{world.ids['adv_b']}/unlock", data={"csrf": csrf})
    client.post(f"/staff/admin/users/{world.ids['adv_a2']}/active", data={"csrf": csrf, "active": "no"})
    own = client.post(f"/staff/admin/users/{world.ids['admin']}/active", data={"csrf": csrf, "active": "no"})
    assert own.status_code == 400
    with world.service.db.session() as s:
        assert s.get_one(StaffUser, world.ids["adv_b"]).locked_until is None
        assert s.get_one(StaffUser, world.ids["adv_a2"]).active is False


def test_no_reply_to_someone_who_sent_stop(world: World) -> None:
    import pytest

    with world.service.db.session() as s:
        ticket, me = world.ticket(s, "ticket_a"), world.user(s, "adv_a")
        tickets.take(s, ticket, me)
        s.get_one(Contact, ticket.contact_id).stopped = True
        with pytest.raises(tickets.TicketError):
            tickets.reply(s, ticket, me, "hello")


def test_administrator_creates_a_staff_account_that_can_sign_in_with_two_factor(
    client: TestClient, world: World
) -> None:
    import re

    import pyotp

    from .conftest import csrf_of

    csrf = logged_in(client, world, "admin")
    form = {"csrf": csrf, "email": "Nadia@Example.org", "name": "Nadia", "role": "advocate", "organisation": "Org A"}
    page = client.post("/staff/admin/users", data=form).text
    password = re.search(r"<dt>Password</dt><dd><code>([^<]+)</code>", page)
    secret = re.search(r"<dt>Two-factor secret</dt><dd><code>([^<]+)</code>", page)
    assert password and secret, "the new account's details are shown once"
    assert password.group(1) not in client.get("/staff/admin").text
    assert "Nadia" in client.get("/staff/admin").text
    client.post("/staff/logout", data={"csrf": csrf})
    login_page = client.get("/staff/login")
    signed_in = client.post(
        "/staff/login",
        data={
            "email": "nadia@example.org",
            "password": password.group(1),
            "code": pyotp.TOTP(secret.group(1)).now(),
            "csrf": csrf_of(login_page.text),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    refused = client.post("/staff/admin/users", data=form)
    assert refused.status_code in (400, 403)


def test_an_advocate_account_needs_an_organisation(client: TestClient, world: World) -> None:
    csrf = logged_in(client, world, "admin")
    form = {"csrf": csrf, "email": "x@example.org", "name": "X", "role": "advocate", "organisation": ""}
    response = client.post("/staff/admin/users", data=form)
    assert response.status_code == 400 and "organisation" in response.text
