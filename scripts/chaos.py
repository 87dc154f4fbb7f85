"""The fault suite (`make chaos`): the outbox under provider faults, kills and database drops.

Runs the real server (`dhrbot serve --workers 2`, webhooks only) and two `dhrbot worker` processes
(the dispatchers) on a fresh PostgreSQL database, against the local provider stand-ins
(tests/channels/standins.py), which fail, stall or answer late on demand. Each fault is a short burst
of new people writing in; for each it counts the messages in, the outbound messages, the sends the
provider accepted, and how many messages were lost or duplicated. A duplicate is explained when the
dispatcher had logged that an earlier attempt of that message may have reached the provider (a kill
mid-send, or no answer in time) and the provider offers no way to check (Telegram).

Not a test (it takes a few minutes): `make chaos` writes the table into docs/reliability.md.

    .venv/bin/python scripts/chaos.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_channels import fresh_database, wait_ready  # noqa: E402

from bot.channels.base import reply_from_row, split_text  # noqa: E402
from bot.channels.telegram import MAX_TEXT  # noqa: E402
from bot.channels.twilio_channel import MAX_BODY  # noqa: E402
from bot.storage.crypto import configure_cipher  # noqa: E402
from tests.channels.standins import Server, StandIn  # noqa: E402

PUBLIC = "https://chaos.example.org"
SID, TOKEN = "AC" + "c" * 32, "chaos-auth-token"
TG_TOKEN, TG_SECRET = "777:CHAOS", "chaos-secret"
SMS_FROM = "+447700900000"
UNSURE = re.compile(r"message (\d+): an earlier attempt may have reached the provider")
MARK_BEGIN, MARK_END = "<!-- chaos:begin -->", "<!-- chaos:end -->"


@dataclass
class Person:
    """Someone writing in during one fault: by SMS (a number) or Telegram (a chat id)."""

    channel: str
    address: str


@dataclass
class Webhook:
    """One provider request to our server, built and signed as the provider would."""

    key: str  # the provider's id for the message: a re-post of the same key is a duplicate delivery
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Outcome:
    """What one fault did to the messages."""

    fault: str
    webhooks: int = 0  # requests posted, duplicates included
    unique_in: int = 0  # distinct messages the people sent
    refused: int = 0  # never answered 200, even after the provider's retries
    reposted: int = 0  # posts that failed (an error, or no answer) and were made again
    stored_in: int = 0
    outbound: int = 0
    provider_sends: int = 0
    lost: int = 0
    duplicated: int = 0
    explained: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def twilio_webhook(person: Person, sid: str, body: str) -> Webhook:
    form = {
        "MessageSid": sid,
        "AccountSid": SID,
        "From": person.address,
        "To": SMS_FROM,
        "Body": body,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/webhooks/twilio", form)
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return Webhook(sid, "/webhooks/twilio", urlencode(form).encode(), headers)


def telegram_webhook(person: Person, update_id: int, body: str) -> Webhook:
    chat = int(person.address)
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "text": body,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "P", "language_code": "en"},
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
    return Webhook(f"tg{update_id}", "/webhooks/telegram", json.dumps(update).encode(), headers)


class Chaos:
    """The service's processes, the stand-ins, and the counting."""

    def __init__(self, args: argparse.Namespace, standin: StandIn, db_url: str, var: Path) -> None:
        self.args = args
        self.standin = standin
        self.db_url = db_url
        self.var = var
        self.data_key = Fernet.generate_key().decode()
        self.engine = create_engine(db_url, pool_pre_ping=True)  # its connections are dropped too
        self.base = f"http://127.0.0.1:{args.port}"
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.phase = 0
        self.reposted = 0
        self.post_failures: Counter[str] = Counter()
        configure_cipher([self.data_key])  # to read the outbox back (bodies are encrypted)
        self.env = dict(
            os.environ,
            DATABASE_URL=db_url, PUBLIC_BASE_URL=PUBLIC, DATA_KEY=self.data_key,
            SECRET_KEY=uuid.uuid4().hex, ENVIRONMENT="production", VAR_DIR=str(var),
            TELEGRAM_BOT_TOKEN=TG_TOKEN, TELEGRAM_WEBHOOK_SECRET=TG_SECRET, TELEGRAM_API_BASE_URL=standin.url,
            TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, TWILIO_SMS_FROM=SMS_FROM,
            TWILIO_WHATSAPP_FROM="whatsapp:+447700900001", TWILIO_API_BASE_URL=standin.url,
            WEB_WORKERS="2", SERVE_DISPATCHERS="0",
        )  # fmt: skip

    # ------------------------------------------------------------------ processes
    def _spawn(self, *command: str) -> subprocess.Popen[bytes]:
        log_path = self.var / f"{command[0]}-{len(self.logs)}.log"
        self.logs.append(log_path)
        out = log_path.open("w")
        dhrbot = str(ROOT / ".venv" / "bin" / "dhrbot")
        return subprocess.Popen([dhrbot, *command], env=self.env, stdout=out, stderr=out, cwd=self.var)

    def start(self) -> None:
        self.server = self._spawn("serve", "--port", str(self.args.port))
        wait_ready(self.base, self.server, self.logs[-1])
        self.workers = [self._spawn("worker"), self._spawn("worker")]
        time.sleep(3.0)  # the workers connect and start listening

    def stop(self) -> None:
        for process in [*self.workers, self.server]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, self.server]:
            if process is not None:
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.engine.dispose()

    def web_processes(self) -> list[int]:
        """The pids of the web processes `dhrbot serve --workers 2` runs (its children)."""
        assert self.server is not None
        children: list[int] = []
        for task in Path(f"/proc/{self.server.pid}/task").iterdir():
            children += [int(pid) for pid in (task / "children").read_text().split()]
        return [pid for pid in children if "spawn_main" in _cmdline(pid)]  # not multiprocessing's resource tracker

    def wait_web_processes(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if (
                    len(self.web_processes()) >= count
                    and httpx.get(self.base + "/readyz", timeout=2).status_code == 200
                ):
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.5)

    # ------------------------------------------------------------------ load
    def pause_workers(self) -> Callable[[], None]:
        """Stop the dispatchers (SIGSTOP) until the returned function is called."""
        paused = list(self.workers)
        for worker in paused:
            worker.send_signal(signal.SIGSTOP)

        def resume() -> None:
            for worker in paused:
                worker.send_signal(signal.SIGCONT)

        return resume

    def people(self, sms: int, telegram: int) -> list[Person]:
        """New people for this fault: nobody writes in two faults, so each is counted apart."""
        self.phase += 1
        phase = self.phase
        return [Person("sms", f"+4477{phase:02d}{n:06d}") for n in range(sms)] + [
            Person("telegram", str(10_000_000 * phase + n)) for n in range(telegram)
        ]

    def webhooks(self, people: list[Person], body: str, round_: int = 0) -> list[Webhook]:
        made = []
        for n, person in enumerate(people):
            if person.channel == "sms":
                made.append(twilio_webhook(person, f"SM{self.phase:04d}{round_:04d}{n:024d}", body))
            else:
                made.append(telegram_webhook(person, self.phase * 10_000_000 + round_ * 100_000 + n, body))
        return made

    def post(self, hooks: list[Webhook], during: Callable[[], None] | None = None) -> tuple[int, set[str]]:
        """Post the webhooks, 16 at a time, retrying each as the providers do until it is answered 200.

        `during` runs in a thread alongside (the fault). Returns the refused count and the keys answered 200."""
        answered: set[str] = set()
        refused = 0
        self.reposted = 0
        self.post_failures = Counter()

        async def one(client: httpx.AsyncClient, gate: asyncio.Semaphore, hook: Webhook) -> None:
            nonlocal refused
            for attempt in range(20):
                async with gate:
                    try:
                        response = await client.post(hook.path, content=hook.body, headers=hook.headers)
                        if response.status_code == 200:
                            answered.add(hook.key)
                            return
                        self.post_failures[f"HTTP {response.status_code}"] += 1
                    except httpx.HTTPError as exc:
                        self.post_failures[type(exc).__name__] += 1
                self.reposted += 1
                await asyncio.sleep(min(0.25 * 2**attempt, 3.0))  # the provider tries again later
            refused += 1

        async def all_of_them() -> None:
            gate = asyncio.Semaphore(16)
            async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
                fault = asyncio.create_task(asyncio.to_thread(during)) if during else None
                await asyncio.gather(*(one(client, gate, h) for h in hooks))
                if fault is not None:
                    await fault

        asyncio.run(all_of_them())
        return refused, answered

    def last_contact(self) -> int:
        with self.engine.connect() as c:
            return int(c.execute(text("SELECT coalesce(max(id), 0) FROM contacts")).scalar_one())

    def drain(self, after: int, timeout: float, exclude: int = 0) -> None:
        """Wait until no message of these people is waiting to be sent, and the provider has gone quiet."""
        deadline = time.monotonic() + timeout
        quiet_since, seen = time.monotonic(), len(self.standin.accepted)
        while time.monotonic() < deadline:
            with self.engine.connect() as c:
                pending = c.execute(
                    text(
                        "SELECT count(*) FROM messages WHERE direction = 'out' AND contact_id > :after"
                        " AND status IN ('queued', 'sending') AND id <> :exclude"
                    ),
                    {"after": after, "exclude": exclude},
                ).scalar_one()
            if len(self.standin.accepted) != seen:
                quiet_since, seen = time.monotonic(), len(self.standin.accepted)
            if not pending and time.monotonic() - quiet_since > 2.0:
                return
            time.sleep(0.5)

    # ------------------------------------------------------------------ counting
    def unsure_messages(self) -> set[int]:
        """Messages a dispatcher sent again after an attempt whose outcome it could not know."""
        found: set[int] = set()
        for log_path in self.logs:
            found |= {int(m) for m in UNSURE.findall(log_path.read_text(errors="replace"))}
        return found

    def count(
        self,
        outcome: Outcome,
        people: list[Person],
        after: int,
        answered: set[str],
        poison: frozenset[int] = frozenset(),
    ) -> Outcome:
        """Compare what should have reached each person with what the provider accepted."""
        addresses = {p.address for p in people}
        with self.engine.connect() as c:
            rows = c.execute(
                text(
                    "SELECT m.id, m.direction, m.channel, m.body, m.choices, m.status, m.last_error, a.address"
                    " FROM messages m LEFT JOIN addresses a ON a.id = m.address_id WHERE m.contact_id > :after"
                ),
                {"after": after},
            ).all()
        from bot.storage.crypto import cipher

        expected: Counter[tuple[str, str]] = Counter()
        owners: dict[tuple[str, str], set[int]] = defaultdict(set)
        statuses: Counter[str] = Counter()
        for row in rows:
            if row.direction == "in":
                outcome.stored_in += 1
                continue
            outcome.outbound += 1
            statuses[row.status] += 1
            if row.id in poison:
                continue
            to = cipher().decrypt(row.address)
            body = cipher().decrypt(row.body)
            choices = json.loads(row.choices) if isinstance(row.choices, str) else row.choices
            reply = reply_from_row(body, choices)
            parts = (
                split_text(reply.as_plain_text(), MAX_BODY)
                if row.channel == "sms"
                else split_text(reply.text, MAX_TEXT)
            )
            for part in parts:
                expected[(to, part)] += 1
                owners[(to, part)].add(row.id)
        got: Counter[tuple[str, str]] = Counter(
            (a.to, a.text) for a in list(self.standin.accepted) if a.to in addresses
        )
        unsure = self.unsure_messages()
        outcome.provider_sends = sum(got.values())
        outcome.lost = sum(max(0, n - got[key]) for key, n in expected.items())
        channel_of = {row.id: row.channel for row in rows}
        duplicated_on: Counter[str] = Counter()
        for key, n in got.items():
            extra = n - expected[key]
            if extra > 0:
                outcome.duplicated += extra
                duplicated_on[", ".join(sorted({channel_of[i] for i in owners[key]}) or ["unknown"])] += extra
                if owners[key] & unsure:
                    outcome.explained += extra
        if duplicated_on:
            outcome.notes.append("duplicated: " + ", ".join(f"{n} {k}" for k, n in duplicated_on.items()))
        outcome.statuses = dict(statuses)
        retried = Counter(row.channel for row in rows if row.direction == "out" and row.id in unsure)
        if retried:
            outcome.notes.append(
                f"{sum(retried.values())} message(s) had an unsure attempt ({retried['sms']} SMS, checked with"
                f" Twilio first; {retried['telegram']} Telegram, sent once more)"
            )
        # Every message a person sent and the provider delivered to us (answered 200) is stored once.
        if outcome.stored_in != len(answered):
            outcome.notes.append(f"{len(answered)} webhooks answered 200 but {outcome.stored_in} messages stored")
            outcome.lost += max(0, len(answered) - outcome.stored_in)
        return outcome


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------- the faults
def burst(
    chaos: Chaos, fault: str, sms: int, telegram: int, *, drain: float = 120.0, during: Callable[[], None] | None = None
) -> Outcome:
    """New people write once each while a fault is on; the outbox drains; everything is counted."""
    started = time.monotonic()
    outcome = Outcome(fault)
    after = chaos.last_contact()
    people = chaos.people(sms, telegram)
    hooks = chaos.webhooks(people, "hello")
    outcome.webhooks = outcome.unique_in = len(hooks)
    outcome.refused, answered = chaos.post(hooks, during)
    outcome.reposted = chaos.reposted
    if chaos.post_failures:
        outcome.notes.append("posts that failed: " + ", ".join(f"{n} {k}" for k, n in chaos.post_failures.items()))
    chaos.drain(after, drain)
    chaos.count(outcome, people, after, answered)
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def provider_500(chaos: Chaos) -> Outcome:
    chaos.standin.fail_next("Messages", 500, {"code": 20500, "message": "Internal Server Error"}, times=15)
    chaos.standin.fail_next("sendMessage", 500, {"description": "Internal Server Error"}, times=15)
    outcome = burst(chaos, "provider answers 500 (the next 15 sends on each API)", 8, 8)
    outcome.notes.append("retried after the back-off (30 s)")
    return outcome


