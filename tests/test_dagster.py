"""The Dagster code location: it loads, its graph is what we expect, and a build runs through it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ops_warehouse.build import run_build
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file

EXPECTED_CORE = {"core/deployments", "core/changes", "core/incidents", "core/action_items", "core/slos"}


def _defs() -> dg.Definitions:
    from ops_warehouse.defs.definitions import build_definitions

    return build_definitions()


def test_definitions_load_with_layers_as_groups() -> None:
    defs = _defs()
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert EXPECTED_CORE <= keys
    assert {"raw/deployments", "raw/metric_samples", "warehouse"} <= keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingest", "core", "reports"} <= groups
    checks = {f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys}
    assert "core/deployments:deployments_contract" in checks
    assert defs.resolve_job_def("build_warehouse") is not None
    assert defs.resolve_sensor_def("landing_sensor") is not None
    assert defs.resolve_schedule_def("daily_build") is not None


def test_workspace_and_pyproject_name_the_same_module() -> None:
    import tomllib

    import yaml

    root = Path(__file__).resolve().parents[1]
    workspace = yaml.safe_load((root / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["tool"]["dagster"]["module_name"] == module


def _deploys(tmp_path: Path) -> Path:
    f = tmp_path / "d.csv"
    f.write_text(
        "deploy_id,service,environment,sha,started_at,finished_at,status\n"
        "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success\n"
        "d2,checkout,staging,bbb,2026-11-23T11:00:00Z,2026-11-23T11:05:00Z,failure\n",
        encoding="utf-8",
    )
    return f


def test_build_materializes_the_graph_and_publishes(home: DataHome, tmp_path: Path) -> None:
    ingest_file(home, _deploys(tmp_path))
    result = run_build(home)
    assert result.success, result
    assert EXPECTED_CORE <= set(result.materialized) and "warehouse" in result.materialized
    con = duckdb.connect(str(home.warehouse), read_only=True)
    assert con.execute("SELECT count(*) FROM core.deployments WHERE is_production").fetchone()[0] == 1


def test_a_failing_contract_keeps_the_old_snapshot(home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest_file(home, _deploys(tmp_path))
    assert run_build(home).success
    before = home.warehouse.stat().st_mtime_ns

    import ops_warehouse.defs.checks as checks
    from ops_warehouse.quality.contracts import Contract

    strict = {"core.deployments": Contract("core.deployments", key=["deploy_id"], not_null=["team"])}
    monkeypatch.setattr(checks, "load_contracts", lambda: strict)
    result = run_build(home)
    assert not result.success
    assert result.failed_checks == ["core/deployments:deployments_contract"]
    assert "warehouse" not in result.materialized
    assert home.warehouse.stat().st_mtime_ns == before


def test_landing_sensor_requests_one_run_per_new_file(home: DataHome, tmp_path: Path) -> None:
    from ops_warehouse.defs.resources import WarehouseResource
    from ops_warehouse.defs.sensors import landing_sensor

    (home.landing / "a.csv").write_text(_deploys(tmp_path).read_text(), encoding="utf-8")
    ctx = dg.build_sensor_context(resources={"warehouse": WarehouseResource(home=str(home.root))})
    requests = list(landing_sensor(ctx))
    assert len(requests) == 1
    assert requests[0].run_config["ops"]["ingest_landing"]["config"]["paths"] == [str(home.landing / "a.csv")]


def test_ingest_job_records_the_day_partitions_it_changed(home: DataHome, tmp_path: Path) -> None:
    from ops_warehouse.defs.definitions import build_definitions
    from ops_warehouse.defs.resources import WarehouseResource

    (home.landing / "a.csv").write_text(_deploys(tmp_path).read_text(), encoding="utf-8")
    defs = build_definitions(WarehouseResource(home=str(home.root)))
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("ingest_landing_job")
    first = job.execute_in_process(instance=instance)
    assert first.success
    assert instance.get_materialized_partitions(dg.AssetKey(["raw", "deployments"])) == {"2026-11-23"}
    assert first.output_for_node("ingest_landing")["rows_loaded"] == 2
    # nothing is pending any more: a second run ingests no file
    second = job.execute_in_process(instance=instance)
    assert second.output_for_node("ingest_landing")["files"] == 0
