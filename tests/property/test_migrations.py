from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from integrations.property.models import Base, Bill, Community, Room
from integrations.property.seed import seed_demo


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_seeding_twice_changes_nothing(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        assert seed_demo(session, admin_password="seed-admin-password") is True
    with Session(engine) as session, session.begin():
        counts = [session.scalar(select(func.count()).select_from(t)) for t in (Room, Bill)]
        assert seed_demo(session, admin_password="seed-admin-password") is False
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Community)) == 1
        assert [session.scalar(select(func.count()).select_from(t)) for t in (Room, Bill)] == counts
