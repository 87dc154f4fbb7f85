"""First contact: emergency advice, language, safety questions, discreet mode, and invitation codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.admin import create_case, invite
from bot.storage.models import Contact, Invitation, Ticket
from tests.people import Person


def _contact(service, person: Person) -> Contact:
    with service.db.session() as s:
        return s.scalars(select(Contact)).all()[-1]


def test_first_message_gives_emergency_number_before_the_language_menu(service):
    person = Person(service.engine)
    heard = person.says("hi")
    assert heard.index("999") < heard.index("English")
    assert {"English", "اردو", "ਪੰਜਾਬੀ", "Soomaali", "Polski"} <= set(person.options)


def test_language_can_be_chosen_by_number_name_or_code(service):
    for i, answer in enumerate(["1", "english", "en-GB"]):
        person = Person(service.engine, address=f"+44770090010{i}")
        person.says("hello")
        assert "safe for you to talk" in person.says(answer)


def test_nonsense_at_the_language_menu_is_asked_again_kindly(service):
    person = Person(service.engine)
    person.says("hello")
    heard = person.says("asdfgh")
    assert "Sorry" in heard and "choose your language" in heard
    assert "English" in person.options


def test_explains_what_the_service_is_and_is_not(service):
    person = Person(service.engine)
    greeting = person.says("hello")
    heard = person.picks("English")
    assert "not an emergency service" in heard
    assert "999" in greeting and "55" in greeting, "the one emergency line, with the Silent Solution"


def test_not_safe_to_talk_means_we_wait_for_them(service):
    person = Person(service.engine)
    person.says("hello")
    person.picks("English")
    heard = person.picks("No")
    assert "We will not message you first" in heard
    assert person.options == []
    assert "safe for you to talk" in person.says("hi again")


def test_someone_else_may_read_turns_on_discreet_mode(service):
    person = Person(service.engine)
    person.says("hello")
    person.picks("English")
    person.picks("Yes")
    heard = person.picks("Not sure")
    assert "You have a new message. Reply to read it." in heard, "says exactly what their phone will show"
    assert _contact(service, person).discreet is True


def test_without_a_code_a_person_reaches_the_menu_and_can_ask_to_be_contacted(service):
    person = Person(service.engine)
    heard = person.gets_through_first_contact()
    assert "You can still read everything" in heard
    heard = person.picks("Ask us to contact you")
    assert "asked someone from our team to contact you" in heard
    with service.db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert (ticket.reason, ticket.priority, ticket.status) == ("requested", "normal", "waiting")


def _case_with_code(service, **kw) -> str:
    with service.db.session() as s:
        create_case(s, reference="R-1", label="Amina")
        return invite(s, reference="R-1", **kw)


def test_a_typed_invitation_code_links_the_person_to_their_case(service):
    code = _case_with_code(service)
    person = Person(service.engine)
    person.says("hello")
    person.picks("English")
    person.picks("Yes")
    person.picks("No")
    person.picks("I have a code")
    heard = person.says(code.lower().replace("-", " "))
    assert "linked to the review" in heard
    with service.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        assert contact.case_id is not None
        assert s.scalars(select(Invitation)).one().used_by_contact_id == contact.id


def test_join_code_in_the_first_message_is_used_after_the_safety_questions(service):
    code = _case_with_code(service)
    person = Person(service.engine)
    person.says(f"JOIN {code}")
    person.picks("English")
    person.picks("Yes")
    heard = person.picks("No")
    assert "linked to the review" in heard
    assert "Talk to a person" in person.options


def test_an_invitation_code_works_only_once(service):
    code = _case_with_code(service)
    first, second = Person(service.engine, "+447700900201"), Person(service.engine, "+447700900202")
    first.gets_through_first_contact()
    assert "linked to the review" in first.says(f"JOIN {code}")
    second.gets_through_first_contact()
    assert "did not work" in second.says(f"JOIN {code}")


def test_an_expired_code_does_not_work(service):
    code = _case_with_code(service, valid_for=timedelta(seconds=-1))
    person = Person(service.engine)
    person.gets_through_first_contact()
    assert "did not work" in person.says(f"JOIN {code}")


def test_guessing_codes_is_stopped_after_a_few_tries(service):
    code = _case_with_code(service)
    person = Person(service.engine)
    person.gets_through_first_contact()
    for guess in ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"]:
        assert "did not work" in person.says(f"JOIN {guess}")
    assert "too many times" in person.says(f"JOIN {code}")


def test_a_first_message_in_urdu_gets_the_emergency_line_and_menu_prompt_in_urdu_too(service):
    from bot.i18n import translations

    person = Person(service.engine)
    heard = person.says("السلام علیکم، مجھے اپنی بہن کے بارے میں بات کرنی ہے")
    urdu = translations("ur").gettext("Which language would you like to use?")
    assert urdu in heard and "Which language would you like to use" in heard
    assert heard.count("999") == 1, "one emergency line, in the language they wrote in"
    assert person.options[0] == "اردو", "the language they wrote in is offered first"


def test_hi_at_the_language_menu_is_a_greeting_not_hindi(service):
    person = Person(service.engine)
    person.says("hello")
    heard = person.says("hi")
    assert "choose your language" in heard
    assert "Hindi" not in heard and "हिन्दी" in person.options


@pytest.mark.parametrize("typed", ["Urdu", "اردو", "sorani", "Kurdish", "Punjabi", "pa-Guru"])
def test_a_language_can_be_typed_by_its_name(service, typed):
    from bot.dialogue.first_contact import language_named

    assert language_named(typed) in {"ur", "ckb", "pa"}


def test_hi_at_the_menu_is_understood_as_a_greeting(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    assert "Sorry" not in person.says("hi")
