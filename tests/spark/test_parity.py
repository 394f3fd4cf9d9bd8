"""Parity: the same lake built on Spark (``local[*]``) and on DuckDB gives the same core and mart
tables, row for row (floating point within 1e-9 relative).

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
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake.engines import SPARK_PENDING
from ops_warehouse.lake.models import _model_sql, build_models, discover_models

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


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> tuple[DataHome, DataHome, Any]:
    """One generated lake built on DuckDB, copied into a second home and rebuilt there on Spark (the
    tables Spark does not build yet stay as DuckDB left them, as after a user's earlier build)."""
    from ops_warehouse.build import run_build
    from ops_warehouse.generate import generate_exports
    from ops_warehouse.ingest import ingest_paths

    root = tmp_path_factory.mktemp("parity")
    duck = DataHome.resolve(root / "duckdb").ensure()
    generate_exports(root / "gen", services=6, weeks=10, seed=11, slo_services=1, metric_days=7)
    shutil.copyfile(root / "gen" / "catalog.yaml", duck.catalog)
    reports = ingest_paths(duck, [root / "gen" / "exports"])
    assert reports and not [r for r in reports if r.error]
    build_models(duck)
    spark_home = DataHome.resolve(root / "spark")
    shutil.copytree(duck.root, spark_home.root)
    result = run_build(spark_home, engine="spark")
    return duck, spark_home, result


def _rows(path: Path) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        schema = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        floats = [f'"{c}"' for c, t in schema if t in ("DOUBLE", "FLOAT")]
        others = [f'"{c}"' for c, t in schema if t not in ("DOUBLE", "FLOAT")]
        order = ", ".join(others + floats)
        rows = con.execute(f"SELECT * FROM read_parquet('{path}') ORDER BY {order}").fetchall()
        return schema, rows
    finally:
        con.close()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def spark_models() -> list[str]:
    return sorted(k for k, m in discover_models().items() if _model_sql(m) is not None and k not in SPARK_PENDING)


def test_spark_build_succeeds_and_names_what_it_skipped(lakes: tuple[DataHome, DataHome, Any]) -> None:
    _, spark_home, result = lakes
    assert result.success, (result.failed_steps, result.failed_checks)
    assert result.engine == "spark"
    python_only = {k for k, m in discover_models().items() if _model_sql(m) is None}
    assert set(result.not_rebuilt) == python_only | (set(SPARK_PENDING) & set(discover_models()))
    built = {k.replace("/", ".") for k in result.materialized}
    assert set(spark_models()) <= built
    # the published snapshot holds what Spark wrote
    con = duckdb.connect(str(spark_home.warehouse), read_only=True)
    try:
        published = con.execute("SELECT count(*) FROM core.deployments").fetchone()[0]
    finally:
        con.close()
    assert published == _rows(spark_home.lake / "core" / "deployments.parquet")[1].__len__() > 0


@pytest.mark.parametrize("key", spark_models())
def test_table_is_the_same_on_both_engines(lakes: tuple[DataHome, DataHome, Any], key: str) -> None:
    duck, spark_home, _ = lakes
    layer, name = key.split(".", 1)
    duck_schema, duck_rows = _rows(duck.lake / layer / f"{name}.parquet")
    spark_file = spark_home.lake / layer / f"{name}.parquet"
    assert pq.ParquetFile(spark_file).metadata.created_by.startswith("parquet-mr"), f"{key} was not written by Spark"
    spark_schema, spark_rows = _rows(spark_file)
    assert spark_schema == duck_schema
    assert len(spark_rows) == len(duck_rows)
    assert duck_rows, f"{key} is empty on the test data: parity would prove nothing"
    columns = [c for c, _ in duck_schema]
    for d, s in zip(duck_rows, spark_rows, strict=False):
        differ = [f"{c}: duckdb {a!r} spark {b!r}" for c, a, b in zip(columns, d, s, strict=False) if not _same(a, b)]
        assert not differ, f"{key} row {dict(zip(columns, d, strict=False))}: " + "; ".join(differ)
