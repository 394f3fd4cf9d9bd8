"""The Dagster code location: it loads, its graph is what we expect, builds record into the data
home's instance, contracts guard the staged data, and the landing sensor batches by content."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ops_warehouse.build import run_build
from ops_warehouse.defs.definitions import build_definitions
from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.defs.settings import LocationSettings
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import discover_models

ROOT = Path(__file__).resolve().parents[1]


def _defs(home: DataHome | None = None, settings: LocationSettings | None = None) -> dg.Definitions:
    return build_definitions(WarehouseResource(home=str(home.root)) if home else None, settings)


def _instance(home: DataHome) -> dg.DagsterInstance:
    """The instance as ``dagster dev`` would open it from the data home's folder."""
    return dg.DagsterInstance.from_config(str(home.root / "dagster"))


@pytest.fixture(autouse=True)
def _no_dagster_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def test_every_asset_is_in_its_layer_group() -> None:
    graph = _defs().resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    expected = {"raw": "ingest", "core": "core", "marts": "marts"}
    for key, group in groups.items():
        assert group == expected.get(key.split("/")[0], "reports"), key
    assert {groups["warehouse"], groups["weekly_report"]} == {"reports"}
    assert set(groups.values()) == {"ingest", "core", "marts", "reports"}


def test_model_assets_carry_their_sql_version_and_header() -> None:
    graph = _defs().resolve_asset_graph()
    models = discover_models()
    for model in models.values():
        node = graph.get(dg.AssetKey([model.layer, model.name]))
        assert node.description == model.description
        if model.sql is not None:
            assert node.code_version == hashlib.sha256(model.sql.encode()).hexdigest()[:16]
            assert node.metadata["definition"].path == f"assets/models/{model.layer}/{model.name}.sql"
            assert node.description.startswith(f"{model.key}:"), f"{model.key}: the header names its table"
        else:
            assert node.code_version and len(node.code_version) == 16


def test_workspace_and_pyproject_name_the_same_module() -> None:
    import tomllib

    import yaml

    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["tool"]["dagster"]["module_name"] == module


def test_the_project_instance_config_points_at_the_default_data_home() -> None:
    """``dagster dev`` started in the project folder (no DAGSTER_HOME) keeps its storage where the
    command line records with the default data home (``./data``): ``data/dagster``."""
    import yaml

    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert config["storage"]["sqlite"]["base_dir"] == "data/dagster"
    assert config["local_artifact_storage"]["config"]["base_dir"] == "data/dagster"
    assert config["compute_logs"]["config"]["base_dir"] == "data/dagster/storage"


def test_settings_come_from_the_environment_when_the_location_loads() -> None:
    settings = LocationSettings.from_env(
        {
            "OPS_WAREHOUSE_BUILD_CRON": "30 3 * * *",
            "OPS_WAREHOUSE_REPORT_HOUR": "8",
            "OPS_WAREHOUSE_SENSOR_SECONDS": "5",
            "OPS_WAREHOUSE_START_DATE": "2025-06-02",
        }
    )
    defs = _defs(settings=settings)
    assert defs.resolve_schedule_def("daily_build").cron_schedule == "30 3 * * *"
    assert defs.resolve_schedule_def("weekly_report").cron_schedule == "0 8 * * 1"
    assert defs.resolve_sensor_def("landing_sensor").minimum_interval_seconds == 5
    raw = defs.resolve_asset_graph().get(dg.AssetKey(["raw", "deployments"]))
    assert raw.partitions_def is not None and raw.partitions_def.get_first_partition_key() == "2025-06-02"
    with pytest.raises(ValueError, match="whole numbers"):
        LocationSettings.from_env({"OPS_WAREHOUSE_REPORT_HOUR": "six"})


