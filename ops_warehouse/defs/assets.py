"""Dagster assets: the lake's tables as an asset graph. This module only wires; the work is in
``ops_warehouse.ingest``, ``ops_warehouse.lake.models`` and ``ops_warehouse.lake.publish``.

Groups: ``ingest`` (raw tables, filled from ``landing/``), ``core`` and ``marts`` (one asset per
SQL model in ``assets/models``), ``reports`` (the published snapshot and the weekly report).
"""


from pathlib import Path

import dagster as dg

from ops_warehouse.ingest import file_sha256, ingest_paths, iter_files
from ops_warehouse.lake.models import Model, discover_models, run_model
from ops_warehouse.lake.publish import publish
from ops_warehouse.lake.store import Lake, connect, quote_literal
from ops_warehouse.lake.tables import INGEST_LOG, RAW_TABLES
from ops_warehouse.defs.resources import WarehouseResource

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in RAW_TABLES}
SNAPSHOT_KEY = dg.AssetKey(["warehouse"])


class IngestConfig(dg.Config):
    """Which landing files to ingest; empty means every file in landing/ not yet ingested."""

    paths: list[str] = []
    default_tz: str | None = None


def pending_landing_files(warehouse: WarehouseResource) -> list[Path]:
    """Files in landing/ whose current content has not been ingested yet."""
    home = warehouse.data_home
    seen: set[tuple[str, str]] = set()
    log_files = Lake(home).files(INGEST_LOG)
    if log_files:
        con = connect()
        try:
            seen = {
                (r[0], r[1])
                for r in con.execute(
                    f"SELECT source_file, sha256 FROM read_parquet({quote_literal(str(log_files[0]))}) "
                    "WHERE error IS NULL"
                ).fetchall()
            }
        finally:
            con.close()
    return [f for f in iter_files([home.landing]) if (str(f.resolve()), file_sha256(f)) not in seen]


@dg.multi_asset(
    name="ingest_landing",
    specs=[
        dg.AssetSpec(key, group_name="ingest", description=RAW_TABLES[name].doc, kinds={"parquet"})
        for name, key in RAW_KEYS.items()
    ],
    description="Ingest new export files from landing/ into the raw Parquet lake.",
)
def ingest_landing(context: dg.AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource):
    home = warehouse.data_home
    files = [Path(p) for p in config.paths] if config.paths else pending_landing_files(warehouse)
    reports = ingest_paths(home, files, default_tz=config.default_tz)
    for r in reports:
        (context.log.error if r.error else context.log.info)(r.line())
    lake = Lake(home)
    con = connect()
    try:
        for name, key in RAW_KEYS.items():
            rows = con.execute(f"SELECT count(*) FROM ({lake.scan_sql(RAW_TABLES[name])})").fetchone()[0]
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "rows": dg.MetadataValue.int(rows),
                    "files_ingested": dg.MetadataValue.int(sum(1 for r in reports if r.ok)),
                    "files_failed": dg.MetadataValue.int(sum(1 for r in reports if not r.ok)),
                    "rows_read": dg.MetadataValue.int(sum(r.read for r in reports)),
                    "rows_loaded": dg.MetadataValue.int(sum(r.loaded for r in reports)),
                    "rows_duplicate": dg.MetadataValue.int(sum(r.duplicates for r in reports)),
                    "rows_quarantined": dg.MetadataValue.int(sum(r.quarantined for r in reports)),
                },
            )
    finally:
        con.close()


def _dep_keys(model: Model, known: set[str]) -> list[dg.AssetKey]:
    return [dg.AssetKey(dep.split(".")) for dep in sorted(model.deps) if dep in known]


def _preview(path: Path, limit: int = 5) -> str:
    con = connect()
    try:
        df = con.execute(f"SELECT * FROM read_parquet({quote_literal(str(path))}) LIMIT {limit}").fetchdf()
    finally:
        con.close()
    return df.to_markdown(index=False) if hasattr(df, "to_markdown") and _has_tabulate() else df.to_string()


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


def model_asset(model: Model, known: set[str]) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([model.layer, model.name]),
        group_name=model.layer,
        deps=_dep_keys(model, known),
        description=model.description or None,
        kinds={"duckdb", "sql" if model.sql else "python"},
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
