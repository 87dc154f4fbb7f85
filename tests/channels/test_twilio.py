"""SMS and WhatsApp end to end: real Twilio signatures in, the real twilio client out to a stand-in."""

from __future__ import annotations

import base64

from sqlalchemy import func, select, text

from bot.storage.models import Attachment, Contact, Message
from tests.channels.conftest import PUBLIC, SMS_FROM, WA_FROM, sms, twilio_post


def _count(service, *where) -> int:
    with service.db.session() as s:
        return s.scalar(select(func.count()).select_from(Message).where(*where)) or 0


def test_a_signed_sms_is_stored_and_answered_with_empty_twiml(client, channel_service, standin, make_dispatcher):
    response = twilio_post(client, sms("hello"))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response></Response>")
    assert _count(channel_service, Message.direction == "in", Message.channel == "sms") == 1
    assert standin.sent("twilio", "Messages") == []

    make_dispatcher().run_once()

    sends = standin.sent("twilio", "Messages")
    assert sends, "the reply went out through the outbox"
    assert {s["To"] for s in sends} == {"+447700900123"}
    assert {s["From"] for s in sends} == {SMS_FROM}
    assert {s["StatusCallback"] for s in sends} == {PUBLIC + "/webhooks/twilio/status"}
    with channel_service.db.session() as s:
        out = s.scalars(select(Message).where(Message.direction == "out")).all()
        assert {m.status for m in out} == {"sent"}
        assert all(m.provider_id and m.provider_id.startswith("SM") for m in out)


def test_quick_replies_become_numbered_options_on_sms(client, channel_service, standin, make_dispatcher):
    twilio_post(client, sms("hello"))
    with channel_service.db.session() as s:
        offered = [m for m in s.scalars(select(Message).where(Message.direction == "out")) if m.choices]
        assert offered
        labels = [c["label"] for c in offered[0].choices]

    make_dispatcher().run_once()

    bodies = [s["Body"] for s in standin.sent("twilio", "Messages")]
    expected_lines = [f"{n}. {label}" for n, label in enumerate(labels, start=1)]
    assert any(all(line in body for line in expected_lines) for body in bodies)


def test_whatsapp_addresses_keep_their_channel(client, channel_service, standin, make_dispatcher):
    twilio_post(client, sms("hello", "+447700900555", whatsapp=True))

    make_dispatcher().run_once()

    with channel_service.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.channel == "whatsapp"
    sends = standin.sent("twilio", "Messages")
    assert sends and {s["To"] for s in sends} == {"whatsapp:+447700900555"}
    assert {s["From"] for s in sends} == {WA_FROM}


def test_bad_or_missing_signatures_are_refused_and_nothing_is_stored(client, channel_service):
    form = sms("hello")
    wrong_key = twilio_post(client, form, token="someone-elses-token")
    missing = twilio_post(client, form, sign=False)
    tampered_signature = twilio_post(client, form, signature="bm90IGEgc2lnbmF0dXJl")
    signed = twilio_post(client, form)
    changed = dict(form, Body="something else")
    replayed_with_other_body = client.post("/webhooks/twilio", data=changed, headers={"X-Twilio-Signature": _sig(form)})

    assert [wrong_key.status_code, missing.status_code, tampered_signature.status_code] == [403, 403, 403]
    assert replayed_with_other_body.status_code == 403
    assert signed.status_code == 200
    assert _count(channel_service, Message.direction == "in") == 1


def _sig(form):
    from twilio.request_validator import RequestValidator

    from tests.channels.conftest import TW_TOKEN

    return RequestValidator(TW_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)


def test_signature_is_checked_against_the_public_url_with_its_query(client, channel_service):
    form = sms("hello")
    from twilio.request_validator import RequestValidator

    from tests.channels.conftest import TW_TOKEN

    url = PUBLIC + "/webhooks/twilio?source=whatsapp"
    signature = RequestValidator(TW_TOKEN).compute_signature(url, form)
    good = client.post("/webhooks/twilio?source=whatsapp", data=form, headers={"X-Twilio-Signature": signature})
    signed_without_query = client.post(
        "/webhooks/twilio?source=other", data=form, headers={"X-Twilio-Signature": signature}
    )

    assert (good.status_code, signed_without_query.status_code) == (200, 403)


