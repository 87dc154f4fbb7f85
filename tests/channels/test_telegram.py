"""Telegram end to end: the real python-telegram-bot against a local Bot API stand-in."""

from __future__ import annotations

from sqlalchemy import func, select, text

from bot.storage.models import Attachment, Message
from tests.channels.conftest import tg_callback, tg_message, tg_post


def _count(service, *where) -> int:
    with service.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message).where(*where)) or 0


def test_a_message_is_answered_through_the_outbox_with_inline_buttons(
    client, channel_service, standin, make_dispatcher
):
    response = tg_post(client, tg_message("hello"))

    assert response.status_code == 200
    assert _count(channel_service, Message.direction == "in", Message.channel == "telegram") == 1
    queued = _count(channel_service, Message.direction == "out", Message.status == "queued")
    assert queued >= 1
    assert standin.sent("telegram", "sendMessage") == []  # nothing is sent from the webhook itself

    make_dispatcher().run_once()

    sends = standin.sent("telegram", "sendMessage")
    assert len(sends) == queued
    assert all(s["chat_id"] == 777001 for s in sends)
    keyboards = [s["reply_markup"]["inline_keyboard"] for s in sends if "reply_markup" in s]
    assert keyboards, "the first answer offers quick replies"
    first_rows = keyboards[0]
    assert [row[0]["callback_data"] for row in first_rows] == [str(n) for n in range(1, len(first_rows) + 1)]
    with channel_service.db.session() as s:
        sent = s.scalars(select(Message).where(Message.direction == "out")).all()
        assert {m.status for m in sent} == {"sent"}
        # Kept only as a keyed hash: the id Telegram gives a send names the chat.
        assert all(m.provider_id and "777001" not in m.provider_id for m in sent)
        assert all(m.provider_message_id is None for m in sent)


def test_a_button_tap_is_answered_and_read_as_the_option_number(client, channel_service, standin):
    tg_post(client, tg_message("hello"))
    with channel_service.db.session() as s:
        offered = [m for m in s.scalars(select(Message).where(Message.direction == "out")) if m.choices]
        assert offered, "the first answer offers quick replies"

    response = tg_post(client, tg_callback("1"))

    assert response.status_code == 200
    answered = standin.sent("telegram", "answerCallbackQuery")
    assert len(answered) == 1 and answered[0]["callback_query_id"].startswith("cb")
    with channel_service.db.session() as s:
        tapped = s.scalars(select(Message).where(Message.direction == "in").order_by(Message.id.desc())).first()
        assert tapped is not None and tapped.body == "1"


def test_wrong_or_missing_secret_is_refused_and_nothing_is_stored(client, channel_service, standin):
    wrong = tg_post(client, tg_message("hello"), secret="not-the-secret")
    missing = tg_post(client, tg_message("hello"), secret=None)

    assert (wrong.status_code, missing.status_code) == (403, 403)
    assert _count(channel_service) == 0
    assert standin.calls == []


def test_malformed_updates_are_rejected_and_nothing_is_stored(client, channel_service):
    not_json = tg_post(client, "{this is not json")
    not_an_update = tg_post(client, '{"hello": "world"}')
    a_list = tg_post(client, "[1, 2]")
    broken = [
        tg_post(client, body)
        for body in (
            '{"update_id": 5, "message": "x"}',
            '{"update_id": 6, "message": {"chat": 3}}',
            '{"update_id": 7, "callback_query": [1]}',
        )
    ]

    assert (not_json.status_code, not_an_update.status_code, a_list.status_code) == (400, 400, 400)
    assert [r.status_code for r in broken] == [400, 400, 400]
    assert _count(channel_service) == 0


def test_a_repeated_update_is_acknowledged_and_changes_nothing(client, channel_service):
    update = tg_message("hello", update_id=555001)
    first = tg_post(client, update)
    stored_after_first = _count(channel_service)

    again = tg_post(client, update)

    assert (first.status_code, again.status_code) == (200, 200)
    assert _count(channel_service) == stored_after_first
    with channel_service.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.provider_message_id == "555001"


def test_a_deep_link_start_code_becomes_a_join(client, channel_service):
    tg_post(client, tg_message("/start K7MQ2XPB"))

    with channel_service.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.body == "JOIN K7MQ2XPB"


def test_group_chats_are_ignored(client, channel_service):
    update = tg_message("hello")
    update["message"]["chat"] = {"id": -100123, "type": "group", "title": "family"}

    response = tg_post(client, update)

    assert response.status_code == 200
    assert _count(channel_service) == 0


def test_a_voice_note_is_fetched_and_stored_encrypted(client, channel_service, standin):
    voice = b"OggS\x00voice-note-bytes-" + bytes(range(50))
    standin.media["voice1"] = ("audio/ogg", voice)
    update = tg_message(
        "",
        voice={
            "file_id": "voice1",
            "file_unique_id": "v1",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": len(voice),
        },
    )

    assert tg_post(client, update).status_code == 200

    with channel_service.db.session() as s:
        attachment = s.scalars(select(Attachment)).one()
        assert attachment.content_type == "audio/ogg"
        raw = s.execute(text("SELECT data FROM attachments")).scalar_one()
    import base64

    assert base64.b64decode(attachment.data) == voice
    assert base64.b64encode(voice).decode() not in raw and b"voice-note-bytes" not in raw.encode()


def test_the_address_is_stored_encrypted(client, channel_service):
    tg_post(client, tg_message("hello", chat_id=987654321))

    with channel_service.db.session() as s:
        raw = s.execute(text("SELECT address FROM addresses")).scalar_one()
    assert "987654321" not in raw


def _keyboard_message_ids(service) -> list[int]:
    """Telegram message ids of the sent messages that carried buttons, oldest first."""
    with service.db.session() as s:
        rows = s.scalars(
            select(Message).where(Message.direction == "out", Message.status == "sent").order_by(Message.id)
        )
        return [int(m.provider_id.split(":")[1]) for m in rows if m.choices]


def test_a_tap_on_an_out_of_date_keyboard_is_refused_politely(client, channel_service, standin, make_dispatcher):
    dispatcher = make_dispatcher()
    tg_post(client, tg_message("hello"))
    dispatcher.run_once()
    first_keyboard = _keyboard_message_ids(channel_service)[-1]

    assert tg_post(client, tg_callback("1", message_id=first_keyboard)).status_code == 200
    dispatcher.run_once()
    stored_before = _count(channel_service, Message.direction == "in")

    again = tg_post(client, tg_callback("2", message_id=first_keyboard))

    assert again.status_code == 200
    assert _count(channel_service, Message.direction == "in") == stored_before  # not read as an answer
    answers = standin.sent("telegram", "answerCallbackQuery")
    assert "text" not in answers[0]
    assert "earlier message" in answers[-1]["text"]
