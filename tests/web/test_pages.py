"""What the pages and list endpoints show: search, filters, pages, timelines, errors, headers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from revteam.runtime import Runtime
from revteam.store.models import User
from tests.factories import make_contact
from tests.web.conftest import Record, api_token_for, bearer, logged_in_client, new_client


@pytest.fixture
def leader(app: FastAPI, people: dict[str, User], record: Record) -> Any:
    return logged_in_client(app, people["leader"])


def names_in(html: str) -> set[str]:
    return {n for n in ("Ana Ortega", "Ben Okafor", "Cleo Park", "Acme Rockets", "Globex Analytics") if n in html}


def test_home_shows_counts_and_stage_bars(leader: Any) -> None:
    html = leader.get("/").text
    assert "Revenue record" in html and "$12,500" in html  # won revenue
    assert 'href="/contacts?stage=mql&amp;owner=any">Marketing-qualified (MQL)</a>' in html
    assert html.count('class="bar-row') == 10 + 3  # every lifecycle stage + three deal outcomes


def test_accounts_search_filters_and_links(leader: Any, record: Record) -> None:
    html = leader.get("/accounts").text
    assert names_in(html) >= {"Acme Rockets", "Globex Analytics"}
    assert f'href="/accounts/{record.account_id}"' in html
    assert names_in(leader.get("/accounts?q=GLOBEX.io").text) == {"Globex Analytics"}
    assert names_in(leader.get("/accounts?segment=enterprise").text) == {"Acme Rockets"}
    assert names_in(leader.get("/accounts?region=NA").text) == {"Globex Analytics"}
    assert "No accounts match" in leader.get("/accounts?industry=mining").text
    assert "No accounts match" in leader.get("/accounts?q=%25").text  # % is a literal, not a wildcard


def test_contacts_search_and_filters(leader: Any, record: Record) -> None:
    assert names_in(leader.get("/contacts?q=ana ortega").text) == {"Ana Ortega", "Acme Rockets"}
    assert names_in(leader.get("/contacts?q=VP").text) >= {"Ana Ortega", "Ben Okafor", "Cleo Park"}
    assert names_in(leader.get("/contacts?stage=opportunity").text) == {"Ben Okafor", "Acme Rockets"}
    assert names_in(leader.get("/contacts?source=organic_search").text) == {"Cleo Park", "Globex Analytics"}
    by_account = leader.get(f"/contacts?account={record.other_account_id}").text
    assert "Contacts at Globex Analytics" in by_account and "Ana Ortega" not in by_account


def test_deals_filters_amounts_and_totals(leader: Any) -> None:
    html = leader.get("/deals").text
    assert "$48,000" in html and "$12,500" in html and "$60,500" in html  # rows and the total
    won = leader.get("/deals?outcome=won").text
    assert "Globex starter" in won and "Acme platform" not in won
    assert "Acme platform" in leader.get("/deals?q=acme").text  # by account name
    response = leader.get("/deals?outcome=maybe")
    assert response.status_code == 422 and "Unknown outcome" in response.text


def test_owner_filter(app: FastAPI, people: dict[str, User], record: Record) -> None:
    ae = logged_in_client(app, people["ae"])
    assert names_in(ae.get("/contacts").text) == {"Ben Okafor", "Acme Rockets"}  # reps start with "mine"
    assert names_in(ae.get("/contacts?owner=none").text) == {"Cleo Park", "Globex Analytics"}
    assert names_in(ae.get(f"/contacts?owner={people['sdr'].id}").text) == {"Ana Ortega", "Acme Rockets"}
    assert ae.get("/contacts?owner=boss").status_code == 422


def test_pagination_keeps_the_filters(app: FastAPI, runtime: Runtime, people: dict[str, User], record: Record) -> None:
    with runtime.sessions() as s:
        for n in range(55):
            make_contact(s, email=f"bulk{n}@initech.com", first_name="Bulk", last_name=f"Lead{n:02d}", stage="lead")
        s.commit()
    client = logged_in_client(app, people["leader"])
    first = client.get("/contacts?stage=lead").text  # 56 leads, 50 a page
    assert "1–50 of 56 contacts" in first and "Page 1 of 2" in first
    assert 'href="?stage=lead&amp;page=2"' in first
    second = client.get("/contacts?stage=lead&page=2").text
    assert "51–56 of 56 contacts" in second and second.count('class="primary-cell"') == 6
    assert client.get("/contacts?page=0").status_code == 422


def test_htmx_gets_only_the_results_block(leader: Any) -> None:
    response = leader.get("/contacts?q=cleo", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 200
    assert "Cleo Park" in response.text and "<html" not in response.text and "filters" not in response.text
    assert "HX-Target" in response.headers["vary"]
    full = leader.get("/contacts?q=cleo", headers={"HX-Request": "true", "HX-History-Restore-Request": "true",
                                                   "HX-Target": "results"})
    assert "<html" in full.text


def test_contact_timeline(leader: Any, record: Record) -> None:
    html = leader.get(f"/contacts/{record.sdr_contact_id}").text
    assert "<h1>Ana Ortega</h1>" in html
    for text in ("Webinar attended (campaign &#39;Pricing 101 webinar&#39;)", "Content download",
                 "Lead → Marketing-qualified (MQL)", "by rule scoring", "reason: score 72 ≥ 60",
                 "Owner nobody → SDR Person", "Sales call", "by SDR Person"):
        assert text in html, text
    assert html.index("Sales call") < html.index("Webinar attended")  # newest first by default
    oldest = leader.get(f"/contacts/{record.sdr_contact_id}?order=asc").text
    assert oldest.index("Webinar attended") < oldest.index("Sales call")


def test_account_timeline(leader: Any, record: Record) -> None:
    html = leader.get(f"/accounts/{record.account_id}").text
    assert "<h1>Acme Rockets</h1>" in html
    assert "Deal opened" in html and "Acme platform" in html
    assert f'href="/contacts/{record.sdr_contact_id}"' in html  # events link to their contact
    assert "Ana Ortega: Webinar attended" in html or "Ana Ortega: webinar attended" in html


@pytest.mark.parametrize("path", ["/contacts/999999", "/accounts/999999", "/no/such/page"])
def test_missing_things_are_a_404_page(leader: Any, path: str) -> None:
    response = leader.get(path)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "<h1>Not found</h1>" in response.text and 'class="navlinks"' in response.text


def test_api_errors_are_json(client: Any, runtime: Runtime, people: dict[str, User], record: Record) -> None:
    headers = bearer(api_token_for(runtime, people["sdr"]))
    response = client.get("/api/v1/contacts/999999/timeline", headers=headers)
    assert response.status_code == 404
    assert response.json() == {"code": "contact_not_found", "message": "No contact with id 999999."}
    response = client.get("/api/v1/contacts?page_size=5000", headers=headers)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert response.json()["details"][0]["location"] == "query.page_size"
    response = client.delete("/api/v1/stats", headers=headers)
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"


def test_unexpected_errors_are_a_500_page_or_json(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*a: Any, **k: Any) -> None:
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr("revteam.web.pages.home.record_stats", broken)
    monkeypatch.setattr("revteam.web.api.records.record_stats", broken)
    client = logged_in_client(app, people["leader"])
    client_500 = new_client(app, raise_server_exceptions=False)
    client_500.cookies = client.cookies
    page = client_500.get("/")
    assert page.status_code == 500 and "Something went wrong" in page.text and "secret detail" not in page.text
    api = client_500.get("/api/v1/stats", headers=bearer(api_token_for(runtime, people["leader"])))
    assert api.status_code == 500
    assert api.json()["code"] == "internal_error" and "secret detail" not in api.text


def test_security_headers(leader: Any) -> None:
    response = leader.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    static = leader.get("/static/htmx.min.js")
    assert static.status_code == 200 and "max-age" in static.headers["cache-control"]


def test_no_page_loads_anything_from_another_site(leader: Any, record: Record) -> None:
    for path in ("/", "/accounts", "/contacts", "/deals", f"/contacts/{record.contact_id}", "/docs", "/login"):
        html = leader.get(path).text
        for attr in ('src="http', "src='http", 'href="http', "src=\"//", 'href="//'):
            assert attr not in html, f"{path} references an outside resource ({attr})"


def test_api_lists_take_the_same_filters(client: Any, runtime: Runtime, people: dict[str, User],
                                         record: Record) -> None:
    headers = bearer(api_token_for(runtime, people["sdr"]))
    contacts = client.get("/api/v1/contacts?owner=me", headers=headers).json()
    assert [c["name"] for c in contacts["items"]] == ["Ana Ortega"] and contacts["total"] == 1
    assert client.get("/api/v1/contacts", headers=headers).json()["total"] == 3  # no "mine" default in the API
    accounts = client.get("/api/v1/accounts?q=acme", headers=headers).json()
    assert accounts["items"][0]["contacts"] == 2 and accounts["items"][0]["open_deals"] == 1
    deals = client.get("/api/v1/deals?outcome=won", headers=headers).json()
    assert [d["amount"] for d in deals["items"]] == [12500.0] and deals["totals"] == {"USD": 12500.0}
    page = client.get("/api/v1/contacts?page_size=2&page=2", headers=headers).json()
    assert (page["page"], page["pages"], len(page["items"])) == (2, 2, 1)
    timeline = client.get(f"/api/v1/accounts/{record.account_id}/timeline", headers=headers).json()
    assert timeline["subject"] == "account" and timeline["facts"]["contacts"] == 2
    assert {e["kind"] for e in timeline["events"]} >= {"touch", "stage", "deal_created", "owner"}