def provider_429(chaos: Chaos) -> Outcome:
    chaos.standin.fail_next("Messages", 429, {"code": 20429, "message": "Too Many Requests"}, times=10)
    flood = {"description": "Too Many Requests: retry after 5", "parameters": {"retry_after": 5}}
    chaos.standin.fail_next("sendMessage", 429, flood, times=10)
    outcome = burst(chaos, "429 Too Many Requests (Telegram: retry after 5 s)", 8, 8)
    outcome.notes.append("Telegram's retry_after is obeyed; Twilio's 429 is retried with the back-off")
    return outcome


def latency(chaos: Chaos) -> Outcome:
    # The workers are paused while the people write, so that one claim takes all their replies: one
    # dispatcher then works a batch for a minute, twice its lease, while the others look for claims
    # that ran out.
    chaos.standin.delay = 5.0
    resume = chaos.pause_workers()

    def resume_soon() -> None:
        time.sleep(3.0)
        resume()

    try:
        outcome = burst(chaos, "provider takes 5 s a send (SMS)", 6, 0, during=resume_soon, drain=240)
    finally:
        chaos.standin.delay = 0.0
    outcome.notes.append(
        "the replies were claimed all at once (the workers paused while the people wrote): one dispatcher"
        " worked that batch for about 60 s, twice its lease, renewing it; nobody else took it over"
    )
    return outcome