def test_the_data_home_reaches_the_resource_through_envvar(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from ops_warehouse.defs.resources import default_warehouse

    monkeypatch.setenv("OPS_WAREHOUSE_HOME", str(tmp_path / "h"))
    resource = default_warehouse()
    assert isinstance(resource.home, dg.EnvVar) and resource.home.env_var_name == "OPS_WAREHOUSE_HOME"
    assert default_warehouse({}).home is None


def _deploys(tmp_path: Path, name: str = "d.csv", status: str = "failure") -> Path:
    f = tmp_path / name
    f.write_text(
        "deploy_id,service,environment,sha,started_at,finished_at,status\n"
        "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success\n"
        f"d2,checkout,staging,bbb,2026-11-23T11:00:00Z,2026-11-23T11:05:00Z,{status}\n",
        encoding="utf-8",
    )
    return f


def test_build_records_into_the_data_home_instance(home: DataHome, tmp_path: Path) -> None:
    ingest_file(home, _deploys(tmp_path))
    result = run_build(home)
    assert result.success, result
    con = duckdb.connect(str(home.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM core.deployments WHERE is_production").fetchone() == (1,)
    con.close()
    models = {f"{m.layer}/{m.name}" for m in discover_models().values()}
    assert set(result.materialized) == models | {"warehouse"}
    assert result.failed_checks == [] and result.skipped == []

    with _instance(home) as instance:
        assert (home.root / "dagster" / "dagster.yaml").exists()
        event = instance.get_latest_materialization_event(dg.AssetKey(["core", "deployments"]))
        assert event is not None and event.asset_materialization is not None
        assert event.asset_materialization.metadata["rows"] == dg.MetadataValue.int(2)
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["core", "deployments"]), "deployments_contract")]
        )
        assert len(check) == 1
        runs = instance.get_runs()
        assert [r.job_name for r in runs] == ["build_warehouse"] and runs[0].is_success


def test_dagster_home_wins_when_set(home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ops_warehouse.cli import main

    elsewhere = tmp_path / "instance"
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere))
    assert main(["--home", str(home.root), "ingest", str(_deploys(tmp_path))]) == 0
    assert (elsewhere / "dagster.yaml").exists() and not (home.root / "dagster").exists()
    with dg.DagsterInstance.from_config(str(elsewhere)) as instance:
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "deployments"])) == {"2026-11-23"}


def test_a_failing_contract_discards_the_staged_data(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_file(home, _deploys(tmp_path))
    assert run_build(home).success
    table = home.lake / "core" / "deployments.parquet"
    table_before, snapshot_before = table.read_bytes(), home.warehouse.stat().st_mtime_ns

    import ops_warehouse.defs.checks as checks
    from ops_warehouse.quality.contracts import Contract

    # new data that breaks the contract: a status the contract does not accept
    only_success = Contract("core.deployments", key=["deploy_id"], accepted_values={"status": ["success"]})
    strict = {"core.deployments": only_success}
    monkeypatch.setattr(checks, "load_contracts", lambda: strict)
    ingest_file(home, _deploys(tmp_path, "d2.csv", status="error"))
    result = run_build(home)
    assert not result.success
    assert result.failed_checks == ["core/deployments:deployments_contract"]
    assert result.failed_steps == ["core__deployments"]
    assert "warehouse" not in result.materialized and "core/deployments" not in result.materialized
    # the lake's table and the published snapshot are exactly as they were; no staging file is left
    assert table.read_bytes() == table_before
    assert home.warehouse.stat().st_mtime_ns == snapshot_before
    assert not list(home.tmp.glob("*.staged.parquet"))

    with _instance(home) as instance:
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["core", "deployments"]), "deployments_contract")]
        )
        evaluation = next(iter(check.values())).event.dagster_event.event_specific_data  # type: ignore[union-attr]
        assert not evaluation.passed
        failures = evaluation.metadata["failures"].value
        assert [f["failing_rows"] for f in failures] == [1]
        assert evaluation.metadata["validated"].value == "the staged result, before it replaced the table"

    # once the contract holds again, the next build catches up in full
    monkeypatch.undo()
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_build(home).success
    con = duckdb.connect(str(home.warehouse), read_only=True)
    assert con.execute("SELECT status FROM core.deployments WHERE deploy_id = 'd2'").fetchone() == ("error",)
    con.close()


