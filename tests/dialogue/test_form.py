"""The contribution form: every question, skipping, going back, nonsense, pausing, resuming and changing."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, text

from bot.dialogue import form
from bot.service import build_service
from bot.storage.models import Contact, ContributionVersion, Message, Ticket
from tests.people import Person

# What a sister who wants to take part would answer, question by question (label part to pick, or text).
SISTER = [
    ("How did you know", "brother or sister"),
    ("How would you like to take part", "1 2 5"),
    ("What questions", "Why did nobody act when she went to the GP?"),
    ("Which language", "Urdu"),
    ("dialect", "Mirpuri"),
    ("interpreter?", "a woman"),
    ("outside your community", "Yes"),
    ("easier", "Large print please"),
    ("already have an advocate", "No"),
    ("free, independent advocate", "Yes"),
    ("specialist service", "Yes"),
    ("How should the review contact you", "this chat"),
    ("Which days", "1 3"),
    ("Which times", "3"),
    ("leave you a message", "No"),
    ("only say that you have a new message", "Yes"),
    ("share what you have told us", "Yes"),
    ("quote your words", "No"),
    ("use your name", "No"),
]


def answer(person: Person, expected_prompt: str, reply: str) -> str:
    """Check the bot asked what we expect, then answer by label, numbers, or free text."""
    assert expected_prompt in person.heard, f"expected {expected_prompt!r}, heard:\n{person.heard}"
    if reply[0].isdigit() or not person.options or not any(reply.lower() in o.lower() for o in person.options):
        return person.says(reply)
    return person.picks(reply)


def start_form(person: Person) -> str:
    person.gets_through_first_contact()
    return person.picks("Tell us how you want to take part")


def versions(service) -> list[ContributionVersion]:
    with service.db.session() as s:
        return list(s.scalars(select(ContributionVersion).order_by(ContributionVersion.version)))


def test_a_sister_completes_the_whole_form_and_confirms_the_summary(service):
    person = Person(service.engine)
    start_form(person)
    for prompt, reply in SISTER:
        answer(person, prompt, reply)
    heard = person.heard
    assert "Here is what you told us" in heard
    assert "I am their brother or sister" in heard
    assert "Talk with the chair, with an advocate there, Write an account, Help choose the questions" in heard
    assert "Why did nobody act when she went to the GP?" in heard
    assert not versions(service), "nothing is saved as a version before the person confirms"
    heard = person.picks("Yes, save it")
    assert "Your answers are saved" in heard
    assert "chair will see" in heard
    saved = versions(service)
    assert len(saved) == 1
    assert saved[0].answers["ways"] == ["talk_chair", "written", "shape_questions"]
    assert saved[0].answers["safe_days"] == ["mon", "wed"]
    assert saved[0].answers["consent_quote"] == "no"
    with service.db.session() as s:
        # Wanting an advocate puts the person in the queue for one.
        assert s.scalars(select(Ticket)).one().reason == "advocate_requested"


def test_answers_are_encrypted_at_rest(service):
    person = Person(service.engine)
    start_form(person)
    for prompt, reply in SISTER[:3]:
        answer(person, prompt, reply)
    with service.db.engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT draft FROM contacts")) for v in row)
        raw += " ".join(str(v) for row in conn.execute(text("SELECT body FROM messages")) for v in row)
        raw += " ".join(str(v) for row in conn.execute(text("SELECT address FROM addresses")) for v in row)
    # Spaces and "+" never occur in Fernet tokens, so these cannot match ciphertext by chance.
    assert "nobody act" not in raw and "+447700900001" not in raw and "I am their" not in raw


def test_every_question_can_be_skipped(service):
    person = Person(service.engine)
    start_form(person)
    asked = []
    while "Here is what you told us" not in person.heard:
        asked.append(person.replies[-1].text)
        person.says("skip")
        assert len(asked) < 40
    assert len(asked) == len(form.applicable({}))
    person.picks("Yes, save it")
    assert set(versions(service)[0].answers.values()) == {form.SKIPPED}


def test_not_now_asks_when_to_ask_again_and_skips_the_rest_of_taking_part(service):
    person = Person(service.engine)
    start_form(person)
    answer(person, "How did you know", "A friend")
    heard = answer(person, "How would you like to take part", "Not now")
    assert "When should we ask you again" in heard
    heard = person.picks("In 3 months")
    assert "already have an advocate" in heard, "questions about taking part are not asked of someone not ready"


def test_a_typed_date_in_the_past_is_asked_again(service):
    person = Person(service.engine)
    start_form(person)
    person.picks("A friend")
    person.picks("Not now")
    assert "Sorry" in person.says("01/01/2020")
    assert "already have an advocate" in person.says("25/03/2027")


def test_nonsense_at_every_kind_of_question_is_asked_again_and_loses_nothing(service):
    person = Person(service.engine)
    start_form(person)
    assert "Sorry, I didn't catch that" in person.says("42")
    assert "How did you know" in person.heard
    person.picks("A friend")
    heard = person.says("1 99")
    assert "numbers of your choices" in heard
    assert "Sorry" in person.says("2 10")  # "I don't want to take part" cannot be combined
    person.says("2")
    with service.db.session() as s:
        draft = s.scalars(select(Contact)).one().draft
    assert draft == {"relationship": "friend", "ways": ["written"]}


def test_back_goes_to_the_previous_question(service):
    person = Person(service.engine)
    start_form(person)
    person.picks("A friend")
    assert "How did you know" in person.says("back")
    assert "How would you like" in person.picks("A colleague")


def test_pause_and_resume_days_later_on_another_channel(service):
    sms = Person(service.engine, address="+447700900301", channel="sms")
    start_form(sms)
    sms.picks("I am their parent")
    heard = sms.says("pause")
    assert "RESUME" in heard
    code = heard.split("RESUME ")[1][:9]
    telegram = Person(service.engine, address="5550001", channel="telegram")
    telegram.now = sms.now + timedelta(days=4)
    heard = telegram.says(f"RESUME {code}")
    assert "Welcome back" in heard
    assert "How would you like to take part" in heard
    with service.db.session() as s:
        assert len(s.scalars(select(Contact)).all()) == 1, "the same person on both channels"


def test_a_wrong_resume_code_reveals_nothing(service):
    sms = Person(service.engine, address="+447700900301")
    start_form(sms)
    sms.picks("I am their parent")
    sms.says("pause")
    stranger = Person(service.engine, address="+447700900999")
    heard = stranger.says("RESUME ZZZZ-ZZZZ")
    assert "did not work" in heard and "parent" not in heard


def test_saved_answers_can_be_changed_and_every_version_is_kept(service):
    person = Person(service.engine)
    start_form(person)
    for prompt, reply in SISTER:
        answer(person, prompt, reply)
    person.picks("Yes, save it")
    person.picks("Later")  # (she is offered to write her account now)
    assert "See or change your answers" in person.options
    heard = person.picks("See or change your answers")
    assert "I am their brother or sister" in heard
    person.picks("Change an answer")
    person.picks("Quote your words")
    heard = person.picks("Yes")
    assert "Here is what you told us" in heard
    person.picks("Yes, save it")
    first, second = versions(service)
    assert (first.answers["consent_quote"], second.answers["consent_quote"]) == ("no", "yes")
    assert second.version == 2


def test_saving_unchanged_answers_adds_no_version(service):
    person = Person(service.engine)
    start_form(person)
    for prompt, reply in SISTER:
        answer(person, prompt, reply)
    person.picks("Yes, save it")
    person.picks("Later")
    person.picks("See or change your answers")
    assert "Nothing has changed" in person.picks("Yes, save it")
    assert len(versions(service)) == 1


def test_a_restart_mid_form_loses_no_answer(settings, nlu):
    first = build_service(settings, nlu=nlu)
    person = Person(first.engine)
    start_form(person)
    person.picks("A neighbour")
    person.says("3")
    first.db.dispose()
    second = build_service(settings, nlu=nlu)  # a new process would do exactly this
    person.engine = second.engine
    heard = person.says("I want to know why the police did not come")
    assert "Which language" in heard
    with second.db.session() as s:
        assert s.scalars(select(Contact)).one().draft == {
            "relationship": "neighbour", "ways": ["voice"], "questions": "I want to know why the police did not come",
        }  # fmt: skip
    second.db.dispose()


def test_the_terminal_chat_completes_the_intake_across_two_processes(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    first_half = "\n".join(["1", "1", "2", "2", "7", "6"]) + "\n"
    cmd = [sys.executable, "-m", "bot.cli", "chat"]
    out1 = subprocess.run(
        cmd, input=first_half, capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    assert "How would you like to take part" in out1
    rest = ["2", "My questions", "2", "skip", "1", "2", "2", "2", "2", "1", "8", "4", "1", "1", "1", "1", "1", "1"]
    out2 = subprocess.run(
        cmd, input="\n".join(rest) + "\n", capture_output=True, text=True, env=env, timeout=120, check=True
    ).stdout
    assert "Welcome back" in out2, "the second process carries on; it sends nothing on the person's behalf"
    assert "How you want to take part: Write an account" in out2
    assert "Your answers are saved" in out2, out2[-2000:]


def test_not_now_brings_one_gentle_reminder_on_the_chosen_day(service):
    from bot.dialogue.reminders import send_due_reminders

    person = Person(service.engine)
    start_form(person)
    person.picks("A friend")
    person.picks("Not now")
    person.picks("In 1 month")
    while "Here is what you told us" not in person.heard:
        person.says("skip")
    person.picks("Yes, save it")
    today = person.now.date()
    with service.db.session() as s:
        assert send_due_reminders(s, today + timedelta(days=29)) == 0
    with service.db.session() as s:
        assert send_due_reminders(s, today + timedelta(days=31)) == 1
    with service.db.session() as s:
        assert send_due_reminders(s, today + timedelta(days=32)) == 0, "asked once, never nagged"
        reminder = s.scalars(select(Message).where(Message.author == "system")).one()
        assert "no pressure" in reminder.body and reminder.prompted is False
