"""A lean HTTP load generator for the channels benchmark: pre-signed webhooks over raw keep-alive sockets.

httpx costs about as much CPU per request as the server's own work, and the load generator shares
the machine with the server, so requests are built and signed before the clock starts and sent with
plain asyncio streams. Two shapes of load:

- open loop: request i is due at start + i / rate, whether or not earlier ones were answered; its
  latency counts from when it was due (so a slow server cannot hide its queue: no coordinated omission);
- closed loop: C connections, each sending its next request as soon as the last one is answered.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator


@dataclass(frozen=True)
class Signing:
    """What the server expects: the public URL Twilio signs, the Twilio token and the Telegram secret."""

    public_base_url: str
    twilio_token: str
    twilio_account_sid: str
    telegram_secret: str


def twilio_request(signing: Signing, sid: str, sender: str, body: str, whatsapp: bool = False) -> bytes:
    """One inbound SMS or WhatsApp message as Twilio posts it, signed with the real algorithm."""
    prefix = "whatsapp:" if whatsapp else ""
    form = {
        "MessageSid": sid,
        "AccountSid": signing.twilio_account_sid,
        "From": prefix + sender,
        "To": prefix + "+447700900000",
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(signing.twilio_token).compute_signature(
        signing.public_base_url + "/webhooks/twilio", form
    )
    payload = urlencode(form).encode()
    head = (
        "POST /webhooks/twilio HTTP/1.1\r\nHost: bench\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def telegram_request(signing: Signing, update_id: int, chat_id: int, body: str) -> bytes:
    """One Telegram update as the Bot API posts it to a webhook, with the secret token header."""
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": body,
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "P", "language_code": "en"},
        },
    }
    payload = json.dumps(update).encode()
    head = (
        "POST /webhooks/telegram HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"X-Telegram-Bot-Api-Secret-Token: {signing.telegram_secret}\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def conversation_messages(
    signing: Signing,
    count: int,
    *,
    people: int,
    texts: list[str],
    replies: list[str],
    tag: str,
    seed: int = 1,
    telegram: bool = True,
) -> list[bytes]:
    """`count` webhooks from `people` people: a third on Telegram, the rest SMS and WhatsApp.

    Half the messages are what people tap or type at a menu ("1", "yes"), half free text in any of the
    16 languages (the NLU's held-out split), so the safety net and classifier run as in real use.
    Without `telegram`, the Telegram third come by SMS instead (for the bare Twilio baseline).
    """
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(count):
        who = rng.randrange(people)
        body = rng.choice(replies) if rng.random() < 0.5 else rng.choice(texts)
        if who % 3 == 0 and telegram:
            out.append(telegram_request(signing, 10_000_000 * (seed + 1) + i, 7_000_000 + who, body))
        else:
            sid = f"SM{tag}{seed:04d}{i:024d}"[:34]
            out.append(twilio_request(signing, sid, f"+4479{who:08d}", body, whatsapp=who % 3 == 2))
    return out


@dataclass
class Result:
    """Each request's latency in seconds and status; what happened to the load as a whole."""

    latencies: list[float]
    statuses: list[int]
    elapsed: float


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _connections(
    host: str, port: int, n: int
) -> asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(n):
        pool.put_nowait(await asyncio.open_connection(host, port))
    return pool


async def open_loop(host: str, port: int, requests: list[bytes], rate: float, connections: int) -> Result:
    """Send request i at start + i/rate; latency counts from that moment."""
    pool = await _connections(host, port, connections)
    latencies = [0.0] * len(requests)
    statuses = [0] * len(requests)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.1

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        conn = await pool.get()
        try:
            statuses[i] = await _exchange(*conn, requests[i])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            statuses[i] = -1
            conn = await asyncio.open_connection(host, port)
        latencies[i] = loop.time() - due
        pool.put_nowait(conn)

    await asyncio.gather(*(one(i) for i in range(len(requests))))
    elapsed = loop.time() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return Result(latencies, statuses, elapsed)


async def closed_loop(host: str, port: int, requests: list[bytes], connections: int) -> Result:
    """`connections` clients, each sending its next request as soon as the last one is answered."""
    queue = list(reversed(range(len(requests))))
    latencies = [0.0] * len(requests)
    statuses = [0] * len(requests)
    loop = asyncio.get_running_loop()

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while queue:
            i = queue.pop()
            t0 = loop.time()
            try:
                statuses[i] = await _exchange(reader, writer, requests[i])
            except (OSError, asyncio.IncompleteReadError, ValueError):
                statuses[i] = -1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
            latencies[i] = loop.time() - t0
        writer.close()

    start = loop.time()
    await asyncio.gather(*(client() for _ in range(connections)))
    return Result(latencies, statuses, loop.time() - start)


def run(kind: str, host: str, port: int, requests: list[bytes], rate: float, connections: int) -> Result:
    """Run one load in this process, on uvloop when it is installed."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if kind == "open":
        return asyncio.run(open_loop(host, port, requests, rate, connections))
    return asyncio.run(closed_loop(host, port, requests, connections))
