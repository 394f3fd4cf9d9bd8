"""The Parquet lake: atomic writes, idempotent merges, and the paths readers use.

Layout under ``<home>/lake``::

    raw/<table>/day=2026-11-23/part-0.parquet   partitioned raw tables
    raw/<table>/part-0.parquet                  unpartitioned raw tables
    quarantine/rejected_rows/part-0.parquet
    meta/ingest_log/part-0.parquet
    core/<table>.parquet, marts/<table>.parquet derived tables
    core/<table>/day=2026-11-23/part-0.parquet  derived tables kept by day (``partition=day``)

Every file is written to a temporary name in the data home and renamed into place, so a reader
(or a crash) sees the old file or the new one, never half of one. Merges run under an exclusive
lock on ``lake/.lock`` so two ingests never lose each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.duck import connect, quote_ident, quote_literal
from ops_warehouse.fileio import fsync_files, locked, replace_with, staged
from ops_warehouse.home import DataHome
from ops_warehouse.tables import INGEST_LOG, REJECTED_ROWS, RawTable

PART = "part-0.parquet"
MERGE_BATCH_ROWS = int(os.environ.get("OPS_WAREHOUSE_MERGE_BATCH_ROWS", "2000000"))
MERGE_MEMORY = os.environ.get("OPS_WAREHOUSE_MERGE_MEMORY", "768MB")
SYSTEM_COLUMNS = ("source_file", "ingested_at")


def is_derived(relation: str) -> bool:
    """Whether ``relation`` (``layer.name``) is a table the models write (``core``, ``marts``),
    not raw data, the catalog or the quarantine.

    >>> is_derived("marts.dora_weekly"), is_derived("raw.deployments")
    (True, False)
    """
    return relation.startswith(("core.", "marts."))


def derived_location(lake_root: Path, layer: str, name: str) -> Path:
    """A derived table's path under ``lake_root``: the folder ``<layer>/<name>/`` when the table
    is kept as one file per UTC day of its key (``day=YYYY-MM-DD/part-0.parquet``; an empty
    table is one ``empty.parquet``), else ``<layer>/<name>.parquet``."""
    folder = lake_root / layer / name
    return folder if folder.is_dir() else lake_root / layer / f"{name}.parquet"


def derived_read_sql(path: Path) -> str:
    """A SELECT over a derived table stored at ``path`` (a file, or a folder of day files, which
    hold every column: no ``day`` column is read from the folder names).

    >>> derived_read_sql(Path("/l/core/x.parquet"))
    "SELECT * FROM read_parquet('/l/core/x.parquet')"
    """
    if path.is_dir():
        glob = quote_literal(str(path / "**" / "*.parquet"))
        return f"SELECT * FROM read_parquet({glob}, hive_partitioning = false)"
    return f"SELECT * FROM read_parquet({quote_literal(str(path))})"


def derived_day_files(path: Path) -> dict[str, Path]:
    """The day files of a table kept by day, by day (``YYYY-MM-DD``)."""
    if not path.is_dir():
        return {}
    return {d.name.split("=", 1)[1]: d / PART for d in sorted(path.glob("day=*")) if (d / PART).exists()}


def atomic_copy(con: duckdb.DuckDBPyConnection, query: str, target: Path, tmp_dir: Path) -> None:
    """Write the result of ``query`` to ``target`` as Parquet, atomically."""
    with staged(target, tmp_dir) as tmp:
        con.execute(f"COPY ({query}) TO {quote_literal(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")


def atomic_write_table(table: pa.Table, target: Path, tmp_dir: Path) -> None:
    """Write ``table`` to ``target`` as Parquet, atomically."""
    with staged(target, tmp_dir) as tmp:
        pq.write_table(table, tmp, compression="zstd")


@dataclass(frozen=True)
class MergeResult:
    loaded: int
    duplicates: int
    partitions_written: list[str]


class Lake:
    def __init__(self, home: DataHome) -> None:
        self.home = home
        self.root = home.lake

    # ------------------------------------------------------------------ paths

    def table_dir(self, table: RawTable) -> Path:
        if table is REJECTED_ROWS:
            return self.root / "quarantine" / table.name
        if table is INGEST_LOG:
            return self.root / "meta" / table.name
        return self.root / "raw" / table.name

    def files(self, table: RawTable) -> list[Path]:
        d = self.table_dir(table)
        if table.partition_by is None:
            f = d / PART
            return [f] if f.exists() else []
        return sorted(d.glob(f"day=*/{PART}"))

    def derived_path(self, layer: str, name: str) -> Path:
        """Where a core or mart table is: the folder ``<layer>/<name>/`` of a table kept by day,
        else the file ``<layer>/<name>.parquet``."""
        return derived_location(self.root, layer, name)

    def scan_sql(self, table: RawTable) -> str:
        """A SELECT over the table's current files (or an empty relation with its schema)."""
        return typed_scan(table, self.files(table))

    # ------------------------------------------------------------------ locking

    @contextmanager
    def lock(self, *, shared: bool = False) -> Iterator[None]:
        with locked(self.root / ".lock", shared=shared):
            yield

    # ------------------------------------------------------------------ merging

    def merge_exact(self, table: RawTable, by_day: dict[str, list[Path]]) -> MergeResult:
        """Merge an exact columnar batch: final-shaped Parquet per day, keys unique among them. A day
        the lake does not hold yet gets the staged file moved into place (no rewrite); days it holds
        go through :meth:`merge`. The caller holds the lock."""
        loaded = 0
        written: list[str] = []
        held: list[Path] = []
        fresh = {
            day: files
            for day, files in by_day.items()
            if not self._partition_file(table, day if table.partition_by is not None else None).exists()
        }
        fsync_files(files[0] for files in fresh.values() if len(files) == 1)
        for day, files in sorted(by_day.items()):
            target = self._partition_file(table, day if table.partition_by is not None else None)
            if day not in fresh:
                held += files
                continue
            if len(files) == 1:
                replace_with(files[0], target, flushed=True)
                loaded += pq.read_metadata(target).num_rows
            else:
                con = connect(memory_limit=MERGE_MEMORY, temp_dir=self.home.tmp / "duckdb")
                try:
                    listing = ", ".join(quote_literal(str(f)) for f in files)
                    loaded += con.execute(f"SELECT count(*) FROM read_parquet([{listing}])").fetchone()[0]
                    atomic_copy(con, f"SELECT * FROM read_parquet([{listing}])", target, self.home.tmp)
                finally:
                    con.close()
            written.append(day)
        if held:
            result = self.merge(table, held, ordered=False)
            loaded += result.loaded
            written += result.partitions_written
            return MergeResult(loaded=loaded, duplicates=result.duplicates, partitions_written=sorted(written))
        return MergeResult(loaded=loaded, duplicates=0, partitions_written=sorted(written))

    def merge(self, table: RawTable, staged: list[Path], *, ordered: bool = True) -> MergeResult:
        """Merge staged Parquet chunks (with an ``_ord`` column) into the table, deduplicating on
        its natural key. The caller holds the lock.

        A staged row is *loaded* when it adds a key or changes the stored row, otherwise it is a
        *duplicate*. Per key the row with the greatest ``updated_at`` wins; on a tie the one
        ingested last. Large inputs are merged a few days at a time (at most ``MERGE_BATCH_ROWS``
        new rows each), so memory stays bounded however big the export. ``ordered=False``: the
        chunks have no ``_ord`` (their keys are unique, so no order among them is needed).
        """
        if not staged:
            return MergeResult(0, 0, [])
        con = connect(memory_limit=MERGE_MEMORY, temp_dir=self.home.tmp / "duckdb")
        try:
            listing = ", ".join(quote_literal(str(p)) for p in staged)
            order = "" if ordered else "0::BIGINT AS _ord, "
            con.execute(
                f"CREATE TEMP VIEW staged AS SELECT *, {order}{_day_expr(table)} AS _day "
                f"FROM read_parquet([{listing}], union_by_name = true)"
            )
            per_day = con.execute("SELECT _day, count(*) FROM staged GROUP BY 1 ORDER BY 1 NULLS FIRST").fetchall()
            loaded = duplicates = 0
            written: list[str] = []
            for days in _batches(per_day, MERGE_BATCH_ROWS):
                batch = self._merge_days(con, table, days)
                loaded += batch.loaded
                duplicates += batch.duplicates
                written += batch.partitions_written
            return MergeResult(loaded=loaded, duplicates=duplicates, partitions_written=written)
        finally:
            con.close()

    def _merge_days(self, con: duckdb.DuckDBPyConnection, table: RawTable, days: list[object]) -> MergeResult:
        tmp = self.home.tmp
        cols = table.column_names
        data_cols = [c for c in cols if c not in SYSTEM_COLUMNS]
        key = ", ".join(quote_ident(k) for k in table.key)
        content = "hash(" + ", ".join(f"{quote_ident(c)}::VARCHAR" for c in data_cols) + ")"
        day = _day_expr(table)
        col_list = ", ".join(quote_ident(c) for c in cols)
        if table.partition_by is None:
            in_batch = "true"
        else:
            in_batch = "_day IN (" + ", ".join(f"DATE {quote_literal(str(d))}" for d in days) + ")"
        existing = [p for p in (self._partition_file(table, d) for d in days) if p.exists()]
        if not existing:
            fresh = self._merge_fresh(con, table, in_batch, key, col_list)
            if fresh is not None:
                return fresh
        for t in ("n", "e", "m"):
            con.execute(f"DROP TABLE IF EXISTS {t}")
        con.execute(f"CREATE TEMP TABLE n AS SELECT *, 1 AS _src, {content} AS _h FROM staged WHERE {in_batch}")
        if existing:
            con.execute(
                f"CREATE TEMP TABLE e AS SELECT {col_list}, 0::BIGINT AS _ord, 0 AS _src, {day} AS _day, "
                f"{content} AS _h FROM ({typed_scan(table, existing)})"
            )
        else:
            con.execute(f"CREATE TEMP TABLE e AS SELECT {col_list}, _ord, _src, _day, _h FROM n LIMIT 0")
        newest = "updated_at DESC NULLS LAST, " if "updated_at" in cols else ""
        con.execute(
            f"""
            CREATE TEMP TABLE m AS
            SELECT *, row_number() OVER (
                PARTITION BY {key}
                ORDER BY {newest}_src DESC, _ord DESC
            ) AS _rn
            FROM (SELECT {col_list}, _ord, _src, _day, _h FROM e
                  UNION ALL
                  SELECT {col_list}, _ord, _src, _day, _h FROM n)
            """
        )
        total_new = con.execute("SELECT count(*) FROM n").fetchone()[0]
        key_match = " AND ".join(f"e.{quote_ident(k)} IS NOT DISTINCT FROM m.{quote_ident(k)}" for k in table.key)
        loaded = con.execute(
            f"""
            SELECT count(*) FROM m
            WHERE _rn = 1 AND _src = 1
              AND NOT EXISTS (SELECT 1 FROM e WHERE {key_match} AND e._h = m._h)
            """
        ).fetchone()[0]
        written: list[str] = []
        if loaded and table.partition_by is None:
            atomic_copy(
                con, f"SELECT {col_list} FROM m WHERE _rn = 1 ORDER BY {key}", self._partition_file(table, None), tmp
            )
            written.append("")
        elif loaded:
            _, written = self._write_partitions(
                con, table, f"SELECT {col_list}, _day FROM m WHERE _rn = 1 ORDER BY {key}"
            )
        return MergeResult(loaded=loaded, duplicates=total_new - loaded, partitions_written=written)

    def _merge_fresh(
        self, con: duckdb.DuckDBPyConnection, table: RawTable, in_batch: str, key: str, col_list: str
    ) -> MergeResult | None:
        """Days the lake does not hold yet, when no key repeats among the new rows: every row is
        new, so the rows are written as they come (file order), without ranking versions. None
        when a key repeats (the general merge ranks them)."""
        rows, distinct = con.execute(
            f"SELECT count(*), count(DISTINCT hash({key})) FROM staged WHERE {in_batch}"
        ).fetchone()
        if rows != distinct:  # a repeated key (or a hash collision)
            return None
        if table.partition_by is None:
            if rows:
                atomic_copy(
                    con,
                    f"SELECT {col_list} FROM staged ORDER BY {key}",
                    self._partition_file(table, None),
                    self.home.tmp,
                )
            return MergeResult(loaded=rows, duplicates=0, partitions_written=[""] if rows else [])
        rows, written = self._write_partitions(con, table, f"SELECT {col_list}, _day FROM staged WHERE {in_batch}")
        return MergeResult(loaded=rows, duplicates=0, partitions_written=written)

    def _write_partitions(self, con: duckdb.DuckDBPyConnection, table: RawTable, query: str) -> tuple[int, list[str]]:
        """Write every day partition of ``query`` (which has a ``_day`` column) in one pass into a
        scratch folder, then move each file over its partition's file: each rename is atomic.
        Returns the rows written and the days."""
        scratch = self.home.tmp / f"partitions-{uuid.uuid4().hex}"
        try:
            rows = con.execute(
                f"COPY ({query}) TO {quote_literal(str(scratch))} "
                "(FORMAT parquet, PARTITION_BY (_day), COMPRESSION zstd, WRITE_PARTITION_COLUMNS false)"
            ).fetchone()[0]
            written = []
            parts = {d.name.split("=", 1)[1]: sorted(d.glob("*.parquet")) for d in sorted(scratch.glob("_day=*"))}
            fsync_files(files[0] for files in parts.values() if len(files) == 1)
            for day, files in parts.items():
                target = self._partition_file(table, day)
                if len(files) == 1:
                    replace_with(files[0], target, flushed=True)
                else:  # a very large partition written as several files: combine them
                    listing = ", ".join(quote_literal(str(f)) for f in files)
                    atomic_copy(con, f"SELECT * FROM read_parquet([{listing}])", target, self.home.tmp)
                written.append(day)
            return rows, written
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _partition_file(self, table: RawTable, day: object) -> Path:
        d = self.table_dir(table)
        if table.partition_by is None:
            return d / PART
        return d / f"day={day}" / PART

    def append(self, table: RawTable, rows: pa.Table) -> None:
        """Add rows to an unpartitioned table (the ingest log), keeping what is there."""
        target = self.table_dir(table) / PART
        if target.exists():
            old = pq.read_table(target)
            rows = pa.concat_tables([old, rows.select(old.schema.names).cast(old.schema)])
        atomic_write_table(rows, target, self.home.tmp)


