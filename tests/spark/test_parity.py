"""Parity: the same lake built on Spark (``local[*]``) and on DuckDB gives the same core and mart
tables, row for row (floating point within 1e-9 relative).

Every model is compared, the SLO models included: besides the demo's SLO, the lake holds SLOs
over the demo's request counter with calendar windows in time zones with summer time and half-hour
offsets (Europe/Berlin months, Asia/Kolkata weeks, America/New_York quarters), time slices of both
kinds and a short rolling window, so the SLO marts' time-zone and window arithmetic is exercised.

The Spark build goes the way a user's does (``run_build(engine="spark")``: the Dagster job with its
contract checks and the published snapshot); the DuckDB build runs the same models in process.
One Spark session serves the whole module. Skipped only when pyspark or Java is missing;
``scripts/test.sh`` installs both, so in CI this runs.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake import incremental
from ops_warehouse.lake.engines import SPARK_PENDING
from ops_warehouse.lake.models import build_models, discover_models
from ops_warehouse.lake.spark import derived_table
from tests.slo.helpers import openslo_yaml

pytestmark = [pytest.mark.spark, pytest.mark.slow]

MISSING = (
    "pyspark is not installed (pip install -e '.[spark]')"
    if importlib.util.find_spec("pyspark") is None
    else "java is not on PATH (Debian: openjdk-17-jre-headless)"
    if shutil.which("java") is None
    else None
)
if MISSING:
    pytest.skip(f"Spark parity needs a local Spark: {MISSING}", allow_module_level=True)


@pytest.fixture(scope="module")
def spark_session() -> Iterator[Any]:
    from ops_warehouse.lake import spark

    session = spark.shared_session()
    yield session
    spark._SESSIONS.clear()
    session.stop()


# the demo's request counter, as good and total queries of more SLOs
_GOOD = 'sum(rate(http_requests_total{service="checkout",code!~"5.."}[5m]))'
_TOTAL = 'sum(rate(http_requests_total{service="checkout"}[5m]))'
_SLICES = "\n      timeSliceTarget: 0.97\n      timeSliceWindow: 5m"
# name, target, duration, calendar time zone (None: a rolling window), budgeting method, more objective
_MORE: list[tuple[str, float, str, str | None, str, str]] = [
    ("month-berlin", 0.995, "1M", "Europe/Berlin", "Occurrences", ""),
    ("week-kolkata-slices", 0.99, "1w", "Asia/Kolkata", "Timeslices", _SLICES),
    ("quarter-new-york-ratio", 0.98, "1Q", "America/New_York", "RatioTimeslices", "\n      timeSliceWindow: 1m"),
    ("rolling-3d", 0.999, "3d", None, "Occurrences", ""),
]
MORE_SLOS = [
    openslo_yaml(
        name,
        target=target,
        duration=duration,
        rolling=tz is None,
        tz=tz,
        good=_GOOD,
        total=_TOTAL,
        method=method,
        extra_objective=extra,
    )
    for name, target, duration, tz, method, extra in _MORE
]


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> tuple[DataHome, DataHome, Any]:
    """One generated lake built on DuckDB, copied into a second home and rebuilt there on Spark."""
    from ops_warehouse.build import run_build
    from ops_warehouse.generate import generate_exports
    from ops_warehouse.ingest import ingest_paths

    root = tmp_path_factory.mktemp("parity")
    duck = DataHome.resolve(root / "duckdb").ensure()
    generate_exports(root / "gen", services=6, weeks=10, seed=11, slo_services=1, metric_days=7)
    shutil.copyfile(root / "gen" / "catalog.yaml", duck.catalog)
    reports = ingest_paths(duck, [root / "gen" / "exports"])
    (root / "slos").mkdir()
    for n, yaml_text in enumerate(MORE_SLOS):
        (root / "slos" / f"slo-{n}.yaml").write_text(yaml_text, encoding="utf-8")
    assert reports and not [r for r in reports if r.error]
    more = ingest_paths(duck, [root / "slos"])
    assert [r.loaded for r in more] == [1] * len(MORE_SLOS), [r.line() for r in more]
    build_models(duck)
    spark_home = DataHome.resolve(root / "spark")
    shutil.copytree(duck.root, spark_home.root)
    result = run_build(spark_home, engine="spark")
    return duck, spark_home, result


def _files(path: Path) -> list[Path]:
    """A table's Parquet files: the file, or a day folder's ``day=*/part-0.parquet``."""
    return sorted(path.glob("day=*/part-0.parquet")) if path.is_dir() else [path]


def _rows(path: Path) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        files = ", ".join(f"'{f}'" for f in _files(path))
        scan = f"read_parquet([{files}], hive_partitioning = false)"
        schema = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
        floats = [f'"{c}"' for c, t in schema if t in ("DOUBLE", "FLOAT")]
        others = [f'"{c}"' for c, t in schema if t not in ("DOUBLE", "FLOAT")]
        order = ", ".join(others + floats)
        rows = con.execute(f"SELECT * FROM {scan} ORDER BY {order}").fetchall()
        return schema, rows
    finally:
        con.close()


def _assert_same_table(key: str, duck_table: Path, spark_table: Path) -> None:
    """Both engines' table: the same columns and types, the same rows (floats within 1e-9 relative)."""
    for f in _files(spark_table):
        assert pq.ParquetFile(f).metadata.created_by.startswith("parquet-mr"), f"{key} was not written by Spark"
    duck_schema, duck_rows = _rows(duck_table)
    spark_schema, spark_rows = _rows(spark_table)
    assert spark_schema == duck_schema
    assert len(spark_rows) == len(duck_rows)
    assert duck_rows, f"{key} is empty on the test data: parity would prove nothing"
    columns = [c for c, _ in duck_schema]
    for d, s in zip(duck_rows, spark_rows, strict=False):
        differ = [f"{c}: duckdb {a!r} spark {b!r}" for c, a, b in zip(columns, d, s, strict=False) if not _same(a, b)]
        assert not differ, f"{key} row {dict(zip(columns, d, strict=False))}: " + "; ".join(differ)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, datetime) and isinstance(b, datetime):
        # a time computed from floats (the budget forecast, years ahead, to the microsecond) carries
        # their last-bit differences: a millisecond apart is the same time
        return abs(a - b) <= timedelta(milliseconds=1)
    return a == b


