"""Putting the parts together: settings, storage, understanding, helplines and the dialogue engine."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.content.helplines import Helplines
from bot.dialogue.codes import CodePolicy
from bot.dialogue.engine import Engine
from bot.nlu.base import NLU
from bot.settings import Settings
from bot.storage.db import Database, init_storage

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything a process needs to talk to families."""

    settings: Settings
    db: Database
    nlu: NLU
    helplines: Helplines
    engine: Engine


def load_nlu_backend(settings: Settings) -> NLU:
    """The configured NLU, or the keyword fallback if the trained classifier is not installed."""
    try:
        from bot.nlu import load_nlu
    except ImportError:
        from bot.nlu.keyword import KeywordNLU

        log.warning("the trained NLU is not available: using the keyword fallback")
        return KeywordNLU()
    return load_nlu(
        settings.nlu_backend,
        cache_dir=settings.var_dir / "nlu",
        rasa_url=settings.rasa_url,
        rasa_token=settings.rasa_token,
    )


def build_service(settings: Settings, *, nlu: NLU | None = None, migrate: bool = True) -> Service:
    """A ready service; migrations are applied unless told otherwise."""
    db = init_storage(settings)
    if migrate:
        db.upgrade()
    helplines = Helplines.load(settings.helplines_file, settings.helplines_nation or None)
    nlu = nlu or load_nlu_backend(settings)
    policy = CodePolicy.from_settings(settings)
    engine = Engine(db, nlu, helplines, max_message_chars=settings.max_message_chars, code_policy=policy)
    return Service(settings, db, nlu, helplines, engine)
