"""Safety comes first in every state; information in plain messages; a person when needed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.models import Contact, Message, Ticket
from tests.people import Person

URGENT = ["I don't want to live anymore", "he is outside my house and I'm scared"]


@pytest.mark.parametrize("words", URGENT)
def test_urgent_words_mid_form_show_emergency_numbers_raise_an_urgent_ticket_and_keep_the_answers(service, words):
    person = Person(service.engine)
    person.gets_through_first_contact()
    person.picks("Tell us how you want to take part")
    person.picks("A friend")
    heard = person.says(words)
    assert "999" in heard
    assert "asked a person from our team" in heard
    assert "How would you like to take part" in heard, "the form carries on where it was"
    with service.db.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.priority == "urgent"
        assert s.scalars(select(Contact)).one().draft == {"relationship": "friend"}


def test_self_harm_shows_samaritans(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    heard = person.says("I want to kill myself")
    assert "116 123" in heard


def test_urgent_first_message_gets_emergency_advice_before_anything_else(service):
    person = Person(service.engine)
    heard = person.says("please help he is going to hurt me, he threatened me")
    assert heard.index("999") < heard.index("English")
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().priority == "urgent"


def test_the_bot_stays_silent_while_an_advocate_holds_the_conversation_except_for_danger(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    with service.db.session() as s:
        s.scalars(select(Contact)).one().human_holds = True
    assert person.says("1") == ""
    assert person.says("can you tell me more") == ""
    assert "999" in person.says("I don't want to live")
    with service.db.session() as s:
        stored = [m.body for m in s.scalars(select(Message).where(Message.direction == "in"))]
    assert "can you tell me more" in stored, "the advocate still sees what the family wrote"


def test_stop_works_in_any_state_and_writing_again_restarts(service):
    person = Person(service.engine)
    person.says("hello")
    assert "not get any more messages" in person.says("STOP")
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is True
    person.says("1")
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is False


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("What is a review", "Domestic Abuse Related Death Review"),
        ("The stages", "a year or more"),
        ("Ways to take part", "always your choice"),
        ("Advocates", "right to a free advocate"),
        ("Privacy", "does not use real names"),
        ("Support and helplines", "0808 2000 247"),
    ],
)
def test_information_in_short_plain_messages(service, choice, expected):
    person = Person(service.engine)
    person.gets_through_first_contact()
    heard = person.picks(choice)
    assert expected in heard
    assert all(len(r.text) < 700 for r in person.replies), "each message stays short"
    assert "anything else" in heard


def test_helplines_come_from_configuration(service, tmp_path, settings, nlu):
    from bot.service import build_service

    custom = tmp_path / "helplines.yaml"
    custom.write_text(
        'emergency: {number: "999", description: "Emergency."}\n'
        'helplines:\n  - {name: Local Line, number: "0100 000 000", description: "A local service.", topics: [abuse]}\n'
    )
    svc = build_service(settings.model_copy(update={"helplines_file": custom}), nlu=nlu)
    person = Person(svc.engine, address="+447700900777")
    person.gets_through_first_contact()
    heard = person.picks("Support and helplines")
    assert "Local Line: 0100 000 000" in heard and "Samaritans" not in heard


def test_free_text_questions_at_the_menu_are_understood(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    assert "Domestic Abuse Related Death Review" in person.says("what is a review?")


def test_repeated_misunderstanding_offers_then_brings_in_a_person(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    assert "Sorry" in person.says("qwxz")
    assert "PERSON" in person.says("zzkq")
    assert "ask a person to help" in person.says("vvbn")
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "misunderstood"


def test_talk_to_a_person_works_from_inside_the_form(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    person.picks("Tell us how you want to take part")
    assert "contact you" in person.says("talk to a person")
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "requested"


def test_help_and_menu_anywhere(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    person.picks("Tell us how you want to take part")
    assert "SKIP" in person.says("help")
    assert "How did you know" in person.heard, "help then repeats the question"
    assert "What would you like to do" in person.says("menu")


def test_change_language_later(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    person.picks("Change language")
    person.picks("English")
    assert "What would you like to do" in person.heard


def test_someone_writing_in_another_language_is_answered_then_offered_it(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    heard = person.says("¿Qué es una revisión? Quiero saber más, por favor")
    assert "Domestic Abuse Related Death Review" in heard, "the question is answered first"
    assert "Español" in heard
    person.picks("Sí")
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().language == "es"


def test_a_declined_language_offer_is_not_repeated(service):
    person = Person(service.engine)
    person.gets_through_first_contact()
    person.says("¿Qué es una revisión? Quiero saber más, por favor")
    assert "What would you like to do" in person.picks("No")
    assert "Español" not in person.says("¿Cuánto tiempo dura la revisión, más o menos?")


def test_a_language_code_typed_at_the_language_menu_is_never_urgent(service):
    person = Person(service.engine)
    person.says("hello")
    assert "safe for you to talk" in person.says("en-GB")
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).first() is None


def test_a_voice_note_is_kept_encrypted_and_a_person_will_listen(service):
    from bot.dialogue.messages import Inbound, Media
    from bot.storage.models import Attachment

    person = Person(service.engine)
    person.gets_through_first_contact()
    person.picks("Tell us how you want to take part")
    voice = Media("audio/ogg", b"OggS-fake-voice-note-bytes")
    replies = service.engine.handle(Inbound(channel="sms", address=person.address, text="", media=(voice,)))
    heard = "\n".join(r.text for r in replies)
    assert "a person from our team will listen" in heard
    assert "How did you know the person who died?" in heard, "the question is asked again; nothing is lost"
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "media"
        assert s.scalars(select(Attachment)).one().content_type == "audio/ogg"
