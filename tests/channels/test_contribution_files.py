"""Voice notes, photos and documents given to the review through each provider's own webhook."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select

from bot.dialogue import form
from bot.storage.models import Attachment, ContributionPiece
from tests.channels.conftest import sms, tg_message, tg_post, twilio_post
from tests.conftest import only_on
from tests.dialogue.test_contributions import LANGUAGE_CODES, choose, register
from tests.people import Person

ADDRESSES = {"sms": "+447700900321", "whatsapp": "+447700900322", "telegram": "777321"}


@pytest.mark.parametrize("code", LANGUAGE_CODES)
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
@only_on("sqlite")
def test_a_file_sent_on_each_channel_is_read_back_and_given_with_consent(
    client, channel_service, standin, database_url, channel, code
):
    address = ADDRESSES[channel]
    # The conversation so far, on this channel; the file then arrives through the provider's webhook.
    person = Person(channel_service.engine, address=address, channel=channel)
    register(person, code, [form.WAY_VOICE])
    choose(person, "now")
    choose(person, "file")
    if channel == "telegram":
        voice = b"OggS\x00" + b"her-voice" * 40
        standin.media["voice-given"] = ("audio/ogg", voice)
        update = tg_message(
            "",
            chat_id=int(address),
            voice={"file_id": "voice-given", "file_unique_id": "vg", "duration": 9, "mime_type": "audio/ogg",
                   "file_size": len(voice)},
        )  # fmt: skip
        assert tg_post(client, update).status_code == 200
        sent, expected_label = voice, "Voice note"
    else:
        photo = b"\xff\xd8\xff\xe0" + b"her-garden" * 40
        standin.media["ME-given"] = ("image/jpeg", photo)
        form_data = sms(
            "",
            frm=address,
            whatsapp=channel == "whatsapp",
            NumMedia="1",
            MediaUrl0=f"{standin.url}/media/ME-given",
            MediaContentType0="image/jpeg",
        )
        assert twilio_post(client, form_data).status_code == 200
        sent, expected_label = photo, "Photo"
    heard = choose(person, "done")
    assert "1. " in heard and (code != "en" or f"1. {expected_label}" in heard), heard
    choose(person, "save")
    choose(person, "yes")
    choose(person, "no")
    choose(person, "no")
    with channel_service.db.session() as s:
        piece = s.scalars(select(ContributionPiece)).one()
        attachment = s.get(Attachment, piece.attachment_id)
        assert attachment is not None and base64.b64decode(attachment.data) == sent
        assert (piece.kind, piece.consent_chair, piece.consent_quote, piece.consent_panel) == (
            "file",
            True,
            False,
            False,
        )
