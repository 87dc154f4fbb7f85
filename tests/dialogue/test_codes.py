"""Invitation and resume codes under guessing: limits shared by every process, expiry, renewal, and a
notice on the earlier channel when a conversation moves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.admin import create_case, invite
from bot.nlu.base import NLU
from bot.service import Service, build_service
from bot.settings import Settings
from bot.storage.models import CodeAttempt, Contact, Message
from tests.people import Person

RESUME = re.compile(r"RESUME ([A-Z0-9]{4}-[A-Z0-9]{4})")
WRONG = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"]


def _paused(service: Service, address: str = "+447700900301", others_read: str = "No") -> tuple[Person, str]:
    """Someone who started the form on SMS and paused it; returns them and their private code."""
    sms = Person(service.engine, address=address, channel="sms")
    sms.gets_through_first_contact(others_read=others_read)
    sms.picks("Tell us how you want to take part")
    sms.picks("I am their parent")
    found = RESUME.search(sms.says("pause"))
    assert found, sms.heard
    return sms, found.group(1)


def _contacts(service: Service) -> int:
    with service.db.session() as s:
        return s.scalar(select(func.count()).select_from(Contact)) or 0


@pytest.fixture
def strict_service(settings: Settings, nlu: NLU) -> Iterator[Service]:
    """The service with a small limit on wrong codes from everyone together."""
    svc = build_service(settings.model_copy(update={"code_attempts_global": 8}), nlu=nlu)
    yield svc
    svc.db.dispose()


def test_guessing_resume_codes_from_one_address_is_stopped_in_every_process(service, settings, nlu):
    _owner, code = _paused(service)
    other_process = build_service(settings, nlu=nlu)  # a second web process on the same database
    guesser = Person(service.engine, address="+447700900666")
    for n, guess in enumerate(WRONG):
        guesser.engine = (service if n % 2 else other_process).engine
        assert "did not work" in guesser.says(f"RESUME {guess}")

    heard = guesser.says(f"RESUME {code}")

    assert "Welcome back" not in heard and "parent" not in heard
    assert "too many" in heard.lower()
    assert _contacts(service) == 2, "the guesser did not become the person who paused"
    other_process.db.dispose()


def test_after_waiting_the_back_off_the_right_code_works_again(service):
    _owner, code = _paused(service)
    person = Person(service.engine, address="5550002", channel="telegram")
    for guess in WRONG:
        person.says(f"RESUME {guess}")
    assert "too many" in person.says(f"RESUME {code}").lower()

    person.now += timedelta(minutes=16)

    assert "Welcome back" in person.says(f"RESUME {code}")


def test_resume_guesses_spread_over_many_addresses_meet_the_limit_for_everyone(strict_service):
    _owner, code = _paused(strict_service)
    for n in range(8):
        assert "did not work" in Person(strict_service.engine, address=f"web-session-{n}", channel="web").says(
            f"RESUME {WRONG[n % 5]}"
        )

    heard = Person(strict_service.engine, address="web-session-new", channel="web").says(f"RESUME {code}")

    assert "Welcome back" not in heard and "too many" in heard.lower()


def test_a_new_web_session_does_not_reset_the_invitation_code_limit(strict_service):
    with strict_service.db.session() as s:
        create_case(s, reference="R-1", label="Amina")
        code = invite(s, reference="R-1")
    for session in range(3):
        # Each new cookie is a new web session: a new person as far as the conversation knows.
        browser = Person(strict_service.engine, address=f"cookie-{session}", channel="web")
        browser.gets_through_first_contact()
        for guess in WRONG[:3]:
            browser.says(f"JOIN {guess}")

    heard = browser.says(f"JOIN {code}")

    assert "linked to the review" not in heard
    assert "too many times" in heard


def test_the_same_wrong_code_from_many_addresses_is_stopped_for_that_code(service):
    with service.db.session() as s:
        create_case(s, reference="R-1", label="Amina")
        code = invite(s, reference="R-1")
    first = Person(service.engine, address="+447700900401")
    first.gets_through_first_contact()
    assert "linked to the review" in first.says(f"JOIN {code}")
    for n in range(5):  # the code was forwarded; others try it
        other = Person(service.engine, address=f"+44770090050{n}")
        other.gets_through_first_contact()
        assert "did not work" in other.says(f"JOIN {code}")

    late = Person(service.engine, address="+447700900599")
    late.gets_through_first_contact()
    assert "too many times" in late.says(f"JOIN {code}")


def test_attempts_are_kept_only_as_keyed_hashes(service):
    guesser = Person(service.engine, address="+447700900777")
    guesser.says("RESUME ABCD-EFGH")
    with service.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CodeAttempt)) == 1
        raw = " ".join(str(v) for v in s.execute(text("SELECT * FROM code_attempts")).one())
    assert "447700900777" not in raw and "ABCD" not in raw and "EFGH" not in raw


def test_a_resume_code_runs_out(service, settings):
    _owner, code = _paused(service)
    later = Person(service.engine, address="5550003", channel="telegram")
    later.now += timedelta(days=settings.resume_code_days + 1)

    heard = later.says(f"RESUME {code}")

    assert "Welcome back" not in heard and "did not work" in heard
    assert "NEW CODE" in heard, "the person learns how to get a new one"
    assert _contacts(service) == 2


def test_a_person_can_ask_for_a_new_code_and_the_old_one_stops_working(service):
    owner, old = _paused(service)
    owner.now += timedelta(days=40)

    heard = owner.says("new code")

    found = RESUME.search(heard)
    assert found and found.group(1) != old, heard
    assert "days" in heard, "the person is told how long it lasts"
    stale = Person(service.engine, address="5550004", channel="telegram")
    stale.now = owner.now
    assert "did not work" in stale.says(f"RESUME {old}")
    fresh = Person(service.engine, address="5550005", channel="telegram")
    fresh.now = owner.now
    assert "Welcome back" in fresh.says(f"RESUME {found.group(1)}")


def _told_on(service: Service, channel: str) -> list[Message]:
    with service.db.session() as s:
        return list(
            s.scalars(
                select(Message).where(Message.direction == "out", Message.channel == channel).order_by(Message.id)
            )
        )


def test_the_earlier_channel_is_told_when_the_conversation_moves(service):
    _owner, code = _paused(service)
    before = len(_told_on(service, "sms"))
    telegram = Person(service.engine, address="5550006", channel="telegram")

    assert "Welcome back" in telegram.says(f"RESUME {code}")

    notices = _told_on(service, "sms")[before:]
    assert len(notices) == 1
    assert "another" in notices[0].body and "PERSON" in notices[0].body
    assert notices[0].status == "queued" and not notices[0].prompted, "an unprompted message keeps safe times"
    assert "review" in notices[0].body
    assert all("another" not in r.text for r in telegram.replies), "the new device is not told about itself"


def test_in_discreet_mode_the_notice_does_not_mention_the_review(service):
    _owner, code = _paused(service, others_read="Yes")
    before = len(_told_on(service, "sms"))

    Person(service.engine, address="5550007", channel="telegram").says(f"RESUME {code}")

    notices = _told_on(service, "sms")[before:]
    assert len(notices) == 1
    assert "review" not in notices[0].body.lower() and "RESUME" not in notices[0].body
