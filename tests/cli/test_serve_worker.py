"""`revteam serve` runs the worker in the same process unless told not to."""

import threading

from revteam.cli import serve
from revteam.config import get_settings
from revteam.delivery.worker import DeliveryReport
from revteam.services.handoff.sla_clock import TickReport


def _round(ticked):
    def run_round(*args, **kwargs):
        ticked.set()
        return TickReport(), DeliveryReport()

    return run_round


def test_serve_runs_the_worker_until_the_server_stops(db_env, monkeypatch):
    ticked = threading.Event()
    monkeypatch.setattr("revteam.services.notify.worker_loop.run_round", _round(ticked))
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: ticked.wait(10))
    serve.run_server(get_settings())
    assert ticked.is_set()
    assert not any(t.name == "revteam-worker" and t.is_alive() for t in threading.enumerate())


def test_the_worker_can_be_left_to_a_separate_process(db_env, monkeypatch):
    monkeypatch.setenv("REVTEAM_RUN_WORKER_IN_SERVE", "false")
    get_settings.cache_clear()
    ran = threading.Event()
    monkeypatch.setattr("revteam.services.notify.worker_loop.run_round", _round(ran))
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    serve.run_server(get_settings())
    assert not ran.is_set()
