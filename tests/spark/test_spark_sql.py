"""The DuckDB -> Spark SQL carrying of model files (no Spark needed: this is text)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_warehouse.catalog import Catalog
from ops_warehouse.lake.models import assets_dir, is_model_file, model_variables
from ops_warehouse.lake.spark_sql import CsvRead, SparkTranspileError, to_spark

MODEL_FILES = sorted(p for p in (assets_dir() / "models").rglob("*.sql") if is_model_file(p))


def _variables() -> dict[str, object]:
    return model_variables(Catalog())  # what both engines set


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_every_model_file_carries_to_spark(path: Path) -> None:
    spark_sql = to_spark(path.read_text(encoding="utf-8"), variables=_variables())
    lowered = spark_sql.lower()
    for duckdb_only in (
        "getvariable(",
        "timezone(",
        "to_microseconds(",
        "quantile_cont(",
        "asof join",
        "read_csv(",
        "epoch_us(",
        "make_timestamptz(",
    ):
        assert duckdb_only not in lowered, f"{path.name}: {duckdb_only} left in the Spark SQL"
    for schema in ("raw.", "core.", "marts.", "catalog."):
        assert f" {schema}" not in lowered, f"{path.name}: {schema} table left unresolved"


@pytest.mark.parametrize(
    ("duckdb_sql", "spark_sql"),
    [
        # settings become typed literals; since is NULL on Spark (full builds)
        (
            "SELECT getvariable('attribution_window_hours') * 2, getvariable('since') IS NULL",
            "SELECT CAST(24 AS BIGINT) * 2, NULL IS NULL",
        ),
        ("SELECT getvariable('action_item_target')", "SELECT CAST('0.9' AS DOUBLE)"),
        # tables resolve to the runner's temp views, keeping their names as aliases
        ("SELECT d.x FROM raw.deployments AS d", "SELECT d.x FROM raw__deployments AS d"),
        ("SELECT service FROM catalog.repos", "SELECT service FROM catalog__repos AS repos"),
        # UTC wall-clock time, seconds of an interval, intervals from numbers
        ("SELECT CAST(timezone('UTC', t) AS DATE)", "SELECT CAST(CAST(t AS TIMESTAMP_NTZ) AS DATE)"),
        ("SELECT epoch(b - a) / 60", "SELECT (UNIX_MICROS(b) - UNIX_MICROS(a)) / 1000000.0D / 60"),
        ("SELECT t - to_days(3)", "SELECT t - MAKE_DT_INTERVAL(3, 0, 0, 0)"),
        # a minute's start by integer arithmetic on microseconds since the epoch
        (
            "SELECT make_timestamptz(epoch_us(t) // 60000000 * 60000000)",
            "SELECT TIMESTAMP_MICROS(UNIX_MICROS(t) DIV 60000000 * 60000000)",
        ),
        ("SELECT t - to_microseconds(n)", "SELECT t - MAKE_DT_INTERVAL(0, 0, 0, (n) / 1000000.0D)"),
        # an exact percentile with linear interpolation, as quantile_cont
        ("SELECT quantile_cont(x, 0.5) FROM t", "SELECT PERCENTILE(x, 0.5D) FROM t"),
        # ISO day of week (Monday 1 .. Sunday 7) and DuckDB's dayofweek (Sunday 0 .. Saturday 6)
        ("SELECT isodow(t) >= 6", "SELECT (WEEKDAY(t) + 1) >= 6"),
        ("SELECT dayofweek(t)", "SELECT (DAYOFWEEK(t) - 1)"),
        # a JSON member named at run time, whatever its characters ("service.name"): read as a map
        (
            """SELECT json_extract_string(labels, '$."' || label || '"')""",
            "SELECT TRY_ELEMENT_AT(FROM_JSON(labels, 'map<string,string>'), label)",
        ),
        ("SELECT json_extract_string(spec, '$.target')", "SELECT GET_JSON_OBJECT(spec, '$.target')"),
    ],
)
def test_carried_constructs(duckdb_sql: str, spark_sql: str) -> None:
    variables = {"attribution_window_hours": 24, "action_item_target": 0.9, "since": None}
    assert to_spark(duckdb_sql, variables=variables) == spark_sql


def test_read_csv_becomes_a_view_the_runner_registers() -> None:
    reads: list[CsvRead] = []
    sql = to_spark(
        "SELECT * FROM read_csv(getvariable('dir') || '/*.csv', comment = '#', header = true, all_varchar = true)",
        variables={"dir": "/data/benchmarks"},
        csv_reads=reads,
    )
    assert sql == "SELECT * FROM _csv_0"
    assert reads == [CsvRead("_csv_0", "/data/benchmarks/*.csv", {"comment": "#", "header": True, "all_varchar": True})]


def test_a_setting_that_is_not_set_is_an_error_not_a_null() -> None:
    with pytest.raises(SparkTranspileError, match="nope"):
        to_spark("SELECT getvariable('nope')", variables={})


@pytest.mark.parametrize(
    ("duckdb_sql", "spark_sql"),
    [
        # a TIMESTAMPTZ as wall-clock time in a zone, and back
        ("SELECT timezone(z, t)", "SELECT CAST(FROM_UTC_TIMESTAMP(t, z) AS TIMESTAMP_NTZ)"),
        ("SELECT t AT TIME ZONE z", "SELECT CAST(FROM_UTC_TIMESTAMP(t, z) AS TIMESTAMP_NTZ)"),
        ("SELECT timezone(z, CAST(d AS TIMESTAMP))", "SELECT TO_UTC_TIMESTAMP(CAST(d AS TIMESTAMP_NTZ), z)"),
        ("SELECT CAST(d AS TIMESTAMP) AT TIME ZONE 'UTC'", "SELECT CAST(CAST(d AS TIMESTAMP_NTZ) AS TIMESTAMP)"),
    ],
)
def test_time_zones(duckdb_sql: str, spark_sql: str) -> None:
    assert to_spark(duckdb_sql, variables={}) == spark_sql
