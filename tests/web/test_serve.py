"""``revteam serve`` and ``run_server``: settings give the defaults, options override them."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from revteam.cli import serve
from revteam.cli.main import app as cli
from revteam.config import Settings


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def fake_run(app: Any, **kw: Any) -> None:
        calls.append({"app": app, **kw})

    monkeypatch.setattr("uvicorn.run", fake_run)
    return calls


def test_run_server_uses_the_settings(served: list[dict[str, Any]], settings: Settings) -> None:
    serve.run_server(settings)
    (call,) = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8000)
    assert call["app"].state.runtime.settings is settings
    assert call["app"].title == "revteam"


def test_run_server_overrides(served: list[dict[str, Any]], settings: Settings) -> None:
    serve.run_server(settings, host="0.0.0.0", port=9123)
    assert (served[0]["host"], served[0]["port"]) == ("0.0.0.0", 9123)


def test_serve_command(served: list[dict[str, Any]], settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "8765"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765" in result.output
    assert served[0]["port"] == 8765
