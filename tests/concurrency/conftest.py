"""The real app on the test database (SQLite and PostgreSQL), served by uvicorn on a loopback port.

``live`` gives the base URL, the runtime and a marketer's bearer token; the server is the one the load
benchmark uses (``benchmarks/load_touches.py``: ``LiveServer``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from revteam.config import Settings
from revteam.runtime import Runtime, build_runtime
from revteam.services.people.users import issue_api_token
from revteam.web.app import create_app
from tests.factories import make_account, make_contact, make_user

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark() -> Any:
    if "load_touches" in sys.modules:
        return sys.modules["load_touches"]
    spec = importlib.util.spec_from_file_location("load_touches", ROOT / "benchmarks" / "load_touches.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_touches"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass
class Live:
    url: str
    runtime: Runtime
    token: str
    contacts: list[str]  # e-mails of the contacts events may name

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def live(engine: Engine) -> Iterator[Live]:
    runtime = build_runtime(Settings(database_url=engine.url.render_as_string(hide_password=False), env="test",
                                     warm_analytics=False), migrate=False)
    with runtime.sessions() as s:
        marketer = make_user(s, role="marketing")
        make_user(s, role="sdr")
        acc = make_account(s, name="Initech", industry="software", employees=400)
        emails = [make_contact(s, email=f"lead{i}@initech.com", title="VP Engineering", account_id=acc.id).email
                  for i in range(5)]
        s.commit()
        token = issue_api_token(s, marketer, name="tests", now=datetime.now(UTC)).token  # the server checks expiry on its clock
    with load_benchmark().LiveServer(create_app(runtime)) as url:
        yield Live(url, runtime, token, emails)
    runtime.engine.dispose()
