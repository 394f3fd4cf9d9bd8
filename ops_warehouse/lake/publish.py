"""Publishing: a ``warehouse.duckdb`` snapshot, replaced atomically, that copies only what is small.

A snapshot is a DuckDB file plus a folder ``snapshots/<id>/`` beside it:

- ``core`` and ``marts`` (the derived tables, small) are copied into the DuckDB file as tables,
  except those kept as a folder of days (``core.sli_minutes``, ``marts.slo_alerts``,
  ``marts.deploy_slo_impact``: a year of minutes is raw-sized, and a new day should write only its
  own files), which are views over their files linked like raw's;
- ``raw``, ``quarantine`` and ``raw.ingest_log`` are views over the lake's Parquet files, each
  hard-linked into ``snapshots/<id>/`` (copied only where the file system cannot link). The lake
  never rewrites a file in place (every write is a new file renamed over the old one), so a linked
  file keeps the content it had when published, however the lake changes after: publishing costs no
  copy of the raw data, and the snapshot cannot change under its readers.

The DuckDB file is built under a temporary name in the data home's scratch folder, linked into its
folder as ``warehouse.duckdb``, then moved over ``<home>/warehouse.duckdb`` with ``os.replace``
(:func:`ops_warehouse.fileio.staged`). An analyst with the old file open keeps reading the old
snapshot, its linked files included; a new connection sees the new one; nobody ever sees a
half-built warehouse, and a build never waits for an analyst. A snapshot's folder is
removed once it is neither the published one nor the one before it, and no process holds its
DuckDB file open; a killed publish leaves only a folder that the next publish removes.

The views name the linked files by absolute path: moving the data home needs a new ``build`` (or
``publish``) before its ``raw`` views answer again. ``ops-warehouse sql`` may read files under
``<home>/snapshots`` and nowhere else (:mod:`ops_warehouse.query`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ops_warehouse.catalog import Catalog
from ops_warehouse.duck import quote_ident, quote_literal
from ops_warehouse.fileio import staged
from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import _latest_per_key, discover_models, open_lake
from ops_warehouse.lake.store import Lake, derived_location, typed_scan
from ops_warehouse.tables import INGEST_LOG, RAW_TABLES, REJECTED_ROWS, RawTable

SNAPSHOTS = "snapshots"
SNAPSHOT_DB = "warehouse.duckdb"
STALE_HOURS = 6.0


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]


def snapshots_dir(home: DataHome) -> Path:
    return home.root / SNAPSHOTS


def publish(home: DataHome, catalog: Catalog | None = None) -> PublishResult:
    home.ensure()
    home.clean_stale()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    folder = snapshots_dir(home) / f"{stamp}-{uuid.uuid4().hex[:8]}"
    try:
        with staged(home.warehouse, home.tmp) as tmp:
            try:
                counts = _write_snapshot(home, catalog, folder, tmp)
            finally:
                Path(f"{tmp}.wal").unlink(missing_ok=True)
            os.link(tmp, folder / SNAPSHOT_DB)  # the very file about to be published, flushed with it
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    collect_snapshots(home)
    return PublishResult(path=home.warehouse, tables=counts)


def _write_snapshot(home: DataHome, catalog: Catalog | None, folder: Path, db: Path) -> dict[str, int]:
    """Build the snapshot's DuckDB file at ``db``: views over the lake's files linked into
    ``folder``, and copies of the derived tables, each with its description. Returns the counts."""
    counts: dict[str, int] = {}
    descriptions = {m.key: m.description for m in discover_models().values()}
    linked = _link_lake(home, folder)
    src = open_lake(home, catalog, raw=set())
    try:
        src.execute(f"ATTACH {quote_literal(str(db))} AS snap")
        for schema in ("raw", "core", "marts", "quarantine"):
            src.execute(f"CREATE SCHEMA snap.{schema}")
        for (schema, name), select in linked.items():
            qualified = f"{schema}.{quote_ident(name)}"
            src.execute(f"CREATE VIEW snap.{qualified} AS {select}")
            counts[f"{schema}.{name}"] = src.execute(f"SELECT count(*) FROM snap.{qualified}").fetchone()[0]
            comment = _raw_doc(schema, name)
            if comment:
                src.execute(f"COMMENT ON VIEW snap.{qualified} IS {quote_literal(comment)}")
        derived = src.execute(
            "SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = 'memory' AND schema_name IN ('core', 'marts') ORDER BY 1, 2"
        ).fetchall()
        for schema, name in derived:
            qualified = f"{schema}.{quote_ident(name)}"
            kind = "TABLE"
            stored = derived_location(home.lake, schema, name)
            if stored.is_dir() and any(stored.rglob("*.parquet")):
                # a table kept by day (a year of SLI minutes): its files are linked like raw's
                kind = "VIEW"
                src.execute(f"CREATE VIEW snap.{qualified} AS {_link_days(stored, folder / schema / name)}")
            else:
                src.execute(f"CREATE TABLE snap.{qualified} AS SELECT * FROM {qualified}")
            counts[f"{schema}.{name}"] = src.execute(f"SELECT count(*) FROM snap.{qualified}").fetchone()[0]
            comment = descriptions.get(f"{schema}.{name}")
            if comment:
                src.execute(f"COMMENT ON {kind} snap.{qualified} IS {quote_literal(comment)}")
        src.execute("DETACH snap")
    finally:
        src.close()
    return counts


def _link_lake(home: DataHome, folder: Path) -> dict[tuple[str, str], str]:
    """Hard-link every file the raw, quarantine and ingest-log views read into ``folder``, under the
    lake's shared lock so no ingest is half merged; the SELECT of each view over the links."""
    lake = Lake(home)
    tables: list[tuple[str, RawTable]] = [("raw", t) for t in RAW_TABLES.values()]
    tables += [("quarantine", REJECTED_ROWS), ("raw", INGEST_LOG)]
    views: dict[tuple[str, str], str] = {}
    folder.mkdir(parents=True)
    with lake.lock(shared=True):
        for schema, table in tables:
            files = []
            for n, f in enumerate(lake.files(table)):
                day = f.parent.name if f.parent != lake.table_dir(table) else "all"
                target = folder / schema / table.name / f"{n:06d}-{day}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                _link(f, target)
                files.append(target)
            scan = typed_scan(table, files)
            views[(schema, table.name)] = _latest_per_key(table, scan) if table in RAW_TABLES.values() else scan
    return views


