"""``revteam score | worker | handoff ...``: scoring, the worker, and the handoff reports."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.table import Table

from revteam.cli.common import JsonOption, console, print_json, runtime, translate_errors

app = typer.Typer(help="Handoff reports: unworked leads, SLA compliance, campaign follow-up, rejections.",
                  no_args_is_help=True)
scoring_app = typer.Typer(help="The scoring model: export, save a new version, preview a change.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@translate_errors
def score_command(
    no_handoff: bool = typer.Option(False, "--no-handoff", help="Only store scores; do not hand over new MQLs."),
    batch: int = typer.Option(20_000, "--batch", min=1, help="Contacts scored and kept per transaction."),
    json_: bool = JsonOption,
) -> None:
    """Rescore every contact with the model in force and hand over those who now qualify.

    Contacts are scored in batches, each kept as soon as it is done; an interrupted run keeps its batches."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from revteam.cli.common import err_console
    from revteam.services.qualify.rescoring import rescore_everyone

    with runtime() as rt, rt.sessions() as s, Progress(
        TextColumn("scoring contacts"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
    ) as bar:
        task = bar.add_task("score", total=None)
        run = rescore_everyone(s, now=_now(), hand_over=not no_handoff, batch_size=batch,
                               progress=lambda done, total: bar.update(task, completed=done, total=max(total, 1)))
    data = {"scored": run.scored, "new_mqls": run.new_mqls, "handoffs": run.handoffs}
    if json_:
        print_json(data)
    else:
        console.print(f"Scored {run.scored:,} contacts; {run.new_mqls:,} new MQL(s) handed over.")


@translate_errors
def worker_command(once: bool = typer.Option(False, "--once", help="Run one round and exit.")) -> None:
    """Tick SLA clocks (escalations, digests, reviews) and deliver queued notifications, every interval."""
    from revteam.services.notify.worker_loop import run_forever, run_round

    with runtime() as rt:
        if once:
            t, d = run_round(rt.sessions, rt.settings, now=_now())
            console.print(f"escalations {t.escalations}, returned {t.returned}, digests {t.digests}, reviews {t.reviews}; "
                          f"sent {d.sent}, retried {d.retried}, failed {d.failed}")
            return
        stop = threading.Event()
        console.print(f"worker running every {rt.settings.worker_interval_seconds:g}s (Ctrl-C stops)")
        try:
            run_forever(rt.sessions, rt.settings, stop=stop)
        except KeyboardInterrupt:
            stop.set()


def _table(rows: list[dict], title: str) -> None:
    if not rows:
        console.print(f"{title}: nothing to show")
        return
    t = Table(title=title)
    for col in rows[0]:
        t.add_column(str(col))
    for r in rows:
        t.add_row(*("" if v is None else f"{v:.0%}" if isinstance(v, float) and k.startswith("share") else
                    f"{v:,.1f}" if isinstance(v, float) else str(v) for k, v in r.items()))
    console.print(t)


@app.command("unworked")
@translate_errors
def unworked(days: int = typer.Option(7, help="Handoffs of the last N days."), json_: bool = JsonOption) -> None:
    """Leads handed over with no sales touch yet, per rep."""
    from revteam.analytics.report_questions import Unworked

    question = Unworked(now=_now(), days=days)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict())
        return
    for r in answer.rows:
        console.print(("[red]" if r.unworked else "") + r.sentence.capitalize())


@app.command("compliance")
@translate_errors
def compliance_cmd(days: int = typer.Option(30), by: str = typer.Option("rep", help="rep or team"),
                   json_: bool = JsonOption) -> None:
    """SLA compliance: share of handoffs worked in time and median response, per rep or team."""
    from revteam.analytics.report_questions import SlaCompliance

    question = SlaCompliance(now=_now(), days=days, by=by)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict())
        return
    _table(answer.rows, f"Sales against the SLA, last {days} days")
    if answer.delivery:
        _table([{"commitment": k, **v} for k, v in answer.delivery.items()], "Marketing against the SLA, this month")


