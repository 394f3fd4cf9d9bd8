"""Dagster assets: the lake's tables as an asset graph. This module only wires; the work is in
``ops_warehouse.lake.models`` and ``ops_warehouse.lake.publish``.

Groups: ``ingest`` (raw tables, daily-partitioned, filled from ``landing/`` by the ingest job),
``core`` and ``marts`` (one asset per SQL model in ``assets/models``), ``reports`` (the published
snapshot and the weekly report).
"""


from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from ops_warehouse.lake.models import Model, discover_models, run_model
from ops_warehouse.lake.publish import publish
from ops_warehouse.lake.store import Lake, connect, quote_literal
from ops_warehouse.lake.tables import RAW_TABLES
from ops_warehouse.timeutil import iso_week_label
from ops_warehouse.defs.partitions import DAILY, WEEKLY
from ops_warehouse.defs.resources import WarehouseResource

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in RAW_TABLES}
SNAPSHOT_KEY = dg.AssetKey(["warehouse"])


def raw_specs() -> list[dg.AssetSpec]:
    """The raw tables as assets. They are filled by ingestion (the landing sensor's runs, or
    ``ops-warehouse ingest``), which records a materialization for every day partition it changes."""
    return [
        dg.AssetSpec(
            key,
            group_name="ingest",
            description=RAW_TABLES[name].doc,
            kinds={"parquet"},
            partitions_def=DAILY if RAW_TABLES[name].partition_by else None,
        )
        for name, key in RAW_KEYS.items()
    ]


def _dep_keys(model: Model, known: set[str]) -> list[dg.AssetKey]:
    return [dg.AssetKey(dep.split(".")) for dep in sorted(model.deps) if dep in known]


def _preview(path: Path, limit: int = 5) -> str:
    con = connect()
    try:
        df = con.execute(f"SELECT * FROM read_parquet({quote_literal(str(path))}) LIMIT {limit}").fetchdf()
    finally:
        con.close()
    return df.to_markdown(index=False)  # tabulate comes with dagster


# The daily build refreshes the marts; one missed day warns, two fail.
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=timedelta(hours=48), warn_window=timedelta(hours=26))


def model_asset(model: Model, known: set[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([model.layer, model.name]),
        group_name=model.layer,
        deps=_dep_keys(model, known),
        description=model.description or None,
        kinds={"duckdb", "sql" if model.sql else "python"},
        freshness_policy=MART_FRESHNESS if model.layer == "marts" else None,
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        home = warehouse.data_home
        rows = run_model(home, model, warehouse.catalog())
        path = home.lake / model.layer / f"{model.name}.parquet"
        return dg.MaterializeResult(
            metadata={
                "rows": dg.MetadataValue.int(rows),
                "path": dg.MetadataValue.path(str(path)),
                "preview": dg.MetadataValue.md(_preview(path)),
            }
        )

    return _asset


def model_assets() -> list[dg.AssetsDefinition]:
    models = discover_models()
    known = set(models) | {f"raw.{n}" for n in RAW_TABLES}
    return [model_asset(m, known) for m in models.values()]


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


def weekly_report_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey(["weekly_report"]),
        group_name="reports",
        deps=[SNAPSHOT_KEY],
        partitions_def=WEEKLY,
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