def _link_days(stored: Path, target: Path) -> str:
    """Hard-link the files of a derived table kept by day into ``target``; the SELECT over them."""
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for f in sorted(stored.rglob("*.parquet")):
        linked = target / f"{f.parent.name}-{f.name}" if f.parent != stored else target / f.name
        _link(f, linked)
        files.append(quote_literal(str(linked)))
    return f"SELECT * FROM read_parquet([{', '.join(files)}], hive_partitioning = false)"


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(source, target)


def collect_snapshots(home: DataHome) -> list[Path]:
    """Remove the folders of snapshots nobody can reach any more: neither the published one nor the
    one before it, and not held open by any process (DuckDB locks a database file it has open). A
    folder without its DuckDB file is a publish in progress, or one that was killed: removed once
    older than ``STALE_HOURS``. Returns the folders removed."""
    root = snapshots_dir(home)
    if not root.exists():
        return []
    try:
        current = os.stat(home.warehouse).st_ino
    except FileNotFoundError:
        current = None
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    published = [p for p in folders if (p / SNAPSHOT_DB).exists()]
    keep = set()
    for i, p in enumerate(published):
        if os.stat(p / SNAPSHOT_DB).st_ino == current:
            keep.add(p)
            if i + 1 < len(published):
                keep.add(published[i + 1])  # the one just replaced: a reader may be opening it
    removed = []
    cutoff = time.time() - STALE_HOURS * 3600
    for p in folders:
        if p in keep:
            continue
        db = p / SNAPSHOT_DB
        if db.exists() and (os.stat(db).st_nlink > 1 or _in_use(db)):
            continue
        if not db.exists() and p.stat().st_mtime > cutoff:
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _in_use(db: Path) -> bool:
    """Whether a process holds the DuckDB file open (DuckDB keeps a lock on it while open): probed
    with an open-file-description lock, which never disturbs this process's own locks' owner."""
    try:
        fd = os.open(db, os.O_RDWR)
    except OSError:
        return True
    try:
        lock = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, lock)
        except OSError:
            return True
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_UNLCK, os.SEEK_SET, 0, 0, 0))
        return False
    finally:
        os.close(fd)


def _raw_doc(schema: str, name: str) -> str:
    if schema == "raw" and name in RAW_TABLES:
        return RAW_TABLES[name].doc
    if (schema, name) == ("quarantine", REJECTED_ROWS.name):
        return REJECTED_ROWS.doc
    if name == INGEST_LOG.name:
        return INGEST_LOG.doc
    return ""


def connect_snapshot(home: DataHome) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot, in UTC."""
    if not home.warehouse.exists():
        raise FileNotFoundError(f"no published warehouse at {home.warehouse}; run `ops-warehouse build` first")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
