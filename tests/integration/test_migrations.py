"""The Alembic migrations build exactly the schema the models describe, on every engine."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from revteam.store.db import upgrade_to_head
from revteam.store.models import Base
from tests.conftest import empty_database


def test_upgrade_from_empty_matches_the_models(engine):
    empty_database(engine)
    assert inspect(engine).get_table_names() == []
    upgrade_to_head(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ; run alembic revision --autogenerate: {diff}"
    upgrade_to_head(engine)  # idempotent
