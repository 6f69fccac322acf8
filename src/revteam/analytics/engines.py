"""Analytics engines: DuckDB in process (default) or Apache Spark (``revteam[spark]``), picked by name.

Both receive the same Arrow tables and run the same Ibis expressions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from revteam.analytics.errors import AnalyticsUnsupported


@dataclass
class Engine:
    name: str
    con: Any  # an Ibis backend
    dialect: str

    def load(self, tables: dict[str, pa.Table]) -> dict[str, Any]:
        """Register Arrow tables and return Ibis table expressions by name."""
        out = {}
        for name, table in tables.items():
            if self.name == "spark":  # a temporary view in the session: nothing written to disk
                spark = spark_session()
                schema = ", ".join(f"`{f.name}` {_spark_type(f.type)}" for f in table.schema)
                spark.createDataFrame(table.to_pandas(), schema=schema).createOrReplaceTempView(name)
                out[name] = self.con.table(name)
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


def spark_session(master: str = "local[2]") -> Any:
    """One local SparkSession per process (starting Spark costs seconds)."""
    if "session" not in _SPARK:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise AnalyticsUnsupported("Spark is not installed; install it with pip install 'revteam[spark]'.",
                                       code="spark_not_installed") from None
        _SPARK["session"] = (SparkSession.builder.master(master).appName("revteam")
                             .config("spark.sql.session.timeZone", "UTC")
                             .config("spark.sql.shuffle.partitions", "4")
                             .config("spark.ui.enabled", "false")
                             .config("spark.driver.bindAddress", "127.0.0.1")
                             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                             .config("spark.ui.showConsoleProgress", "false")
                             .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="revteam-spark-"))
                             .getOrCreate())
        _SPARK["session"].sparkContext.setLogLevel("ERROR")
    return _SPARK["session"]


def _spark() -> Engine:
    import ibis

    from revteam.config import get_settings

    return Engine("spark", ibis.pyspark.connect(spark_session(get_settings().spark_master)), "pyspark")


ENGINES: dict[str, Callable[[], Engine]] = {"duckdb": _duckdb, "spark": _spark}


def connect(name: str) -> Engine:
    if name not in ENGINES:
        raise AnalyticsUnsupported(f"Unknown analytics engine {name!r}; use one of: {', '.join(ENGINES)}.",
                                   code="unknown_engine")
    return ENGINES[name]()
