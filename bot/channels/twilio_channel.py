"""SMS and WhatsApp through Twilio: signed webhooks in, REST sends out (buttons become numbered options)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import httpx
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import AmbiguousSend, Delivery, RecipientBlocked, SendError, split_text
from bot.dialogue.messages import Inbound, Media
from bot.settings import Settings

log = logging.getLogger(__name__)

WHATSAPP_PREFIX = "whatsapp:"
MAX_MEDIA = 10  # Twilio sends at most 10 media items with one message
MAX_MEDIA_BYTES = 16 * 1024 * 1024
MAX_BODY = 1600  # Twilio refuses longer message bodies (error 21617)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# Twilio error codes with a meaning for us (https://www.twilio.com/docs/api/errors).
OPTED_OUT = 21610  # the person replied STOP to this number: Twilio refuses to send
WHATSAPP_WINDOW_CLOSED = 63016  # free text outside the 24-hour window
# How far before an unsure attempt to look for it in the account's messages: the attempt may have begun
# up to a claim's length before it was noticed (a dispatcher that died mid-send), and clocks differ.
LOOK_BACK = timedelta(seconds=60)


class WindowClosed(SendError):
    """WhatsApp refused free text: the person has not written in the last 24 hours."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, temporary=False)


def signed_url(public_base_url: str, path: str, query: str) -> str:
    """The URL Twilio signed: our public address (we may sit behind a proxy) plus path and query."""
    return public_base_url.rstrip("/") + path + (f"?{query}" if query else "")


