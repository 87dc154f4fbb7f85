"""On the web chat the conversation ends with the browser: a return code at once, a consented second way
to be reached, the team's messages on coming back; and the form asks for the number or address."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.dialogue.messages import Inbound
from bot.storage.models import Contact, ContributionVersion, Ticket, TicketEvent
from bot.storage.outbox import enqueue
from tests.dialogue.test_form import SISTER, answer, start_form
from tests.people import Person

CODE = re.compile(r"RESUME [A-Z0-9]{4}-[A-Z0-9]{4}")


def web_visitor(service, session: str = "browser-session-1") -> Person:
    return Person(service.engine, address=session, channel="web")


def test_a_web_visitor_asking_for_a_person_gets_a_return_code_and_a_safe_way_to_be_reached(service):
    person = web_visitor(service)
    person.gets_through_first_contact()
    heard = person.says("PERSON")
    assert CODE.search(heard), "the private return code, at once"
    assert "close your browser" in heard and "keep it private" in heard, "and plainly what it is for"
    assert "another safe way to reach you" in heard
    assert person.options == ["A phone call", "A text message", "Email", "No, I will come back here"]

    person.picks("A phone call")
    heard = person.says("tomorrow after lunch")
    assert "does not look like a phone number" in heard, "a kind re-ask"
    heard = person.says("07700 900123")
    assert "Which times of day are safe?" in heard
    heard = person.says("1 3")
    assert "Only our team will use this" in heard
    assert "What would you like to do?" in heard, "back where they were"
    with service.db.session() as s:
        notes = [e.note for e in s.scalars(select(TicketEvent).where(TicketEvent.kind == "safe contact"))]
        assert notes == ["A phone call: 07700 900123", "Morning (9am to 12 noon), Evening (5pm to 9pm)"]
        assert "07700" not in str(s.scalars(select(Contact)).one().state_data), "the number is kept encrypted"


def test_saying_no_thanks_to_another_way_is_fine_and_asks_nothing_more(service):
    person = web_visitor(service)
    person.gets_through_first_contact()
    person.says("PERSON")
    heard = person.picks("No, I will come back here")
    assert "send your return code to see our reply" in heard
    heard = person.says("PERSON")
    assert "another safe way to reach you" not in heard, "offered once, never pressed"
    assert not CODE.search(heard), "the code they have still works; no new one"


def test_on_sms_the_phone_number_is_the_way_back_so_no_code_or_offer(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    heard = person.says("PERSON")
    assert not CODE.search(heard)
    assert "another safe way to reach you" not in heard


def test_an_urgent_message_on_the_web_mid_form_gives_the_code_offers_once_then_carries_on(service):
    person = web_visitor(service)
    start_form(person)
    person.picks("A friend")
    heard = person.says("he is outside my house and I'm scared")
    assert heard.index("999") < heard.index("RESUME"), "emergency numbers first"
    assert heard.count("another safe way to reach you") == 1
    heard = person.picks("No, I will come back here")
    assert "How would you like to take part" in heard, "the form carries on where it was"


def test_coming_back_with_the_code_on_another_browser_shows_what_the_team_sent(service):
    first = web_visitor(service, "browser-one")
    first.gets_through_first_contact()
    found = CODE.search(first.says("PERSON"))
    assert found is not None, "a return code is given"
    code = found.group(0)
    first.picks("No, I will come back here")
    with service.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        contact.human_holds = True  # an advocate took the conversation and replied
        enqueue(s, contact, "This is Sam. I can call you on Monday.", author="advocate", prompted=True)

    other = web_visitor(service, "browser-two")
    other.says("hello")
    assert "Sam" not in other.heard
    heard = other.says(code)
    assert "This is Sam. I can call you on Monday." in heard
    assert "looking after your conversation" in heard
    wrong = web_visitor(service, "browser-three")
    wrong.says("hello")
    assert "Sam" not in wrong.says("RESUME AAAA-BBBB"), "a wrong code reveals nothing"


def test_saving_answers_on_the_web_gives_a_code_to_come_back_for_the_answer(service):
    person = web_visitor(service)
    start_form(person)
    for prompt, reply in SISTER:
        # (no advocate wanted: asking for one would give the code with the request already)
        answer(person, prompt, "No" if prompt == "free, independent advocate" else reply)
    heard = person.picks("Yes, save it")
    assert "Your answers are saved" in heard
    found = CODE.search(heard)
    assert found and "The review may answer you here later" in heard
    code = found.group(0)
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().resume_code_hash is not None, "the code still works"
    back = web_visitor(service, "another-browser")
    back.says("hello")
    assert "Welcome back" in back.says(code)


def test_choosing_a_phone_call_in_the_form_asks_for_the_number(service):
    person = Person(service.engine)
    start_form(person)
    for prompt, reply in SISTER:
        if prompt == "How should the review contact you":
            heard = answer(person, prompt, "A phone call")
            assert "What phone number should the review call?" in heard
            heard = person.says("in the evening")
            assert "does not look like a phone number" in heard and "What phone number" in heard, "a kind re-ask"
            answer(person, "What phone number", "07700 900456")
        else:
            answer(person, prompt, reply)
    assert "Phone number: 07700 900456" in person.heard, "in the summary to confirm"
    person.picks("Yes, save it")
    with service.db.session() as s:
        saved = s.scalars(select(ContributionVersion)).one()
        assert saved.answers["contact_phone"] == "07700 900456"
        assert s.scalars(select(Ticket)).one() is not None


def test_choosing_email_or_a_letter_asks_for_the_address_and_this_chat_asks_nothing(service):
    for choice, asked in [("Email", "What email address"), ("A letter", "What postal address"), ("this chat", None)]:
        person = Person(service.engine, address=f"+4477009001{len(choice):02d}")
        start_form(person)
        for prompt, reply in SISTER:
            if prompt == "How should the review contact you":
                heard = answer(person, prompt, choice)
                if asked:
                    assert asked in heard
                    typed = "someone@example.org" if choice == "Email" else "1 Private Road, Cardiff"
                    assert "Which days" in person.says(typed)
                else:
                    assert "Which days" in heard
                break
            answer(person, prompt, reply)


def test_the_page_message_inbound_is_stored_on_the_web_channel(service):
    service.engine.handle(Inbound(channel="web", address="s", text="hello"))
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().state == "language"
