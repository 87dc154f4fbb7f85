"""The web chat at a hard moment, on a phone-sized screen: a first message about a death is heard."""

from __future__ import annotations

import pytest

from bot.web.app import create_app
from tests.browser import ARTIFACTS, browser_page, needs_chromium
from tests.conftest import only_on
from tests.live import serving

pytestmark = [pytest.mark.browser, needs_chromium]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def chat_url(service, settings):
    service.settings = settings.model_copy(update={"quick_exit_url": "about:blank#left"})
    with serving(create_app(service)) as url:
        service.settings = service.settings.model_copy(update={"public_base_url": url})
        yield url


@pytest.mark.parametrize(
    ("words", "language", "direction"),
    [
        ("my sister was killed by her husband and I don't know what is happening", "English", "ltr"),
        pytest.param(
            "قتلت أختي على يد زوجها ولا أعرف ماذا يحدث",
            "العربية",
            "rtl",
            marks=pytest.mark.xfail(reason="the NLU reads this account of a killing as danger now (issue 10)"),
        ),
    ],
)
@only_on("sqlite")
def test_a_message_about_a_death_at_the_language_question_is_heard_and_its_language_offered(
    chat_url, database_url, words, language, direction
):
    with browser_page() as page:
        page.set_viewport_size(PHONE)
        page.goto(chat_url + "/chat")
        page.get_by_role("button", name="English").wait_for()
        page.fill("#text", words)
        page.keyboard.press("Enter")
        page.get_by_role("button", name=language).wait_for()
        log = page.locator("#log").inner_text()
        assert "didn't understand" not in log and "number of your language" not in log
        assert page.locator("#choices button").count() <= 3, "a short offer, not the whole list again"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"web-chat-first-words-{direction}.png"), full_page=True)
        page.get_by_role("button", name=language).click()
        page.locator(f"html[dir={direction}]").wait_for(state="attached")  # the page's CSP forbids eval
        page.locator("#choices button").nth(1).wait_for()  # "is it safe to talk now?": yes / no
