"""Alembic environment: the engine is handed over by `integrations.property.db.migrate`."""

from alembic import context
from sqlalchemy import Engine

import app.conversations.models  # noqa: F401  (the message log shares this database)
from integrations.property.db import make_engine
from integrations.property.models import Base

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no engine given and sqlalchemy.url is not set")
    return make_engine(url)


with _engine().connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
