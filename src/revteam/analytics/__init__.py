"""Revenue analytics: pure Ibis builders (tables + spec → expression) and a runner that validates,
builds, compiles, executes and formats, on DuckDB in process or on Apache Spark."""
