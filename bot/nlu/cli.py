"""`dhrbot nlu ...`: train the classifier, read messages, and measure understanding on held-out data."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.nlu.base import FALLBACK_INTENT, INTENTS, URGENT_INTENTS

log = logging.getLogger(__name__)


def _settings() -> dict[str, Any]:
    """NLU_BACKEND, RASA_URL, RASA_TOKEN and the var/ folder, from the lead's settings object."""
    try:
        from bot.settings import get_settings

        s = get_settings()
        return {
            "nlu_backend": s.nlu_backend,
            "rasa_url": s.rasa_url,
            "rasa_token": s.rasa_token,
            "var_dir": Path(s.var_dir),
        }
    except ImportError:  # settings module not present (e.g. a partial checkout): same names, from env
        from bot.nlu.data import PROJECT_ROOT

        return {
            "nlu_backend": os.environ.get("NLU_BACKEND", "embedded"),
            "rasa_url": os.environ.get("RASA_URL", "http://127.0.0.1:5005"),
            "rasa_token": os.environ.get("RASA_TOKEN", ""),
            "var_dir": Path(os.environ.get("VAR_DIR", PROJECT_ROOT / "var")),
        }


def _load(backend: str | None) -> Any:
    from bot.nlu import load_nlu

    cfg = _settings()
    return load_nlu(
        backend or cfg["nlu_backend"],
        cache_dir=cfg["var_dir"] / "nlu",
        rasa_url=cfg["rasa_url"],
        rasa_token=cfg["rasa_token"],
    )


def cmd_train(args: argparse.Namespace) -> int:
    """Train (or confirm the cache of) the embedded classifier; optionally tune its threshold."""
    from bot.nlu.data import TRAIN_DIR, load_examples
    from bot.nlu.embedded import EmbeddedClassifier, tune_threshold
    from bot.nlu.encoder import encoder_problem

    clf = EmbeddedClassifier(cache_dir=_settings()["var_dir"] / "nlu")
    start = time.perf_counter()
    clf.load(force=args.force)
    result: dict[str, Any] = {
        "model": str(clf.cache_path()),
        "trained": clf.trained_now,
        "seconds": round(time.perf_counter() - start, 2),
        "examples": len(load_examples(TRAIN_DIR)),
        "encoder": clf.encoder_name or encoder_problem(),
    }
    if args.tune:
        t, stats = tune_threshold(load_examples(TRAIN_DIR), encoder=clf.encoder)
        result["suggested_threshold"] = t
        result["validation"] = stats
    print(json.dumps(result, ensure_ascii=False))
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    """Print what each message seems to mean (TEXT "-" reads one message per line from stdin)."""
    nlu = _load(args.backend)
    texts = (line.rstrip("\n") for line in sys.stdin) if args.text == "-" else iter([args.text])
    for text in texts:
        if args.text == "-" and not text.strip():
            continue
        parsed = nlu.parse(text, args.lang)
        if args.json:
            print(json.dumps(parsed.to_json(), ensure_ascii=False), flush=True)
        else:
            print(f"{parsed.intent}\t{parsed.confidence:.2f}\t{parsed.language or '-'}\t{parsed.triage}\t{text}")
    return 0


