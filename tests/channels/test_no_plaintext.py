"""No personal data in clear in any column, after a realistic run through the real channels."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select, text

from bot.admin import create_case, invite
from bot.storage.models import Base, Contact, Message
from tests.channels.conftest import sms, tg_message, tg_post, twilio_post

PHONE = "+447700900461"
OTHER_PHONE = "+447700900462"
CHAT_ID = 5551234567
FAMILY_WORDS = "Our brother Tobias Wren loved the allotment"
FORM_WORDS = "Tobias was my cousin Marguerite's boy"


def _every_stored_value(service) -> list[tuple[str, str, str]]:
    """(table, column, value as stored) for every non-empty value of every table, read raw (not decrypted)."""
    found = []
    with service.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).mappings().all()
            for row in rows:
                for column, value in row.items():
                    if value is None:
                        continue
                    as_text = json.dumps(value) if isinstance(value, dict | list) else str(value)
                    found.append((table.name, column, as_text))
    return found


def _in_clear(service, needles: dict[str, str]) -> list[str]:
    return [
        f"{what} in {table}.{column}: {value[:80]!r}"
        for table, column, value in _every_stored_value(service)
        for what, needle in needles.items()
        if needle.lower() in value.lower()
    ]


def _option_number(service, label_part: str) -> str:
    """The number to send for an option of the quick replies last offered on SMS."""
    with service.db.session() as s:
        offered = s.scalars(
            select(Message)
            .where(Message.channel == "sms", Message.direction == "out", Message.choices.is_not(None))
            .order_by(Message.id.desc())
        ).first()
        assert offered is not None and offered.choices
        for n, choice in enumerate(offered.choices, start=1):
            if label_part.lower() in choice["label"].lower():
                return str(n)
    raise AssertionError(f"no option like {label_part!r}")


def _last_said(service, replies: int = 1) -> str:
    with service.db.session() as s:
        return "\n".join(
            s.scalars(
                select(Message.body)
                .where(Message.channel == "sms", Message.direction == "out")
                .order_by(Message.id.desc())
                .limit(replies)
            )
        )


def _needles(code: str) -> dict[str, Any]:
    return {
        "phone number": PHONE.removeprefix("+"),
        "phone number (national)": "07" + PHONE.removeprefix("+447"),
        "other phone number": OTHER_PHONE.removeprefix("+"),
        "Telegram chat id": str(CHAT_ID),
        "JOIN code": code,
        "JOIN code without its dash": code.replace("-", ""),
        "family words": "Tobias Wren",
        "words in the form": "Marguerite",
    }


def test_no_column_holds_a_phone_number_chat_id_code_or_family_words_in_clear(
    client, channel_service, standin, make_dispatcher
):
    with channel_service.db.session() as s:
        create_case(s, reference="R-21", label="Tobias")
        code = invite(s, reference="R-21")
    needles = _needles(code)

    # Someone writes first with their invitation code, and is part-way through first contact.
    assert twilio_post(client, sms(f"JOIN {code}", frm=PHONE)).status_code == 200
    assert _in_clear(channel_service, needles) == [], "a pending code is kept hashed"

    # ... finishes it (language, safe to talk, who reads), is linked, and tells us about their brother.
    for answer in ("1", "1", "2", "1", FAMILY_WORDS):
        twilio_post(client, sms(answer, frm=PHONE))
    with channel_service.db.session() as s:
        assert s.scalars(select(Contact.case_id)).first() is not None, "the code linked them"
    # ... starts the form, says in their own words how they knew him, and pauses.
    for answer in ("menu", "Tell us how you want to take part", "Another family member"):
        twilio_post(client, sms(_option_number(channel_service, answer) if answer != "menu" else answer, frm=PHONE))
    assert "how did you know them" in _last_said(channel_service)
    twilio_post(client, sms(FORM_WORDS, frm=PHONE))
    with channel_service.db.session() as s:
        assert FORM_WORDS in json.dumps(s.scalars(select(Contact.draft)).first()), "their answer is saved"
    twilio_post(client, sms("PAUSE", frm=PHONE))
    resume = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", _last_said(channel_service, replies=3))
    assert resume, "a private code to carry on later"
    needles["RESUME code"] = resume.group(0)
    # A Telegram user writes too; their replies go out through the outbox.
    tg_post(client, tg_message("hello", chat_id=CHAT_ID))
    make_dispatcher().run_once()
    with channel_service.db.session() as s:
        sent_to_telegram = s.scalars(
            select(Message).where(Message.channel == "telegram", Message.direction == "out", Message.status == "sent")
        ).all()
        assert sent_to_telegram and all(m.provider_id for m in sent_to_telegram)
    # A send fails with the provider quoting the number back.
    twilio_post(client, sms("hello", frm=OTHER_PHONE))
    standin.fail_next(
        "Messages", 400, {"code": 21211, "message": f"The 'To' number {OTHER_PHONE} is not a valid phone number."}
    )
    make_dispatcher().run_once()
    with channel_service.db.session() as s:
        failed = s.scalars(select(Message).where(Message.status == "failed")).all()
        assert failed and all("21211" in (m.last_error or "") for m in failed), "the reason is still kept"

    assert _in_clear(channel_service, needles) == []
