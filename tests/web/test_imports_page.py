"""The import page and ``POST /api/v1/imports``: reports, row errors, nothing written when invalid, size limit."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.config import Settings
from revteam.runtime import Runtime, build_runtime
from revteam.store.models import Contact, ImportRun, User
from revteam.web.app import create_app
from tests.factories import make_user
from tests.web.conftest import api_token_for, bearer, csrf_of, logged_in_client

GOOD = b"email,first_name,last_name,stage,original_source\nzoe@initech.com,Zoe,Adams,lead,webinar\nyuri@initech.com,Yuri,Bell,mql,event\n"
BAD = b"email,first_name,created_at\nzoe@initech.com,Zoe,2026-02-01\nnot-an-email,Yuri,2026-02-02\nxena@initech.com,Xena,2026-13-45\n"


def contacts(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Contact)) or 0


@pytest.fixture
def marketing(app: FastAPI, people: dict[str, User]) -> Any:
    return logged_in_client(app, people["marketing"])


def upload(client: Any, content: bytes, *, name: str = "leads.csv", kind: str = "contacts", **fields: str) -> Any:
    data = {"csrf_token": csrf_of(client, "/imports"), "kind": kind, **fields}
    return client.post("/imports", data=data, files={"file": (name, content, "text/csv")})


def test_a_good_file_is_imported_and_reported(marketing: Any, runtime: Runtime) -> None:
    response = upload(marketing, GOOD)
    assert response.status_code == 200, response.text
    assert "Imported leads.csv" in response.text
    assert '<div class="c-created"><dt>Created</dt><dd>2</dd></div>' in response.text
    assert contacts(runtime) == 2
    again = upload(marketing, GOOD)
    assert '<div><dt>Unchanged</dt><dd>2</dd></div>' in again.text and contacts(runtime) == 2
    with runtime.sessions() as s:
        runs = s.scalars(select(ImportRun).order_by(ImportRun.id)).all()
        assert [r.status for r in runs] == ["written", "written"] and runs[0].filename == "leads.csv"


def test_a_bad_file_writes_nothing_and_lists_the_rows(marketing: Any, runtime: Runtime) -> None:
    response = upload(marketing, BAD, name="bad leads.csv")
    assert response.status_code == 422
    html = response.text
    assert "Nothing was written" in html and "2 rows of bad leads.csv have problems" in html
    table = html.split('class="table table-cards errors-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") == 3  # header + two rows
    assert "not-an-email" in table and "2026-13-45" in table and "<code>created_at</code>" in table
    assert contacts(runtime) == 0
    assert "Rejected" in html  # the run is listed under recent imports


def test_skip_invalid_writes_the_good_rows(marketing: Any, runtime: Runtime) -> None:
    response = upload(marketing, BAD, skip_invalid="true")
    assert response.status_code == 200
    assert "except the rows below" in response.text and "not-an-email" in response.text
    assert contacts(runtime) == 1


def test_dry_run_writes_nothing(marketing: Any, runtime: Runtime) -> None:
    response = upload(marketing, GOOD, dry_run="true")
    assert response.status_code == 200 and "Dry run of leads.csv: nothing written" in response.text
    assert contacts(runtime) == 0


@pytest.mark.parametrize("kwargs,message", [
    ({"kind": "planets"}, "Pick what the file holds"),
    ({"name": "leads.xlsx"}, "upload a .csv, .jsonl or .ndjson file"),
    ({"preset": "../../etc/passwd"}, "Unknown mapping preset"),
])
def test_bad_form_input_is_explained(marketing: Any, runtime: Runtime, kwargs: dict[str, str], message: str) -> None:
    response = upload(marketing, GOOD, **kwargs)
    assert response.status_code == 422
    assert message in response.text
    assert contacts(runtime) == 0


def test_a_preset_mapping_is_used(marketing: Any, runtime: Runtime) -> None:
    from revteam.ingest.mapping import presets

    assert "hubspot-contacts" in presets()
    assert 'value="hubspot-contacts"' in marketing.get("/imports").text
    response = upload(marketing, b"Email,First Name\nzoe@initech.com,Zoe\n", preset="hubspot-contacts")
    assert response.status_code in (200, 422)  # the preset was applied: a known mapping, its own validation


def test_uploads_over_the_limit_are_refused(db_env: str) -> None:
    rt = build_runtime(Settings(database_url=db_env, env="test", max_upload_mb=1))
    with rt.sessions() as s:
        make_user(s, role="marketing", email="big@revteam.test")
        s.commit()
        user = s.scalar(select(User))
        s.expunge_all()
    client = logged_in_client(create_app(rt), user)
    big = GOOD + b"".join(b"pad%07d@initech.com,Pad,Row,lead,webinar\n" % i for i in range(40_000))  # ~1.5 MiB
    response = upload(client, big)
    assert response.status_code == 413
    assert "1 MiB" in response.text and "revteam import" in response.text
    assert contacts(rt) == 0
    rt.engine.dispose()


def test_import_api(client: Any, runtime: Runtime, people: dict[str, User]) -> None:
    headers = bearer(api_token_for(runtime, people["marketing"]))
    bad = client.post("/api/v1/imports", headers=headers, data={"kind": "contacts"},
                      files={"file": ("bad.csv", BAD, "text/csv")})
    assert bad.status_code == 422 and bad.json()["code"] == "import_rejected"
    assert [(d["row"], d["column"]) for d in bad.json()["details"]] == [(2, "email"), (3, "created_at")]
    good = client.post("/api/v1/imports", headers=headers, data={"kind": "contacts", "dry_run": "false"},
                       files={"file": ("good.csv", GOOD, "text/csv")})
    assert good.status_code == 200 and good.json()["created"] == 2 and good.json()["status"] == "written"
    runs = client.get("/api/v1/imports", headers=headers).json()
    assert [r["status"] for r in runs] == ["written", "rejected"]
    sdr = bearer(api_token_for(runtime, people["sdr"]))
    assert client.post("/api/v1/imports", headers=sdr, data={"kind": "contacts"},
                       files={"file": ("good.csv", GOOD, "text/csv")}).status_code == 403
    assert contacts(runtime) == 2
