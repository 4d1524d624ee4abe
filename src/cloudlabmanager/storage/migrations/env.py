"""Alembic environment: runs on the connection handed over by `storage.db.migrate`."""

from __future__ import annotations

from alembic import context

from cloudlabmanager.storage.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the application drives migrations
    raise RuntimeError("migrations run through cloudlabmanager.storage.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
