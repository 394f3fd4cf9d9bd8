"""Spark Connect: models run through ``SparkEngine(remote=...)`` give the same tables as DuckDB.

The session is a Spark Connect client (``remote="local[2]"`` starts a Connect server in this
process, on the same machine, so it sees the data home at the same path). A few models, in
dependency order, cover what differs from a ``local[*]`` session: the raw tables' Hive-partitioned
folders and the service catalog sent as data (``core.deployments``), the SLO tables
(``core.slos``, ``core.slo_selectors``), a table written as a folder of days
(``core.sli_minutes``) and a model reading CSV files (``marts.dora_benchmark``). The full parity
of every model is :mod:`tests.spark.test_parity`'s.

The Connect session is stopped at the end of the module, so a later ``local[*]`` session in the
same process starts as usual.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake.engines import SparkEngine
from ops_warehouse.lake.models import discover_models, run_model
from ops_warehouse.lake.spark import LOCAL_CONF, derived_table
from tests.spark.test_parity import MISSING, _assert_same_table, _files

pytestmark = [pytest.mark.spark, pytest.mark.slow]

if MISSING:
    pytest.skip(f"Spark Connect needs a local Spark: {MISSING}", allow_module_level=True)

REMOTE = "local[2]"
# in dependency order
MODELS = ["core.deployments", "core.slos", "core.slo_selectors", "core.sli_minutes", "marts.dora_benchmark"]


@pytest.fixture(scope="module")
def connect_session() -> Iterator[Any]:
    from ops_warehouse.lake import spark

    session = spark.shared_session(remote=REMOTE)
    yield session
    spark._SESSIONS.pop((REMOTE, None), None)
    session.stop()
    # stopping the local Connect server leaves the process as before it: a local session may start
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory, connect_session: Any) -> tuple[DataHome, DataHome]:
    """A small generated lake: the models built on DuckDB, then copied and built over Spark Connect."""
    from ops_warehouse.generate import generate_exports
    from ops_warehouse.ingest import ingest_paths

    root = tmp_path_factory.mktemp("connect")
    duck = DataHome.resolve(root / "duckdb").ensure()
    generate_exports(root / "gen", services=3, weeks=3, seed=5, slo_services=1, metric_days=2)
    shutil.copyfile(root / "gen" / "catalog.yaml", duck.catalog)
    reports = ingest_paths(duck, [root / "gen" / "exports"])
    assert reports and not [r for r in reports if r.error]
    models = discover_models()
    spark_home = DataHome.resolve(root / "spark")
    shutil.copytree(duck.root, spark_home.root)
    engine = SparkEngine(remote=REMOTE)
    for key in MODELS:
        run_model(duck, models[key])
        run = engine.run_model(spark_home, models[key])
        assert run.skipped is None, (key, run.skipped)
    return duck, spark_home


def test_the_session_is_a_spark_connect_client(connect_session: Any) -> None:
    assert type(connect_session).__module__.startswith("pyspark.sql.connect.")
    assert connect_session.conf.get("spark.sql.session.timeZone") == "UTC"
    # the server started in this process has the settings of a local session
    assert connect_session.conf.get("spark.sql.shuffle.partitions") == LOCAL_CONF["spark.sql.shuffle.partitions"]


@pytest.mark.parametrize("key", MODELS)
def test_table_is_the_same_over_spark_connect(homes: tuple[DataHome, DataHome], key: str) -> None:
    duck, spark_home = homes
    layer, name = key.split(".", 1)
    _assert_same_table(key, derived_table(duck, layer, name), derived_table(spark_home, layer, name))


def test_sli_minutes_is_kept_by_day_over_spark_connect(homes: tuple[DataHome, DataHome]) -> None:
    duck, spark_home = homes
    folders = [derived_table(h, "core", "sli_minutes") for h in (duck, spark_home)]
    assert all(f.is_dir() for f in folders)
    days = [sorted(p.relative_to(f).as_posix() for p in _files(f)) for f in folders]
    assert days[0] == days[1] and len(days[0]) > 1
