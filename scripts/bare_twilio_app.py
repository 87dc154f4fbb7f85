"""The channels benchmark's baseline: a bare FastAPI app that only checks the Twilio signature.

It answers `POST /webhooks/twilio` with empty TwiML when the X-Twilio-Signature is right (twilio's own
`RequestValidator`) and 403 otherwise: nothing stored, nothing understood, nothing queued. Served
exactly as `dhrbot serve --workers N` serves the real app (`bot.web.workers.serve_workers`: N forked
uvicorn processes, a socket each on the shared port, the same uvicorn options), so that the benchmark
can report the service's throughput and latency as a ratio of this one's, measured in the same run
on the same cores. Absolute figures do not carry from one machine to another; ratios do.

    .venv/bin/python scripts/bare_twilio_app.py --port 8766 --workers 2
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from fastapi import FastAPI, Request, Response
from twilio.request_validator import RequestValidator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.channels.twilio_channel import EMPTY_TWIML, signed_url
from bot.settings import get_settings
from bot.web.workers import serve_workers, uvicorn_options


def create() -> FastAPI:
    """The bare app, with the public URL and Twilio token of the settings (as the service reads them)."""
    settings = get_settings()
    validator = RequestValidator(settings.twilio_auth_token or "")
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/webhooks/twilio")
    async def twilio_webhook(request: Request) -> Response:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        url = signed_url(settings.public_base_url, request.url.path, request.url.query)
        if not validator.validate(url, params, request.headers.get("X-Twilio-Signature", "")):
            return Response(status_code=403)
        return Response(EMPTY_TWIML, media_type="text/xml")

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    serve_workers(args.host, args.port, args.workers, create, options=uvicorn_options(get_settings()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
