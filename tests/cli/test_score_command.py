"""``revteam score``: every contact rescored in batches, each batch kept as soon as it is done."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from typer.testing import CliRunner

from revteam.cli.main import app
from revteam.runtime import build_runtime
from revteam.store.models import ContactScore, Handoff
from tests.factories import make_account, make_contact, make_touch

runner = CliRunner()


def test_score_rescores_everyone_in_batches_and_hands_over_new_mqls(db_env):
    rt = build_runtime()
    now = datetime.now(timezone.utc)
    with rt.sessions() as s:
        acme = make_account(s, name="Initech", industry="software", employees=400)
        for i in range(5):
            c = make_contact(s, email=f"p{i}@initech.com", title="VP Engineering", account_id=acme.id)
            if i < 2:
                make_touch(s, c, type="demo_request", at=now - timedelta(hours=1))
        s.commit()
    r = runner.invoke(app, ["score", "--batch", "2", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["scored"], data["new_mqls"], len(data["handoffs"])) == (5, 2, 2)
    assert "scoring contacts" in r.stderr and "5/5" in r.stderr  # the progress bar, on stderr
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ContactScore)) == 5
        assert s.scalar(select(func.count()).select_from(Handoff)) == 2
    again = json.loads(runner.invoke(app, ["score", "--json", "--no-handoff"]).stdout)
    assert (again["scored"], again["new_mqls"]) == (5, 0)
    rt.engine.dispose()
