"""The Alembic environment every service shares; each service has its own version
history (services/<name>/migrations/versions) and its own database."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes["target_metadata"],
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copy
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