def evaluate(nlu: Any, path: Path) -> dict[str, Any]:
    """Accuracy, urgent recall and false alarms (after the lexicon), per intent and per language."""
    from sklearn.metrics import precision_recall_fscore_support

    from bot.nlu.data import load_examples

    examples = load_examples(path)
    if not examples:
        raise SystemExit(f"no NLU examples found at {path}")
    gold: list[str] = []
    pred: list[str] = []
    lang_stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    urgent_total = urgent_hit = urgent_asked = calm_total = calm_alarm = calm_checked = 0
    langid_right = 0
    errors: list[dict[str, Any]] = []
    for ex in examples:
        p = nlu.parse(ex.text, ex.language)
        gold.append(ex.intent)
        pred.append(p.intent)
        ls = lang_stats[ex.language or "unknown"]
        ls["count"] += 1
        ls["correct"] += int(p.intent == ex.intent)
        langid_right += int(p.language == ex.language)
        if ex.intent in URGENT_INTENTS:
            urgent_total += 1
            urgent_hit += int(p.triage == "urgent")
            urgent_asked += int(p.triage == "check")
            ls["urgent"] += 1
            ls["urgent_hit"] += int(p.triage == "urgent")
        else:
            calm_total += 1
            calm_alarm += int(p.triage == "urgent")
            calm_checked += int(p.triage == "check")
        if p.intent != ex.intent:
            errors.append(
                {"text": ex.text, "language": ex.language, "gold": ex.intent, "predicted": p.intent, "triage": p.triage}
            )
        elif ex.intent in URGENT_INTENTS and p.triage != "urgent":
            errors.append(
                {"text": ex.text, "language": ex.language, "gold": ex.intent, "predicted": p.intent, "triage": p.triage}
            )
    labels = [i for i in INTENTS if i in set(gold)]
    prec, rec, f1, sup = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per_intent = {
        lab: {
            "precision": round(float(p_), 4),
            "recall": round(float(r_), 4),
            "f1": round(float(f_), 4),
            "support": int(s_),
        }
        for lab, p_, r_, f_, s_ in zip(labels, prec, rec, f1, sup)
    }
    per_language = {
        lang: {
            "accuracy": round(s["correct"] / s["count"], 4),
            "count": s["count"],
            "urgent_recall": round(s["urgent_hit"] / s["urgent"], 4) if s["urgent"] else None,
        }
        for lang, s in sorted(lang_stats.items())
    }
    correct = sum(g == p for g, p in zip(gold, pred))
    result: dict[str, Any] = {
        "path": str(path),
        "examples": len(examples),
        "accuracy": round(correct / len(examples), 4),
        "urgent_recall": round(urgent_hit / urgent_total, 4) if urgent_total else None,
        "false_urgent_rate": round(calm_alarm / calm_total, 4) if calm_total else None,
        # `check`: the bot asks "are you, or is anyone, in danger right now?" rather than deciding.
        "urgent_or_check_recall": round((urgent_hit + urgent_asked) / urgent_total, 4) if urgent_total else None,
        "check_rate": round(calm_checked / calm_total, 4) if calm_total else None,
        "fallback_rate": round(pred.count(FALLBACK_INTENT) / len(pred), 4),
        "language_id_accuracy": round(langid_right / len(examples), 4),
        "per_intent": per_intent,
        "per_language": per_language,
        "errors": errors,
    }
    fallbacks = getattr(getattr(nlu, "classifier", None), "fallbacks", None)
    if fallbacks is not None:
        result["rasa_fallbacks"] = fallbacks
    return result


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Measure the NLU on labelled Rasa YAML (a file or a folder); one JSON object out."""
    nlu = _load(args.backend)
    result = evaluate(nlu, Path(args.path))
    if not args.errors:
        result.pop("errors")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"accuracy {result['accuracy']:.3f}  urgent_recall {result['urgent_recall']}  false_urgent_rate {result['false_urgent_rate']}"
        )
        for lang, s in result["per_language"].items():
            print(f"  {lang:4} {s['accuracy']:.3f} ({s['count']})")
    return 0


def add_nlu_commands(subparsers: Any) -> None:
    """Register `nlu train|parse|evaluate` on the main `dhrbot` argument parser."""
    nlu = subparsers.add_parser("nlu", help="understanding free text: train, parse, evaluate")
    sub = nlu.add_subparsers(dest="nlu_command", required=True)
    backends = ["embedded", "rasa"]

    p = sub.add_parser("train", help="train the embedded classifier (cached under var/nlu by data hash)")
    p.add_argument("--force", action="store_true", help="retrain even if the cache is current")
    p.add_argument("--tune", action="store_true", help="also suggest a fallback threshold from a validation split")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("parse", help="what a message means; TEXT '-' reads one message per line from stdin")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="Rasa /model/parse shape plus language and triage")
    p.add_argument("--backend", choices=backends, default=None, help="default: NLU_BACKEND")
    p.add_argument("--lang", default=None, metavar="CODE", help="the person's chosen language (a hint)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("evaluate", help="accuracy, urgent recall and false alarms on labelled Rasa YAML")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.add_argument("--backend", choices=backends, default=None, help="default: NLU_BACKEND")
    p.add_argument("--errors", action="store_true", help="include every misclassified example")
    p.set_defaults(func=cmd_evaluate)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point (`python -m bot.nlu.cli nlu ...`) until the main CLI wires this in."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="dhrbot")
    add_nlu_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
