"""The web chat in a real browser: a family member talks, taps quick replies, and can leave quickly."""

from __future__ import annotations

import pytest

from bot.web.app import create_app
from tests.browser import ARTIFACTS, browser_page, needs_chromium
from tests.conftest import only_on
from tests.live import serving

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def chat_url(service, settings):
    service.settings = settings.model_copy(update={"quick_exit_url": "about:blank#left"})
    with serving(create_app(service)) as url:
        service.settings = service.settings.model_copy(update={"public_base_url": url})
        yield url


@only_on("sqlite")  # the browser path is the same on both databases
def test_a_person_chats_with_buttons_and_the_quick_exit_leaves_and_clears(chat_url):
    with browser_page() as page:
        page.goto(chat_url + "/chat")
        page.get_by_role("button", name="English").click()
        page.get_by_text("Is it safe for you to talk now?").wait_for()
        page.get_by_role("button", name="Yes").click()
        page.get_by_text("Could someone else read these messages?").wait_for()
        page.fill("#text", "what is a review?")
        page.keyboard.press("Enter")
        page.get_by_text("Could someone else read these messages?").nth(1).wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-chat.png"), full_page=True)
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
        page.wait_for_url("about:blank#left")
        page.go_back()
        assert "safe for you to talk" not in page.content(), "the chat is not in the back history"


@only_on("sqlite")
@pytest.mark.parametrize("lang", ["ar", "fa", "ur", "ckb"])
def test_right_to_left_languages_turn_the_page_right_to_left(chat_url, lang):
    from bot.i18n import BY_CODE

    with browser_page() as page:
        page.goto(chat_url + "/chat")
        page.get_by_role("button", name=BY_CODE[lang].native_name).click()
        # (a selector, not wait_for_function: the page's Content-Security-Policy forbids eval)
        page.locator("html[dir=rtl]").wait_for(state="attached")
        assert page.evaluate("document.documentElement.lang") == lang
        # The quick exit keeps working and now speaks the person's language.
        assert page.locator("#quick-exit").inner_text() != "Quick exit"
        # Phone numbers stay readable inside right-to-left sentences.
        assert "999" in page.locator("#notice").inner_text()
        bubble = page.locator(".msg.bot").last
        assert bubble.evaluate("e => getComputedStyle(e).direction") == "rtl"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"web-chat-rtl-{lang}.png"), full_page=True)
