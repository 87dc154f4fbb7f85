"""Benchmark the messaging channels: signed webhooks from simulated people against `dhrbot serve`,
replies sent by its in-process dispatcher to local provider stand-ins.

Measures webhook throughput and latency (request -> reply committed to the outbox -> HTTP 200), the
time from a person's message to the first reply reaching the provider, the server's resident memory,
and proves nothing was lost or sent twice. Not a test: run it by hand, e.g.

    .venv/bin/python scripts/bench_channels.py --people 50 --messages 6 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.channels.standins import Server, StandIn  # noqa: E402

PUBLIC = "https://bench.example.org"
SID, TOKEN = "AC" + "b" * 32, "bench-auth-token"
TG_TOKEN, TG_SECRET = "999:BENCH", "bench-secret"
# `dhrbot serve` with the keyword NLU instead of the trained classifier, to see the channel layer's own cost.
SERVE_WITH_KEYWORD_NLU = """
import sys, uvicorn
from bot.settings import get_settings
from bot.service import build_service
from bot.nlu.keyword import KeywordNLU
from bot.web.app import create_app
from bot.channels.worker import start_dispatcher_thread
service = build_service(get_settings(), nlu=KeywordNLU())
start_dispatcher_thread(service)
uvicorn.run(create_app(service), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
SCRIPT = ["hello", "1", "what is a review?", "2", "help", "menu", "1", "thank you"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fresh_database(url: str) -> tuple[str, object]:
    """A new database (PostgreSQL) or file (SQLite) for this run, and how to drop it."""
    if url.startswith("sqlite") or not url:
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: None
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"dhrbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url.rsplit("/", 1)[0] + "/" + name, drop


async def person(
    n: int, args: argparse.Namespace, client: httpx.AsyncClient, standin: StandIn, out: dict[str, list[float]]
) -> None:
    """One simulated person: writes, waits for the first reply at the provider, writes again."""
    telegram = n % 2 == 1 and not args.sms_only
    number = f"+4477{n:08d}"
    chat_id = 5_000_000 + n
    validator = RequestValidator(TOKEN)
    for k in range(args.messages):
        body = SCRIPT[k % len(SCRIPT)]
        t0 = time.monotonic()
        if telegram:
            update = {
                "update_id": n * 1000 + k + 1,
                "message": {
                    "message_id": k + 1, "date": int(time.time()), "text": body,
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": chat_id, "is_bot": False, "first_name": "P", "language_code": "en"},
                },
            }  # fmt: skip
            headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
            response = await client.post("/webhooks/telegram", content=json.dumps(update), headers=headers)
        else:
            form = {
                "MessageSid": f"SM{n:016d}{k:016d}",
                "AccountSid": SID,
                "From": number,
                "To": "+447700900000",
                "Body": body,
                "NumMedia": "0",
            }
            headers = {
                "X-Twilio-Signature": validator.compute_signature(PUBLIC + "/webhooks/twilio", form),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            response = await client.post("/webhooks/twilio", content=urlencode(form), headers=headers)
        t1 = time.monotonic()
        if response.status_code != 200:
            out["errors"].append(float(response.status_code))
            continue
        out["webhook"].append(t1 - t0)
        # Wait for the first reply to this message to reach the provider.
        deadline = t0 + args.reply_timeout
        while time.monotonic() < deadline:
            arrived = standin.first_arrival(chat_id if telegram else number, t0)
            if arrived is not None:
                out["to_provider"].append(arrived - t0)
                break
            await asyncio.sleep(0.005)
        else:
            out["reply_timeouts"].append(1.0)


async def burst(args: argparse.Namespace, client: httpx.AsyncClient, total: int) -> tuple[float, list[float]]:
    """Webhooks as fast as the server takes them (no waiting for replies): sustained messages/s."""
    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            form = {
                "MessageSid": f"SMB{i:031d}",
                "AccountSid": SID,
                "From": f"+4478{i % 500:08d}",
                "Body": SCRIPT[i % len(SCRIPT)],
                "NumMedia": "0",
            }
            headers = {
                "X-Twilio-Signature": validator.compute_signature(PUBLIC + "/webhooks/twilio", form),
                "Content-Type": "application/x-www-form-urlencoded",
            }
            t0 = time.monotonic()
            r = await client.post("/webhooks/twilio", content=urlencode(form), headers=headers)
            if r.status_code == 200:
                latencies.append(time.monotonic() - t0)

    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(args.people)))
    return time.monotonic() - start, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=50, help="concurrent simulated people")
    parser.add_argument("--messages", type=int, default=6, help="messages each person sends")
    parser.add_argument("--burst", type=int, default=2000, help="webhooks in the sustained-throughput burst (0: skip)")
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--provider-delay", type=float, default=0.0, help="seconds the stand-in takes per send")
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    parser.add_argument("--sms-only", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--nlu", choices=["configured", "keyword"], default="configured")
    parser.add_argument("--write", type=Path, default=None, help="append a Markdown summary to this file")
    args = parser.parse_args()

    standin = StandIn(twilio_auth=(SID, TOKEN))
    standin.delay = args.provider_delay
    db_url, drop = fresh_database(args.database_url)
    with Server(standin.app()) as stand_server, tempfile.TemporaryDirectory() as var:
        standin.url = stand_server.url
        env = dict(
            os.environ,
            DATABASE_URL=db_url, PUBLIC_BASE_URL=PUBLIC, DATA_KEY=Fernet.generate_key().decode(),
            SECRET_KEY=uuid.uuid4().hex, ENVIRONMENT="production", VAR_DIR=var,
            TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET, TELEGRAM_API_BASE_URL=standin.url,
            TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_SMS_FROM="+447700900000",
            TWILIO_WHATSAPP_FROM="whatsapp:+447700900001", TWILIO_API_BASE_URL=standin.url,
        )  # fmt: skip
        # The trained NLU model is cached under var/nlu: reuse the project's cache if there is one.
        if (ROOT / "var" / "nlu").exists():
            Path(var, "nlu").symlink_to(ROOT / "var" / "nlu")
        log_path = Path(var) / "serve.log"
        log_file = log_path.open("w")
        command = [str(ROOT / ".venv" / "bin" / "dhrbot"), "serve", "--port", str(args.port)]
        if args.nlu == "keyword":
            command = [str(ROOT / ".venv" / "bin" / "python"), "-c", SERVE_WITH_KEYWORD_NLU, str(args.port)]
        server = subprocess.Popen(
            command,
            env=env, stdout=log_file, stderr=log_file, cwd=var,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{args.port}"
            for _ in range(600):
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None:
                    raise SystemExit("dhrbot serve exited: " + log_path.read_text()[-3000:])
                time.sleep(0.2)
            rss_idle = rss_mb(server.pid)
            out: dict[str, list[float]] = {"webhook": [], "to_provider": [], "errors": [], "reply_timeouts": []}

            async def run() -> tuple[float, float, list[float]]:
                limits = httpx.Limits(max_connections=args.people + 10)
                async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                    start = time.monotonic()
                    await asyncio.gather(*(person(n, args, client, standin, out) for n in range(args.people)))
                    conversation = time.monotonic() - start
                    burst_time, burst_lat = await burst(args, client, args.burst) if args.burst else (0.0, [])
                    return conversation, burst_time, burst_lat

            conversation_s, burst_s, burst_lat = asyncio.run(run())
            # Let the dispatcher drain, then count: every outbound row sent once, nothing twice.
            engine = create_engine(db_url)
            drained_at = time.monotonic()
            while time.monotonic() - drained_at < 120:
                with engine.connect() as c:
                    pending = c.execute(
                        text("SELECT count(*) FROM messages WHERE direction='out' AND status IN ('queued','sending')")
                    ).scalar_one()
                if not pending:
                    break
                time.sleep(0.2)
            drain_s = time.monotonic() - drained_at
            rss_end = rss_mb(server.pid)
            with engine.connect() as c:
                inbound = c.execute(text("SELECT count(*) FROM messages WHERE direction='in'")).scalar_one()
                outbound = c.execute(text("SELECT count(*) FROM messages WHERE direction='out'")).scalar_one()
                statuses: dict[str, int] = dict(
                    c.execute(text("SELECT status, count(*) FROM messages WHERE direction='out' GROUP BY status")).all()
                )
                distinct_ids = c.execute(
                    text("SELECT count(DISTINCT provider_id) FROM messages WHERE direction='out'")
                ).scalar_one()
            engine.dispose()
        finally:
            server.terminate()
            server.wait(timeout=30)
            errors = [line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
            if errors:
                print("server errors:", *errors[:20], sep="\n  ", file=sys.stderr)
            log_file.close()
    drop()  # type: ignore[operator]

    provider_sends = len([c for c in standin.calls if c.method in ("sendMessage", "Messages")])
    sent_webhooks = args.people * args.messages + len(burst_lat)
    report = {
        "database": db_url.split("://")[0],
        "nlu": args.nlu,
        "people": args.people,
        "messages_per_person": args.messages,
        "conversation_webhooks_per_s": round(len(out["webhook"]) / conversation_s, 1),
        "webhook_ms_p50": round(pct(out["webhook"], 50) * 1000, 1),
        "webhook_ms_p95": round(pct(out["webhook"], 95) * 1000, 1),
        "webhook_ms_p99": round(pct(out["webhook"], 99) * 1000, 1),
        "to_provider_ms_p50": round(pct(out["to_provider"], 50) * 1000, 1),
        "to_provider_ms_p95": round(pct(out["to_provider"], 95) * 1000, 1),
        "to_provider_ms_p99": round(pct(out["to_provider"], 99) * 1000, 1),
        "burst_webhooks": len(burst_lat),
        "burst_per_s": round(len(burst_lat) / burst_s, 1) if burst_s else None,
        "burst_ms_p50": round(pct(burst_lat, 50) * 1000, 1) if burst_lat else None,
        "burst_ms_p95": round(pct(burst_lat, 95) * 1000, 1) if burst_lat else None,
        "burst_ms_p99": round(pct(burst_lat, 99) * 1000, 1) if burst_lat else None,
        "outbox_drain_s": round(drain_s, 1),
        "rss_mb_idle": round(rss_idle, 1),
        "rss_mb_end": round(rss_end, 1),
        "webhook_errors": len(out["errors"]),
        "reply_timeouts": len(out["reply_timeouts"]),
        "inbound_stored": inbound,
        "webhooks_accepted": sent_webhooks,
        "outbound_rows": outbound,
        "outbound_statuses": statuses,
        "provider_sends": provider_sends,
        "distinct_provider_ids": distinct_ids,
        "lost_or_duplicated": (outbound - provider_sends) if statuses.get("sent") == outbound else "see statuses",
        "mean_webhook_ms": round(statistics.mean(out["webhook"]) * 1000, 1) if out["webhook"] else None,
    }
    print(json.dumps(report, indent=2))
    if args.write:
        with args.write.open("a") as f:
            f.write("\n```json\n" + json.dumps(report, indent=2) + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
