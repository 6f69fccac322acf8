"""The CLI edge: commands parse, call a service, print tables or --json, and exit non-zero on errors."""

from __future__ import annotations

import json

import pytest

from typer.testing import CliRunner

from revteam.cli.main import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_then_stats_json_on_an_empty_database(db_env):
    assert invoke("init").exit_code == 0
    r = invoke("stats", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["counts"]["contacts"] == 0
    assert list(data["contacts_by_stage"])[:3] == ["subscriber", "lead", "mql"]


def test_import_then_timeline_for_contact_and_account(db_env, tmp_path):
    acc = tmp_path / "accounts.csv"
    acc.write_text("external_id,name,domain\na1,Acme Rockets,acme-rockets.com\n")
    con = tmp_path / "contacts.csv"
    con.write_text("email,first_name,account_external_id,stage,created_at\nana@acme-rockets.com,Ana,a1,mql,2026-01-05\n")
    touches = tmp_path / "touches.jsonl"
    touches.write_text(json.dumps({"contact_email": "ana@acme-rockets.com", "type": "pricing_request",
                                   "occurred_at": "2026-01-07T10:00:00Z", "url": "/pricing"}) + "\n")
    for kind, path in (("accounts", acc), ("contacts", con), ("touchpoints", touches)):
        r = invoke("import", kind, str(path), "--json")
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["created"] == 1
    r = invoke("timeline", "--email", "ANA@acme-rockets.com", "--json")
    assert r.exit_code == 0, r.output
    tl = json.loads(r.stdout)
    assert tl["stage"] == "mql" and [e["kind"] for e in tl["events"]] == ["stage", "touch"]
    r = invoke("timeline", "--account", str(tl["facts"]["account_id"]), "--json")
    acct = json.loads(r.stdout)
    assert acct["stage"] == "mql" and acct["events"][1]["title"].startswith("Ana: pricing request")
    r = invoke("timeline", "--contact", str(tl["id"]))
    assert r.exit_code == 0 and "entered → mql" in r.stdout


def test_a_rejected_import_exits_2_and_lists_row_errors(db_env, tmp_path):
    bad = tmp_path / "campaigns.csv"
    bad.write_text("external_id,name,channel,cost\nc1,Spring webinar,webinar,lots\nc2,,email,10\n")
    r = runner.invoke(app, ["import", "campaigns", str(bad)])
    assert r.exit_code == 2
    assert "2 invalid rows" in r.stderr and "row 1, column `cost`" in r.stderr and "row 2, column `name`" in r.stderr
    assert json.loads(invoke("stats", "--json").stdout)["counts"]["campaigns"] == 0


def test_skip_invalid_writes_a_rejects_file_next_to_the_input(db_env, tmp_path):
    bad = tmp_path / "campaigns.csv"
    bad.write_text("external_id,name,channel,cost\nc1,Spring webinar,webinar,100\nc2,Bad,email,lots\n")
    r = invoke("import", "campaigns", str(bad), "--skip-invalid")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "campaigns.csv.rejects.csv").read_text().count("\n") == 2


def test_timeline_needs_exactly_one_subject_and_unknown_ids_say_so(db_env):
    r = runner.invoke(app, ["timeline"])
    assert r.exit_code == 2 and "exactly one" in r.stderr
    r = runner.invoke(app, ["timeline", "--contact", "999"])
    assert r.exit_code == 2 and "No contact with id 999" in r.stderr


def test_users_add_list_and_token(db_env):
    r = invoke("users", "add", "cro@acme.test", "--role", "leader", "--name", "Casey Ro", "--password", "a-long-password")
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["users", "add", "cro@acme.test", "--role", "leader", "--password", "a-long-password"])
    assert r.exit_code == 2 and "already exists" in r.stderr
    r = runner.invoke(app, ["users", "add", "x@acme.test", "--role", "boss", "--password", "a-long-password"])
    assert r.exit_code == 2 and "Unknown role" in r.stderr
    r = runner.invoke(app, ["users", "add", "y@acme.test", "--role", "sdr", "--password", "short"])
    assert r.exit_code == 2 and "too short" in r.stderr
    users = json.loads(invoke("users", "list", "--json").stdout)
    assert [(u["email"], u["role"]) for u in users] == [("cro@acme.test", "leader")]
    r = runner.invoke(app, ["users", "token", "cro@acme.test", "--name", "website"])
    assert r.exit_code == 2 and "token_consent" in r.stderr  # a person creates their own tokens
    assert invoke("users", "add", "site@acme.test", "--role", "marketing", "--service").exit_code == 0
    r = invoke("users", "token", "site@acme.test", "--name", "website")
    assert r.exit_code == 0 and "rvt_" in r.stdout


