"""Sending a voice note, photo or document from the web chat (POST /chat/upload)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bot.dialogue.contributions import MAX_FILE_BYTES
from bot.dialogue.messages import Inbound, Media, Outbound
from bot.i18n import _, use_language
from bot.service import Service
from bot.web.chat import CHAT_COOKIE, NO_STORE, _same_origin
from bot.web.live import ChatSessions
from bot.web.turns import TurnThreads


def upload_router(service: Service, turns: TurnThreads) -> APIRouter:
    """The web chat's file upload: the file joins the conversation like a photo sent on a phone."""
    router = APIRouter()
    sessions = ChatSessions(service.db, service.settings.resolved_secret_key())

    @router.post("/chat/upload")
    async def chat_upload(request: Request) -> Response:
        """One file from the web chat, sent as the request body with its own type; the replies come back at once."""
        if not _same_origin(request, service.settings.public_base_url):
            return JSONResponse({"error": "forbidden"}, status_code=403, headers=NO_STORE)
        session_id = request.cookies.get(CHAT_COOKIE)
        # Only a session this server started and that has not ended (quick exit) may send a file.
        if not session_id or not await turns.run(sessions.is_live, session_id):
            return JSONResponse({"error": "open /chat first"}, status_code=400, headers=NO_STORE)
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_FILE_BYTES:
            return await _too_big(session_id)
        # The file is the whole body (not a multipart form, which would spool large files to a
        # temporary file on disk in clear): read into memory, and stop at the limit.
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_FILE_BYTES:
                return await _too_big(session_id)
        if not data:
            return JSONResponse({"error": "the file is empty"}, status_code=400, headers=NO_STORE)
        content_type = request.headers.get("content-type") or "application/octet-stream"
        media = Media(content_type=content_type.split(";")[0].strip().lower(), data=bytes(data))
        inbound = Inbound(channel="web", address=session_id, text="", media=(media,))
        replies = await turns.run(service.engine.handle, inbound)
        return JSONResponse({"replies": _as_json(replies)}, headers=NO_STORE)

    async def _too_big(session_id: str) -> Response:
        """Refused before it is stored, in the person's language."""
        language = await turns.run(service.engine.language_of, "web", session_id)
        with use_language(language):
            text = _("Sorry, this file is too big to keep. The limit is 16 MB. Please send a shorter or smaller one.")
        return JSONResponse({"replies": _as_json([Outbound(text)])}, status_code=413, headers=NO_STORE)

    return router


def _as_json(replies: list[Outbound]) -> list[dict[str, object]]:
    return [
        {"text": r.text, "choices": [{"value": c.value, "label": c.label} for c in r.choices], "many": r.many}
        for r in replies
    ]
