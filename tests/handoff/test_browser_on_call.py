"""On a phone, out of hours: an urgent message in Urdu reaches the advocate on call, who sees why and which
message at once, takes it, answers with a ready-made reply in Urdu and hands back after confirming; the
family gets both; the chair sees only the queue's state, then writes, previews and sends an update."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.dialogue.messages import Inbound
from bot.i18n import _, use_language
from bot.storage.models import CaseUpdate, Contact, Ticket, utcnow
from bot.web.app import create_app
from handoff import rota
from handoff.auth import create_user
from handoff.canned import BY_KEY
from tests.browser import ARTIFACTS, PHONE, browser_page, needs_chromium
from tests.conftest import only_on
from tests.live import serving

from .conftest import PASSWORD, World
from .test_browser import _delivered_by_sms, _log_in, _staff_config

pytestmark = [pytest.mark.browser, needs_chromium]
FAMILY_PHONE = "+447700900888"
URDU_DANGER = "وہ مجھے جان سے مار دے گا"  # "he will kill me"
UPDATE = "The panel meets in March. Your advocate will explain what happens there."


def _night_shift(world: World) -> None:
    """Nobody on case A works now; Nia from Org A is on call."""
    with world.service.db.session() as s:
        for key in ("adv_a", "adv_a2"):
            world.user(s, key).working_hours = {"timezone": "Europe/London"}
        account = create_user(
            s, email="night@example.org", name="Nia Night-A", role="advocate", organisation="Org A", password=PASSWORD
        )
        world.ids["night"], world.secrets["night"] = account.user.id, account.totp_secret
        world.emails["night"] = account.user.email
        rota.add_shift(
            s, account.user, utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=10), world.user(s, "admin")
        )


@only_on("sqlite")
def test_urgent_urdu_message_on_call_advocate_canned_reply_hand_back_and_the_chairs_view(
    world: World, database_url: str
) -> None:
    service = world.service
    _night_shift(world)
    service.engine.handle(Inbound(channel="sms", address=FAMILY_PHONE, text="hello"))
    with service.db.session() as s:
        contact = s.scalars(select(Contact).order_by(Contact.id.desc())).first()
        assert contact is not None
        contact.case_id, contact.language, contact.state = world.ids["case_a"], "ur", "menu"
        family_id = contact.id
    service.engine.handle(Inbound(channel="sms", address=FAMILY_PHONE, text=URDU_DANGER))
    with service.db.session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.contact_id == family_id)).one()
        assert (ticket.priority, ticket.routed_to_id) == ("urgent", world.ids["night"]), "to whoever is on call"
        ticket_id = ticket.id
    app = create_app(service)
    _staff_config(app).poll_seconds = 0.3  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(app) as url, browser_page() as page:
        page.set_viewport_size(PHONE)
        _log_in(page, url, world, "night")
        page.wait_for_url(url + "/staff/inbox/mine")
        page.locator(f'li.urgent a[href="/staff/tickets/{ticket_id}"]').click()
        head = page.locator("header.ticket-head")
        head.locator("#trigger-message", has_text=URDU_DANGER).wait_for()
        assert "May be in danger" in head.inner_text() and "Urdu" in head.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"
        page.screenshot(path=str(ARTIFACTS / "ticket-on-call-phone.png"), full_page=False)

        page.click("#take")
        page.select_option("#canned", "hello")
        page.click("#send-canned")
        page.locator(".msg.advocate .body").wait_for()
        page.click("#hand-back")
        page.get_by_text("Hand this conversation back to the assistant?").wait_for()
        page.screenshot(path=str(ARTIFACTS / "ticket-hand-back-confirm-phone.png"), full_page=False)
        page.click("#confirm-yes")
        page.locator("#ticket-status", has_text="returned").wait_for()

        with use_language("ur"):
            hello = _(BY_KEY["hello"].text)
            thanks = _("Thank you for talking with {name}. I am the assistant, and I will help you again from here.")
        delivered = _delivered_by_sms(service, FAMILY_PHONE)
        assert hello in delivered, "the ready-made reply reached the family, in Urdu"
        handed_back = [m for m in delivered if "Nia Night-A" in m]
        assert handed_back and thanks.split("{name}")[0].strip() in handed_back[0], "told what happens next"

        page.get_by_role("button", name="Log out").click()
        page.wait_for_url(url + "/staff/login")
        _log_in(page, url, world, "chair_a")
        page.wait_for_url(url + "/staff/cases")
        page.goto(url + f"/staff/cases/{world.ids['case_a']}")
        content = page.content()
        assert URDU_DANGER not in content and hello not in content, "the chair sees the queue's state, not words"

        page.fill("#update-text", UPDATE)
        page.click("#preview-update")
        page.locator("tr.update-line", has_text="Urdu").first.wait_for()
        assert "Needs translating" in page.content()
        page.screenshot(path=str(ARTIFACTS / "chair-update-preview-phone.png"), full_page=False)
        page.click("#confirm-update")
        page.locator(".sent-updates li", has_text=UPDATE).wait_for()
        page.screenshot(path=str(ARTIFACTS / "chair-case-phone.png"), full_page=True)
    with service.db.session() as s:
        record = s.scalars(select(CaseUpdate)).one()
        assert record.text == UPDATE and len(record.recipients) == 2
    assert UPDATE in _delivered_by_sms(service, FAMILY_PHONE), "the update reached the family"
