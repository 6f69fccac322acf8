"""Production (issue #10, item 9): Secure cookies and HSTS in production, proxy headers only from trusted
proxies, the Dockerfile and compose file validated (docker is not on this machine: structure, commands,
paths), the LICENSE and the production guide."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from revteam.cli.main import app as cli_app
from revteam.config import Settings
from revteam.runtime import build_runtime
from revteam.web.app import create_app
from revteam.web.sessions import COOKIE_NAME
from tests.web.conftest import PASSWORD, login, new_client

ROOT = Path(__file__).resolve().parents[2]
SECRET = "a-real-secret-for-the-production-tests-0123456789"


def cli_commands() -> set[str]:
    return set(typer.main.get_command(cli_app).commands)  # type: ignore[attr-defined]


def _app(runtime: Any, **settings: Any) -> Any:
    rt = build_runtime(Settings(database_url=runtime.settings.database_url, warm_analytics=False,
                                run_worker_in_serve=False, **settings))
    return create_app(rt)


# ---------------------------------------------------------------- settings
def test_production_turns_secure_cookies_on_unless_told_otherwise() -> None:
    assert Settings(env="production", secret_key=SECRET).secure_cookies is True
    assert Settings(env="production", secret_key=SECRET, secure_cookies=False).secure_cookies is False
    assert Settings(env="development").secure_cookies is False
    assert Settings(env="test", secure_cookies=True).secure_cookies is True
    with pytest.raises(ValueError, match="development placeholder"):
        Settings(env="production")


def test_production_cookies_are_secure_and_hsts_is_sent(runtime: Any, people: dict) -> None:
    browser = new_client(_app(runtime, env="production", secret_key=SECRET), base_url="https://testserver")
    page = browser.get("/login")
    assert page.headers["strict-transport-security"] == "max-age=31536000"  # includeSubDomains is opt-in
    assert "Secure" in page.headers["set-cookie"]  # the log-in nonce
    done = login(browser, people["admin"].email, PASSWORD)
    assert done.status_code == 303
    session_cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith(COOKIE_NAME))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie


def test_hsts_covers_subdomains_only_when_asked(runtime: Any) -> None:
    browser = new_client(_app(runtime, env="production", secret_key=SECRET, hsts_include_subdomains=True),
                         base_url="https://testserver")
    assert browser.get("/healthz").headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.parametrize("env", ["prod", "Production ", "staging", ""])
def test_an_unknown_environment_is_refused_and_the_case_does_not_matter(env: str) -> None:
    if env.strip().lower() == "production":
        assert Settings(env=env, secret_key=SECRET).is_production
        assert Settings(env=env, secret_key=SECRET).secure_cookies is True
        return
    with pytest.raises(ValueError, match="not a known environment; use one of development, test, production"):
        Settings(env=env, secret_key=SECRET)


def test_compose_trusts_no_proxy_by_default() -> None:
    env = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["app"]["environment"]
    assert env["REVTEAM_TRUSTED_PROXIES"] in ("${REVTEAM_TRUSTED_PROXIES:-}", "")


def test_hsts_follows_the_scheme_a_trusted_proxy_reports(runtime: Any) -> None:
    plain = new_client(_app(runtime, env="test"))
    assert "strict-transport-security" not in plain.get("/healthz").headers
    spoofed = plain.get("/healthz", headers={"X-Forwarded-Proto": "https"})  # no trusted proxy: ignored
    assert "strict-transport-security" not in spoofed.headers
    proxied = new_client(_app(runtime, env="test", trusted_proxies="testclient"))
    assert "strict-transport-security" in proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    assert "strict-transport-security" not in proxied.get("/healthz").headers
    off = new_client(_app(runtime, env="production", secret_key=SECRET, hsts_seconds=0))
    assert "strict-transport-security" not in off.get("/healthz").headers


# ---------------------------------------------------------------- the image and the compose file
def test_dockerfile_builds_from_slim_runs_as_a_user_and_serves() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert stages and all(re.fullmatch(r"python:3\.1[1-9]-slim( AS \w+)?", s) or s.startswith("python:3.1") for s in stages)
    assert all(s.endswith("-slim") for s in stages)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    for src in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for path in src.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"
    cmd = re.findall(r'^CMD \[(.+)\]', text, re.MULTILINE)[-1]
    assert [p.strip().strip('"') for p in cmd.split(",")] == ["revteam", "serve"]
    assert "REVTEAM_ENV=production" in text and "/healthz" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "*.db"} <= set(ignored)


def test_compose_runs_app_worker_and_postgres_with_secrets_from_the_environment() -> None:
    spec = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = spec["services"]
    assert {"app", "worker", "postgres", "migrate"} <= set(services)
    commands = cli_commands()
    for name in ("app", "worker", "migrate"):
        service = services[name]
        command = service["command"]
        assert command[0] == "revteam" and command[1] in commands, f"{name}: {command} is not a revteam command"
        env = service["environment"]
        assert env["REVTEAM_ENV"] == "production"
        assert "@postgres:5432/" in env["REVTEAM_DATABASE_URL"]
        assert env["REVTEAM_DATABASE_URL"].startswith("postgresql+psycopg://")
        for secret in ("REVTEAM_SECRET_KEY",):
            assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", env[secret]), f"{secret} must come from the environment"
        assert re.search(r":\$\{POSTGRES_PASSWORD:\?[^}]+\}@", env["REVTEAM_DATABASE_URL"])
        assert env["REVTEAM_RUN_WORKER_IN_SERVE"] == "false"  # the worker runs on its own
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        for key in env:
            assert key.removeprefix("REVTEAM_").lower() in Settings.model_fields, f"{key} is not a setting"
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["build"] == "."
    assert services["app"]["ports"] == ["127.0.0.1:8000:8000"]  # only the proxy in front reaches it
    pg = services["postgres"]
    assert pg["image"].startswith("postgres:") and "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert pg["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    volume = pg["volumes"][0].split(":")[0]
    assert volume in spec["volumes"]
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    assert not (ROOT / ".env").exists()


def test_the_commands_the_image_runs_exist() -> None:
    assert {"serve", "worker", "migrate", "init"} <= cli_commands()


def test_migrate_upgrades_and_can_be_repeated(db_env: str) -> None:
    from typer.testing import CliRunner

    runner = CliRunner()
    for _ in range(2):
        done = runner.invoke(cli_app, ["migrate"])
        assert done.exit_code == 0 and "schema is current" in done.output


# ---------------------------------------------------------------- LICENSE and the guide
def test_the_license_is_the_full_apache_2_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text and "END OF TERMS AND CONDITIONS" in text
    assert len(re.findall(r"^\s+\d\. ", text, re.MULTILINE)) >= 9  # the nine sections
    assert 'license = "Apache-2.0"' in (ROOT / "pyproject.toml").read_text()


def test_the_production_guide_covers_what_an_operator_needs() -> None:
    text = (ROOT / "docs/production.md").read_text()
    for needle in ("REVTEAM_TRUSTED_PROXIES", "Strict-Transport-Security", "REVTEAM_SECURE_COOKIES", "revteam migrate",
                   "pg_dump", "pg_restore", "REVTEAM_SECRET_KEY", "Backups and restore", "compose.yaml",
                   "REVTEAM_WEBHOOK_ALLOW_HOSTS", "service account"):
        assert needle in text, needle
    for setting in re.findall(r"`(REVTEAM_[A-Z_]+)`", text):
        name = setting.removeprefix("REVTEAM_").lower()
        assert name in Settings.model_fields or name in {"test_postgres_url", "new_password"}, setting
