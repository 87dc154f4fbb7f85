"""Writing an account in the web chat on a phone-sized screen, right to left, read back before saving."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.dialogue import form
from bot.i18n import LANGUAGES, translations
from bot.storage.models import ContributionPiece
from bot.web.app import create_app
from tests.browser import ARTIFACTS, browser_page, needs_chromium
from tests.conftest import only_on
from tests.live import serving

pytestmark = [pytest.mark.browser, needs_chromium]
ACCOUNT = ["وہ میری چھوٹی بہن تھی۔", "اس نے ایک رات پہلے مجھے فون کیا اور کہا کہ وہ ڈری ہوئی ہے۔"]


@only_on("sqlite")
def test_an_urdu_speaker_writes_an_account_in_the_web_chat_and_reads_it_back(service, database_url):
    answered = {form.RELATIONSHIP: "sibling", form.WAYS: [form.WAY_WRITTEN]}
    skips = len([q for q in form.applicable(answered) if q.key not in answered])
    ways = [o.value for o in form.BY_KEY[form.WAYS].options]
    relationships = [o.value for o in form.BY_KEY[form.RELATIONSHIP].options]
    typed = [
        str([lang.code for lang in LANGUAGES].index("ur") + 1), "1", "2", "2", "7",
        str(relationships.index("sibling") + 1), str(ways.index(form.WAY_WRITTEN) + 1),
        *["skip"] * skips, "1", "1", "1", *ACCOUNT, "done",
    ]  # fmt: skip
    with serving(create_app(service)) as url:
        service.settings = service.settings.model_copy(update={"public_base_url": url})
        with browser_page() as page:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(url + "/chat")
            page.locator(".msg.bot").first.wait_for()
            for text in typed:
                page.fill("#text", text)
                page.keyboard.press("Enter")
            # The read-back: everything written, in order, in the person's own words.
            page.locator(".msg.bot", has_text=ACCOUNT[1]).wait_for()
            page.locator("html[dir=rtl]").wait_for(state="attached")  # the page's CSP forbids eval
            readback = page.locator(".msg.bot", has_text=ACCOUNT[0]).last.inner_text()
            assert readback.index(ACCOUNT[0]) < readback.index(ACCOUNT[1])
            ARTIFACTS.mkdir(exist_ok=True)
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.screenshot(path=str(ARTIFACTS / "web-chat-account-readback-ur-390x844.png"))
            for text in ("1", "1", "2", "1"):  # save; the chair may read it, not quote it, the panel may see it
                page.fill("#text", text)
                page.keyboard.press("Enter")
            page.get_by_text(translations("ur").gettext("The chair may read it.")).wait_for()
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.screenshot(path=str(ARTIFACTS / "web-chat-account-saved-ur-390x844.png"))
    with service.db.session() as s:
        piece = s.scalars(select(ContributionPiece)).one()
        assert piece.text == "\n\n".join(ACCOUNT)
        assert (piece.consent_chair, piece.consent_quote, piece.consent_panel) == (True, False, True)


@only_on("sqlite")
def test_not_taking_part_is_answered_warmly_on_a_phone_sized_screen(service, database_url):
    with serving(create_app(service)) as url:
        service.settings = service.settings.model_copy(update={"public_base_url": url})
        with browser_page() as page:
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(url + "/chat")
            page.get_by_role("button", name="English").click()
            page.get_by_role("button", name="Yes").click()
            page.get_by_role("button", name="No", exact=True).click()
            page.get_by_role("button", name="I don't have a code").click()
            page.get_by_role("button", name="Tell us how you want to take part").click()
            page.get_by_role("button", name="A friend").click()
            page.get_by_role("button", name="I don't want to take part").click()
            page.get_by_role("button", name="Send", exact=True).click()
            page.get_by_text("completely okay").wait_for()
            page.get_by_text("keep you informed").wait_for()
            ARTIFACTS.mkdir(exist_ok=True)
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.screenshot(path=str(ARTIFACTS / "web-chat-not-taking-part-390x844.png"))
            page.get_by_role("button", name="No", exact=True).click()
            page.get_by_text("We will not send you updates").wait_for()
            assert page.get_by_text("Do you already have an advocate").count() == 0, "no more questions follow"
