"""What the providers post to the webhooks, described for /openapi.json (the routes read the raw body
themselves, to check signatures and limits before parsing, so FastAPI cannot infer these shapes)."""

from __future__ import annotations

from typing import Any

_USER = {
    "type": "object",
    "required": ["id", "is_bot", "first_name"],
    "properties": {
        "id": {"type": "integer"},
        "is_bot": {"type": "boolean"},
        "first_name": {"type": "string"},
        "language_code": {"type": "string"},
    },
}
_CHAT = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "integer"},
        "type": {"type": "string", "enum": ["private", "group", "supergroup", "channel"]},
        "first_name": {"type": "string"},
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["message_id", "date", "chat"],
    "properties": {
        "message_id": {"type": "integer"},
        "date": {"type": "integer"},
        "chat": _CHAT,
        "from": _USER,
        "text": {"type": "string"},
        "caption": {"type": "string"},
    },
}
_TELEGRAM_UPDATE = {
    "type": "object",
    "description": "A Telegram Bot API Update carrying a message or a button tap (other fields are ignored).",
    "required": ["update_id"],
    "properties": {
        "update_id": {"type": "integer"},
        "message": _MESSAGE,
        "callback_query": {
            "type": "object",
            "required": ["id", "from", "chat_instance"],
            "properties": {
                "id": {"type": "string"},
                "from": _USER,
                "chat_instance": {"type": "string"},
                "data": {"type": "string"},
                "message": _MESSAGE,
            },
        },
    },
}
_TWILIO_MESSAGE = {
    "type": "object",
    "description": "Twilio's messaging webhook (SMS, or WhatsApp when From starts with whatsapp:).",
    "required": ["MessageSid", "From"],
    "properties": {
        "MessageSid": {"type": "string"},
        "AccountSid": {"type": "string"},
        "From": {"type": "string"},
        "To": {"type": "string"},
        "Body": {"type": "string"},
        "NumMedia": {"type": "string"},
    },
}
_TWILIO_STATUS = {
    "type": "object",
    "description": "Twilio's delivery status callback for a message we sent.",
    "required": ["MessageSid", "MessageStatus"],
    "properties": {
        "MessageSid": {"type": "string"},
        "MessageStatus": {
            "type": "string",
            "enum": ["queued", "sending", "sent", "delivered", "read", "undelivered", "failed"],
        },
        "ErrorCode": {"type": "string"},
    },
}


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": description}


def _body(media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


TELEGRAM_WEBHOOK: dict[str, Any] = {
    "parameters": [_header("X-Telegram-Bot-Api-Secret-Token", "The secret given to setWebhook")],
    **_body("application/json", _TELEGRAM_UPDATE),
}
TWILIO_WEBHOOK: dict[str, Any] = {
    "parameters": [_header("X-Twilio-Signature", "Twilio's signature of PUBLIC_BASE_URL + path and the form")],
    **_body("application/x-www-form-urlencoded", _TWILIO_MESSAGE),
}
TWILIO_STATUS_WEBHOOK: dict[str, Any] = {
    "parameters": [_header("X-Twilio-Signature", "Twilio's signature of PUBLIC_BASE_URL + path and the form")],
    **_body("application/x-www-form-urlencoded", _TWILIO_STATUS),
}
