"""`dhrbot serve --workers 2`: the production set-up, with webhooks and the outbox in different processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from bot.settings import PROJECT_ROOT, Settings
from tests.channels.conftest import PUBLIC, SMS_FROM, TW_SID, TW_TOKEN, sms
from tests.channels.standins import StandIn
from tests.conftest import only_on
from tests.live import free_port


def _children(pid: int, name: str) -> list[int]:
    """The child processes of `dhrbot serve` with this name ("dhrbot-web" or "dhrbot-outbox")."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in children if Path(f"/proc/{c}/comm").read_text().strip() == name]


def _web_processes(pid: int) -> list[int]:
    return _children(pid, "dhrbot-web")


@only_on("postgresql")  # several web processes need PostgreSQL
def test_two_web_processes_answer_webhooks_and_the_outbox_process_sends_the_replies(
    settings: Settings, standin: StandIn, tmp_path: Path
) -> None:
    var = tmp_path / "serve"
    var.mkdir()
    if (PROJECT_ROOT / "var" / "nlu").exists():  # the trained NLU the test run already cached
        (var / "nlu").symlink_to(PROJECT_ROOT / "var" / "nlu")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(var),
        "PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": TW_SID,
        "TWILIO_AUTH_TOKEN": TW_TOKEN,
        "TWILIO_SMS_FROM": SMS_FROM,
        "TWILIO_API_BASE_URL": standin.url,
        "WEB_WORKERS": "2",
    }
    dhrbot = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(dhrbot, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "dhrbot serve exited"
            assert time.monotonic() < deadline, "dhrbot serve did not start"
            time.sleep(0.2)
        assert len(_web_processes(server.pid)) == 2

        numbers = [f"+44770090{n:04d}" for n in range(8)]
        for number in numbers:  # a new connection each, as providers often do: both processes get some
            form = sms("hello", frm=number)
            signature = RequestValidator(TW_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
            response = httpx.post(
                base + "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature}, timeout=30
            )
            assert response.status_code == 200
            assert "<Response" in response.text

        # The replies were committed by the web processes and sent by the outbox process's dispatchers.
        deadline = time.monotonic() + 30
        while {p.get("To") for p in standin.sent("twilio", "Messages")} != set(numbers):
            assert time.monotonic() < deadline, "not every person got a reply"
            time.sleep(0.1)

        # A web process that dies is replaced.
        lost = _web_processes(server.pid)[0]
        os.kill(lost, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while len(set(_web_processes(server.pid)) - {lost}) < 2:
            assert time.monotonic() < deadline, "the lost web process was not replaced"
            time.sleep(0.2)

        # So is the outbox process: a message written after it died still gets its reply.
        [outbox] = _children(server.pid, "dhrbot-outbox")
        os.kill(outbox, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while set(_children(server.pid, "dhrbot-outbox")) - {outbox} == set():
            assert time.monotonic() < deadline, "the lost outbox process was not replaced"
            time.sleep(0.2)
        later = "+447700909999"
        form = sms("hello", frm=later)
        signature = RequestValidator(TW_TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
        response = httpx.post(
            base + "/webhooks/twilio", data=form, headers={"X-Twilio-Signature": signature}, timeout=30
        )
        assert response.status_code == 200
        deadline = time.monotonic() + 30
        while later not in {p.get("To") for p in standin.sent("twilio", "Messages")}:
            assert time.monotonic() < deadline, "no reply after the outbox process was replaced"
            time.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0].decode()
    assert server.returncode == 0, output[-3000:]
    assert "Traceback" not in output