def test_funnel_json_and_sql(db_env, tmp_path):
    con = tmp_path / "contacts.csv"
    con.write_text("email,stage,created_at\na@x.com,mql,2026-01-05\nb@x.com,lead,2026-01-06\n")
    assert invoke("import", "contacts", str(con)).exit_code == 0
    r = invoke("funnel", "--stages", "lead,mql", "--json", "--show-sql")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["conversion"] == [{"group": "all", "from_stage": "lead", "to_stage": "mql", "entered": 2, "converted": 1,
                                   "rate": 0.5}]
    assert "SELECT" in data["sql"]["funnel"]  # one statement answers the whole funnel
    r = runner.invoke(app, ["funnel", "--stages", "sql,mql"])
    assert r.exit_code == 2 and "lifecycle order" in r.stderr


def test_attribution_side_by_side_and_one_deal(db_env, tmp_path):
    (tmp_path / "c.csv").write_text("email,stage,created_at\nana@acme.com,lead,2026-01-01\n")
    (tmp_path / "t.csv").write_text("contact_email,type,channel,occurred_at\n"
                                    "ana@acme.com,ad_click,paid_search,2026-01-02\nana@acme.com,webinar_attended,webinar,2026-01-20\n")
    (tmp_path / "d.csv").write_text("external_id,name,amount,stage,outcome,created_on,closed_on,contacts\n"
                                    "d1,Acme,10000,won,won,2026-01-15,2026-02-01,ana@acme.com\n")
    for kind, f in (("contacts", "c.csv"), ("touchpoints", "t.csv"), ("deals", "d.csv")):
        assert invoke("import", kind, str(tmp_path / f)).exit_code == 0
    data = json.loads(invoke("attribution", "--json", "--show-sql").stdout)
    keys = {k["key"]: k for k in data["keys"]}
    assert keys["paid_search"]["first_touch"] == 10000 and keys["webinar"]["last_touch"] == 10000
    assert keys["paid_search"]["linear"] == keys["webinar"]["linear"] == 5000
    assert keys["webinar"]["influenced"] == 10000 and keys["paid_search"]["sourced"] == 10000
    assert any("touchpoints" in s for s in data["sql"])
    one = json.loads(invoke("attribution", "--deal", "1", "--model", "linear", "--json").stdout)
    assert [r["credit"] for r in one["rows"]] == [5000, 5000]
    r = runner.invoke(app, ["attribution", "--model", "coin_flip"])
    assert r.exit_code == 2 and "Unknown model" in r.stderr


def _many_pieces(db_env: str, n: int = 20) -> dict[str, int]:
    """Twenty content pieces, each read before one of twenty won deals (and a few lost ones): more keys than
    exact Shapley takes, so --model shapley at content grain is sampled."""
    from datetime import date, datetime, timedelta, timezone

    from revteam.runtime import build_runtime
    from tests.factories import make_account, make_contact, make_content, make_deal, make_touch

    rt = build_runtime()
    with rt.sessions() as s:
        pieces = [make_content(s, title=f"Guide {i}") for i in range(n)]
        for i in range(n + 5):
            acc = make_account(s, name=f"Account {i}")
            c = make_contact(s, account_id=acc.id)
            t0 = datetime(2026, 1, 1, 10, tzinfo=timezone.utc) + timedelta(days=i)
            for k in range(3):
                make_touch(s, c, type="content_download", at=t0 + timedelta(days=k), channel="email",
                           content_id=pieces[(i + k * 7) % n].id)
            make_deal(s, acc, amount=str(1000 * (i + 1)), outcome="won" if i < n else "lost", contacts=[c],
                      created_on=date(2026, 1, 10) + timedelta(days=i), closed_on=date(2026, 3, 1) + timedelta(days=i))
        s.commit()
        ids = {p.title: p.id for p in pieces}
    rt.engine.dispose()
    return ids


