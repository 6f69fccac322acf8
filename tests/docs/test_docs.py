"""Docs travel with code: settings are documented, generated docs are current."""

import re
import subprocess
import sys
from pathlib import Path

from revteam.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_has_a_heading_in_docs_settings():
    text = (ROOT / "docs/settings.md").read_text()
    headings = set(re.findall(r"^## `REVTEAM_([A-Z_]+)`", text, re.M))
    for name, field in Settings.model_fields.items():
        assert name.upper() in headings, f"REVTEAM_{name.upper()} is not documented in docs/settings.md"
        assert field.description, f"setting {name} has no description"


def test_generated_docs_are_current():
    r = subprocess.run([sys.executable, str(ROOT / "scripts/gen_docs.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
