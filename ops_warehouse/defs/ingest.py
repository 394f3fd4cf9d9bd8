"""The ingest job: new landing files into the raw lake, recording each changed day partition."""

from pathlib import Path

import dagster as dg

from ops_warehouse.defs.assets import RAW_KEYS
from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.ingest import FileReport, file_sha256, ingest_paths, iter_files
from ops_warehouse.lake.store import Lake, connect, quote_literal
from ops_warehouse.lake.tables import INGEST_LOG


class IngestConfig(dg.Config):
    """Which files to ingest; empty means every file in landing/ whose content is not ingested yet."""

    paths: list[str] = []
    default_tz: str | None = None


def pending_landing_files(warehouse: WarehouseResource) -> list[Path]:
    """Files in landing/ whose current content has not been ingested without error."""
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


def materializations(reports: list[FileReport]) -> list[dg.AssetMaterialization]:
    """One materialization per raw table and day partition the files changed."""
    touched: dict[tuple[str, str], list[str]] = {}
    for r in reports:
        for table, days in r.partitions.items():
            for day in days:
                touched.setdefault((table, day), []).append(r.file)
    return [
        dg.AssetMaterialization(
            asset_key=RAW_KEYS[table],
            partition=day or None,
            metadata={"files": dg.MetadataValue.json(sorted(set(files)))},
        )
        for (table, day), files in sorted(touched.items())
    ]


@dg.op(description="Ingest export files into the raw lake; every row loaded, a duplicate, or quarantined.")
def ingest_landing(context: dg.OpExecutionContext, config: IngestConfig, warehouse: WarehouseResource) -> dict:
    home = warehouse.data_home
    files = [Path(p) for p in config.paths] if config.paths else pending_landing_files(warehouse)
    reports = ingest_paths(home, files, default_tz=config.default_tz)
    for r in reports:
        (context.log.error if r.error else context.log.info)(r.line())
    for event in materializations(reports):
        context.log_event(event)
    totals = {
        "files": len(reports),
        "files_failed": sum(1 for r in reports if r.error),
        "rows_read": sum(r.read for r in reports),
        "rows_loaded": sum(r.loaded for r in reports),
        "rows_duplicate": sum(r.duplicates for r in reports),
        "rows_quarantined": sum(r.quarantined for r in reports),
    }
    context.add_output_metadata({k: dg.MetadataValue.int(v) for k, v in totals.items()})
    if totals["files_failed"]:
        failed = [r.line() for r in reports if r.error]
        raise dg.Failure(description=f"{len(failed)} file(s) could not be read", metadata={"errors": dg.MetadataValue.json(failed)})
    return totals


@dg.job(description="Ingest new files from landing/ into the raw lake.")
def ingest_landing_job() -> None:
    ingest_landing()