def test_sampled_shapley_at_content_grain_is_reproducible_with_a_seed(db_env, monkeypatch):
    from revteam.config import get_settings

    _many_pieces(db_env)
    args = ("attribution", "--grain", "content", "--model", "shapley", "--json")
    first = json.loads(invoke(*args).stdout)
    again = json.loads(invoke(*args).stdout)
    other = json.loads(invoke(*args, "--seed", "3").stdout)
    assert first["seed"] == get_settings().analytics_seed == 0 and len(first["keys"]) == 20  # the pages' seed
    assert first["keys"] == again["keys"]
    assert [k["shapley"] for k in first["keys"]] != [k["shapley"] for k in other["keys"]]
    assert sum(k["shapley"] for k in first["keys"]) == pytest.approx(sum(range(1000, 21000, 1000)))
    monkeypatch.setenv("REVTEAM_ANALYTICS_SEED", "3")  # the one seed setting: --seed overrides it, nothing else does
    get_settings.cache_clear()
    assert json.loads(invoke(*args).stdout)["keys"] == other["keys"]


def test_content_roi_credits_every_model_and_shows_its_sql(db_env):
    ids = _many_pieces(db_env)
    r = invoke("content-roi", "--json", "--show-sql")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    by_title = {p["title"]: p for p in data["pieces"]}
    assert set(by_title["Guide 0"]["credited"]) == set(data["models"]) and "shapley" in data["models"]
    # linear: every won deal's 3 touches get a third; all credit lands on pieces (no touch without one)
    assert sum(p["credited"]["linear"] for p in data["pieces"]) == pytest.approx(sum(range(1000, 21000, 1000)))
    assert "SELECT" in data["sql"]["pieces"] and any("FROM touchpoints" in s for s in data["sql"]["credited"])
    assert "top_by_month" in data["sql"]
    r = invoke("content-roi", "--model", "linear", "--show-sql", "--limit", "3")
    assert r.exit_code == 0, r.output
    assert "Linear" in r.stdout and "read the attribution journeys" in r.stdout
    r = invoke("attribution", "--grain", "content", "--show-sql", "--limit", "3")
    assert r.exit_code == 0 and "FROM deal_contacts" in r.stdout
    # every won deal closed in March 2026 and touched three guides, each read counting the deal in full
    revenue = {n: 0.0 for n in range(20)}
    for i in range(20):
        for n in {(i + k * 7) % 20 for k in range(3)}:
            revenue[n] += 1000 * (i + 1)
    top = sorted(revenue, key=lambda n: (-revenue[n], ids[f"Guide {n}"]))[:5]
    march = data["top_by_month"]
    assert [(m["month"][:7], m["rank"], m["title"], m["won_revenue"]) for m in march] == [
        ("2026-03", k + 1, f"Guide {n}", revenue[n]) for k, n in enumerate(top)]
    assert set(march[0]["credited"]) == set(data["models"])
    r = invoke("content-roi", "--limit", "1", "--months", "1")
    assert "Top 5 by revenue each month" in r.stdout and f"Guide {top[4]}" in r.stdout
    r = runner.invoke(app, ["content-roi", "--model", "coin_flip"])
    assert r.exit_code == 2 and "Unknown model" in r.stderr
    assert str(ids["Guide 0"]) in {str(p["content_id"]) for p in data["pieces"]}


