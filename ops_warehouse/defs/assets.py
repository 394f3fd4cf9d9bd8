"""Dagster assets: the lake's tables as an asset graph. This module only wires; the work is in
``ops_warehouse.lake.models`` and ``ops_warehouse.lake.publish``.

Groups: ``ingest`` (raw tables, daily-partitioned, filled from ``landing/`` by the ingest job or by
``ops-warehouse ingest``), ``core`` and ``marts`` (one asset per SQL model in ``assets/models``,
described by the model's header comment, versioned by its SQL), ``reports`` (the published snapshot
and the weekly report).
"""

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from ops_warehouse.defs.checks import ContractValidation, check_name, contract_check_spec
from ops_warehouse.defs.resources import EngineResource, WarehouseResource
from ops_warehouse.duck import connect, quote_literal
from ops_warehouse.lake.models import Model, StagedTableRejected, assets_dir, discover_models
from ops_warehouse.lake.publish import publish
from ops_warehouse.lake.store import derived_location
from ops_warehouse.quality.contracts import Contract
from ops_warehouse.tables import RAW_TABLES
from ops_warehouse.timeutil import iso_week_label

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in RAW_TABLES}
SNAPSHOT_KEY = dg.AssetKey(["warehouse"])
WEEKLY_REPORT_KEY = dg.AssetKey(["weekly_report"])


def raw_specs(daily: dg.PartitionsDefinition) -> list[dg.AssetSpec]:
    """The raw tables as assets. They are filled by ingestion (the landing sensor's runs, or
    ``ops-warehouse ingest``), which records a materialization for every day partition it changes."""
    return [
        dg.AssetSpec(
            key,
            group_name="ingest",
            description=RAW_TABLES[name].doc,
            kinds={"parquet"},
            partitions_def=daily if RAW_TABLES[name].partition_by else None,
        )
        for name, key in RAW_KEYS.items()
    ]


def _dep_keys(model: Model, known: set[str]) -> list[dg.AssetKey]:
    return [dg.AssetKey(dep.split(".")) for dep in sorted(model.deps) if dep in known]


def model_code_version(model: Model) -> str:
    """A short hash of the model's definition (its SQL file), so the UI tells which definition
    produced each materialization and flags tables built from an older one.

    >>> model_code_version(Model("core", "t", sql="SELECT 1")) == model_code_version(Model("core", "t", sql="SELECT 1"))
    True
    >>> model_code_version(Model("core", "t", sql="SELECT 1")) == model_code_version(Model("core", "t", sql="SELECT 2"))
    False
    """
    text = model.sql or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _preview(path: Path, limit: int = 5) -> str:
    con = connect()
    try:
        df = con.execute(f"SELECT * FROM read_parquet({quote_literal(str(path))}) LIMIT {limit}").fetchdf()
    finally:
        con.close()
    return str(df.to_markdown(index=False))  # tabulate comes with dagster


# The daily build refreshes the marts; one missed day warns, two fail.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=48), warn_window=timedelta(hours=26))


def _definition_metadata(model: Model) -> dict[str, dg.MetadataValue]:
    if model.path is None:
        return {}
    try:
        where = model.path.resolve().relative_to(assets_dir().resolve().parent)
    except ValueError:
        where = model.path
    return {"definition": dg.MetadataValue.path(str(where))}


def model_asset(model: Model, known: set[str], contract: Contract | None = None) -> dg.AssetsDefinition:
    """One model as an asset. With a contract, the model's new data is validated while staged and
    replaces the lake's table only when the contract holds (a blocking check on the asset)."""
    key = dg.AssetKey([model.layer, model.name])

    @dg.asset(
        key=key,
        group_name=model.layer,
        deps=_dep_keys(model, known),
        description=model.description or None,
        code_version=model_code_version(model),
        metadata=_definition_metadata(model),
        kinds={"duckdb", "sql"},
        freshness_policy=MART_FRESHNESS if model.layer == "marts" else None,
        check_specs=[contract_check_spec(contract)] if contract is not None else None,
    )
    def _asset(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, engine: EngineResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        home = warehouse.data_home
        validation = ContractValidation(contract) if contract is not None else None
        try:
            run = engine.get().run_model(home, model, warehouse.catalog(), validate=validation)
        except StagedTableRejected:
            assert validation is not None
            yield validation.check_result()
            raise dg.Failure(
                description=(
                    f"{model.key} broke its data contract; the new data was discarded and the table "
                    "was left as it was (see the check's failures)"
                )
            ) from None
        path = derived_location(home.lake, model.layer, model.name)
        if run.skipped is not None:
            context.log.warning(f"{model.key} not rebuilt on {run.engine}: {run.skipped}; the table is left as it was")
            checks: list[dg.AssetCheckResult] = []
            if validation is not None and contract is not None:
                if path.exists():
                    validation(path)
                    checks.append(validation.check_result())
                else:
                    checks.append(
                        dg.AssetCheckResult(
                            check_name=check_name(contract),
                            passed=False,
                            severity=dg.AssetCheckSeverity.ERROR,
                            metadata={"reason": dg.MetadataValue.text(f"not built on {run.engine} and never built")},
                        )
                    )
            yield dg.MaterializeResult(
                metadata={"engine": dg.MetadataValue.text(run.engine), "skipped": dg.MetadataValue.text(run.skipped)},
                check_results=checks or None,
            )
            return
        yield dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(run.rows or 0),
                "dagster/row_count": dg.MetadataValue.int(run.rows or 0),
                "path": dg.MetadataValue.path(str(path)),
                "engine": dg.MetadataValue.text(run.engine),
                "build": dg.MetadataValue.text(run.decision),
                "preview": dg.MetadataValue.md(_preview(path)),
            },
            check_results=[validation.check_result()] if validation is not None else None,
        )

    return _asset


def model_assets(contracts: dict[str, Contract] | None = None) -> list[dg.AssetsDefinition]:
    models = discover_models()
    known = set(models) | {f"raw.{n}" for n in RAW_TABLES}
    contracts = contracts or {}
    return [model_asset(m, known, contracts.get(m.key)) for m in models.values()]


def snapshot_asset(upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=SNAPSHOT_KEY,
        group_name="reports",
        deps=upstream,
        description="The published warehouse.duckdb snapshot analysts query (replaced atomically).",
        kinds={"duckdb"},
    )
    def warehouse_snapshot(warehouse: WarehouseResource) -> dg.MaterializeResult:
        result = publish(warehouse.data_home, warehouse.catalog())
        quarantined = result.tables.get("quarantine.rejected_rows", 0)
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "tables": dg.MetadataValue.int(len(result.tables)),
                "quarantined_rows": dg.MetadataValue.int(quarantined),
                "row_counts": dg.MetadataValue.json(result.tables),
            }
        )

    return warehouse_snapshot


def weekly_report_asset(weekly: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=WEEKLY_REPORT_KEY,
        group_name="reports",
        deps=[SNAPSHOT_KEY],
        partitions_def=weekly,
        description="The weekly metrics review: reports/weekly/<ISO week>.html and reports/index.html.",
        kinds={"html"},
    )
    def weekly_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        from ops_warehouse.reporting.publish import publish_report

        monday = date.fromisoformat(context.partition_key)
        week = iso_week_label(monday)
        path = publish_report(warehouse.data_home, week=week)
        return dg.MaterializeResult(
            metadata={
                "week": dg.MetadataValue.text(week),
                "path": dg.MetadataValue.path(str(path)),
                "bytes": dg.MetadataValue.int(path.stat().st_size),
                "index": dg.MetadataValue.path(str(warehouse.data_home.reports / "index.html")),
            }
        )

    return weekly_report