def _sensor_tick(home: DataHome, cursor: str | None = None) -> dg.SensorResult:
    defs = _defs(home)
    sensor = defs.resolve_sensor_def("landing_sensor")
    ctx = dg.build_sensor_context(cursor=cursor, resources={"warehouse": WarehouseResource(home=str(home.root))})
    result = sensor(ctx)
    assert isinstance(result, dg.SensorResult)
    return result


def _paths(result: dg.SensorResult) -> list[list[str]]:
    return [r.run_config["ops"]["ingest_landing"]["config"]["paths"] for r in result.run_requests or []]


def test_landing_sensor_batches_a_tick_and_keys_it_by_content(home: DataHome, tmp_path: Path) -> None:
    a, b = home.landing / "a.csv", home.landing / "sub" / "b.csv"
    b.parent.mkdir()
    a.write_text(_deploys(tmp_path).read_text(), encoding="utf-8")
    b.write_text(_deploys(tmp_path, status="error").read_text(), encoding="utf-8")

    first = _sensor_tick(home)
    assert _paths(first) == [[str(a), str(b)]]  # one run for the whole tick
    key = first.run_requests[0].run_key  # type: ignore[index]

    # the same contents (even touched, or seen by a sensor without a cursor) give the same key
    os.utime(a, ns=(a.stat().st_atime_ns, a.stat().st_mtime_ns + 10**9))
    assert _sensor_tick(home).run_requests[0].run_key == key  # type: ignore[index]
    # with the cursor, files already requested are not requested again
    again = _sensor_tick(home, first.cursor)
    assert not again.run_requests and again.skip_reason is not None

    # a changed file is a new batch of its own
    b.write_text(_deploys(tmp_path, status="cancelled").read_text(), encoding="utf-8")
    changed = _sensor_tick(home, again.cursor)
    assert _paths(changed) == [[str(b)]]
    assert changed.run_requests[0].run_key != key  # type: ignore[index]

    # the cursor remembers hashes: an unchanged file is not read again
    cursor = json.loads(changed.cursor or "{}")
    assert cursor["files"]["sub/b.csv"][2] == hashlib.sha256(b.read_bytes()).hexdigest()


def test_landing_sensor_skips_what_is_already_ingested(home: DataHome, tmp_path: Path) -> None:
    a = home.landing / "a.csv"
    a.write_text(_deploys(tmp_path).read_text(), encoding="utf-8")
    ingest_file(home, a)
    assert not _sensor_tick(home).run_requests


def test_ingest_job_records_the_day_partitions_it_changed(home: DataHome, tmp_path: Path) -> None:
    (home.landing / "a.csv").write_text(_deploys(tmp_path).read_text(), encoding="utf-8")
    defs = _defs(home)
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("ingest_landing_job")
    first = job.execute_in_process(instance=instance)
    assert first.success
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "deployments"])) == {"2026-11-23"}
    assert first.output_for_node("ingest_landing")["rows_loaded"] == 2
    # nothing is pending any more: a second run ingests no file
    second = job.execute_in_process(instance=instance)
    assert second.output_for_node("ingest_landing")["files"] == 0


def test_command_line_ingest_appears_in_the_instance(home: DataHome, tmp_path: Path) -> None:
    from ops_warehouse.cli import main

    f = _deploys(tmp_path)
    assert main(["--home", str(home.root), "ingest", str(f)]) == 0
    with _instance(home) as instance:
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "deployments"])) == {"2026-11-23"}
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "incidents"])) == set()
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "deployments"]))
        assert event is not None and event.run_id == ""  # runless: recorded outside any run
        meta = event.asset_materialization.metadata  # type: ignore[union-attr]
        assert meta["files"].value == [str(f)]
        assert meta["accounting"].value == {
            str(f): {"kind": "canonical", "rows_read": 2, "rows_loaded": 2, "rows_duplicate": 0, "rows_quarantined": 0}
        }
        assert meta["source"].value == "ops-warehouse ingest"
    # ingesting the same file again changes no partition, so nothing new is recorded
    assert main(["--home", str(home.root), "ingest", str(f)]) == 0
    with _instance(home) as instance:
        events = instance.fetch_materializations(dg.AssetKey(["raw", "deployments"]), limit=10).records
        assert len(events) == 1
