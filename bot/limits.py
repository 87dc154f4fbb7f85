"""Limits on what comes in from outside: request body size and JSON depth, checked before any parsing."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A JSON string (escapes included) or a bracket: enough to measure nesting without parsing.
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)


class BodyTooLarge(Exception):
    """A request body over the limit; answered 413 by BodySizeLimit."""


class BodySizeLimit:
    """Refuse request bodies over `max_bytes` with 413: a declared length at once, a streamed one as it arrives.

    Nothing downstream (JSON or form parsing, the dialogue) ever sees more than the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}  # paths that take files, with their own (larger) limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > max_bytes
            except ValueError:
                await _plain(send, 400, b"bad Content-Length")
                return
            if too_large:
                await _plain(send, 413, b"request body too large")
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await _plain(send, 413, b"request body too large")


async def _plain(send: Send, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(text)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def deeper_than(raw: bytes, max_depth: int) -> bool:
    """Whether a JSON document nests arrays and objects deeper than `max_depth` (brackets inside strings do
    not count); stops reading as soon as it does."""
    depth = 0
    for token in _JSON_TOKEN.finditer(raw):
        ch = token.group()
        if ch in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif ch in (b"]", b"}"):
            depth -= 1
    return False


def parse_json(raw: bytes, max_depth: int) -> Any:
    """A JSON body, or ValueError if it is not JSON or nests deeper than `max_depth`."""
    if deeper_than(raw, max_depth):
        raise ValueError(f"JSON nested deeper than {max_depth}")
    try:
        return json.loads(raw)
    except (RecursionError, UnicodeDecodeError) as exc:
        raise ValueError("unreadable JSON") from exc
