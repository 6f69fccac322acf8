"""``revteam import KIND FILE``: bring records in from CSV or JSON lines, all-or-nothing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from revteam.cli.common import JsonOption, console, err_console, print_json, runtime, translate_errors
from revteam.ingest.mapping import load_mapping, presets
from revteam.ingest.schemas import KINDS
from revteam.ingest.service import run_import


@translate_errors
def import_command(
    kind: str = typer.Argument(..., help=f"What the file holds: {', '.join(KINDS)}."),
    file: Path = typer.Argument(..., help="A .csv file with a header row, or a .jsonl file (one JSON object per line)."),
    mapping: str = typer.Option(
        None, "--mapping", "-m", help=f"A mapping TOML file, or a preset: {', '.join(presets())}."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count everything, write nothing."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Write the valid rows; put the invalid ones in a rejects file."
    ),
    rejects: Path = typer.Option(None, "--rejects", help="Where --skip-invalid writes rejected rows (default FILE.rejects.csv)."),
    source: str = typer.Option(None, "--source", help="Source system the external ids belong to (default: the mapping's, else 'import')."),
    fmt: str = typer.Option(None, "--format", help="csv or jsonl, when the extension does not say."),
    json_: bool = JsonOption,
) -> None:
    """Import accounts, contacts, touchpoints, campaigns, content, deals or stage changes.

    Nothing is written unless every row is valid (or --skip-invalid). Re-importing a file changes nothing.
    """
    loaded = load_mapping(mapping) if mapping else None
    rejects_path = rejects or (file.with_name(file.name + ".rejects.csv") if skip_invalid else None)
    with runtime() as rt:
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err_console, transient=True, disable=json_) as bar:
            task = bar.add_task(f"importing {kind}", total=None)
            report = run_import(
                rt.sessions,
                kind,
                file,
                now=datetime.now(timezone.utc),
                actor="cli",
                mapping=loaded,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                rejects_path=rejects_path,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
                fmt=fmt,
                source_system=source,
            )
    if json_:
        print_json(report.to_dict())
        return
    verb = {"dry_run": "Dry run (nothing written)", "partial": "Imported the valid rows", "written": "Imported"}[report.status]
    t = Table(title=f"{verb}: {report.filename} ({kind})")
    for col in ("rows", "created", "updated", "unchanged", "rejected"):
        t.add_column(col, justify="right")
    t.add_row(*(f"{getattr(report, c):,}" for c in ("rows", "created", "updated", "unchanged", "rejected")))
    console.print(t)
    if report.warnings:
        console.print(f"[yellow]{len(report.warnings)} warning(s)[/] (rows kept):")
        for w in report.warnings[:20]:
            console.print(f"  {w}", markup=False, highlight=False)
        if len(report.warnings) > 20:
            console.print(f"  ... and {len(report.warnings) - 20} more (see --json)")
    if report.errors:
        console.print(f"[red]{report.rejected} row(s) rejected[/]; written to {report.rejects_file}:")
        for e in report.errors[:20]:
            console.print(f"  {e}", markup=False, highlight=False)