def test_attribution_of_conversions_to_a_stage(db_env):
    """Ana (email 5 Jan, paid search 8 Jan) becomes an MQL on 10 January; Ben (email 6 Jan) never does; Dan
    becomes one on 12 January with no touch at all: listed, not credited."""
    from datetime import datetime, timedelta, timezone

    from revteam.runtime import build_runtime
    from revteam.store.models import StageChange
    from tests.factories import make_contact, make_touch

    def at(day: int) -> datetime:
        return datetime(2026, 1, day, 10, tzinfo=timezone.utc)

    rt = build_runtime()
    with rt.sessions() as s:
        ana, ben, dan = (make_contact(s, first_name=n) for n in ("Ana", "Ben", "Dan"))
        make_touch(s, ana, at=at(5), channel="email")
        make_touch(s, ana, at=at(8), channel="paid_search")
        make_touch(s, ben, at=at(6), channel="email")
        for who, day in ((ana, 10), (dan, 12)):
            s.add(StageChange(contact_id=who.id, to_stage="mql", changed_at=at(day), actor_rule="test"))
        s.commit()
        dan_id = dan.id
    rt.engine.dispose()
    r = invoke("attribution", "--stage", "mql", "--start", "2026-01-01", "--end", "2026-01-31", "--json", "--show-sql")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["credit"], data["stage"], data["start"], data["end"]) == ("conversions", "mql", "2026-01-01",
                                                                          "2026-01-31")
    assert (data["conversions"], data["non_converting"]) == (1, 1)
    assert [u["id"] for u in data["unattributed"]] == [dan_id] and "no touch in the 365 days" in data["unattributed"][0]["reason"]
    keys = {k["key"]: k for k in data["keys"]}
    assert (keys["email"]["linear"], keys["paid_search"]["linear"]) == (0.5, 0.5)
    assert (keys["email"]["first_touch"], keys["paid_search"]["last_touch"]) == (1.0, 1.0)
    assert "sourced" not in keys["email"]  # a conversion has no amount to source
    assert any("FROM touchpoints" in q for q in data["sql"]) and any("FROM stage_changes" in q for q in data["sql"])
    r = invoke("attribution", "--stage", "mql", "--model", "linear", "--start", "2026-01-01", "--end", "2026-01-31")
    assert r.exit_code == 0 and "Conversions to mql by channel, 2026-01-01 to 2026-01-31" in r.stdout
    out = " ".join(r.stdout.split())
    assert "conversions credited: 1 ·" in out and "conversions with no touch to credit: 1" in out
    # the default period: the 90 days up to today (nothing converted then)
    today = datetime.now(timezone.utc).date()
    data = json.loads(invoke("attribution", "--stage", "mql", "--json").stdout)
    assert (data["start"], data["end"]) == (str(today - timedelta(days=89)), str(today)) and data["conversions"] == 0
    assert json.loads(invoke("attribution", "--json").stdout)["credit"] == "won_revenue"



@pytest.mark.parametrize("args,message", [
    (("--stage", "recycled"), "'recycled' is a side state"),
    (("--stage", "won"), "Unknown stage 'won'"),
    (("--stage", "mql", "--deal", "1"), "leave out --stage"),
    (("--stage", "mql", "--start", "2026-02-01", "--end", "2026-01-01"), "The period ends (2026-01-01) before it starts"),
    (("--start", "2026-02-01", "--end", "2026-01-01"), "before it starts"),
    (("--stage", "mql", "--grain", "persona"), "Unknown grain"),
])
def test_bad_attribution_questions_exit_2_with_the_message(db_env, args, message):
    invoke("init")
    r = runner.invoke(app, ["attribution", *args])
    assert r.exit_code == 2 and message in " ".join(r.stderr.split())


@pytest.mark.parametrize("args,option", [
    (["attribution", "--seed", "-1"], "--seed"),
    (["content-roi", "--seed", "-5"], "--seed"),
    (["content-roi", "--months", "0"], "--months"),
    (["forecast", "--seed", "-1"], "--seed"),
])
def test_negative_seeds_and_no_months_are_refused_with_the_option_named(db_env, args, option):
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and option in r.output and "Traceback" not in r.output


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request, db_env, monkeypatch):
    """The CLI on SQLite (``db_env``) and on the test PostgreSQL database, freshly initialised."""
    if request.param == "postgres":
        from revteam.config import get_settings
        from tests.conftest import POSTGRES_URL, _reset_postgres

        _reset_postgres(request.getfixturevalue("postgres_engine"))
        monkeypatch.setenv("REVTEAM_DATABASE_URL", POSTGRES_URL)
        get_settings.cache_clear()
    invoke("init")
    return request.param


@pytest.mark.parametrize("args,option", [
    (["funnel", "--start", "0001-01-01"], "--start"),
    (["funnel", "--end", "9999-12-31"], "--end"),
    (["attribution", "--stage", "mql", "--start", "0001-01-01", "--end", "9999-12-31"], "--start"),
    (["forecast", "--as-of", "9999-12-31"], "--as-of"),
    (["forecast", "--as-of", "0001-01-01"], "--as-of"),
])
def test_a_day_outside_the_reported_years_exits_2_with_the_message(any_db, args, option):
    r = runner.invoke(app, args)
    said = " ".join(r.output.split())
    assert r.exit_code == 2 and f"{option} '" in said and "outside the years 1900-2199" in said, r.output
    assert "Traceback" not in r.output
