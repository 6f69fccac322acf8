"""``revteam privacy export|erase|lift|reapply|tombstones export``: a person's data on request, kept erased.

A person is named by e-mail, by ``--contact-id`` or by ``--external-id`` (with ``--source``), so people
without an e-mail can be handled too. Example::

    revteam privacy erase ana@acme-rockets.com --yes
    revteam privacy erase --source hubspot --external-id 901 --yes
    revteam privacy reapply /srv/revteam-privacy/ledger.jsonl      # after restoring a backup
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from revteam.cli.common import console, print_json, runtime, translate_errors
from revteam.runtime import Runtime

app = typer.Typer(help="Personal data: export what is held about a person, erase it, keep it erased.",
                  no_args_is_help=True)
tombstones_app = typer.Typer(help="The hashed identities kept for erased people.", no_args_is_help=True)
app.add_typer(tombstones_app, name="tombstones")

EmailArg = typer.Argument(None, help="The person's e-mail address (any +tag finds the same person).")
ContactIdOpt = typer.Option(None, "--contact-id", help="The person's contact id (people without an e-mail).")
SourceOpt = typer.Option(None, "--source", help="The source system of --external-id (crm, hubspot, ...).")
ExternalIdOpt = typer.Option(None, "--external-id", help="The person's id in the source system.")
LedgerArg = typer.Argument(..., help="A tombstone file (`tombstones export`) or the privacy ledger.")
ExportArg = typer.Argument(..., help="File to write (keep it apart from database backups).")


def _ledger(rt: Runtime) -> Path | None:
    return Path(rt.settings.privacy_ledger) if rt.settings.privacy_ledger else None


@app.command("export")
@translate_errors
def export(email: str | None = EmailArg, contact_id: int | None = ContactIdOpt, source: str | None = SourceOpt,
           external_id: str | None = ExternalIdOpt) -> None:
    """Print everything held about a person as JSON: contact, touches, deals, handoffs, disputes, messages, logs."""
    from revteam.services.people.privacy import export_person

    with runtime() as rt, rt.sessions() as s:
        print_json(export_person(s, email, contact_id=contact_id, source_system=source, external_id=external_id))


@app.command("erase")
@translate_errors
def erase(email: str | None = EmailArg, contact_id: int | None = ContactIdOpt, source: str | None = SourceOpt,
          external_id: str | None = ExternalIdOpt,
          yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Erase what identifies a person everywhere; their touches keep counting, anonymously."""
    from revteam.services.people.privacy import erase_person

    who = email or (f"contact {contact_id}" if contact_id is not None else f"{source or '*'}:{external_id}")
    if not yes:
        typer.confirm(f"Erase {who}? This cannot be undone", abort=True)
    with runtime() as rt, rt.sessions() as s:
        ids = erase_person(s, email, contact_id=contact_id, source_system=source, external_id=external_id,
                           now=datetime.now(UTC), actor="cli", ledger=_ledger(rt))
    records = "1 contact record" if len(ids) == 1 else f"{len(ids)} contact records"
    label = "contact id" if len(ids) == 1 else "contact ids"
    console.print(f"Erased {records} of this person ({label} {', '.join(map(str, ids))}). Only hashes of their "
                  "identity are kept, to stop re-imports.", highlight=False)


@app.command("lift")
@translate_errors
def lift(email: str | None = typer.Option(None, "--email", help="The e-mail address whose erasure is lifted."),
         source: str | None = SourceOpt, external_id: str | None = ExternalIdOpt,
         reason: str = typer.Option(..., "--reason", help="Why (kept in the audit log).")) -> None:
    """Let an erased person be imported again (they came back and asked); recorded in the audit log."""
    from revteam.services.people.privacy import lift_erasure

    with runtime() as rt, rt.sessions() as s:
        n = lift_erasure(s, email=email, source_system=source, external_id=external_id, reason=reason,
                         now=datetime.now(UTC), actor="cli", ledger=_ledger(rt))
    console.print(f"Lifted {n} tombstone(s); the person may be imported again.")


@app.command("reapply")
@translate_errors
def reapply(path: Path = LedgerArg) -> None:
    """After restoring a backup: put the tombstones back and erase again everyone they match."""
    from revteam.services.people.privacy import reapply_tombstones

    with runtime() as rt, rt.sessions() as s:
        done = reapply_tombstones(s, path, now=datetime.now(UTC), actor="cli")
    console.print(f"{done.tombstones_added} tombstone(s) restored; {len(done.contacts_erased)} contact(s) erased again.")


@tombstones_app.command("export")
@translate_errors
def tombstones_export(path: Path = ExportArg) -> None:
    """Write every tombstone (hashes only) to a file, one JSON line each, for `revteam privacy reapply`."""
    from revteam.services.people.privacy import export_tombstones

    with runtime() as rt, rt.sessions() as s:
        n = export_tombstones(s, path)
    console.print(f"Wrote {n} tombstone(s) to {path}.", highlight=False)
