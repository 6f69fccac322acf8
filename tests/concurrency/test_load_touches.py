"""The load benchmark in short (``benchmarks/load_touches.py``): 10 seconds at 200 touch events a second
from 8 clients, with repeats and Idempotency-Key retries, against uvicorn on loopback, on SQLite and
PostgreSQL. It holds when every distinct event sent is stored once (sent = stored = created), no answer
is a 5xx or another error, no reaction is left owed and no lead has two open handoffs. No timing is
asserted: the latencies are printed, not checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.concurrency.conftest import load_benchmark


@pytest.mark.load
def test_ten_seconds_of_touches_lose_nothing_and_answer_no_5xx(engine: Engine, tmp_path: Path) -> None:
    bench = load_benchmark()
    if engine.dialect.name == "postgresql":
        name, url = "PostgreSQL", engine.url.render_as_string(hide_password=False)
    else:
        name, url = "SQLite", f"sqlite:///{tmp_path / 'load.db'}"
    result = bench.measure(name, url, rate=200, seconds=10, clients=8, batch=20)
    print("\n" + bench.table([result]))
    assert result.tally.requests > 0 and result.stored > 0
    assert result.tally.server_errors == 0, bench.table([result])
    assert result.tally.other_errors == [], result.tally.other_errors[:5]
    assert len(result.tally.sent_ids) == result.stored == result.tally.created, bench.table([result])
    assert result.tally.unchanged > 0 and result.tally.replayed > 0  # the repeats were really sent
    assert (result.owed, result.double_open) == (0, 0)