@app.command("followup")
@translate_errors
def followup(campaign_id: int = typer.Argument(..., help="Campaign id."), json_: bool = JsonOption) -> None:
    """What happened to everyone a campaign or event touched."""
    from revteam.analytics.report_questions import CampaignFollowup

    question = CampaignFollowup(campaign_id)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict())
        return
    f = answer.report
    console.print(f"[bold]{f.name}[/]: {f.people} people, {f.contacted} contacted by sales afterwards; "
                  + ", ".join(f"{k} {v}" for k, v in f.reached.items())
                  + f"; pipeline {f.pipeline:,.0f}, revenue {f.revenue:,.0f}")


@app.command("rejections")
@translate_errors
def rejections(by: str = typer.Option("source", help="source, campaign, reason or rep"), days: int = typer.Option(90),
               json_: bool = JsonOption) -> None:
    """Rejection rates of handed-over leads."""
    from revteam.analytics.report_questions import Rejections

    question = Rejections(now=_now(), days=days, by=by)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict())
    else:
        _table([{k: v for k, v in r.items() if k not in ("key", "flag")} for r in answer.rows],
               f"Rejections by {by}, last {days} days")


@scoring_app.command("export")
@translate_errors
def scoring_export() -> None:
    """Print the scoring model in force as TOML."""
    from revteam.domain.scoring import model_to_toml
    from revteam.services.qualify.scoring import active_model

    with runtime() as rt, rt.sessions() as s:
        typer.echo(model_to_toml(active_model(s)))


@scoring_app.command("save")
@translate_errors
def scoring_save(file: Path = typer.Argument(..., help="A scoring model TOML file."),
                 note: str = typer.Option("", help="Why it changed.")) -> None:
    """Save a scoring model as the new version in force."""
    from revteam.services.qualify.scoring import save_model

    with runtime() as rt, rt.sessions() as s:
        m = save_model(s, file.read_text(encoding="utf-8"), by=None, now=_now(), note=note or None)
    console.print(f"Saved scoring model version {m.version}.")


@scoring_app.command("preview")
@translate_errors
def scoring_preview(file: Path = typer.Argument(..., help="A proposed scoring model TOML file."),
                    days: int = typer.Option(30, help="Contacts active in the last N days."), json_: bool = JsonOption) -> None:
    """How many recently active contacts would be over the MQL line under a proposed model, per source."""
    from revteam.domain.scoring import model_from_toml
    from revteam.services.qualify.scoring import preview_model_change

    with runtime() as rt, rt.sessions() as s:
        rows = preview_model_change(s, model_from_toml(file.read_text(encoding="utf-8")), now=_now(), days=days)
    data = [{"source": r.source, "active": r.active_contacts, "mql_now": r.mql_now, "mql_proposed": r.mql_proposed,
             "change": r.change} for r in rows]
    if json_:
        print_json(data)
    else:
        _table(data, f"MQLs among contacts active in the last {days} days")


@scoring_app.command("x-education")
@translate_errors
def scoring_x_education(
    file: Path = typer.Argument(..., help="Leads.csv of the X Education dataset."),
    with_leaks: bool = typer.Option(False, "--with-leaks", help="Also use fields sales fills in (to show the leak)."),
    json_: bool = JsonOption,
) -> None:
    """Train and evaluate the predictive scorer on X Education (time-ordered split by Lead Number)."""
    from revteam.learning.xeducation import run

    with console.status("training and evaluating…"):
        report = run(file, with_leaks=with_leaks)
    if json_:
        print_json(report)
        return
    console.print(f"test leads {report['leads']:,} (trained on {report['train_leads']:,} older leads, "
                  f"{report['features']} features)")
    console.print(f"AUC {report['auc']:.3f}; top-decile conversion {report['top_decile_rate']:.1%} vs base "
                  f"{report['base_rate']:.1%} → lift {report['top_decile_lift']:.2f}; Brier {report['brier']:.3f}")
    _table([{"predicted": r["bin"], "leads": r["leads"], "mean predicted": f"{r['mean_predicted']:.2f}",
             "observed": f"{r['observed']:.2f}"} for r in report["calibration"]], "Calibration")
