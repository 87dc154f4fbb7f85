"""Alembic environment: migrations run against the URL given by bot.storage.db.alembic_config."""

from alembic import context

from bot.storage.db import make_engine
from bot.storage.models import Base

config = context.config


def run_migrations_online() -> None:
    """Run migrations in a transaction on a fresh connection."""
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
