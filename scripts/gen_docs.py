"""Regenerate the docs that are derived from code: docs/cli.md (from --help) and docs/import-formats.md
(from the import schemas and presets). `python scripts/gen_docs.py --check` fails when they are stale
(run by tests/docs/test_docs.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = [[], ["init"], ["serve"], ["demo"], ["import"], ["users"], ["users", "add"], ["users", "list"],
            ["users", "token"], ["timeline"], ["stats"]]


def cli_md() -> str:
    os.environ["COLUMNS"] = "100"
    os.environ["TERM"] = "dumb"
    os.environ["NO_COLOR"] = "1"
    from typer.testing import CliRunner

    from revteam.cli.main import app

    runner = CliRunner()
    out = ["# CLI reference", "", "Generated from `--help` by `python scripts/gen_docs.py`; a test fails when it is stale.", ""]
    for cmd in COMMANDS:
        r = runner.invoke(app, [*cmd, "--help"], prog_name="revteam", env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"})
        title = "revteam " + " ".join(cmd) if cmd else "revteam"
        text = "\n".join(line.rstrip() for line in r.output.strip("\n").splitlines())
        out += [f"## `{title}`", "", "```", text, "```", ""]
    return "\n".join(out)


def formats_md() -> str:
    from revteam.ingest.mapping import PRESET_DIR, load_mapping, presets
    from revteam.ingest.schemas import KIND_SPECS

    out = ["# Import file formats", "",
           "Generated from `src/revteam/ingest/schemas.py` by `python scripts/gen_docs.py`. Column names are the",
           "revteam field names; a mapping (`--mapping`) renames a source system's columns to them. Guarantees and",
           "examples are in [importing.md](importing.md).", ""]
    for kind, spec in KIND_SPECS.items():
        out += [f"## `{kind}`", "", spec.summary, ""]
        if spec.one_of:
            out += ["Each row needs " + "; ".join(" or ".join(f"`{g}`" for g in grp) for grp in spec.one_of) + ".", ""]
        out += ["| column | type | required | notes |", "|---|---|---|---|"]
        for f in spec.fields:
            t = f.type + (f" ({', '.join(f.choices)})" if f.choices else "") + (f", ≤ {f.max_length} chars" if f.max_length else "")
            notes = f.help + (f" Minimum {f.minimum:g}." if f.minimum is not None else "")
            out.append(f"| `{f.name}` | {t} | {'yes' if f.required else ''} | {notes.strip()} |")
        out.append("")
    out += ["## Presets", ""]
    for name in presets():
        m = load_mapping(name)
        out += [f"### `{name}` ({m.kind})", "", m.description + f" Source system: `{m.source_system}`.", "",
                "| source column | revteam field |", "|---|---|"]
        out += [f"| {col} | {', '.join(f'`{t}`' for t in ts)} |" for col, ts in m.columns.items()]
        out += ["", f"Full mapping: `src/revteam/ingest/presets/{name.replace('-', '_')}.toml`.", ""]
    assert PRESET_DIR.exists()
    return "\n".join(out)


FILES = {"docs/cli.md": cli_md, "docs/import-formats.md": formats_md}


def main(check: bool) -> int:
    stale = []
    for rel, make in FILES.items():
        text = make().rstrip() + "\n"
        path = ROOT / rel
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.write_text(text)
    if stale:
        print("stale generated docs: " + ", ".join(stale) + "; run python scripts/gen_docs.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
