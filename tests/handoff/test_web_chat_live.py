"""A family member on the web chat, on a phone, asks for a person and keeps the page open: the advocate's
reply and the chair's update appear on it within 2 seconds, without a reload; after the browser is
closed, the private return code on another browser brings both back."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

import bot.web.chat
from bot.admin import invite
from bot.channels.worker import start_dispatcher_thread
from bot.storage.models import Case, Ticket, TicketEvent
from bot.web.app import create_app
from tests.browser import ARTIFACTS, PHONE, chromium, needs_chromium
from tests.conftest import only_on
from tests.live import serving

from .conftest import PASSWORD, World

pytestmark = [pytest.mark.browser, needs_chromium]
REPLY = "Hello, I am Asha, your advocate. I can call you tomorrow morning if that suits you."
LIVE_WITHIN = 2.0  # seconds, from the staff member's click to the family's open page


def _log_in(page: object, url: str, world: World, key: str) -> None:
    page.goto(url + "/staff/login")  # type: ignore[attr-defined]
    page.fill("input[name=email]", world.emails[key])  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.fill("input[name=code]", pyotp.TOTP(world.secrets[key]).now())  # type: ignore[attr-defined]
    page.get_by_role("button", name="Log in").click()  # type: ignore[attr-defined]


def _staff_config(app: object) -> object:
    for route in app.routes:  # type: ignore[attr-defined]
        if getattr(route, "path", "") == "/staff":
            return route.app.state.config
    raise AssertionError("the staff app is not mounted at /staff")


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)  # type: ignore[attr-defined]


def _no_sideways_scrolling(page: object) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "no sideways scrolling"  # type: ignore[attr-defined]


@only_on("sqlite")
def test_advocate_reply_and_chair_update_reach_the_open_web_chat_and_come_back_with_the_code(
    world: World, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Live connections renewed every 3 s instead of 50: the page reconnects (Last-Event-ID) several
    # times during the test, and must neither miss nor repeat a message.
    monkeypatch.setattr(bot.web.chat, "STREAM_SECONDS", 3)
    service = world.service
    with service.db.session() as s:
        reference = s.get(Case, world.ids["case_a"]).reference  # type: ignore[union-attr]
        join_code = invite(s, reference=reference)
    app = create_app(service)
    _staff_config(app).poll_seconds = 0.3  # type: ignore[attr-defined]
    pool, stop = start_dispatcher_thread(service, 1)  # the outbox, as `dhrbot serve` runs it
    try:
        with serving(app) as url, chromium() as browser:
            family_browser = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            family = family_browser.new_page()
            family.goto(url + "/chat")
            family.get_by_role("button", name="English").click()
            family.get_by_role("button", name="Yes").click()  # safe to talk
            family.get_by_text("Could someone else read these messages?").wait_for()
            family.get_by_role("button", name="No", exact=True).click()
            family.get_by_role("button", name="I have a code").click()
            family.fill("#text", join_code)
            family.keyboard.press("Enter")
            family.get_by_text("You are now linked to the review").wait_for()
            family.fill("#text", "PERSON")
            family.keyboard.press("Enter")
            family.get_by_text("Asha Lead-A, your advocate").wait_for()

            # The return code is given at once, and what it is for.
            code_bubble = family.locator(".msg.bot", has_text="return code")
            code_bubble.wait_for()
            found = re.search(r"RESUME ([A-Z0-9]{4}-[A-Z0-9]{4})", code_bubble.inner_text())
            assert found, "the page shows the private return code"
            return_code = found.group(0)
            assert "close your browser" in code_bubble.inner_text()
            _no_sideways_scrolling(family)
            _shot(family, "web-chat-return-code.png")

            # A safe way to reach them, with their consent, and when.
            family.get_by_role("button", name="A phone call").click()
            family.get_by_text("What phone number should we use?").wait_for()
            family.fill("#text", "07700 900123")
            family.keyboard.press("Enter")
            family.get_by_role("button", name="Morning (9am to 12 noon)").click()
            family.click("#send")
            family.get_by_text("Only our team will use this").wait_for()
            _shot(family, "web-chat-safe-contact.png")

            with service.db.session() as s:
                ticket = s.scalars(
                    select(Ticket).where(Ticket.routed_to_id == world.ids["adv_a"]).order_by(Ticket.id.desc())
                ).first()
                assert ticket is not None and ticket.case_id == world.ids["case_a"]
                ticket_id = ticket.id
                notes = [
                    e.note
                    for e in s.scalars(
                        select(TicketEvent).where(
                            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "safe contact"
                        )
                    )
                ]
            assert notes == ["A phone call: 07700 900123", "Morning (9am to 12 noon)"]

            # The advocate replies in the staff app; the family's open page shows it, no reload.
            staff = browser.new_context().new_page()
            _log_in(staff, url, world, "adv_a")
            staff.wait_for_url(url + "/staff/inbox/mine")
            staff.goto(url + f"/staff/tickets/{ticket_id}")
            assert "07700 900123" in staff.content(), "the advocate sees how the person can be reached"
            staff.click("#take")
            staff.fill("#reply-text", REPLY)
            loads_before = family.evaluate("performance.getEntriesByType('navigation').length")
            clicked = time.monotonic()
            staff.click("#send-reply")
            family.locator(".msg", has_text=REPLY).wait_for(timeout=LIVE_WITHIN * 1000)
            advocate_reply_took = time.monotonic() - clicked
            assert advocate_reply_took <= LIVE_WITHIN
            assert family.evaluate("performance.getEntriesByType('navigation').length") == loads_before
            _shot(family, "web-chat-advocate-reply-live.png")

            # The chair sends an update to the case's family.
            chair = browser.new_context().new_page()
            _log_in(chair, url, world, "chair_a")
            chair.wait_for_url(url + "/staff/cases")
            chair.goto(url + f"/staff/cases/{world.ids['case_a']}")
            chair.select_option("select[name=update]", "still_working")
            chair.click("#preview-update")  # the chair sees it as each person will, then confirms
            chair.locator("tr.update-line").first.wait_for()
            clicked = time.monotonic()
            chair.click("#confirm-update")
            update = family.locator(".msg", has_text="An update about the review")
            update.wait_for(timeout=LIVE_WITHIN * 1000)
            chair_update_took = time.monotonic() - clicked
            assert chair_update_took <= LIVE_WITHIN
            update_text = update.evaluate("e => e.lastChild.textContent")  # the words, without "From our team"
            assert update.locator(".from").inner_text() == "From our team"
            _no_sideways_scrolling(family)
            _shot(family, "web-chat-chair-update-live.png")

            # Live messages are never shown twice, however long the page stays open.
            family.wait_for_timeout(4000)  # at least one more reconnection
            assert family.locator(".msg", has_text=REPLY).count() == 1
            assert family.locator(".msg", has_text=update_text).count() == 1

            # A reload still shows both.
            family.reload()
            family.locator(".msg", has_text=REPLY).wait_for()
            family.locator(".msg", has_text=update_text).wait_for()
            family_browser.close()  # the browser is closed: its session cookie is gone

            # Another browser, the return code: the reply and the update are there.
            other = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
            other.goto(url + "/chat")
            other.get_by_role("button", name="English").wait_for()
            assert REPLY not in other.content(), "a new browser shows nothing of anyone's conversation"
            other.fill("#text", return_code)
            other.keyboard.press("Enter")
            other.locator(".msg", has_text=REPLY).wait_for()
            other.locator(".msg", has_text=update_text).wait_for()
            _no_sideways_scrolling(other)
            _shot(other, "web-chat-return-code-new-browser.png")
            print(
                f"advocate reply on the page after {advocate_reply_took:.2f} s, chair's update after {chair_update_took:.2f} s"
            )
    finally:
        stop.set()
        pool.join(timeout=10)
