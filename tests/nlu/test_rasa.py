"""The Rasa backend: a real Rasa 3.6 server (started when `make rasa` set one up), and the embedded fallback."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from bot.nlu import ComposedNLU, load_nlu
from bot.nlu.base import INTENTS
from bot.nlu.cli import evaluate
from bot.nlu.data import PROJECT_ROOT

CACHE = PROJECT_ROOT / "var" / "nlu"
# Measured with Rasa 3.6.21 DIET (intents/config.yml) on intents/test: accuracy 0.777 (per language
# 0.72-0.85); with the lexicon and the embedded second opinion, urgent recall 1.0.
MIN_RASA_ACCURACY = 0.73


@pytest.fixture(scope="module")
def rasa_nlu(rasa_server: tuple[str, str]) -> ComposedNLU:
    url, token = rasa_server
    return load_nlu("rasa", cache_dir=CACHE, rasa_url=url, rasa_token=token)


def test_rasa_understands_a_plain_question(rasa_nlu: ComposedNLU) -> None:
    parsed = rasa_nlu.parse("what is a domestic homicide review")
    assert parsed.intent == "ask_what_is_review"
    assert {name for name, _ in parsed.ranking} <= {*INTENTS, "nlu_fallback"}
    assert parsed.language == "en"


def test_rasa_backend_keeps_the_safety_net(rasa_nlu: ComposedNLU) -> None:
    assert rasa_nlu.parse("I don't want to live anymore").triage == "urgent"
    assert rasa_nlu.parse("JOIN K7MQ-2XPB").triage != "urgent"


def test_rasa_on_the_held_out_split(rasa_nlu: ComposedNLU, test_dir: Path) -> None:
    result = evaluate(rasa_nlu, test_dir)
    assert result["rasa_fallbacks"] == 0, "every message should have been answered by Rasa itself"
    assert result["accuracy"] >= MIN_RASA_ACCURACY
    assert result["urgent_recall"] == 1.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_rasa_falls_back_to_embedded_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    nlu = load_nlu(
        "rasa", cache_dir=CACHE, rasa_url=f"http://127.0.0.1:{_closed_port()}", rasa_token="ab12", timeout=1.0
    )
    with caplog.at_level(logging.WARNING, logger="bot.nlu.rasa_client"):
        parsed = nlu.parse("can I have an interpreter for the meeting")
    # The family still gets understood ...
    assert parsed.intent == "request_interpreter"
    # ... and an operator is told that Rasa is down.
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "embedded" in warnings[0].getMessage()
    assert nlu.classifier.fallbacks == 1  # type: ignore[attr-defined]


def test_rasa_backend_without_url_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="RASA_URL"):
        load_nlu("rasa", cache_dir=CACHE, rasa_url=None, rasa_token=None)
