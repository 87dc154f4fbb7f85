"""A person's rights: a full copy of what we hold, erasure on request, and retention that ends."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.admin import create_case, invite
from bot.privacy import erase, purge_expired_cases, subject_access
from bot.storage.models import Address, AuditEntry, Case, Contact, ContributionVersion, Invitation, Message, Ticket
from tests.people import Person


def _linked_person(service, address="+447700900401") -> Person:
    with service.db.session() as s:
        if s.scalars(select(Case)).first() is None:
            create_case(s, reference="R-9", label="Amina")
        code = invite(s, reference="R-9")
    person = Person(service.engine, address=address)
    person.gets_through_first_contact()
    person.says(f"JOIN {code}")
    person.says("I want to delete my data please")
    return person


def _contact_id(service, n=0) -> int:
    with service.db.session() as s:
        return s.scalars(select(Contact.id).order_by(Contact.id)).all()[n]


def test_asking_to_delete_reaches_a_person_who_checks_first(service):
    person = _linked_person(service)
    assert "delete" in person.heard.lower()
    with service.db.session() as s:
        assert s.scalars(select(Ticket)).one().reason == "delete_request"
        assert s.scalar(select(func.count(Message.id))) > 0, "nothing is deleted by a message alone"


def test_subject_access_returns_their_words_and_is_audited(service):
    _linked_person(service)
    with service.db.session() as s:
        copy = subject_access(s, _contact_id(service), staff_id=None)
    assert copy["contact"]["case"] == "R-9"
    assert copy["addresses"] == [{"channel": "sms", "address": "+447700900401"}]
    assert "I want to delete my data please" in [m["text"] for m in copy["messages"]]
    with service.db.session() as s:
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "contact")).all() == [
            "subject_access"
        ]


def test_a_subject_access_export_from_the_command_line_is_audited_in_a_named_staff_members_name(service, settings):
    import os
    import subprocess
    import sys

    from handoff.auth import create_user

    _linked_person(service)
    with service.db.session() as s:
        staff = create_user(s, email="dpo@example.org", name="Dee Pio", role="administrator", password="x" * 12).user
        staff_id = staff.id
    env = {**os.environ, "DATABASE_URL": settings.database_url, "VAR_DIR": str(settings.var_dir)}
    command = [sys.executable, "-m", "bot.cli", "data", "export", "--contact", str(_contact_id(service))]
    nameless = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert nameless.returncode != 0, "an export needs a name"
    named = subprocess.run([*command, "--by", "dpo@example.org"], capture_output=True, text=True, env=env, timeout=120)
    assert named.returncode == 0, named.stderr[-2000:]
    assert "I want to delete my data please" in named.stdout
    with service.db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "subject_access")).one()
        assert entry.staff_id == staff_id


def test_erasure_removes_everything_about_that_person_and_nobody_else(service):
    _linked_person(service, "+447700900401")
    _linked_person(service, "+447700900402")
    first, second = _contact_id(service, 0), _contact_id(service, 1)
    with service.db.session() as s:
        erase(s, first, staff_id=None, reason="request checked by phone")
    with service.db.session() as s:
        assert s.get(Contact, first) is None
        for model in (Message, Address, Ticket, ContributionVersion):
            assert s.scalar(select(func.count()).select_from(model).where(model.contact_id == first)) == 0
        assert s.scalar(select(func.count(Message.id)).where(Message.contact_id == second)) > 0
        assert s.scalar(select(func.count(Invitation.id)).where(Invitation.used_by_contact_id.is_(None))) == 1
        assert s.scalars(select(AuditEntry.detail).where(AuditEntry.object_type == "contact")).all() == [
            "request checked by phone"
        ]


def test_retention_purges_only_cases_past_their_date(service):
    _linked_person(service)
    with service.db.session() as s:
        case = s.scalars(select(Case)).one()
        case.retention_until = date.today() + timedelta(days=1)
    with service.db.session() as s:
        assert purge_expired_cases(s, date.today()) == 0
    with service.db.session() as s:
        assert purge_expired_cases(s, date.today() + timedelta(days=2)) == 1
        assert s.scalar(select(func.count(Contact.id))) == 0