def accepted_then_timeout(chaos: Chaos) -> Outcome:
    # Twilio's client gives up after 15 s, Telegram's after 5 s: the provider has the message already.
    chaos.standin.hang_next("Messages", 20.0, times=4)
    chaos.standin.hang_next("sendMessage", 8.0, times=4)
    outcome = burst(chaos, "accepted, answered after the client's timeout (4 SMS, 4 Telegram)", 4, 4, drain=180)
    outcome.notes.append("Twilio: found in the account's messages, not resent; Telegram: resent once (no such API)")
    return outcome


def kill_worker(chaos: Chaos) -> Outcome:
    chaos.standin.delay = 0.3  # sends in flight when the kill comes

    def kill() -> None:
        time.sleep(4.0)
        victim = chaos.workers.pop(0)
        victim.kill()  # SIGKILL: no chance to finish or release anything
        victim.wait()
        chaos.workers.append(chaos._spawn("worker"))

    try:
        outcome = burst(chaos, "kill -9 of a worker mid-burst", 20, 20, during=kill, drain=240)
    finally:
        chaos.standin.delay = 0.0
    outcome.notes.append("its claims came back after the 30 s lease")
    return outcome


def kill_web(chaos: Chaos) -> Outcome:
    killed: list[int] = []

    def kill() -> None:
        time.sleep(0.3)  # the burst takes a few seconds: requests are in flight
        pids = chaos.web_processes()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    outcome = burst(chaos, "kill -9 of a web process mid-burst", 100, 100, during=kill)
    outcome.notes.append(f"{len(killed)} web process killed; the server started another")
    chaos.wait_web_processes(2)
    outcome.notes.append("requests cut off were posted again, as the providers do; duplicates caught by their ids")
    return outcome


