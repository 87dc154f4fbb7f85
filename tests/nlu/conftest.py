"""Fixtures for the NLU tests: the composed embedded NLU, trained once per run and cached under var/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import ComposedNLU, load_nlu
from bot.nlu.data import PROJECT_ROOT


@pytest.fixture(scope="session")
def embedded_nlu() -> ComposedNLU:
    """Lexicon + embedded classifier + language detection, exactly as the service builds it."""
    return load_nlu("embedded", cache_dir=PROJECT_ROOT / "var" / "nlu", rasa_url=None, rasa_token=None)


@pytest.fixture(scope="session")
def test_dir() -> Path:
    """The held-out split: never trained on, never used to tune."""
    return PROJECT_ROOT / "intents" / "test"
