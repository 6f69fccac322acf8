"""Analytics engines: DuckDB in process (default) or Apache Spark (``revteam[spark]``), picked by name.

Both receive the same Arrow tables and run the same Ibis expressions. Spark runs where the settings point
(``REVTEAM_SPARK_MASTER``: local mode, a standalone, YARN or Kubernetes cluster; ``REVTEAM_SPARK_REMOTE``: a
Spark Connect server), with ``REVTEAM_SPARK_CONF`` for anything else the cluster needs (docs/scale.md).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from revteam.analytics.errors import AnalyticsUnsupported


_SERIAL = itertools.count(1)


@dataclass
class Engine:
    name: str
    con: Any  # an Ibis backend
    dialect: str
    session: Any = None  # Spark: the SparkSession the views live in
    serial: int = field(default_factory=lambda: next(_SERIAL))

    def load(self, tables: dict[str, pa.Table]) -> dict[str, Any]:
        """Register Arrow tables and return Ibis table expressions by name."""
        out = {}
        for name, table in tables.items():
            if self.name == "spark":  # a temporary view in the session: nothing written to disk
                spark = self.session
                schema = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in table.schema)
                # one Spark session serves every engine of the process: each engine's views have their own names
                view = f"revteam{self.serial}_{name}"
                spark.createDataFrame(table.to_pandas(), schema=schema).createOrReplaceTempView(view)
                out[name] = self.con.table(view)
            else:
                out[name] = self.con.create_table(name, table, overwrite=True)
        return out

    def execute(self, expr: Any) -> Any:
        return self.con.execute(expr)

    def materialize(self, name: str, expr: Any) -> Any | None:
        """Keep ``expr``'s rows as table ``name`` and return it, or None where the engine does not (Spark:
        the callers compute the expression inline). Replaces an earlier table of that name."""
        if self.name != "duckdb":
            return None
        return self.con.create_table(name, expr, overwrite=True)

    def compile(self, expr: Any) -> tuple[str, str]:
        """The SQL this engine runs for ``expr`` and the same SQL laid out to read (from one compilation).

        It depends on the expression, not on the data loaded, so the runner keeps it across data changes.
        Spark compiles when it executes: its first element is empty."""
        import ibis

        if self.name != "duckdb":
            return "", str(ibis.to_sql(expr, dialect=self.dialect))
        query = self.con.compiler.to_sqlglot(expr.as_table())
        return query.sql(dialect=self.con.dialect), query.sql(dialect=self.con.dialect, pretty=True)

    def execute_compiled(self, sql: str, expr: Any) -> Any:
        """``execute(expr)`` with its SQL compiled before (``compile``): DuckDB skips compiling again and
        converts the result to the expression's schema exactly as ``ibis`` ``execute`` does (ibis 12.0);
        Spark executes the expression."""
        if self.name != "duckdb":
            return self.con.execute(expr)
        import pandas as pd
        import pyarrow.types as pat
        from ibis.backends.duckdb.converter import DuckDBPandasData

        table = self.con.con.sql(sql).to_arrow_table()
        df = pd.DataFrame({name: (col.to_pylist() if pat.is_nested(col.type) or pat.is_dictionary(col.type)
                                  or col.null_count else col.to_pandas())
                           for name, col in zip(table.column_names, table.columns)})
        df = DuckDBPandasData.convert_table(df, expr.as_table().schema())
        return expr.__pandas_result__(df)

    def close(self) -> None:
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect is not None and self.name != "spark":
            disconnect()


def _spark_type(t: pa.DataType) -> str:
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "timestamp"
    return "string"


def _duckdb() -> Engine:
    import ibis

    return Engine("duckdb", ibis.duckdb.connect(), "duckdb")


_SPARK: dict[str, Any] = {}

# what revteam sets on every Spark session; REVTEAM_SPARK_CONF entries override these
SPARK_DEFAULTS = {
    "spark.sql.session.timeZone": "UTC",  # the snapshot's times are naive UTC
    "spark.sql.shuffle.partitions": "4",  # the snapshot is small next to what Spark is tuned for
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
LOCAL_DEFAULTS = {  # local mode only: the driver is the whole cluster, on this machine
    "spark.ui.enabled": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",  # else large results, fetched as blocks, go to the machine's address
}


def spark_session(master: str = "local[2]", *, remote: str = "", conf: dict[str, str] | None = None) -> Any:
    """One SparkSession per process (starting Spark costs seconds) for the cluster asked for: a master URL
    (``local[N]``, ``spark://host:7077``, ``yarn``, ``k8s://https://host:443``) or, when ``remote`` is set, a
    Spark Connect server (``sc://host:15002``). Asking for another cluster stops the first session (a JVM
    holds one Spark context)."""
    defaults = {k: v for k, v in SPARK_DEFAULTS.items() if not remote or k.startswith("spark.sql.")}  # Connect: SQL
    settings = {**defaults, **({} if remote or not master.startswith("local") else LOCAL_DEFAULTS), **(conf or {})}
    key = (master, remote, tuple(sorted(settings.items())))
    if _SPARK.get("key") != key:
        stop_spark()
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise AnalyticsUnsupported("Spark is not installed; install it with pip install 'revteam[spark]'.",
                                       code="spark_not_installed") from None
        builder = SparkSession.builder.appName("revteam")
        builder = builder.remote(remote) if remote else builder.master(master)
        if not remote:
            builder = builder.config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="revteam-spark-"))
        for name, value in settings.items():
            builder = builder.config(name, value)
        session = builder.getOrCreate()
        if not remote:
            session.sparkContext.setLogLevel("ERROR")
        _SPARK.update(session=session, key=key)
    return _SPARK["session"]


def stop_spark() -> None:
    """Stop this process's Spark session, if any (the next ``spark_session`` starts a new one)."""
    session = _SPARK.pop("session", None)
    _SPARK.pop("key", None)
    if session is not None:
        session.stop()


def _spark() -> Engine:
    import ibis

    from revteam.config import get_settings

    s = get_settings()
    session = spark_session(s.spark_master, remote=s.spark_remote, conf=s.spark_conf)
    return Engine("spark", ibis.pyspark.connect(session), "pyspark", session=session)


ENGINES: dict[str, Callable[[], Engine]] = {"duckdb": _duckdb, "spark": _spark}


def connect(name: str) -> Engine:
    if name not in ENGINES:
        raise AnalyticsUnsupported(f"Unknown analytics engine {name!r}; use one of: {', '.join(ENGINES)}.",
                                   code="unknown_engine")
    return ENGINES[name]()
