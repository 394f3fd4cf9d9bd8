"""A raw table's scan over its files: every column in the table's order and type, a column a file
lacks (written before the column existed) read as NULL, whether or not the files share a schema."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.duck import connect
from ops_warehouse.lake.store import same_schema, typed_scan
from ops_warehouse.tables import RAW_TABLES

ALERTS = RAW_TABLES["alerts"]


def _write(path: Path, rows: list[dict[str, object]], drop: tuple[str, ...] = ()) -> Path:
    schema = pa.schema([f for f in ALERTS.schema if f.name not in drop])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _row(fp: str, summary: str | None) -> dict[str, object]:
    return {"source": "alertmanager", "fingerprint": fp, "alertname": "HighLatency", "summary": summary}


def _read(files: list[Path]) -> list[tuple[object, ...]]:
    con = connect()
    try:
        return con.execute(f"SELECT fingerprint, summary FROM ({typed_scan(ALERTS, files)}) ORDER BY 1").fetchall()
    finally:
        con.close()


def test_files_of_one_schema_are_read_without_union_by_name(tmp_path: Path) -> None:
    files = [_write(tmp_path / f"day={d}" / "part-0.parquet", [_row(f"f{d}", f"s{d}")]) for d in (1, 2)]
    assert same_schema(files)
    assert "union_by_name" not in typed_scan(ALERTS, files)
    assert _read(files) == [("f1", "s1"), ("f2", "s2")]


def test_a_column_an_older_file_lacks_reads_as_null(tmp_path: Path) -> None:
    # the first file has every column, the second was written before `summary` existed (and the
    # other way round): the file that lacks it must not decide the columns of the scan
    full = _write(tmp_path / "day=1" / "part-0.parquet", [_row("f1", "s1")])
    old = _write(tmp_path / "day=2" / "part-0.parquet", [_row("f2", None)], drop=("summary",))
    assert not same_schema([full, old])
    assert "union_by_name = true" in typed_scan(ALERTS, [full, old])
    assert _read([full, old]) == [("f1", "s1"), ("f2", None)]
    assert _read([old, full]) == [("f1", "s1"), ("f2", None)]


def test_a_file_replaced_by_one_of_another_schema_is_seen(tmp_path: Path) -> None:
    a = _write(tmp_path / "day=1" / "part-0.parquet", [_row("f1", "s1")])
    b = _write(tmp_path / "day=2" / "part-0.parquet", [_row("f2", "s2")])
    assert same_schema([a, b])
    # replaced whole by rename, as the lake does: a new identity, so its footer is read again
    staged = _write(tmp_path / "staged.parquet", [_row("f2", None)], drop=("summary",))
    os.replace(staged, b)
    assert not same_schema([a, b])
    assert _read([a, b]) == [("f1", "s1"), ("f2", None)]
