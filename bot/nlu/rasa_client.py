"""Ask a running Rasa 3.6 server what a message means, falling back to the embedded classifier."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import httpx

from bot.nlu.base import FALLBACK_INTENT, Parse, triage_for
from bot.nlu.embedded import EmbeddedClassifier

log = logging.getLogger(__name__)


def local_rasa(var_dir: Path) -> tuple[str, str] | None:
    """(URL, token) of a Rasa server: RASA_URL/RASA_TOKEN, else var/rasa.env from scripts/rasa/serve.sh."""
    url, token = os.environ.get("RASA_URL"), os.environ.get("RASA_TOKEN", "")
    env_file = var_dir / "rasa.env"
    if not url and env_file.exists():
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
        url, token = values.get("RASA_URL"), values.get("RASA_TOKEN", "")
    return (url, token) if url else None


class RasaUnavailable(RuntimeError):
    """The Rasa server could not answer (down, timed out, refused the token, or sent nonsense)."""


class RasaClient:
    """A thin client for Rasa's `POST /model/parse` (Rasa runs in its own Python 3.10 venv)."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.token = token or None
        self._http = httpx.Client(timeout=timeout)

    def parse(self, text: str) -> Parse:
        """Rasa's reading of one message; raises RasaUnavailable on any transport or server error."""
        params = {"token": self.token} if self.token else {}
        try:
            resp = self._http.post(f"{self.url}/model/parse", params=params, json={"text": text})
            resp.raise_for_status()
            body: dict[str, Any] = resp.json()
            intent = body.get("intent") or {}
            name = str(intent.get("name") or FALLBACK_INTENT)
            conf = float(intent.get("confidence") or 0.0)
            ranking = [(str(r["name"]), float(r.get("confidence") or 0.0)) for r in body.get("intent_ranking") or []]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise RasaUnavailable(f"Rasa at {self.url} did not answer: {exc.__class__.__name__}: {exc}") from exc
        return Parse(
            text=text,
            intent=name,
            confidence=conf,
            ranking=ranking[:10],
            entities=list(body.get("entities") or []),
            triage=triage_for(name),
        )

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()


class RasaWithFallback:
    """Rasa first; when it is unreachable, warn and let the embedded classifier answer instead."""

    def __init__(self, client: RasaClient, fallback: EmbeddedClassifier) -> None:
        self.client = client
        self.fallback = fallback
        self.fallbacks = 0  # how many messages Rasa could not answer (reported by `nlu evaluate`)

    def parse(self, text: str, language: str | None = None, *, free_text: bool = True) -> Parse:
        """One message through Rasa, or through the embedded model if Rasa fails this time."""
        if not free_text:
            return self.fallback.parse(text, language, free_text=False)  # a label: no server round trip
        try:
            return self.client.parse(text)
        except RasaUnavailable as exc:
            # Never silent: an operator must notice that Rasa is down even though families don't.
            self.fallbacks += 1
            log.warning("%s; using the embedded classifier for this message", exc)
            return self.fallback.parse(text, language, free_text=free_text)