def test_a_signed_post_without_a_message_is_rejected(client, channel_service):
    response = twilio_post(client, {"AccountSid": "AC1", "Body": "hi"})

    assert response.status_code == 400
    assert _count(channel_service) == 0


def test_a_repeated_message_sid_is_acknowledged_and_changes_nothing(client, channel_service):
    form = sms("hello", sid="SM" + "d" * 32)
    first = twilio_post(client, form)
    stored = _count(channel_service)

    again = twilio_post(client, form)

    assert (first.status_code, again.status_code) == (200, 200)
    assert _count(channel_service) == stored
    with channel_service.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.provider_message_id == "SM" + "d" * 32


def test_inbound_media_is_fetched_with_the_account_credentials_and_stored_encrypted(client, channel_service, standin):
    photo = b"\x89PNG\r\n\x1a\nphoto-of-a-letter" + bytes(range(64))
    standin.media["ME1"] = ("image/png", photo)
    form = sms("", NumMedia="1", MediaUrl0=f"{standin.url}/media/ME1", MediaContentType0="image/png")

    assert twilio_post(client, form).status_code == 200

    fetches = standin.sent("media", "get")
    assert fetches == [{"name": "ME1", "authorised": True}]
    with channel_service.db.session() as s:
        attachment = s.scalars(select(Attachment)).one()
        raw = s.execute(text("SELECT data FROM attachments")).scalar_one()
    assert attachment.content_type == "image/png"
    assert base64.b64decode(attachment.data) == photo
    assert base64.b64encode(photo).decode()[:20] not in raw


def test_delivery_status_is_recorded_by_provider_id(client, channel_service, standin, make_dispatcher):
    twilio_post(client, sms("hello"))
    make_dispatcher().run_once()
    with channel_service.db.session() as s:
        first = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).first()
        assert first is not None
        sid, message_id = first.provider_id, first.id

    unsigned = client.post("/webhooks/twilio/status", data={"MessageSid": sid, "MessageStatus": "failed"})
    delivered = twilio_post(client, {"MessageSid": sid, "MessageStatus": "delivered"}, "/webhooks/twilio/status")
    late_sent = twilio_post(client, {"MessageSid": sid, "MessageStatus": "sent"}, "/webhooks/twilio/status")

    assert (unsigned.status_code, delivered.status_code, late_sent.status_code) == (403, 200, 200)
    with channel_service.db.session() as s:
        message = s.get(Message, message_id)
        assert message is not None and message.status == "delivered"


def test_an_undelivered_receipt_with_21610_stops_the_contact(client, channel_service, make_dispatcher):
    twilio_post(client, sms("hello"))
    make_dispatcher().run_once()
    with channel_service.db.session() as s:
        first = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).first()
        assert first is not None
        sid = first.provider_id

    twilio_post(
        client, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "21610"}, "/webhooks/twilio/status"
    )

    with channel_service.db.session() as s:
        assert s.scalars(select(Contact)).one().stopped is True
        message = s.scalars(select(Message).where(Message.provider_id == sid)).one()
        assert message.status == "failed" and "21610" in (message.last_error or "")


def test_media_that_cannot_be_fetched_does_not_lose_the_message(client, channel_service, standin):
    form = sms(
        "here is the letter",
        NumMedia="1",
        MediaUrl0=f"{standin.url}/media/missing-but-401",
        MediaContentType0="image/jpeg",
    )
    standin.twilio_auth = ("AC-other", "other-token")  # our credentials are refused
    try:
        response = twilio_post(client, form)
    finally:
        from tests.channels.conftest import TW_SID, TW_TOKEN

        standin.twilio_auth = (TW_SID, TW_TOKEN)

    assert response.status_code == 200
    with channel_service.db.session() as s:
        inbound = s.scalars(select(Message).where(Message.direction == "in")).one()
        assert inbound.body == "here is the letter"
        assert s.scalar(select(func.count()).select_from(Attachment)) == 0
