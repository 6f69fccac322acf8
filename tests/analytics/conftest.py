"""One analytics suite, every engine: DuckDB always; Spark in local mode, and Spark on a real standalone
cluster started on this machine (``cluster.py``), when pyspark and Java are here; both Spark tiers are
required in CI through REVTEAM_REQUIRE_TIERS (``spark``, ``spark_cluster``)."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from revteam.analytics.engines import stop_spark
from revteam.analytics.runner import Analytics
from revteam.config import get_settings
from revteam.ingest.mapping import load_mapping
from revteam.ingest.service import run_import
from revteam.store.db import make_engine, make_session_factory, upgrade_to_head
from revteam.services.record.lifecycle import seed_default_stages
from tests.analytics import cluster
from tests.conftest import DATASETS, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 16, tzinfo=timezone.utc)
DEMO_NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)  # tests.conftest.NOW: a Monday afternoon


def cases(engine_name: str, every: list, spark: list) -> list:
    """The cases an equality test walks: ``every`` one on DuckDB, the representative ``spark`` ones on Spark
    (each Spark query costs about a second here; the definitions are proved on DuckDB, Spark proves it runs
    the same expressions to the same answers)."""
    return every if engine_name == "duckdb" else spark


@pytest.fixture(scope="session")
def spark_cluster():
    """A Spark standalone cluster (a master and a worker, separate processes: ``tests/analytics/cluster.py``),
    started once and stopped at the end of the session."""
    reason = cluster.missing()
    if reason:
        skip_or_fail("spark_cluster", reason)
    running = cluster.start_cluster()
    yield running
    stop_spark()
    running.stop()


@pytest.fixture(scope="package", params=["duckdb", pytest.param("spark", marks=pytest.mark.spark),
                                         pytest.param("spark_cluster", marks=pytest.mark.spark_cluster)])
def engine_name(request: pytest.FixtureRequest):
    """The engine each analytics test runs on. ``spark_cluster``: Spark on the standalone cluster, reached
    through the settings a user sets (REVTEAM_ANALYTICS_ENGINE, REVTEAM_SPARK_MASTER, REVTEAM_SPARK_CONF).
    Package-scoped: the settings are put back when the analytics tests end, so no later test runs on Spark."""
    if request.param in ("spark", "spark_cluster"):
        try:
            import pyspark  # noqa: F401
        except ImportError:
            skip_or_fail(request.param, "pyspark is not installed (pip install 'revteam[spark]')")
        if shutil.which("java") is None:
            skip_or_fail(request.param, "Java is not installed; Spark needs a JDK 17")
    if request.param == "duckdb":
        yield request.param
        return
    settings = request.getfixturevalue("spark_cluster").settings if request.param == "spark_cluster" else \
        {"REVTEAM_ANALYTICS_ENGINE": "spark", "REVTEAM_SPARK_MASTER": "local[2]",
         "REVTEAM_SPARK_CONF": json.dumps(cluster.SMALL_DATA)}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in settings.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        try:
            yield get_settings().analytics_engine  # "spark", in local mode or pointed at the cluster
        finally:
            stop_spark()  # the next engine starts its own session
            get_settings.cache_clear()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def olist_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = DATASETS / "olist_marketing_funnel"
    if not data.exists():
        pytest.skip(f"Olist data not found at {data}")
    url = f"sqlite:///{tmp_path_factory.mktemp('olist') / 'olist.db'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    sessions = make_session_factory(engine)
    with sessions() as s:
        seed_default_stages(s)
        s.commit()
    mql = data / "olist_marketing_qualified_leads_dataset.csv"
    for kind, path, mapping in (("contacts", mql, "mqls_as_contacts.toml"), ("touchpoints", mql, "mqls_as_touchpoints.toml"),
                                ("deals", data / "olist_closed_deals_dataset.csv", "closed_deals.toml")):
        run_import(sessions, kind, path, now=NOW, actor="test", mapping=load_mapping(ROOT / "examples/olist" / mapping))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo company at scale 0.05 (1,000 contacts, 25,000 touches, 73 deals, 290 handoffs), built once."""
    from revteam.demo import build_demo_company
    from revteam.store.models import Base

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as s:
        seed_default_stages(s)
        s.commit()
    build_demo_company(engine, seed=20261125, now=DEMO_NOW, scale=0.05)
    engine.dispose()
    return url


@pytest.fixture(scope="package")
def demo(demo_url: str, engine_name: str):
    a = Analytics(make_engine(demo_url), engine_name)
    yield a
    a.close()


@pytest.fixture(scope="package")
def olist(olist_url: str, engine_name: str):
    a = Analytics(make_engine(olist_url), engine_name)
    yield a
    a.close()
