"""`dhrbot nlu parse|evaluate` output that operators and CI scripts read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bot.nlu.base import INTENTS
from bot.nlu.data import PROJECT_ROOT


def _nlu(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.nlu.cli", "nlu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        check=True,
    )


def test_parse_reads_one_message_per_line_and_prints_rasa_shape() -> None:
    out = _nlu("parse", "-", "--json", "--backend", "embedded", stdin="what is a review\n\nI want to die\n1\n")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["what is a review", "I want to die", "1"]  # blank line skipped
    for r in rows:
        assert set(r) >= {"text", "intent", "intent_ranking", "entities", "language", "triage"}
        assert set(r["intent"]) == {"name", "confidence"}
    assert rows[0]["intent"]["name"] == "ask_what_is_review"
    assert rows[0]["language"] == "en"
    assert rows[1]["triage"] == "urgent"
    assert rows[2]["triage"] == "none"


def test_parse_single_text_with_language_hint() -> None:
    out = _nlu("parse", "mujhe kisi se baat karni hai", "--json", "--lang", "ur")
    row = json.loads(out.stdout)
    assert row["intent"]["name"] == "request_advocate"
    assert row["triage"] == "sensitive"  # a person is asked for: an advocate should pick it up


def test_evaluate_prints_one_json_object_with_the_agreed_keys(tmp_path: Path) -> None:
    out = _nlu("evaluate", str(PROJECT_ROOT / "intents" / "test" / "test_fr.yml"), "--json")
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert set(result) >= {"accuracy", "urgent_recall", "false_urgent_rate", "per_intent", "per_language"}
    assert list(result["per_language"]) == ["fr"]
    assert result["per_language"]["fr"]["count"] == result["examples"]
    assert set(result["per_intent"]) == set(INTENTS)
    assert sum(v["support"] for v in result["per_intent"].values()) == result["examples"]
    assert set(result["per_intent"]["greet"]) == {"precision", "recall", "f1", "support"}
    assert result["urgent_recall"] == 1.0
