"""Publishing: a complete ``warehouse.duckdb`` snapshot, replaced atomically.

The snapshot is built in a temporary file beside the target, holding every table (raw, core,
marts, quarantine) as a real table, then moved over ``warehouse.duckdb`` with ``os.replace``.
An analyst with the old file open keeps reading the old snapshot; a new connection sees the new
one; nobody ever sees a half-built warehouse, and a build never waits for an analyst.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import discover_models, open_lake
from ops_warehouse.lake.store import fsync_file, quote_ident, quote_literal
from ops_warehouse.lake.tables import RAW_TABLES


@dataclass
class PublishResult:
    path: Path
    tables: dict[str, int]


def publish(home: DataHome, catalog: Catalog | None = None) -> PublishResult:
    home.ensure()
    home.clean_stale()
    tmp = home.root / f".warehouse-{uuid.uuid4().hex}.duckdb.tmp"
    counts: dict[str, int] = {}
    descriptions = {m.key: m.description for m in discover_models().values()}
    src = open_lake(home, catalog)
    try:
        src.execute(f"ATTACH {quote_literal(str(tmp))} AS snap")
        for schema in ("raw", "core", "marts", "quarantine"):
            src.execute(f"CREATE SCHEMA snap.{schema}")
        relations = src.execute(
            "SELECT schema_name, view_name FROM duckdb_views() "
            "WHERE database_name = 'memory' AND schema_name IN ('raw', 'core', 'marts', 'quarantine') "
            "ORDER BY 1, 2"
        ).fetchall()
        for schema, name in relations:
            qualified = f"{schema}.{quote_ident(name)}"
            src.execute(f"CREATE TABLE snap.{qualified} AS SELECT * FROM {qualified}")
            counts[f"{schema}.{name}"] = src.execute(f"SELECT count(*) FROM snap.{qualified}").fetchone()[0]
            comment = descriptions.get(f"{schema}.{name}") or _raw_doc(schema, name)
            if comment:
                src.execute(f"COMMENT ON TABLE snap.{qualified} IS {quote_literal(comment)}")
        src.execute("DETACH snap")
    except BaseException:
        src.close()
        _remove(tmp)
        raise
    src.close()
    fsync_file(tmp)
    os.replace(tmp, home.warehouse)
    _remove(Path(str(tmp) + ".wal"))
    return PublishResult(path=home.warehouse, tables=counts)


def _raw_doc(schema: str, name: str) -> str:
    if schema == "raw" and name in RAW_TABLES:
        return RAW_TABLES[name].doc
    return ""



def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def connect_snapshot(home: DataHome) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot, in UTC."""
    if not home.warehouse.exists():
        raise FileNotFoundError(f"no published warehouse at {home.warehouse}; run `ops-warehouse build` first")
    con = duckdb.connect(str(home.warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con
