"""The ingest job: new landing files into the raw lake, recording each changed day partition.

The same materializations are recorded for files ingested from the command line (as runless
events, see :mod:`ops_warehouse.defs.instance`), so the UI tells when each raw table last changed
whichever way its data arrived.
"""

from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from ops_warehouse.defs.assets import RAW_KEYS
from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import FileReport, file_sha256, ingest_paths, iter_files
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import INGEST_LOG


class IngestConfig(dg.Config):
    """Which files to ingest; empty means every file in landing/ whose content is not ingested yet."""

    paths: list[str] = []
    default_tz: str | None = None


def ingested_contents(home: DataHome) -> set[tuple[str, str]]:
    """(file, sha256) of every file content ingested without error, from the lake's ingest log."""
    lake = Lake(home)
    if not lake.files(INGEST_LOG):
        return set()
    con = connect()
    try:
        rows = con.execute(
            f"SELECT source_file, sha256 FROM ({lake.scan_sql(INGEST_LOG)}) WHERE error IS NULL AND sha256 IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return {(r[0], r[1]) for r in rows}


def landing_contents(home: DataHome, known: Mapping[str, list[object]] | None = None) -> dict[str, list[object]]:
    """Every file in landing/ as ``relative path -> [size, mtime_ns, sha256]``.

    A file whose size and modification time match its entry in ``known`` keeps that entry's hash
    instead of being read again, so a sensor tick over a large landing folder hashes only what
    changed."""
    known = known or {}
    out: dict[str, list[object]] = {}
    for f in iter_files([home.landing]):
        try:
            st = f.stat()
        except OSError:  # removed between listing and stat
            continue
        rel = f.relative_to(home.landing).as_posix()
        old = known.get(rel)
        if old is not None and old[0] == st.st_size and old[1] == st.st_mtime_ns and old[2]:
            out[rel] = [st.st_size, st.st_mtime_ns, old[2]]
            continue
        sha = file_sha256(f)
        if sha is not None:
            out[rel] = [st.st_size, st.st_mtime_ns, sha]
    return out


def pending_landing_files(home: DataHome) -> list[Path]:
    """Files in landing/ whose current content has not been ingested without error."""
    seen = ingested_contents(home)
    return [
        home.landing / rel
        for rel, (_, _, sha) in sorted(landing_contents(home).items())
        if (str(home.landing / rel), sha) not in seen
    ]


def materializations(reports: list[FileReport], *, source: str = "ingest_landing_job") -> list[dg.AssetMaterialization]:
    """One materialization per raw table and day partition the files changed, naming the files
    and, for each, its accounting (rows read, loaded, duplicate, quarantined)."""
    touched: dict[tuple[str, str], list[FileReport]] = {}
    for r in reports:
        for table, days in r.partitions.items():
            for day in days:
                touched.setdefault((table, day), []).append(r)
    return [
        dg.AssetMaterialization(
            asset_key=RAW_KEYS[table],
            partition=day or None,
            description=f"ingested by {source}",
            metadata={
                "files": dg.MetadataValue.json(sorted({r.file for r in files})),
                "accounting": dg.MetadataValue.json(
                    {
                        r.file: {
                            "kind": r.kind,
                            "rows_read": r.read,
                            "rows_loaded": r.loaded,
                            "rows_duplicate": r.duplicates,
                            "rows_quarantined": r.quarantined,
                        }
                        for r in files
                    }
                ),
                "source": dg.MetadataValue.text(source),
            },
        )
        for (table, day), files in sorted(touched.items())
        if table in RAW_KEYS
    ]


@dg.op(description="Ingest export files into the raw lake; every row loaded, a duplicate, or quarantined.")
def ingest_landing(
    context: dg.OpExecutionContext, config: IngestConfig, warehouse: WarehouseResource
) -> dict[str, int]:
    home = warehouse.data_home
    files = [Path(p) for p in config.paths] if config.paths else pending_landing_files(home)
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
        raise dg.Failure(
            description=f"{len(failed)} file(s) could not be read", metadata={"errors": dg.MetadataValue.json(failed)}
        )
    return totals


@dg.job(description="Ingest new files from landing/ into the raw lake.")
def ingest_landing_job() -> None:
    ingest_landing()
