"""Shared set-up for the reliability suite: one small generated organisation, a clean reference
warehouse built from it, and the checks every scenario repeats (readable lake, complete snapshot,
content checksums of the derived tables)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ops_warehouse.duck import quote_ident
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish
from ops_warehouse.lake.store import derived_read_sql

# A fixed end day keeps every run of the generator (and so every checksum) identical.
END = date(2026, 11, 1)
SERVICES, WEEKS, METRIC_DAYS, SEED = 3, 3, 7, 11

# Columns that legitimately carry the time or place of a run rather than data.
RUN_COLUMNS = {"ingested_at", "source_file"}
DERIVED_LAYERS = ("core", "marts")
SCHEMAS = ("raw", "core", "marts", "quarantine")


@dataclass
class Exports:
    root: Path
    catalog: Path
    files: list[Path]


@dataclass
class Reference:
    home: DataHome
    checksums: dict[str, str]
    raw: dict[str, str]
    snapshot_tables: set[str]
    counts: dict[str, int]


def new_home(path: Path, exports: Exports) -> DataHome:
    home = DataHome.resolve(path).ensure()
    shutil.copyfile(exports.catalog, home.catalog)
    return home


def ingest_all(home: DataHome, files: list[Path], **kw) -> list:
    reports = [ingest_file(home, f, **kw) for f in files]
    for r in reports:
        assert r.ok, r.line()
        assert r.balanced, r.line()
    return reports


def table_checksum(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """An order-independent digest of a relation's content, without run-time columns."""
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    keep = [c for c in cols if c not in RUN_COLUMNS]
    # Doubles are rounded so that a differently ordered (parallel) sum cannot flip the last bit.
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {relation})").fetchall())
    exprs = []
    for c in keep:
        q = quote_ident(c)
        if types[c] in ("DOUBLE", "FLOAT"):
            exprs.append(f"round({q}, 9) AS {q}")
        else:
            exprs.append(q)
    select = ", ".join(exprs) if exprs else "1 AS _empty"
    row = con.execute(
        f"SELECT count(*), md5(coalesce(string_agg(r::VARCHAR, chr(10) ORDER BY r::VARCHAR), '')) "
        f"FROM (SELECT {select} FROM {relation}) r"
    ).fetchone()
    return f"{row[0]}:{row[1]}"


def lake_checksums(home: DataHome) -> dict[str, str]:
    """Digest of every table in lake/core and lake/marts."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    out = {}
    for layer in DERIVED_LAYERS:
        for f in sorted((home.lake / layer).iterdir()):
            if f.suffix == ".parquet" or f.is_dir():
                out[f"{layer}.{f.name.removesuffix('.parquet')}"] = table_checksum(con, f"({derived_read_sql(f)})")
    con.close()
    return out


def snapshot_checksums(home: DataHome) -> dict[str, str]:
    """Digest of every core and marts table in the published snapshot."""
    con = duckdb.connect(str(home.warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    try:
        names = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('core', 'marts') ORDER BY 1, 2"
        ).fetchall()
        return {f"{s}.{n}": table_checksum(con, f"{s}.{quote_ident(n)}") for s, n in names}
    finally:
        con.close()


def assert_lake_readable(home: DataHome) -> int:
    """Every Parquet file under lake/ reads whole; returns how many there are."""
    files = sorted(home.lake.rglob("*.parquet"))
    for f in files:
        try:
            pq.read_table(f)
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            pytest.fail(f"unreadable Parquet file {f.relative_to(home.root)}: {type(exc).__name__}: {exc}")
    # Temporary files must never sit inside the lake, where readers glob for Parquet.
    stray = [p for p in home.lake.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert not stray, f"temporary files inside the lake: {stray}"
    return len(files)


def snapshot_tables(home: DataHome) -> set[str]:
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        return {
            f"{s}.{n}"
            for s, n in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        }
    finally:
        con.close()


def assert_snapshot_complete(home: DataHome, expected: set[str]) -> None:
    """The published warehouse (if there is one) opens read-only and has every expected table,
    each of which can be read to the end."""
    if not home.warehouse.exists():
        return
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        found = {
            f"{s}.{n}"
            for s, n in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        }
        missing = expected - found
        assert not missing, f"published snapshot lacks {sorted(missing)}"
        for name in sorted(found):
            s, n = name.split(".", 1)
            con.execute(f"SELECT count(*) FROM {s}.{quote_ident(n)}").fetchone()
    finally:
        con.close()


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    from ops_warehouse.generate import generate_exports

    out = tmp_path_factory.mktemp("generated")
    _, paths = generate_exports(
        out, services=SERVICES, weeks=WEEKS, seed=SEED, end=END, metric_days=METRIC_DAYS, slo_services=1
    )
    return Exports(root=out / "exports", catalog=out / "catalog.yaml", files=sorted(paths))


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, exports: Exports) -> Reference:
    """A clean run: every file ingested once in name order, built and published."""
    home = new_home(tmp_path_factory.mktemp("reference") / "home", exports)
    ingest_all(home, exports.files)
    counts = build_models(home)
    publish(home)
    sums = lake_checksums(home)
    assert sums, "the reference build wrote no derived tables"
    assert counts["core.deployments"] > 0 and counts["core.incidents"] > 0
    return Reference(
        home=home, checksums=sums, raw=raw_checksums(home), snapshot_tables=snapshot_tables(home), counts=counts
    )


def raw_checksums(home: DataHome) -> dict[str, str]:
    """Digest of every raw table as the models see it (one row per natural key) and of the
    quarantine, without run-time columns."""
    from ops_warehouse.lake.models import open_lake
    from ops_warehouse.tables import RAW_TABLES

    con = open_lake(home)
    try:
        out = {f"raw.{name}": table_checksum(con, f"raw.{quote_ident(name)}") for name in RAW_TABLES}
        out["quarantine.rejected_rows"] = table_checksum(con, "quarantine.rejected_rows")
        return out
    finally:
        con.close()


def raw_counts(home: DataHome) -> dict[str, int]:
    from ops_warehouse.lake.models import open_lake
    from ops_warehouse.tables import RAW_TABLES

    con = open_lake(home)
    try:
        return {name: con.execute(f"SELECT count(*) FROM raw.{quote_ident(name)}").fetchone()[0] for name in RAW_TABLES}
    finally:
        con.close()


def diff(found: dict[str, str], expected: dict[str, str]) -> list[str]:
    """The tables whose digest differs (or that are missing on either side)."""
    return sorted(k for k in set(found) | set(expected) if found.get(k) != expected.get(k))