def database_drops(chaos: Chaos) -> Outcome:
    admin = create_engine(chaos.db_url, isolation_level="AUTOCOMMIT")
    name = chaos.db_url.rsplit("/", 1)[1]
    dropped = 0

    def drop() -> None:
        nonlocal dropped
        for _ in range(6):
            time.sleep(0.7)
            with admin.connect() as c:
                dropped += len(
                    c.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    ).all()
                )

    chaos.standin.delay = 0.1
    try:
        outcome = burst(chaos, "PostgreSQL connections dropped (pg_terminate_backend, 6 times)", 30, 30, during=drop)
    finally:
        chaos.standin.delay = 0.0
        admin.dispose()
    outcome.notes.append(f"{dropped} connections terminated")
    return outcome


def poison_row(chaos: Chaos) -> Outcome:
    """A message nobody can read, claimed in the same batch as everyone else's replies."""
    started = time.monotonic()
    outcome = Outcome("a poison row (a body no key can read) among 20 people's replies")
    after = chaos.last_contact()
    people = chaos.people(10, 10)
    first = chaos.webhooks(people, "hello")
    refused, answered = chaos.post(first)
    chaos.drain(after, 120)
    foreign = Fernet(Fernet.generate_key()).encrypt(b"written under a retired key").decode()
    resume = chaos.pause_workers()  # so that the poison and everyone's next replies are claimed together
    with chaos.engine.begin() as c:
        poison = c.execute(
            text(
                "INSERT INTO messages (contact_id, address_id, direction, channel, body, author, status, prompted,"
                " attempts, next_attempt_at, created_at, pick_several, parts_sent)"
                " SELECT contact_id, address_id, 'out', channel, :body, 'advocate', 'queued', true, 0, now(), now(),"
                " false, 0 FROM messages WHERE contact_id = :first AND direction = 'in' ORDER BY id LIMIT 1"
                " RETURNING id"
            ),
            {"body": foreign, "first": after + 1},
        ).scalar_one()
    second = chaos.webhooks(people, "menu", round_=1)  # everyone writes again: their replies meet the poison
    refused2, answered2 = chaos.post(second)
    resume()
    chaos.drain(after, 120, exclude=poison)
    outcome.webhooks = outcome.unique_in = len(first) + len(second)
    outcome.refused = refused + refused2
    chaos.count(outcome, people, after, answered | answered2, poison=frozenset({poison}))
    with chaos.engine.connect() as c:
        row = c.execute(text("SELECT status, attempts, last_error FROM messages WHERE id = :id"), {"id": poison}).one()
    outcome.notes.append(
        f"the poison row: {row.status} after {row.attempts} attempt(s) ({row.last_error}); it ends failed after 5,"
        " with back-off between them"
    )
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


