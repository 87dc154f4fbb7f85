"""Fixtures for the NLU tests: the composed embedded NLU (trained once per run, cached under var/) and Rasa."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.nlu import ComposedNLU, load_nlu
from bot.nlu.data import PROJECT_ROOT
from bot.nlu.rasa_client import local_rasa
from tests import report

RASA_SCRIPTS = PROJECT_ROOT / "scripts" / "rasa"
RASA_NOT_SET_UP = 3  # train.sh/serve.sh --cached-only: `make rasa` has not installed or trained it here


@pytest.fixture(scope="session")
def embedded_nlu() -> ComposedNLU:
    """Lexicon + embedded classifier + language detection, exactly as the service builds it."""
    return load_nlu("embedded", cache_dir=PROJECT_ROOT / "var" / "nlu", rasa_url=None, rasa_token=None)


@pytest.fixture(scope="session")
def test_dir() -> Path:
    """The held-out split: never trained on, never used to tune."""
    return PROJECT_ROOT / "intents" / "test"


def _rasa_version(found: tuple[str, str] | None) -> str | None:
    """The version of the Rasa server at (URL, token), if it answers."""
    if found is None:
        return None
    url, token = found
    try:
        httpx.get(f"{url}/status", params={"token": token}, timeout=3).raise_for_status()
        return str(httpx.get(f"{url}/version", params={"token": token}, timeout=3).json().get("version", ""))
    except (httpx.HTTPError, ValueError):
        return None


def _why_rasa_cannot_run() -> tuple[str, str] | None:
    """(why, in short) the Rasa tests cannot run here; None when a server answers or `make rasa` left one to start."""
    if _rasa_version(local_rasa(PROJECT_ROOT / "var")) is not None:
        return None
    if os.environ.get("RASA_URL"):
        return f"nothing answers at RASA_URL={os.environ['RASA_URL']}", "RASA_URL does not answer"
    cached = subprocess.run(
        ["bash", str(RASA_SCRIPTS / "train.sh"), "--cached-only"], capture_output=True, text=True, check=False
    )
    if cached.returncode == RASA_NOT_SET_UP:
        why = cached.stderr.strip().splitlines()[-1]
        return why, "not set up (`make rasa`)" if "not set up" in why else "model out of date (`make rasa`)"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m rasa` selects on the mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use the Rasa server `rasa`; skip them, in one line saying how to enable them, when
    Rasa is not set up here. (Marked here, not by decorators: pytest folds the skips into one line only then.)"""
    needing_rasa = [item for item in items if "rasa_server" in getattr(item, "fixturenames", ())]
    for item in needing_rasa:
        item.add_marker(pytest.mark.rasa)
    cannot = _why_rasa_cannot_run() if needing_rasa else None
    if cannot is None:
        return
    why, short = cannot
    report.did_not_run("Rasa", short)
    for item in needing_rasa:
        item.add_marker(pytest.mark.skip(reason=f"Rasa tests skipped: {why}"))


@pytest.fixture(scope="session")
def rasa_server() -> Iterator[tuple[str, str]]:
    """(URL, token) of a real Rasa server: the one running, else the one `make rasa` cached, started for the run."""
    var = PROJECT_ROOT / "var"
    version = _rasa_version(local_rasa(var))
    if version is not None:
        found = local_rasa(var)
        assert found is not None
        report.ran("Rasa", f"{version} (running at {found[0]})")
        yield found
        return
    started = subprocess.run(
        ["bash", str(RASA_SCRIPTS / "serve.sh"), "--cached-only"], capture_output=True, text=True, check=False
    )
    found = local_rasa(var)
    version = _rasa_version(found)
    assert found and version is not None, f"the Rasa server `make rasa` set up did not start:\n{started.stderr[-2000:]}"
    report.ran("Rasa", f"{version} (started for this run)")
    try:
        yield found
    finally:
        subprocess.run(["bash", str(RASA_SCRIPTS / "stop.sh")], capture_output=True, check=False)
