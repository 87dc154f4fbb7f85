"""The minute timer: each timed job runs, and one failing never stops the others."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import timers
from bot.storage.models import Contact, ContributionVersion, Message, utcnow
from tests.people import Person


def _person_who_said_not_now(service) -> Person:
    person = Person(service.engine)
    person.gets_through_first_contact()
    with service.db.session() as s:
        contact = s.scalars(select(Contact)).one()
        when = (utcnow() - timedelta(days=1)).date().isoformat()
        s.add(
            ContributionVersion(
                contact_id=contact.id, version=1, answers={"ways": ["not_now"], "ask_again_on": when}, channel="sms"
            )
        )
    return person


def test_a_tick_sends_due_reminders(service):
    _person_who_said_not_now(service)
    timers.tick(service)
    with service.db.session() as s:
        assert s.scalars(select(Message).where(Message.author == "system")).one().status == "queued"


def test_a_failing_job_does_not_stop_the_others(service, monkeypatch, caplog):
    _person_who_said_not_now(service)

    def broken(db, after=None):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(timers, "escalation_tick", broken)
    timers.tick(service)
    assert "timed job escalation failed" in caplog.text
    with service.db.session() as s:
        assert s.scalars(select(Message).where(Message.author == "system")).one() is not None