def duplicates(chaos: Chaos) -> Outcome:
    started = time.monotonic()
    outcome = Outcome("200 inbound, 20% of them delivered twice")
    after = chaos.last_contact()
    people = chaos.people(80, 80)
    hooks = chaos.webhooks(people, "hello")
    mixed = list(hooks)
    shuffle = random.Random(13)
    for hook in hooks[::4]:  # 40 of the 160 delivered a second time, anywhere in the burst
        mixed.insert(shuffle.randrange(len(mixed) + 1), hook)
    outcome.webhooks, outcome.unique_in = len(mixed), len(hooks)
    outcome.refused, answered = chaos.post(mixed)
    outcome.reposted = chaos.reposted
    chaos.drain(after, 180)
    chaos.count(outcome, people, after, answered)
    outcome.seconds = round(time.monotonic() - started, 1)
    return outcome


FAULTS = {
    "500": provider_500,
    "429": provider_429,
    "latency": latency,
    "timeout": accepted_then_timeout,
    "kill-worker": kill_worker,
    "kill-web": kill_web,
    "pg-drop": database_drops,
    "poison": poison_row,
    "duplicates": duplicates,
}


def table(outcomes: list[Outcome]) -> str:
    lines = [
        "| fault | messages in (posted) | outbound | provider sends | lost | duplicated (explained) | s |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        posted = f"{o.unique_in} ({o.webhooks}" + (f", {o.reposted} re-posted" if o.reposted else "") + ")"
        posted += f", {o.refused} refused" if o.refused else ""
        lines.append(
            f"| {o.fault} | {posted} | {o.outbound} | {o.provider_sends} | **{o.lost}** |"
            f" {o.duplicated} ({o.explained}) | {o.seconds} |"
        )
    lines.append("")
    for o in outcomes:
        status = ", ".join(f"{k} {v}" for k, v in sorted(o.statuses.items()))
        lines.append(f"- **{o.fault}**: outbound {status}. " + " ".join(f"{n[0].upper()}{n[1:]}." for n in o.notes))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL", ""))
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: a free one)")
    parser.add_argument("--only", nargs="*", choices=sorted(FAULTS), help="run only these faults")
    parser.add_argument("--write", type=Path, default=None, help="put the table into this file (between markers)")
    args = parser.parse_args()
    if not args.port:
        # A free port of our own: a web process left over from an earlier run (SO_REUSEPORT) would
        # otherwise share it, against a database that no longer exists.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("make chaos needs PostgreSQL (--database-url or TEST_DATABASE_URL)")

    standin = StandIn(twilio_auth=(SID, TOKEN))
    db_url, drop = fresh_database(args.database_url)
    outcomes: list[Outcome] = []
    began = time.monotonic()
    with Server(standin.app()) as stand_server, tempfile.TemporaryDirectory() as var_dir:
        standin.url = stand_server.url
        var = Path(var_dir)
        if (ROOT / "var" / "nlu").exists():  # the trained NLU model, cached by earlier runs
            (var / "nlu").symlink_to(ROOT / "var" / "nlu")
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "dhrbot"), "db", "upgrade"],
            env=dict(os.environ, DATABASE_URL=db_url),
            check=True,
            capture_output=True,
        )
        chaos = Chaos(args, standin, db_url, var)
        try:
            chaos.start()
            for name, fault in FAULTS.items():
                if args.only and name not in args.only:
                    continue
                outcome = fault(chaos)
                outcomes.append(outcome)
                print(json.dumps(outcome.__dict__), flush=True)
        finally:
            chaos.stop()
            errors = [
                f"{path.name}: {line}"
                for path in chaos.logs
                for line in path.read_text(errors="replace").splitlines()
                if line.startswith(("ERROR", "CRITICAL"))
            ]
            if errors:  # expected during the faults (a request cut off by a database drop answers 500)
                kinds = Counter(line.split(": ", 1)[1] for line in errors)
                print(
                    f"{len(errors)} error lines in the service's logs:",
                    *(f"{n} x {k}" for k, n in kinds.items()),
                    sep="\n  ",
                )
    drop()  # type: ignore[operator]
    report = table(outcomes)
    total_lost = sum(o.lost for o in outcomes)
    unexplained = sum(o.duplicated - o.explained for o in outcomes)
    summary = (
        f"\n\n{len(outcomes)} faults in {round(time.monotonic() - began)} s: **{total_lost} lost**, "
        f"{sum(o.duplicated for o in outcomes)} duplicated, {unexplained} of them unexplained."
    )
    print(report + summary)
    if args.write:
        page = args.write.read_text() if args.write.exists() else f"{MARK_BEGIN}\n{MARK_END}\n"
        head, rest = page.split(MARK_BEGIN, 1)
        _old, tail = rest.split(MARK_END, 1)
        args.write.write_text(f"{head}{MARK_BEGIN}\n{report}{summary}\n{MARK_END}{tail}")
    return 1 if total_lost or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
