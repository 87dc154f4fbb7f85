"""Local stand-ins for the Telegram Bot API and Twilio's Messages API: they answer like the real ones
and record every call, so the real client libraries run end to end without the network."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Call:
    """One request a client library made to a stand-in."""

    api: str  # telegram | twilio | media
    method: str  # sendMessage, Messages, ...
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the stand-in received it


@dataclass
class Failure:
    status: int
    body: dict[str, Any]


@dataclass
class Accepted:
    """A send the provider took: it reaches the person, whether or not the client heard the answer."""

    api: str  # telegram | twilio
    to: str  # chat id, or the To number (with "whatsapp:" for WhatsApp)
    text: str
    id: str  # Telegram message id, or Twilio SID
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class StandIn:
    """Both providers on one loopback port; failures can be scripted per method."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, deque[Failure | None]] = field(default_factory=lambda: defaultdict(deque))
    # Sends accepted, then answered only after this many seconds (the client times out: an ambiguous outcome).
    hangs: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    accepted: list[Accepted] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # for getUpdates (polling)
    media: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # name -> (content type, bytes)
    twilio_auth: tuple[str, str] = ("", "")
    delay: float = 0.0  # seconds each send takes (benchmarks)
    arrivals: dict[str, list[float]] = field(default_factory=dict)  # address -> when sends arrived
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures.clear()
            self.hangs.clear()
            self.accepted.clear()
            self.updates.clear()
            self.media.clear()
            self.arrivals.clear()
            self.delay = 0.0

    def fail_next(self, method: str, status: int, body: dict[str, Any], times: int = 1, *, after: int = 0) -> None:
        """Make the next `times` calls of a method fail with this status and body (after `after` that succeed)."""
        self.failures[method].extend([None] * after)
        for _ in range(times):
            self.failures[method].append(Failure(status, body))

    def hang_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of a method succeed at the provider but answer only after `seconds`."""
        for _ in range(times):
            self.hangs[method].append(seconds)

    def sent(self, api: str, method: str) -> list[dict[str, Any]]:
        """The parameters of every successful-or-not call of one method."""
        return [c.params for c in list(self.calls) if c.api == api and c.method == method]

    def first_arrival(self, to: str | int, since: float) -> float | None:
        """When the first send to this address (phone number or chat id) at or after `since` arrived."""
        with self._lock:
            return next((at for at in self.arrivals.get(str(to), ()) if at >= since), None)

    def _record(self, api: str, method: str, params: dict[str, Any]) -> Failure | None:
        with self._lock:
            call = Call(api, method, params)
            self.calls.append(call)
            to = (
                params.get("chat_id") if method == "sendMessage" else params.get("To") if method == "Messages" else None
            )
            if to is not None:
                self.arrivals.setdefault(str(to), []).append(call.at)
            queue = self.failures.get(method)
            return queue.popleft() if queue else None

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def _accept(self, api: str, method: str, to: str, text: str, id_: str) -> float:
        """Record a send the provider took; returns how long to hold the answer back."""
        with self._lock:
            self.accepted.append(Accepted(api, to, text, id_))
            queue = self.hangs.get(method)
            return queue.popleft() if queue else 0.0

    # ------------------------------------------------------------------ Telegram Bot API
    async def telegram(self, request: Request) -> Response:
        method = request.path_params["method"]
        params = await _telegram_params(request)
        failure = self._record("telegram", method, params)
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow provider
        if failure is not None:
            return JSONResponse({"ok": False, "error_code": failure.status, **failure.body}, status_code=failure.status)
        result = await self._telegram_result(method, params)
        if method == "sendMessage":
            hang = self._accept("telegram", method, str(params["chat_id"]), result["text"], str(result["message_id"]))
            await asyncio.sleep(hang)  # the message is the person's already; the answer is late
        return JSONResponse({"ok": True, "result": result})

    async def _telegram_result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": 4242, "is_bot": True, "first_name": "DHR", "username": "dhr_test_bot"}
        if method == "sendMessage":
            return {
                "message_id": self.next_id(),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": {"id": 4242, "is_bot": True, "first_name": "DHR"},
                "text": params.get("text", ""),
            }
        if method == "getUpdates":
            with self._lock:
                offset = int(params.get("offset") or 0)
                pending = [u for u in self.updates if u["update_id"] >= offset]
            if not pending:
                await asyncio.sleep(0.05)  # a short long-poll
            return pending
        if method == "getFile":
            name = str(params["file_id"])
            return {
                "file_id": name,
                "file_unique_id": name,
                "file_size": len(self.media[name][1]),
                "file_path": f"f/{name}",
            }
        return True  # answerCallbackQuery, setWebhook, deleteWebhook, ...

    async def telegram_file(self, request: Request) -> Response:
        name = request.path_params["path"].rsplit("/", 1)[-1]
        self._record("telegram", "file", {"name": name})
        content_type, data = self.media[name]
        return Response(data, media_type=content_type)

    # ------------------------------------------------------------------ Twilio
    async def twilio_messages(self, request: Request) -> Response:
        if not self._twilio_authorised(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        form = await request.form()
        params = {k: str(v) for k, v in form.items()}
        failure = self._record("twilio", "Messages", params)
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow provider
        if failure is not None:
            return JSONResponse(
                {"status": failure.status, "more_info": "https://www.twilio.com/docs/errors", **failure.body},
                status_code=failure.status,
            )
        sid = f"SM{self.next_id():032x}"
        text = params.get("Body") or params.get("ContentSid") or ""
        hang = self._accept("twilio", "Messages", params.get("To", ""), text, sid)
        resource = self._twilio_resource(request.path_params["account"], self.accepted_by_id(sid))
        resource["from"] = params.get("From")
        await asyncio.sleep(hang)  # the message is the person's already; the answer is late
        return JSONResponse(resource, status_code=201)

    def accepted_by_id(self, id_: str) -> Accepted:
        with self._lock:
            return next(a for a in self.accepted if a.id == id_)

    @staticmethod
    def _twilio_resource(account: str, sent: Accepted) -> dict[str, Any]:
        return {
            "sid": sent.id,
            "account_sid": account,
            "to": sent.to,
            "body": sent.text,
            "status": "queued",
            "num_segments": "1",
            "date_created": format_datetime(sent.created),
            "date_sent": format_datetime(sent.created),
        }

    async def twilio_list(self, request: Request) -> Response:
        """Messages.json read back (GET), filtered by To and "DateSent>" as Twilio does; newest first."""
        if not self._twilio_authorised(request):
            return JSONResponse({"code": 20003, "message": "Authenticate", "status": 401}, status_code=401)
        query = request.query_params
        self._record("twilio", "ListMessages", dict(query))
        since_raw = query.get("DateSent>")
        since = datetime.fromisoformat(since_raw.replace("Z", "+00:00")) if since_raw else None
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with self._lock:
            found = [
                a
                for a in reversed(self.accepted)
                if a.api == "twilio"
                and (not query.get("To") or a.to == query["To"])
                and (since is None or a.created >= since)
            ]
        account = request.path_params["account"]
        uri = f"/2010-04-01/Accounts/{account}/Messages.json"
        return JSONResponse(
            {
                "messages": [self._twilio_resource(account, a) for a in found[: int(query.get("PageSize", 50))]],
                "end": len(found) - 1,
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": int(query.get("PageSize", 50)),
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    async def twilio_media(self, request: Request) -> Response:
        name = request.path_params["name"]
        self._record("media", "get", {"name": name, "authorised": self._twilio_authorised(request)})
        if not self._twilio_authorised(request):
            return Response(status_code=401)
        content_type, data = self.media[name]
        return Response(data, media_type=content_type)

    def _twilio_authorised(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(":".join(self.twilio_auth).encode()).decode()
        return request.headers.get("authorization") == expected

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/bot{token}/{method}", self.telegram, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self.telegram_file, methods=["GET"]),
                Route("/2010-04-01/Accounts/{account}/Messages.json", self.twilio_messages, methods=["POST"]),
                Route("/2010-04-01/Accounts/{account}/Messages.json", self.twilio_list, methods=["GET"]),
                Route("/media/{name}", self.twilio_media, methods=["GET"]),
            ]
        )


async def _telegram_params(request: Request) -> dict[str, Any]:
    """python-telegram-bot posts form fields whose values are JSON-encoded where not plain strings."""
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        return json.loads(body) if body else {}
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        try:
            params[key] = json.loads(str(value))
        except ValueError:
            params[key] = str(value)
    return params


class Server:
    """A uvicorn server in a background thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("stand-in server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
