"""Alembic environment of the api database (run through controlplane.db.migration)."""
from alembic import context
import sqlalchemy as sa

from controlplane.db.models_api import ApiBase as Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online():
    url = config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_offline():
    url = config.attributes.get("connection_url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
