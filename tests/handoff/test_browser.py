"""The whole handoff loop in a real browser: a family message raises an urgent ticket, the named advocate
sees it appear live, takes it and replies through the family's channel; the chair sees state, not text."""

from __future__ import annotations

import dataclasses

import pyotp
import pytest
from sqlalchemy import select

from bot.channels.dispatcher import Dispatcher, build_senders
from bot.dialogue.messages import Inbound
from bot.service import Service
from bot.storage.models import Address, Contact, Message, Ticket
from bot.web.app import create_app
from tests.browser import ARTIFACTS, browser_page, needs_chromium
from tests.channels.standins import Server, StandIn
from tests.live import serving

from .conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, needs_chromium]
FAMILY_PHONE = "+447700900777"
DISTRESS = "I don't want to live anymore"
REPLY = "I am here with you now. Are you safe at this moment?"


def _staff_config(app: object) -> object:
    for route in app.routes:  # type: ignore[attr-defined]
        if getattr(route, "path", "") == "/staff":
            return route.app.state.config
    raise AssertionError("the staff app is not mounted at /staff")


def _delivered_by_sms(service: Service, phone: str) -> list[str]:
    """Run the real dispatcher against a stand-in of Twilio's API; the texts that reached this phone."""
    standin = StandIn(twilio_auth=("AC" + "7" * 32, "auth-token"))
    with Server(standin.app()) as server:
        standin.url = server.url
        settings = service.settings.model_copy(
            update={
                "twilio_account_sid": "AC" + "7" * 32,
                "twilio_auth_token": "auth-token",
                "twilio_sms_from": "+447700900000",
                "twilio_api_base_url": server.url,
            }
        )
        sending = dataclasses.replace(service, settings=settings)
        senders = build_senders(sending)
        try:
            Dispatcher(sending, senders).run_once()
        finally:
            for sender in senders:
                sender.close()
        return [p.get("Body", "") for p in standin.sent("twilio", "Messages") if p.get("To") == phone]


def _log_in(page: object, url: str, world: World, key: str) -> None:
    page.goto(url + "/staff/login")  # type: ignore[attr-defined]
    page.fill("input[name=email]", world.emails[key])  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.fill("input[name=code]", pyotp.TOTP(world.secrets[key]).now())  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]


def test_urgent_message_to_advocate_reply_and_chair_view(world: World, database_url: str) -> None:
    if "postgresql" in database_url:
        pytest.skip("the browser path is the same on both databases; run once")
    service = world.service
    engine = service.engine
    engine.handle(Inbound(channel="sms", address=FAMILY_PHONE, text="hello"))
    with service.db.session() as s:
        contact = s.scalars(select(Contact).order_by(Contact.id.desc())).first()
        assert contact is not None
        contact.case_id, contact.language = world.ids["case_a"], "en"  # as if they had joined with a code
        family_id = contact.id
    app = create_app(service)
    _staff_config(app).poll_seconds = 0.3  # type: ignore[attr-defined]
    with serving(app) as url, browser_page() as page:
        _log_in(page, url, world, "adv_a")
        page.wait_for_url(url + "/staff/inbox/mine")
        page.wait_for_timeout(800)  # the live feed is connected and has its first snapshot

        engine.handle(Inbound(channel="sms", address=FAMILY_PHONE, text=DISTRESS))
        with service.db.session() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.contact_id == family_id)).one()
            assert (ticket.priority, ticket.routed_to_id) == ("urgent", world.ids["adv_a"])
            ticket_id = ticket.id
        link = page.locator(f'li.urgent a[href="/staff/tickets/{ticket_id}"]')
        link.wait_for(timeout=15000)  # appeared without reloading
        assert page.locator("ul.tickets li").first.get_attribute("class").split()[1] == "urgent"
        link.click()
        page.locator("#trigger-message", has_text=DISTRESS).wait_for()  # the message that raised it, up top
        page.click("#take")
        page.fill("#reply-text", REPLY)
        page.click("#send-reply")
        page.locator(".msg.advocate .body", has_text=REPLY).wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "handoff-advocate.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})  # a phone
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
        page.screenshot(path=str(ARTIFACTS / "handoff-advocate-phone.png"), full_page=False)
        page.set_viewport_size({"width": 1280, "height": 800})

        with service.db.session() as s:
            sent = s.scalars(select(Message).where(Message.contact_id == family_id, Message.author == "advocate")).one()
            address = s.get(Address, sent.address_id)
            assert address is not None and address.address == FAMILY_PHONE and address.channel == "sms"
            assert (sent.body, sent.direction) == (REPLY, "out")
            assert s.get(Contact, family_id).human_holds is True  # type: ignore[union-attr]
        assert REPLY in _delivered_by_sms(service, FAMILY_PHONE), "the reply reaches the family's own channel"

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(url + "/staff/login")
        _log_in(page, url, world, "chair_a")
        page.wait_for_url(url + "/staff/cases")
        page.goto(url + f"/staff/cases/{world.ids['case_a']}")
        row = page.locator("tr.queue-row", has_text=f"#{ticket_id}")
        assert "active" in row.inner_text() and "Asha Lead-A" in row.inner_text() and "urgent" in row.inner_text()
        content = page.content()
        assert DISTRESS not in content and REPLY not in content
        page.screenshot(path=str(ARTIFACTS / "handoff-chair.png"), full_page=True)