def test_spark_build_runs_every_model(lakes: tuple[DataHome, DataHome, Any]) -> None:
    _, spark_home, result = lakes
    assert result.success, (result.failed_steps, result.failed_checks)
    assert result.engine == "spark"
    assert not result.not_rebuilt, f"models Spark skipped: {result.not_rebuilt}"
    assert not SPARK_PENDING
    built = {k.replace("/", ".") for k in result.materialized}
    assert set(discover_models()) <= built
    # the published snapshot holds what Spark wrote
    con = duckdb.connect(str(spark_home.warehouse), read_only=True)
    try:
        published = con.execute("SELECT count(*) FROM core.deployments").fetchone()[0]
    finally:
        con.close()
    assert published == _rows(spark_home.lake / "core" / "deployments.parquet")[1].__len__() > 0


@pytest.mark.parametrize("key", sorted(discover_models()))
def test_table_is_the_same_on_both_engines(lakes: tuple[DataHome, DataHome, Any], key: str) -> None:
    duck, spark_home, _ = lakes
    layer, name = key.split(".", 1)
    _assert_same_table(key, derived_table(duck, layer, name), derived_table(spark_home, layer, name))


def test_tables_kept_by_day_have_the_same_days_on_both_engines(lakes: tuple[DataHome, DataHome, Any]) -> None:
    """The models declared ``partition=day`` are kept as ``<name>/day=YYYY-MM-DD/part-0.parquet`` by
    both engines, the same days, files holding the table's columns and no ``day`` column."""
    duck, spark_home, _ = lakes
    by_day = [
        m.key
        for m in discover_models().values()
        if (d := incremental.declaration(m.sql)) is not None and d.partition == "day"
    ]
    assert {"core.sli_minutes", "marts.slo_alerts", "marts.deploy_slo_impact"} <= set(by_day)
    for key in by_day:
        layer, name = key.split(".", 1)
        folders = [derived_table(h, layer, name) for h in (duck, spark_home)]
        assert all(f.is_dir() for f in folders), key
        days = [sorted(p.relative_to(f).as_posix() for p in _files(f)) for f in folders]
        assert days[0] == days[1] and len(days[0]) > 1, key
        assert all(p.endswith("/part-0.parquet") for p in days[0])
        assert "day" not in pq.ParquetFile(_files(folders[1])[0]).schema_arrow.names
