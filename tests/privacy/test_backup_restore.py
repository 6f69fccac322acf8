"""The documented backup and restore (docs/backup.md), run for real: an old backup does not bring erased people back.

PostgreSQL: ``pg_dump -Fc`` → erase → ``pg_restore`` into a fresh database → ``revteam privacy reapply LEDGER``.
SQLite: ``sqlite3 revteam.db ".backup FILE"``, the same steps with the file copied back.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revteam.cli.main import app
from revteam.config import get_settings
from revteam.store.db import make_engine, upgrade_to_head
from revteam.store.models import Contact
from tests.conftest import POSTGRES_URL, _reset_postgres
from tests.privacy.people import EMAIL, SECRETS, dump, leftovers, seed_person

runner = CliRunner()


def _cli(monkeypatch, url: str, ledger: Path, *args: str):
    monkeypatch.setenv("REVTEAM_DATABASE_URL", url)
    monkeypatch.setenv("REVTEAM_ENV", "test")
    monkeypatch.setenv("REVTEAM_PRIVACY_LEDGER", str(ledger))
    get_settings.cache_clear()
    try:
        r = runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 0, r.output
    return r


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _zofia_present(url: str) -> bool:
    eng = make_engine(url)
    try:
        with Session(eng) as s:
            return s.scalar(select(Contact.id).where(Contact.email == EMAIL)) is not None
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_pg_dump_restore_then_reapply_keeps_the_person_erased(postgres_engine, tmp_path, monkeypatch):
    for tool in ("pg_dump", "pg_restore", "psql"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    _reset_postgres(postgres_engine)
    upgrade_to_head(postgres_engine)
    with Session(postgres_engine) as s:
        seed_person(s)
    backup, ledger = tmp_path / "revteam.dump", tmp_path / "privacy-ledger.jsonl"
    subprocess.run(["pg_dump", "--format=custom", f"--file={backup}", _libpq(POSTGRES_URL)], check=True)

    _cli(monkeypatch, POSTGRES_URL, ledger, "privacy", "erase", EMAIL, "--yes")
    assert leftovers(dump(postgres_engine)) == []
    assert ledger.read_text().count('"erased"') == 3

    restored_url = make_url(POSTGRES_URL).set(database=f"{make_url(POSTGRES_URL).database}_restore")
    admin = _libpq(POSTGRES_URL)
    name = restored_url.database
    subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{name}"'], check=True)
    url = restored_url.render_as_string(hide_password=False)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}", str(backup)],
                       check=True)
        assert _zofia_present(url)  # the old backup brought her back ...

        r = _cli(monkeypatch, url, ledger, "privacy", "reapply", str(ledger))
        assert "3 tombstone(s) restored; 2 contact(s) erased again" in r.output
        assert not _zofia_present(url)  # ... and the re-application erased her again
        plain = subprocess.run(["pg_dump", "--data-only", _libpq(url)], check=True, capture_output=True,
                               text=True).stdout.lower()
        assert "bo lind" in plain and not [s for s in SECRETS if s in plain]

        con = tmp_path / "contacts.csv"
        con.write_text("email,first_name\nzofia.quillfeather+again@nimbus-orbital.io,Zofia\n")
        monkeypatch.setenv("REVTEAM_DATABASE_URL", url)
        get_settings.cache_clear()
        r = runner.invoke(app, ["import", "contacts", str(con)])
        get_settings.cache_clear()
        assert r.exit_code == 2 and "asked to be erased" in r.output
    finally:
        eng = make_engine(POSTGRES_URL)
        with eng.connect() as c:  # close what the CLI left open, then drop the copy
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
        eng.dispose()
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{name}"'], check=True)


def test_sqlite_backup_restore_then_reapply(tmp_path, monkeypatch):
    if shutil.which("sqlite3") is None:
        pytest.skip("the sqlite3 shell is not installed")
    db, backup, ledger = tmp_path / "revteam.db", tmp_path / "revteam-backup.db", tmp_path / "ledger.jsonl"
    url = f"sqlite:///{db}"
    eng = make_engine(url)
    upgrade_to_head(eng)
    with Session(eng) as s:
        seed_person(s)
    eng.dispose()
    subprocess.run(["sqlite3", str(db), f".backup '{backup}'"], check=True)

    _cli(monkeypatch, url, ledger, "privacy", "erase", EMAIL, "--yes")
    shutil.copyfile(backup, db)  # restore
    assert _zofia_present(url)
    _cli(monkeypatch, url, ledger, "privacy", "reapply", str(ledger))
    assert not _zofia_present(url)
    eng = make_engine(url)
    assert leftovers(dump(eng)) == []
    eng.dispose()
