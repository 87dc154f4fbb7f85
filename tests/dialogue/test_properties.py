"""Property-based: whatever a person sends, in whatever state, the bot answers and loses no answer."""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue import form
from bot.service import Service
from bot.storage.crypto import cipher
from bot.storage.models import Address, Contact, ContributionVersion
from tests.people import Person

# How to reach each state of the conversation from a first "hello", as an SMS user would type it.
TO_MENU = ["hello", "1", "1", "2", "2"]  # English, safe to talk, nobody else reads, no code
TO_FORM = [*TO_MENU, "7", "3"]  # "Tell us how you want to take part", then a first answer
PATHS: dict[str, list[str]] = {
    "new": [],
    "language": ["hello"],
    "safe_now": ["hello", "1"],
    "unsafe_wait": ["hello", "1", "2"],
    "others_read": ["hello", "1", "1"],
    "code": ["hello", "1", "1", "2"],
    "menu": TO_MENU,
    "form": TO_FORM,
    "paused": [*TO_FORM, "pause"],
    "summary": [*TO_FORM, *["skip"] * 40],
    "change_pick": [*TO_FORM, *["skip"] * 40, "2"],
    "language_offer": [*TO_MENU, "Chcę wiedzieć, czym jest ten przegląd i jak wziąć udział"],
}

COMMANDS = [
    "BACK", "MENU", "STOP", "START", "PAUSE", "RESUME", "RESUME ABCD-EFGH", "JOIN", "JOIN ABCD-EFGH",
    "NEW CODE", "HELP", "PERSON", "SKIP", "yes", "no", "language", "/start", "/start K7MQ2XPB", "1 3 5",
]  # fmt: skip
SCRIPTS = [
    "hello", "what is a review", "مجھے کسی سے بات کرنی ہے", "ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ", "আমি জানতে চাই",
    "مرحبا", "سلام", "Merhaba", "Hola, ¿qué es esto?", "cześć", "Bună ziua", "mujhe kisi se baat karni hai",
]  # fmt: skip
ODD = ["", " ", "\n", "👍", "😭😭😭", "🇬🇧", "\u200f\u200e", "\x00", "٣", "۲", "१", "0", "-1", "999999999999"]

messages = st.one_of(
    st.integers(min_value=0, max_value=25).map(str),
    st.sampled_from(COMMANDS),
    st.sampled_from(["BACK", "MENU", "PAUSE", "SKIP", "STOP", "yes", "1", "2"]),  # the commonest, more often
    st.sampled_from(SCRIPTS),
    st.sampled_from(ODD),
    st.text(max_size=40),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzابپتثجحخदकखগঘਗਘ 0123456789", max_size=60),
    st.just("word " * 1200),  # over the length cap
)

_addresses = itertools.count()


def _contact(s: Session, person: Person) -> Contact | None:
    index = cipher().blind_index(f"{person.channel}:{person.address}")
    return s.scalars(
        select(Contact).join(Address).where(Address.channel == person.channel, Address.address_index == index)
    ).first()


def _answers(service: Service, person: Person) -> dict[str, Any]:
    """Everything the person has answered so far: the saved version and the answers in progress."""
    with service.db.session() as s:
        contact = _contact(s, person)
        if contact is None:
            return {}
        latest = s.scalars(
            select(ContributionVersion)
            .where(ContributionVersion.contact_id == contact.id)
            .order_by(ContributionVersion.version.desc())
        ).first()
        return {**(latest.answers if latest else {}), **(contact.draft or {})}


def _state(service: Service, person: Person) -> str:
    with service.db.session() as s:
        contact = _contact(s, person)
        return contact.state if contact else "new"


@settings(
    max_examples=int(os.environ.get("DIALOGUE_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    # The same examples on every run, so `make test` never fails by chance; asking for more explores anew.
    derandomize="DIALOGUE_PROPERTY_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the engine's logic, not the database's
@given(start=st.sampled_from(sorted(PATHS)), sent=st.lists(messages, min_size=1, max_size=6))
# Always tried as well: the moments where an answer is most at risk.
@example(start="form", sent=["BACK", "BACK", "MENU", "7"])
@example(start="paused", sent=["RESUME ABCD-EFGH", "NEW CODE", "yes"])
@example(start="change_pick", sent=["BACK", "2", "1"])
@example(start="form", sent=["word " * 1200, "STOP", "START"])
def test_any_messages_in_any_state_are_answered_and_lose_no_answer(
    service: Service, start: str, sent: list[str]
) -> None:
    person = Person(service.engine, address=f"+4477{next(_addresses):08d}")
    for text in PATHS[start]:
        person.says(text)
    reached = _state(service, person)
    assert reached == start, f"the path to {start} arrived at {reached}"
    for text in sent:
        before = _answers(service, person)

        person.says(text)

        assert person.replies, f"no reply to {text!r} in {start}"
        assert all(r.text.strip() for r in person.replies), f"an empty reply to {text!r}"
        assert all(c.label.strip() for r in person.replies for c in r.choices), "an empty option"
        after = _answers(service, person)
        still_asked = {q.key for q in form.applicable(after)}
        lost = {k for k in before if k in still_asked and k not in after}
        assert not lost, f"{text!r} lost the answers to {lost}"
