"""Benchmark the messaging channels: signed webhooks against `dhrbot serve` on PostgreSQL.

Measures how many inbound webhooks per second the service answers, with the time from request to the
message and its replies committed to the outbox (p50/p95/p99), both at a fixed offered rate (open
loop) and flat out (closed loop); the same for a bare FastAPI app that only checks the Twilio
signature (scripts/bare_twilio_app.py), served the same way in the same run, and the service's
figures as ratios of the bare app's (absolute figures do not carry between machines, ratios do); the
time from a person's message to the first reply reaching the provider; the memory of the service's
processes (proportional set size, so that pages they share are counted once); and proves that
nothing was lost or sent twice. Not a test: run it by hand (`make bench-channels`), results go to
docs/benchmarks-channels.md.

    .venv/bin/python scripts/bench_channels.py --workers 2 --rate-fraction 0.025 --seconds 20 \\
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
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from loadgen import Result, Signing, conversation_messages  # noqa: E402
from loadgen import run as run_load  # noqa: E402

from bot.nlu.data import TEST_DIR, load_examples  # noqa: E402
from tests.channels.standins import Server, StandIn  # noqa: E402

PUBLIC = "https://bench.example.org"
SID, TOKEN = "AC" + "b" * 32, "bench-auth-token"
TG_TOKEN, TG_SECRET = "999:BENCH", "bench-secret"
SIGNING = Signing(PUBLIC, TOKEN, SID, TG_SECRET)
SCRIPT = ["hello", "1", "what is a review?", "2", "help", "menu", "1", "thank you"]
# What people tap or type at a menu or a yes/no question.
TAPS = ["1", "2", "3", "4", "yes", "no", "ok", "menu", "hello", "thank you", "back", "skip"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (the web processes, the outbox process)."""
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += process_tree(int(child))
    except OSError:
        pass
    return pids


def memory(pid: int) -> dict[str, object]:
    """Memory of a server and its children, in MB: proportional set size (Pss) summed, and per process.

    Pss divides each shared page among the processes that map it, so pages the web processes share
    with the parent they were forked from are counted once; resident size (RSS) would count them in
    every process, and is given for comparison only.
    """
    total_pss = total_rss = 0.0
    processes: list[dict[str, object]] = []
    for p in process_tree(pid):
        try:
            fields = {}
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines()[1:]:
                key, value = line.split(":", 1)
                fields[key] = int(value.split()[0]) / 1024
            name = Path(f"/proc/{p}/comm").read_text().strip()
        except OSError:
            continue  # ended meanwhile
        total_pss += fields["Pss"]
        total_rss += fields["Rss"]
        processes.append({"process": name, "pss_mb": round(fields["Pss"], 1), "rss_mb": round(fields["Rss"], 1)})
    return {"pss_mb": round(total_pss, 1), "rss_mb": round(total_rss, 1), "processes": processes}


def nlu_in_use(log_text: str) -> str:
    """What understood the messages, as the server's log says (the encoder logs when it loads)."""
    backend = os.environ.get("NLU_BACKEND", "embedded")
    encoder = [line.split(": ", 1)[-1] for line in log_text.splitlines() if "sentence encoder" in line]
    return backend + (f" ({encoder[0]})" if encoder else " (TF-IDF n-grams, no sentence encoder)")


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


