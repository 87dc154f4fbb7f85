"""Measure both NLU backends side by side: quality on the held-out and blind splits, latency, memory.

Usage: .venv/bin/python scripts/bench_nlu.py [--no-rasa] [--json]
Starts (or reuses) the local Rasa server with scripts/rasa/serve.sh unless --no-rasa; it reads
RASA_URL/RASA_TOKEN from the environment or var/rasa.env. Results go in docs/benchmarks-nlu.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu import load_nlu  # noqa: E402
from bot.nlu.cli import evaluate  # noqa: E402
from bot.nlu.data import INTENTS_DIR, TRAIN_DIR, load_examples  # noqa: E402
from bot.nlu.embedded import EmbeddedClassifier  # noqa: E402
from bot.nlu.encoder import encoder_problem, shared_encoder  # noqa: E402
from bot.nlu.rasa_client import local_rasa  # noqa: E402

SPLITS = ("test", "blind")
METRICS = (
    "examples",
    "accuracy",
    "urgent_recall",
    "urgent_or_check_recall",
    "false_urgent_rate",
    "check_rate",
    "fallback_rate",
)


def _rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2)}


def _latency(fn: Any, texts: list[str]) -> dict[str, float]:
    for t in texts[:20]:  # warm caches (the first call of each model is not a per-message cost)
        fn(t)
    samples = []
    for t in texts:
        start = time.perf_counter()
        fn(t)
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    out = {k: result[k] for k in METRICS}
    out["per_language"] = {lang: s["accuracy"] for lang, s in result["per_language"].items()}
    if "rasa_fallbacks" in result:
        out["rasa_fallbacks"] = result["rasa_fallbacks"]
    return out


def _start_rasa() -> tuple[str, str] | None:
    """The local Rasa server (started by scripts/rasa/serve.sh, which trains first if needed)."""
    found = local_rasa(ROOT / "var")
    if found:
        return found
    done = subprocess.run(["bash", str(ROOT / "scripts" / "rasa" / "serve.sh")], check=False, stdout=sys.stderr)
    return local_rasa(ROOT / "var") if done.returncode == 0 else None


def _rasa_pid() -> int | None:
    env = ROOT / "var" / "rasa.env"
    if not env.exists():
        return None
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    pid = values.get("RASA_PID")
    return int(pid) if pid and Path(f"/proc/{pid}").exists() else None


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += _rss_mb(p)
        except OSError:
            continue
        todo.extend(children.get(p, []))
    return round(total, 1)


def serve_memory(workers: int = 2, messages: int = 60) -> dict[str, Any]:
    """Resident memory of `dhrbot serve --workers N` at rest and after answering web chat messages."""
    import signal
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "WEB_WORKERS": str(workers)}
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "dhrbot"), "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, timeout=30) as http:
                deadline = time.monotonic() + 300
                while True:
                    try:
                        if http.get("/readyz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline or proc.poll() is not None:
                        return {"problem": "dhrbot serve did not become ready"}
                    time.sleep(1)
                time.sleep(3)  # let every worker finish loading
                at_rest = _tree_rss_mb(proc.pid)
                texts = [e.text for e in load_examples(INTENTS_DIR / "test")][:: 1436 // messages][:messages]
                http.get("/chat")
                http.post("/chat/start")
                for text in texts:
                    http.post("/chat/send", json={"text": text})
                after = _tree_rss_mb(proc.pid)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this function started
            proc.wait(timeout=60)
    return {"workers": workers, "rss_mb_at_rest": at_rest, "rss_mb_after_messages": after, "messages": len(texts)}


def measure(with_rasa: bool) -> dict[str, Any]:
    """Every measurement, as one dictionary."""
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "train_examples": len(load_examples(TRAIN_DIR)),
        "rss_mb_before_nlu": _rss_mb(),
        "encoder": encoder_problem() or "in use",
    }
    cache = ROOT / "var" / "nlu"
    embedded = load_nlu("embedded", cache_dir=cache, rasa_url=None, rasa_token=None)
    report["rss_mb_embedded_loaded"] = _rss_mb()

    # Training time from a cold model cache, with the training texts' vectors already cached (the
    # encoding itself is timed separately below: it happens once per new example).
    with tempfile.TemporaryDirectory() as tmp:
        clf = EmbeddedClassifier(cache_dir=Path(tmp))
        start = time.perf_counter()
        clf.load()
        report["embedded_fit_seconds"] = round(time.perf_counter() - start, 2)
    encoder = shared_encoder()
    if encoder is not None:
        sample = [e.text for e in load_examples(TRAIN_DIR)][:256]
        start = time.perf_counter()
        encoder.encode(sample)
        report["encode_texts_per_second"] = round(len(sample) / (time.perf_counter() - start), 1)
        report["encoder_threads"] = encoder.threads

    free_text = [e.text for e in load_examples(INTENTS_DIR / "test")]
    backends: dict[str, Any] = {"embedded": embedded}
    if with_rasa:
        found = _start_rasa()
        if found:
            backends["rasa"] = load_nlu("rasa", cache_dir=cache, rasa_url=found[0], rasa_token=found[1])
        else:
            report["rasa_problem"] = "the Rasa server did not start (see var/rasa.log)"
    for name, nlu in backends.items():
        report[name] = {split: _summary(evaluate(nlu, INTENTS_DIR / split)) for split in SPLITS}
        report[name]["latency"] = _latency(nlu.parse, free_text)
    report["rss_mb_after_parsing"] = _rss_mb()
    pid = _rasa_pid()
    if "rasa" in backends and pid:
        report["rasa"]["rss_mb_server"] = _rss_mb(pid)
    report["serve"] = serve_memory()
    return report


def print_markdown(report: dict[str, Any]) -> None:
    """The report as the tables in docs/benchmarks-nlu.md."""
    backends = [b for b in ("embedded", "rasa") if b in report]
    print(
        f"Machine: {report['machine']}; training examples: {report['train_examples']}; encoder: {report['encoder']}\n"
    )
    print("| metric | " + " | ".join(f"{b} ({s})" for b in backends for s in SPLITS) + " |")
    print("|---|" + "---|" * (len(backends) * len(SPLITS)))
    for key in METRICS:
        print(f"| {key} | " + " | ".join(str(report[b][s][key]) for b in backends for s in SPLITS) + " |")
    print("\n| free-text parse | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for key in ("p50_ms", "p95_ms"):
        print(f"| {key} | " + " | ".join(str(report[b]["latency"][key]) for b in backends) + " |")
    print(
        f"\nMemory (resident): {report['rss_mb_before_nlu']} MB before the NLU, "
        f"{report['rss_mb_embedded_loaded']} MB with the embedded NLU loaded, "
        f"{report['rss_mb_after_parsing']} MB after parsing every split"
        + (f"; Rasa server {report['rasa']['rss_mb_server']} MB" if "rss_mb_server" in report.get("rasa", {}) else "")
        + "."
    )
    serve = report["serve"]
    if "problem" not in serve:
        print(
            f"`dhrbot serve --workers {serve['workers']}` (all processes): {serve['rss_mb_at_rest']} MB at rest, "
            f"{serve['rss_mb_after_messages']} MB after {serve['messages']} web chat messages."
        )
    print(
        f"Embedded model fit: {report['embedded_fit_seconds']} s (training vectors cached); encoder: "
        f"{report.get('encode_texts_per_second')} texts/s in batches on {report.get('encoder_threads')} thread(s).\n"
    )
    langs = sorted({lang for b in backends for s in SPLITS for lang in report[b][s]["per_language"]})
    print("| language | " + " | ".join(f"{b} ({s})" for b in backends for s in SPLITS) + " |")
    print("|---|" + "---|" * (len(backends) * len(SPLITS)))
    for lang in langs:
        print(
            f"| {lang} | "
            + " | ".join(str(report[b][s]["per_language"].get(lang, "-")) for b in backends for s in SPLITS)
            + " |"
        )


def main() -> int:
    """Run every measurement and print a Markdown report (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-rasa", action="store_true", help="measure the embedded backend only")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    report = measure(with_rasa=not args.no_rasa)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print_markdown(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
