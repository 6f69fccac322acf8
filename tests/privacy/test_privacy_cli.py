"""``revteam privacy``: people named by e-mail, contact id or external id; clear errors for bad input."""

import json

from typer.testing import CliRunner

from revteam.cli.main import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _seed(tmp_path):
    con = tmp_path / "contacts.csv"
    con.write_text("external_id,first_name,last_name\nC-7,Ines,Vantongeren\n")
    assert invoke("import", "contacts", str(con), "--source", "crm").exit_code == 0


def test_a_person_without_email_is_exported_erased_and_kept_erased(db_env, tmp_path):
    _seed(tmp_path)
    r = invoke("privacy", "export", "--source", "crm", "--external-id", "C-7")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["contacts"][0]["contact"]["last_name"] == "Vantongeren"
    r = invoke("privacy", "erase", "--source", "crm", "--external-id", "C-7", "--yes")
    assert r.exit_code == 0 and "Erased 1 contact record of this person (contact id 1)." in " ".join(r.output.split())
    con = tmp_path / "contacts.csv"
    r = invoke("import", "contacts", str(con), "--source", "crm")
    assert r.exit_code == 2 and "the crm external id belongs to a person who asked to be erased" in " ".join(r.output.split())
    out = tmp_path / "tombstones.jsonl"
    assert invoke("privacy", "tombstones", "export", str(out)).exit_code == 0
    assert "C-7" not in out.read_text() and len(out.read_text().splitlines()) == 1
    r = invoke("privacy", "lift", "--source", "crm", "--external-id", "C-7", "--reason", "re-signed the form")
    assert r.exit_code == 0 and "Lifted 1" in r.output
    assert invoke("import", "contacts", str(con), "--source", "crm").exit_code == 0


def test_bad_requests_exit_2_with_a_message(db_env, tmp_path):
    _seed(tmp_path)
    for args, message in ((["privacy", "export"], "Name the person one way"),
                          (["privacy", "export", "nobody@x.io"], "No contact with e-mail"),
                          (["privacy", "erase", "not-an-email", "--yes"], "not an e-mail address"),
                          (["privacy", "erase", "--contact-id", "999", "--yes"], "No contact with id 999"),
                          (["privacy", "lift", "--external-id", "C-7", "--reason", "x"], "which system"),
                          (["privacy", "lift", "--email", "x@y.io", "--reason", "x"], "No erasure"),
                          (["privacy", "reapply", str(tmp_path / "missing.jsonl")], "No tombstone file")):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert message in " ".join(r.output.split()), (args, r.output)
