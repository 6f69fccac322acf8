"""Operational storage: SQLAlchemy 2 models, engine/session factory, Alembic migrations."""

# the data-version counters register their Session events on import: every writer that uses the store
# bumps them (store/data_versions.py), whichever module it imported first
from revteam.store import data_versions as _data_versions  # noqa: E402,F401