def signature_ok(settings: Settings, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    """Whether the request carries Twilio's signature for these exact parameters (constant time)."""
    if not signature or not settings.twilio_auth_token:
        return False
    return bool(RequestValidator(settings.twilio_auth_token).validate(url, dict(params), signature))


def split_address(raw: str) -> tuple[str, str]:
    """("whatsapp", "+447700900001") from "whatsapp:+447700900001"; plain numbers are SMS."""
    if raw.lower().startswith(WHATSAPP_PREFIX):
        return "whatsapp", raw[len(WHATSAPP_PREFIX) :]
    return "sms", raw


def inbound_from_form(form: Mapping[str, str], media: tuple[Media, ...] = ()) -> Inbound:
    """The normalised message of one Twilio messaging webhook."""
    channel, address = split_address(form.get("From", ""))
    return Inbound(
        channel=channel,
        address=address,
        text=form.get("Body", ""),
        provider_message_id=form.get("MessageSid") or form.get("SmsMessageSid") or None,
        media=media,
    )


def media_refs(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """(url, content type) of each media item the message carried."""
    try:
        count = min(int(form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    refs = []
    for n in range(count):
        url = form.get(f"MediaUrl{n}")
        if url:
            refs.append((url, form.get(f"MediaContentType{n}", "application/octet-stream")))
    return refs


async def fetch_media(settings: Settings, refs: list[tuple[str, str]]) -> tuple[Media, ...]:
    """Download each media item with the account's credentials (Twilio media URLs require them)."""
    found: list[Media] = []
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    # httpx drops the Authorization header when a redirect leaves the host (Twilio redirects to storage).
    async with httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=30) as client:
        for url, content_type in refs:
            try:
                response = await client.get(url)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                log.error("could not fetch inbound media (%s): the message is kept without it", type(exc).__name__)
                continue
            if len(response.content) > MAX_MEDIA_BYTES:
                log.error("inbound media of %s bytes is over the limit and was not kept", len(response.content))
                continue
            found.append(
                Media(
                    content_type=response.headers.get("content-type", content_type).split(";")[0], data=response.content
                )
            )
    return tuple(found)


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc,unused-ignore]  # twilio ships no types
    """Twilio's own HTTP client, sending every API call to another server (a stand-in or staging)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: object, **kwargs: object) -> object:
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        return super().request(method, f"{self.base_url}/{path}", *args, **kwargs)


def twilio_client(settings: Settings, timeout: float = 15) -> Client:
    """The REST client; TWILIO_API_BASE_URL points it at another server."""
    http_client = (
        _BaseUrlHttpClient(settings.twilio_api_base_url, timeout)
        if settings.twilio_api_base_url
        else TwilioHttpClient(timeout=timeout)
    )
    return Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)


class TwilioSender:
    """Sends SMS and WhatsApp messages; quick replies become numbered options."""

    channels = frozenset({"sms", "whatsapp"})

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = twilio_client(settings)
        self.status_callback = settings.public_base_url.rstrip("/") + "/webhooks/twilio/status"

    def send(self, delivery: Delivery) -> str:
        """Send one message; returns Twilio's message SID."""
        whatsapp = delivery.channel == "whatsapp"
        sender = self.settings.twilio_whatsapp_from if whatsapp else self.settings.twilio_sms_from
        to = delivery.address
        if whatsapp:
            sender = sender if sender.startswith(WHATSAPP_PREFIX) else WHATSAPP_PREFIX + sender
            to = WHATSAPP_PREFIX + to
        base: dict[str, str] = {"to": to, "from_": sender, "status_callback": self.status_callback}
        if delivery.template_sid:
            return self._create(base | {"content_sid": delivery.template_sid})
        sid = ""
        parts = split_text(delivery.reply.as_plain_text(), MAX_BODY)
        for n, part in enumerate(parts, start=1):
            if n <= delivery.parts_done:
                continue  # the person has this part already
            found = None
            if delivery.unsure_since is not None and n == delivery.parts_done + 1:
                found = self.find_sent(to, part, delivery.unsure_since)  # the unsure attempt was this part
            sid = found or self._create(base | {"body": part})
            delivery.part_sent(n, len(parts), sid)
        return sid  # a long reply goes in parts: the last part's id stands for the message

    def find_sent(self, to: str, body: str, since: datetime) -> str | None:
        """The SID of this text sent to this number since an unsure attempt, if Twilio has it."""
        try:
            # Newest first. No DateSent filter: a message Twilio still holds as queued has no date_sent yet.
            recent = self.client.messages.list(to=to, limit=50)
        except TwilioRestException as exc:
            raise SendError(f"twilio {exc.status}: could not check an earlier attempt", temporary=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"twilio unreachable: {type(exc).__name__}", temporary=True) from exc
        for message in recent:
            created = message.date_created
            if message.body == body and isinstance(created, datetime) and created >= since - LOOK_BACK:
                return str(message.sid)
        return None

    def _create(self, kwargs: dict[str, str]) -> str:
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            detail = f"twilio {exc.status} error {exc.code}: {exc.msg}"[:500]
            if exc.code == OPTED_OUT:
                raise RecipientBlocked(detail) from exc
            if exc.code == WHATSAPP_WINDOW_CLOSED:
                raise WindowClosed(detail) from exc
            raise SendError(detail, temporary=exc.status == 429 or exc.status >= 500) from exc
        except requests.ReadTimeout as exc:
            raise AmbiguousSend("twilio: no answer in time", checkable=True) from exc
        except requests.ConnectionError as exc:
            if _after_request_sent(exc):
                raise AmbiguousSend("twilio: connection lost before the answer", checkable=True) from exc
            raise SendError(f"twilio unreachable: {type(exc).__name__}", temporary=True) from exc
        except requests.RequestException as exc:
            raise SendError(f"twilio unreachable: {type(exc).__name__}", temporary=True) from exc
        return str(message.sid)

    def close(self) -> None:
        """Nothing to release: the HTTP session closes with the process."""


def _after_request_sent(exc: requests.ConnectionError) -> bool:
    """Whether the connection broke after the request went out (then Twilio may have the message)."""
    from urllib3.exceptions import ProtocolError

    return any(isinstance(arg, ProtocolError) for arg in exc.args)