def _batches(per_day: list[tuple[object, int]], limit: int) -> Iterator[list[object]]:
    """Consecutive days grouped so each group holds at most ``limit`` rows (a bigger day alone)."""
    group: list[object] = []
    rows = 0
    for day, n in per_day:
        if group and rows + n > limit:
            yield group
            group, rows = [], 0
        group.append(day)
        rows += n
    if group:
        yield group


def _day_expr(table: RawTable) -> str:
    if table.partition_by is None:
        return "NULL::DATE"
    return f"CAST(timezone('UTC', {quote_ident(table.partition_by)}) AS DATE)"


def typed_scan(table: RawTable, files: list[Path]) -> str:
    """The table's columns, in order and type, over the files; columns a file lacks (written before
    the column existed) read as NULL."""
    if not files:
        return empty_select(table)
    cols = ", ".join(quote_ident(c) for c in table.column_names)
    listing = ", ".join(quote_literal(str(f)) for f in files)
    return (
        f"SELECT {cols} FROM ({empty_select(table)} "
        f"UNION ALL BY NAME SELECT * FROM read_parquet([{listing}], union_by_name = true))"
    )


def empty_select(table: RawTable) -> str:
    from ops_warehouse.lake.duck_types import duckdb_type

    cols = ", ".join(f"NULL::{duckdb_type(c.type)} AS {quote_ident(c.name)}" for c in table.columns)
    return f"SELECT {cols} WHERE false"