def load(kind: str, port: int, requests: list[bytes], rate: float, connections: int) -> Result:
    """Run a load from a process of its own, so that it does not share a GIL with the stand-ins."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_load, kind, "127.0.0.1", port, requests, rate, connections).result()


def answered(result: Result) -> list[float]:
    """The latencies of the requests answered 200, in the order they were due."""
    return [lat for lat, status in zip(result.latencies, result.statuses) if status == 200]


def summary(result: Result) -> dict[str, Any]:
    """Rate and latency of one load, as reported."""
    ok = answered(result)
    return {
        "webhooks": len(result.statuses),
        "answered_200": len(ok),
        "errors": len(result.statuses) - len(ok),
        "per_s": round(len(ok) / result.elapsed, 1),
        "ms_p50": round(pct(ok, 50) * 1000, 1),
        "ms_p95": round(pct(ok, 95) * 1000, 1),
        "ms_p99": round(pct(ok, 99) * 1000, 1),
        "ms_max": round(max(ok, default=float("nan")) * 1000, 1),
        "ms_p95_by_fifth": [round(pct(part, 95) * 1000, 1) for part in fifths(ok)],
    }


def fifths(ok: list[float]) -> list[list[float]]:
    """Latencies in five consecutive parts of the load, to show any drift."""
    size = max(1, len(ok) // 5)
    return [ok[i : i + size] for i in range(0, size * 5, size)]


def wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    for _ in range(900):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit("dhrbot serve exited: " + log_path.read_text()[-3000:])
        time.sleep(0.2)
    raise SystemExit("dhrbot serve did not become ready")


def ratio(ours: float, bare: float) -> float | None:
    return round(ours / bare, 3) if bare and bare == bare and ours == ours else None


def start_server(command: list[str], env: dict[str, str], log_file: IO[str], cwd: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log_file, stderr=log_file, cwd=cwd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--workers", type=int, default=2, help="`dhrbot serve --workers` (and the bare app's)")
    parser.add_argument(
        "--dispatch",
        choices=["after", "during", "inline"],
        default="after",
        help="who sends the outbox while the loads run: nobody, the webhooks alone are measured and a "
        "`dhrbot worker` drains it afterwards (after); a low-priority `dhrbot worker` (during); or "
        "`dhrbot serve` itself (inline)",
    )
    parser.add_argument(
        "--rate-fraction",
        type=float,
        default=0.025,
        help="offered webhooks per second (open loop), as a fraction of the bare app's flat-out rate in this run",
    )
    parser.add_argument("--rate", type=float, default=None, help="a fixed offered rate instead (webhooks/s)")
    parser.add_argument("--seconds", type=float, default=20, help="how long the open-loop load lasts")
    parser.add_argument("--warmup", type=float, default=10, help="seconds of first contact from the crowd before it")
    parser.add_argument("--closed", type=int, default=4000, help="webhooks sent flat out (closed loop; 0: skip)")
    parser.add_argument("--bare-closed", type=int, default=12000, help="webhooks sent flat out to the bare app")
    parser.add_argument("--connections", type=int, default=32, help="connections the load generator keeps open")
    parser.add_argument("--people", type=int, default=10, help="people in the conversation phase")
    parser.add_argument("--messages", type=int, default=4, help="messages each of them sends")
    parser.add_argument("--crowd", type=int, default=1000, help="distinct people writing during the loads")
    parser.add_argument("--provider-delay", type=float, default=0.0, help="seconds the stand-in takes per send")
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    parser.add_argument("--sms-only", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--bare-port", type=int, default=8766)
    parser.add_argument("--write", type=Path, default=None, help="append the JSON report to this file")
    args = parser.parse_args()

    texts = [e.text for e in load_examples(TEST_DIR)]
    standin = StandIn(twilio_auth=(SID, TOKEN))
    standin.delay = args.provider_delay
    db_url, drop = fresh_database(args.database_url)
    with Server(standin.app()) as stand_server, tempfile.TemporaryDirectory() as var:
        standin.url = stand_server.url
        # The stand-ins play the providers, which are not on this machine in real use: they get
        # what CPU the service leaves.
        if stand_server.thread.native_id is not None:
            os.setpriority(os.PRIO_PROCESS, stand_server.thread.native_id, 19)
        env = dict(
            os.environ,
            DATABASE_URL=db_url, PUBLIC_BASE_URL=PUBLIC, DATA_KEY=Fernet.generate_key().decode(),
            SECRET_KEY=uuid.uuid4().hex, ENVIRONMENT="production", VAR_DIR=var,
            TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET, TELEGRAM_API_BASE_URL=standin.url,
            TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_SMS_FROM="+447700900000",
            TWILIO_WHATSAPP_FROM="whatsapp:+447700900001", TWILIO_API_BASE_URL=standin.url,
            WEB_WORKERS=str(args.workers), SERVE_DISPATCHERS="4" if args.dispatch == "inline" else "0",
        )  # fmt: skip
        # The trained NLU model is cached under var/nlu: reuse the project's cache if there is one.
        if (ROOT / "var" / "nlu").exists():
            Path(var, "nlu").symlink_to(ROOT / "var" / "nlu")
        log_path = Path(var) / "serve.log"
        log_file = log_path.open("w")
        bare_log_path = Path(var) / "bare.log"
        bare_log_file = bare_log_path.open("w")
        dhrbot = str(ROOT / ".venv" / "bin" / "dhrbot")
        python = str(ROOT / ".venv" / "bin" / "python")
        server = start_server([dhrbot, "serve", "--port", str(args.port)], env, log_file, var)
        bare_command = [python, str(ROOT / "scripts" / "bare_twilio_app.py"), "--port", str(args.bare_port)]
        bare = start_server([*bare_command, "--workers", str(args.workers)], env, bare_log_file, var)
        worker = None
        try:
            base = f"http://127.0.0.1:{args.port}"
            wait_ready(base, server, log_path)
            wait_ready(f"http://127.0.0.1:{args.bare_port}", bare, bare_log_path)

            def start_worker() -> subprocess.Popen[bytes]:
                # Sending is network-bound in production, and the providers are elsewhere; here it
                # would compete with the webhooks for the same two cores, so it runs at low priority.
                command = ["nice", "-n", "19", dhrbot, "worker"]
                return subprocess.Popen(command, env=env, stdout=log_file, stderr=log_file, cwd=var)

            if args.dispatch != "inline":
                worker = start_worker()
            time.sleep(2.0)
            memory_at_rest = memory(server.pid)
            bare_memory = memory(bare.pid)
            out: dict[str, list[float]] = {"webhook": [], "to_provider": [], "errors": [], "reply_timeouts": []}

            async def conversations() -> float:
                limits = httpx.Limits(max_connections=args.people + 10)
                async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
                    start = time.monotonic()
                    await asyncio.gather(*(person(n, args, client, standin, out) for n in range(args.people)))
                    return time.monotonic() - start

            conversation_s = asyncio.run(conversations())
            if worker is not None and args.dispatch == "after":
                worker.terminate()  # finishes the messages in hand; the rest wait in the outbox
                worker.wait(timeout=60)
                worker = None

            def messages(count: int, tag: str, seed: int, telegram: bool = not args.sms_only) -> list[bytes]:
                return conversation_messages(
                    SIGNING, count, people=args.crowd, texts=texts, replies=TAPS, tag=tag, seed=seed, telegram=telegram
                )

            # The bare app flat out first: the offered rate of the open loops is a share of it, so that
            # it means the same on a faster or slower machine. Its requests are all Twilio posts (it
            # knows nothing else), with the same bodies and senders as the service gets.
            bare_closed = load("closed", args.bare_port, messages(args.bare_closed, "B", 3, False), 0, args.connections)
            bare_flat_out = len(answered(bare_closed)) / bare_closed.elapsed
            rate = args.rate or max(10.0, round(args.rate_fraction * bare_flat_out / 10) * 10)
            # First contact of the whole crowd: everyone is new, which costs more per message (a new
            # person's record, the safety and language messages). Reported, but kept apart from the
            # steady state that follows, when the same people carry on.
            warmup = messages(int(rate * args.warmup), "W", 0)
            warmup_result = load("open", args.port, warmup, rate, args.connections) if warmup else None
            bare_open = load("open", args.bare_port, messages(int(rate * args.seconds), "P", 1, False), rate, 32)
            open_result = load("open", args.port, messages(int(rate * args.seconds), "O", 1), rate, args.connections)
            memory_after_open = memory(server.pid)
            flat_out = messages(args.closed, "C", 2)
            closed_result = load("closed", args.port, flat_out, 0, args.connections) if args.closed else None
            memory_after_closed = memory(server.pid)
            # Let the dispatcher drain, then count: every outbound row sent once, nothing twice.
            drained_at = time.monotonic()
            if worker is None and args.dispatch == "after":
                worker = start_worker()
            engine = create_engine(db_url)
            while time.monotonic() - drained_at < 600:
                with engine.connect() as c:
                    pending = c.execute(
                        text("SELECT count(*) FROM messages WHERE direction='out' AND status IN ('queued','sending')")
                    ).scalar_one()
                if not pending:
                    break
                time.sleep(0.5)
            drain_s = time.monotonic() - drained_at
            memory_end = memory(server.pid)
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
            for process in (worker, server, bare):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
            log_text = log_path.read_text()
            errors = [
                line for line in log_text.splitlines() if "ERROR" in line or "Traceback" in line or "Error" in line
            ]
            if errors:
                print("server errors:", *errors[:20], sep="\n  ", file=sys.stderr)
            log_file.close()
            bare_log_file.close()
    drop()  # type: ignore[operator]

    provider_sends = len([c for c in standin.calls if c.method in ("sendMessage", "Messages")])
    loads = (warmup_result, open_result, closed_result)
    answered_200 = len(out["webhook"]) + sum(1 for r in loads if r for s in r.statuses if s == 200)
    ours_open, ours_closed = summary(open_result), summary(closed_result) if closed_result else None
    bare_open_summary, bare_closed_summary = summary(bare_open), summary(bare_closed)
    report = {
        "database": db_url.split("://")[0],
        "web_workers": args.workers,
        "nlu": nlu_in_use(log_text),
        "dispatch": args.dispatch,
        "ratios_to_bare_app": {
            "flat_out_throughput": ratio(float(ours_closed["per_s"]), float(bare_closed_summary["per_s"]))
            if ours_closed
            else None,
            "open_loop_p95": ratio(float(ours_open["ms_p95"]), float(bare_open_summary["ms_p95"])),
            "open_loop_p50": ratio(float(ours_open["ms_p50"]), float(bare_open_summary["ms_p50"])),
        },
        "open_loop_offered_per_s": rate,
        "open_loop_offered_share_of_bare_flat_out": round(rate / bare_flat_out, 3),
        "bare_app": {"closed_loop": bare_closed_summary, "open_loop": bare_open_summary, "memory_at_rest": bare_memory},
        "conversation_people": args.people,
        "conversation_webhook_ms_p50": round(pct(out["webhook"], 50) * 1000, 1),
        "conversation_webhook_ms_p95": round(pct(out["webhook"], 95) * 1000, 1),
        "to_provider_ms_p50": round(pct(out["to_provider"], 50) * 1000, 1),
        "to_provider_ms_p95": round(pct(out["to_provider"], 95) * 1000, 1),
        "conversation_s": round(conversation_s, 1),
        "first_contact_warmup": summary(warmup_result) if warmup_result else None,
        "open_loop": ours_open,
        "closed_loop_connections": args.connections,
        "closed_loop": ours_closed,
        "outbox_drain_s": round(drain_s, 1),
        "memory_at_rest": memory_at_rest,
        "memory_after_open_loop": memory_after_open,
        "memory_after_closed_loop": memory_after_closed,
        "memory_end": memory_end,
        "reply_timeouts": len(out["reply_timeouts"]),
        "inbound_stored": inbound,
        "webhooks_answered_200": answered_200,
        "outbound_rows": outbound,
        "outbound_statuses": statuses,
        "provider_sends": provider_sends,
        "distinct_provider_ids": distinct_ids,
        "lost_or_duplicated": (outbound - provider_sends) if statuses.get("sent") == outbound else "see statuses",
        "mean_conversation_webhook_ms": round(statistics.mean(out["webhook"]) * 1000, 1) if out["webhook"] else None,
    }
    print(json.dumps(report, indent=2))
    if args.write:
        with args.write.open("a") as f:
            f.write("\n```json\n" + json.dumps(report, indent=2) + "\n```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
