"""Measure the NLU (embedded and, if a server answers, Rasa): quality on the held-out split, training time, latency.

Usage: .venv/bin/python scripts/bench_nlu.py [--rasa] [--json]
Reads RASA_URL/RASA_TOKEN from the environment or var/rasa.env (see scripts/rasa/serve.sh).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu import load_nlu  # noqa: E402
from bot.nlu.cli import evaluate  # noqa: E402
from bot.nlu.data import TEST_DIR, TRAIN_DIR, load_examples  # noqa: E402
from bot.nlu.embedded import EmbeddedClassifier  # noqa: E402
from bot.nlu.langid import detect_language  # noqa: E402
from bot.nlu.lexicon import check_safety  # noqa: E402
from bot.nlu.rasa_client import local_rasa  # noqa: E402


def _percentiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(q[49] * 1000, 2), "p95_ms": round(q[94] * 1000, 2)}


def _latency(fn: Any, texts: list[str]) -> dict[str, float]:
    for t in texts[:20]:  # warm caches (first fastText/model load is not a per-message cost)
        fn(t)
    samples = []
    for t in texts:
        start = time.perf_counter()
        fn(t)
        samples.append(time.perf_counter() - start)
    return _percentiles(samples)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("examples", "accuracy", "urgent_recall", "false_urgent_rate", "fallback_rate", "language_id_accuracy")
    out = {k: result[k] for k in keys}
    out["per_language"] = {lang: s["accuracy"] for lang, s in result["per_language"].items()}
    if "rasa_fallbacks" in result:
        out["rasa_fallbacks"] = result["rasa_fallbacks"]
    return out


def main() -> int:
    """Run every measurement and print a Markdown report (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rasa", action="store_true", help="also measure the Rasa backend (needs a running server)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "train_examples": len(load_examples(TRAIN_DIR)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        clf = EmbeddedClassifier(cache_dir=Path(tmp))
        start = time.perf_counter()
        clf.load()
        report["embedded_train_seconds"] = round(time.perf_counter() - start, 2)

    cache = ROOT / "var" / "nlu"
    texts = [e.text for e in load_examples(TEST_DIR)]
    embedded = load_nlu("embedded", cache_dir=cache, rasa_url=None, rasa_token=None)
    report["embedded"] = _summary(evaluate(embedded, TEST_DIR))
    report["embedded"]["latency"] = _latency(embedded.parse, texts)
    report["lexicon_latency"] = _latency(check_safety, texts)
    report["langid_latency"] = _latency(detect_language, texts)

    found = local_rasa(ROOT / "var") if args.rasa else None
    if found:
        rasa = load_nlu("rasa", cache_dir=cache, rasa_url=found[0], rasa_token=found[1])
        report["rasa"] = _summary(evaluate(rasa, TEST_DIR))
        report["rasa"]["latency"] = _latency(rasa.parse, texts)

    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    backends = [b for b in ("embedded", "rasa") if b in report]
    print(f"Machine: {report['machine']}; training examples: {report['train_examples']}\n")
    print("| metric | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for key in ("examples", "accuracy", "urgent_recall", "false_urgent_rate", "fallback_rate", "language_id_accuracy"):
        print(f"| {key} | " + " | ".join(str(report[b][key]) for b in backends) + " |")
    for key in ("p50_ms", "p95_ms"):
        print(f"| parse latency {key} | " + " | ".join(str(report[b]["latency"][key]) for b in backends) + " |")
    print(
        f"\nEmbedded training: {report['embedded_train_seconds']} s. Lexicon alone: {report['lexicon_latency']}. "
        f"Language id alone: {report['langid_latency']}.\n"
    )
    langs = list(report["embedded"]["per_language"])
    print("| language | " + " | ".join(backends) + " |")
    print("|---|" + "---|" * len(backends))
    for lang in langs:
        print(f"| {lang} | " + " | ".join(str(report[b]["per_language"].get(lang)) for b in backends) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
