"""When the bot is unsure whether someone is in danger, it asks, in their language, and acts on the answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.i18n import translations
from bot.nlu.base import NLU
from bot.storage.models import Contact, Message, Ticket
from tests.people import Person

QUESTION = "Are you, or is anyone, in danger right now?"
# Worried, but not clearly danger: the NLU answers `check` for these (asserted first in each test).
UNSURE = {
    "English": ("en", "it's all too much, I can't cope"),
    "Polski": ("pl", "mam dość wszystkiego"),
    "Español": ("es", "estoy cansada de todo"),
}
# Danger in words the safety lexicon does not list: only the sentence encoder's meaning catches it.
PARAPHRASED_DANGER = "someone has been asking the neighbours where I moved to"


def _arrives_at_the_menu(person: Person, language: str) -> None:
    """Hello, language, safe to talk (1 = yes), nobody else reads (2 = no), no code (2), by number."""
    person.says("hello")
    person.picks(language)
    person.says("1")
    person.says("2")
    person.says("2")


def _tickets(service) -> list[Ticket]:
    with service.db.session() as s:
        return list(s.scalars(select(Ticket)))


@pytest.mark.parametrize("language", list(UNSURE))
def test_an_unsure_message_gets_the_danger_question_in_the_persons_language(service, nlu: NLU, language):
    code, words = UNSURE[language]
    assert nlu.parse(words, code).triage == "check"
    person = Person(service.engine)
    _arrives_at_the_menu(person, language)
    heard = person.says(words)
    expected_question = translations(code).gettext(QUESTION)
    yes_no = [translations(code).gettext("Yes"), translations(code).gettext("No")]
    assert expected_question in heard
    assert person.options == yes_no
    assert _tickets(service) == [], "asking is not yet raising the alarm"


def test_yes_is_treated_as_urgent_emergency_numbers_and_an_urgent_ticket(service):
    person = Person(service.engine)
    _arrives_at_the_menu(person, "English")
    person.says(UNSURE["English"][1])
    heard = person.picks("Yes")
    assert "999" in heard
    assert [t.priority for t in _tickets(service)] == ["urgent"]


def test_no_is_answered_kindly_and_the_conversation_carries_on_where_it_was(service):
    person = Person(service.engine)
    _arrives_at_the_menu(person, "English")
    person.picks("Tell us how you want to take part")
    person.says(UNSURE["English"][1])
    heard = person.says("no")
    assert "Thank you for telling me" in heard
    assert "How did you know the person who died?" in heard, "the question they were on is asked again"
    assert _tickets(service) == []
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().state == "form"


def test_a_different_message_after_the_question_is_read_as_itself(service):
    person = Person(service.engine)
    _arrives_at_the_menu(person, "English")
    person.says(UNSURE["English"][1])
    heard = person.says("what is a review?")
    assert "Domestic Abuse Related Death Review" in heard
    assert QUESTION not in heard


def test_paraphrased_danger_is_caught_at_the_language_menu(service, nlu: NLU):
    assert nlu.parse(PARAPHRASED_DANGER).triage == "urgent"
    person = Person(service.engine)
    person.says("hello")
    heard = person.says(PARAPHRASED_DANGER)
    assert "999" in heard
    assert "English" in heard, "the language menu is asked again"
    assert [t.priority for t in _tickets(service)] == ["urgent"]


def test_paraphrased_danger_is_caught_in_the_middle_of_the_form_and_keeps_the_answers(service):
    person = Person(service.engine)
    _arrives_at_the_menu(person, "English")
    person.picks("Tell us how you want to take part")
    person.picks("A friend")
    heard = person.says(PARAPHRASED_DANGER)
    assert "999" in heard
    assert "How would you like to take part" in heard, "the form carries on where it was"
    assert [t.priority for t in _tickets(service)] == ["urgent"]
    with service.db.session() as s:
        assert s.scalars(select(Contact)).one().draft == {"relationship": "friend"}


def test_paraphrased_danger_is_caught_while_an_advocate_holds_the_conversation(service):
    person = Person(service.engine)
    _arrives_at_the_menu(person, "English")
    with service.db.session() as s:
        s.scalars(select(Contact)).one().human_holds = True
    assert person.says(UNSURE["English"][1]) == "", "the advocate reads it; the bot does not butt in"
    assert "999" in person.says(PARAPHRASED_DANGER)
    assert [t.priority for t in _tickets(service)] == ["urgent"]


def test_buttons_and_commands_never_reach_the_sentence_encoder(service, nlu: NLU):
    classifier = nlu.classifier  # type: ignore[attr-defined]
    person = Person(service.engine)
    person.says("hello")
    person.picks("English")
    before = classifier.encoded
    person.says("Yes")  # a quick-reply label, as WhatsApp and Telegram send it
    person.says("Not sure")
    person.says("MENU")
    assert classifier.encoded == before
    person.says("could you tell me what a review is")
    assert classifier.encoded == before + 1, "free text: the encoder runs once"
    with service.db.session() as s:
        assert s.scalars(select(Message).where(Message.direction == "in")).all()
