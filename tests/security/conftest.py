"""The security tests use the web fixtures (a fresh app per test on SQLite, one user per role)."""

from tests.web.conftest import app, client, people, runtime  # noqa: F401 - fixtures
