"""Welsh speakers: the language menu knows Cymraeg, the whole flow answers in Welsh, and danger is caught."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.dialogue.first_contact import language_named
from bot.i18n import LANGUAGES, translations
from bot.storage.models import Contact, Ticket
from tests.people import Person


def welsh(message: str) -> str:
    """The Welsh a person would read for an English source message."""
    return translations("cy").gettext(message)


@pytest.mark.parametrize("typed", ["Cymraeg", "cymraeg", "CYMRAEG", "Welsh", "welsh", "cy", "CY", "cy-GB"])
def test_welsh_can_be_typed_at_the_language_menu(typed):
    assert language_named(typed) == "cy"


def test_welsh_is_offered_next_to_english_in_its_own_name(service):
    person = Person(service.engine)
    person.says("hello")
    assert person.options[:2] == ["English", "Cymraeg"]
    assert [lang.code for lang in LANGUAGES][:2] == ["en", "cy"]


def test_typing_cymraeg_at_the_menu_gets_the_welsh_flow(service):
    person = Person(service.engine)
    person.says("helo")
    heard = person.says("Cymraeg")
    safe_to_talk = welsh("Is it safe for you to talk now?")
    assert safe_to_talk != "Is it safe for you to talk now?", "the Welsh catalog is compiled and used"
    assert safe_to_talk in heard
    assert welsh("This is not an emergency service.") in heard
    assert "Is it safe for you to talk now?" not in heard
    assert person.options == ["Ie", "Na"]
    person.picks("Ie")
    heard = person.picks("Na")  # nobody else reads these messages
    assert welsh("Do you have an invitation code from the review? It looks like this: ABCD-EFGH.") in heard
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().language == "cy"


def test_a_first_message_in_welsh_gets_the_emergency_line_and_the_menu_prompt_in_welsh_too(service):
    person = Person(service.engine)
    heard = person.says("Helo, dwi angen siarad efo rhywun am fy chwaer")
    assert welsh("Which language would you like to use?") in heard
    assert person.options[0] == "Cymraeg", "the language they wrote in is offered first"
    assert heard.count("999") == 1, "one emergency line, in Welsh"


@pytest.mark.parametrize(
    "words",
    ["dw i ddim eisiau byw", "dwi isio marw", "mae o tu allan i'r tŷ a dwi ofn, mae o'n mynd i fy lladd i"],
)
def test_an_urgent_welsh_message_mid_form_is_caught_and_answered_in_welsh(service, words):
    person = Person(service.engine)
    person.says("helo")
    person.says("Cymraeg")
    person.picks("Ie")
    person.picks("Na")
    person.picks(welsh("I don't have a code"))
    person.picks(welsh("Tell us how you want to take part"))
    person.picks(welsh("A friend"))
    heard = person.says(words)
    assert "999" in heard
    assert welsh("I have asked a person from our team to contact you as soon as they can.") in heard
    assert welsh("How would you like to take part? You can choose more than one. Send the numbers, like: 1 3") in heard
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().priority == "urgent"
        assert s.scalars(select(Contact)).one().draft == {"relationship": "friend"}


def test_stop_in_welsh_works_before_a_language_is_chosen(service):
    person = Person(service.engine)
    person.says("helo")
    heard = person.says("stopio")
    assert welsh("You will not get any more messages from us. If you want to talk again, just write to us.") in heard, (
        "answered in the language of the word they used"
    )
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is True
