"""Alembic environment: the engine comes from labeling.db, never from a config file."""

from alembic import context

from labeling.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Workers or CLIs migrating at once queue here; each then sees the
        # revision the first one wrote and has nothing left to do.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(726354912)")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
