"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from bot.storage.db import Database
from bot.storage.models import Base


def test_the_migrations_and_the_models_agree(database_url: str) -> None:
    # A model changed without a migration (or the reverse) would break the first deployment after it.
    Database(database_url).upgrade()  # (a no-op where the fixture has already migrated)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
