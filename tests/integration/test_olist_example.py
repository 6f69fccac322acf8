"""The Olist example (examples/olist) on the real Olist marketing-funnel data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.datasets
ROOT = Path(__file__).resolve().parents[2]


def test_olist_import_gives_8000_contacts_842_customers_with_warnings_and_is_idempotent(datasets, tmp_path):
    data = datasets / "olist_marketing_funnel"
    env = {**os.environ, "REVTEAM_DATABASE_URL": f"sqlite:///{tmp_path / 'olist.db'}",
           "REVTEAM_BIN": shutil.which("revteam", path=str(Path(sys.executable).parent)) or "revteam"}

    def run() -> str:
        out = subprocess.run(["bash", str(ROOT / "examples/olist/import.sh"), str(data)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout + out.stderr

    def stats() -> dict:
        import json

        out = subprocess.run([env["REVTEAM_BIN"], "stats", "--json"], env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    first = run()
    s = stats()
    assert s["counts"]["contacts"] == 8000  # every MQL, none dropped
    assert s["contacts_by_stage"]["customer"] == 842  # every closed deal's lead
    assert s["contacts_by_stage"]["mql"] == 8000 - 842
    assert s["counts"]["deals"] == 842 and s["deals_by_outcome"]["won"] == 842
    assert s["counts"]["touchpoints"] == 8000  # one first-contact touch per MQL
    # the 60 MQLs without origin and the one deal won before its lead's first contact are warnings
    assert first.count("the MQL has no origin") >= 20 and "60 warning(s)" in first
    assert "before its contact" in first and "1 warning(s)" in first
    run()
    assert stats() == s  # a second run changes no count
