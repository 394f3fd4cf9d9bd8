"""Helpers the adapter tests share: ingest with the accounting checked, and read the lake back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import FileReport, ingest_file
from ops_warehouse.lake.store import Lake, connect
from ops_warehouse.lake.tables import RAW_TABLES, REJECTED_ROWS, RawTable


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ingest(home: DataHome, path: Path, **kw: Any) -> FileReport:
    """Ingest one file and check that every row read is loaded, a duplicate or quarantined."""
    report = ingest_file(home, path, **kw)
    assert report.balanced, report
    return report


def scan(home: DataHome, table: RawTable, where: str = "true") -> list[dict[str, Any]]:
    cur = connect().execute(f"SELECT * FROM ({Lake(home).scan_sql(table)}) t WHERE {where}")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=False)) for row in cur.fetchall()]


def by_key(home: DataHome, table: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in scan(home, RAW_TABLES[table])}


def rejected(home: DataHome) -> dict[str, str]:
    """Quarantine reasons by locator."""
    return {r["locator"]: r["reason"] for r in scan(home, REJECTED_ROWS)}


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path
