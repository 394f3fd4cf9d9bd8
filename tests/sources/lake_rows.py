"""Helpers the adapter tests share: ingest with the accounting checked, and read the lake back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import FileReport, ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import RAW_TABLES, REJECTED_ROWS, RawTable


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ingest(home: DataHome, path: Path, **kw: Any) -> FileReport:
    """Ingest one file and check that every row read is loaded, a duplicate or quarantined."""
    report = ingest_file(home, path, **kw)
    assert report.balanced, report
    return report


def accounting(report: FileReport) -> tuple[int, int, int, int]:
    """What a file's ingest counted: (read, loaded, duplicates, quarantined)."""
    return report.read, report.loaded, report.duplicates, report.quarantined


def scan(home: DataHome, table: RawTable, where: str = "true") -> list[dict[str, Any]]:
    cur = connect().execute(f"SELECT * FROM ({Lake(home).scan_sql(table)}) t WHERE {where}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=False)) for row in cur.fetchall()]


def by_key(home: DataHome, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in scan(home, RAW_TABLES[table])}


def rejected(home: DataHome) -> dict[str, str]:
    """Quarantine reasons by locator."""
    return {r["locator"]: r["reason"] for r in scan(home, REJECTED_ROWS)}


def rejects(home: DataHome) -> list[tuple[str, str]]:
    """The quarantined rows' (locator, reason), by locator."""
    sql = Lake(home).scan_sql(REJECTED_ROWS)
    return connect().execute(f"SELECT locator, reason FROM ({sql}) ORDER BY locator").fetchall()


def metric_rows(home: DataHome, where: str = "true") -> list[tuple[Any, ...]]:
    """The metric samples loaded: (metric, labels, ts, value, kind, source), in that order."""
    sql = Lake(home).scan_sql(RAW_TABLES["metric_samples"])
    return (
        connect()
        .execute(
            f"SELECT metric, labels, ts, value, kind, source FROM ({sql}) WHERE {where} ORDER BY metric, labels, ts"
        )
        .fetchall()
    )


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def metric_outcome(home: DataHome, path: Path, **kw: Any) -> tuple[Any, ...]:
    """Ingest one metrics file: its accounting, the metric samples loaded and the rows rejected."""
    report = ingest_file(home, path, **kw)
    lake = Lake(home)
    loaded = (
        connect()
        .execute(
            "SELECT metric, labels, ts, CAST(value AS VARCHAR), kind, source "
            f"FROM ({lake.scan_sql(RAW_TABLES['metric_samples'])}) ORDER BY ALL"
        )
        .fetchall()
        if report.loaded
        else []
    )
    rejects = (
        connect().execute(f"SELECT locator, reason, raw FROM ({lake.scan_sql(REJECTED_ROWS)}) ORDER BY ALL").fetchall()
        if report.quarantined
        else []
    )
    accounting = (report.error, report.read, report.loaded, report.duplicates, report.quarantined)
    return accounting, loaded, rejects


def bulk_and_read_agree(
    tmp_path: Path, path: Path, adapter: Any, monkeypatch: Any, *, bulk_alone: bool, **kw: Any
) -> tuple[Any, ...]:
    """Ingest ``path`` into two new homes, once through ``adapter.bulk`` and once through
    ``adapter.read`` alone, assert the two give the same :func:`metric_outcome` and return it.
    With ``bulk_alone`` the first ingest must not need ``read`` at all (it raises if called) and
    must load rows without an error."""
    read = type(adapter).read
    results = []
    for bulk in (True, False):
        with monkeypatch.context() as m:
            if bulk and bulk_alone:
                m.setattr(type(adapter), "read", lambda self, ctx: iter([1 / 0]))
            else:
                m.setattr(type(adapter), "read", read)
            if not bulk:
                m.setattr(type(adapter), "bulk", lambda self, ctx: None)
            results.append(metric_outcome(DataHome.resolve(tmp_path / f"home-{bulk}").ensure(), path, **kw))
    assert results[0] == results[1]
    if bulk_alone:
        assert results[0][0][0] is None and results[0][0][2] > 0
    return results[0]
