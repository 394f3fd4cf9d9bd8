"""Helpers shared by the GitHub and GitLab adapter tests (this module holds no tests)."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import FileReport, ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import RAW_TABLES

UTC = UTC


def ingest(home: DataHome, path: Path, kind: str | None = None) -> FileReport:
    report = ingest_file(home, path, kind=kind)
    assert report.error is None, report.error
    assert report.read == report.loaded + report.duplicates + report.quarantined
    return report


def table(home: DataHome, name: str) -> dict[Any, dict[str, Any]]:
    """The rows of a raw table by natural key (the key's value, or a tuple for composite keys)."""
    t = RAW_TABLES[name]
    rel = duckdb.sql(Lake(home).scan_sql(t))
    rows = [dict(zip(rel.columns, r, strict=False)) for r in rel.fetchall()]
    if len(t.key) == 1:
        return {r[t.key[0]]: r for r in rows}
    return {tuple(r[k] for k in t.key): r for r in rows}


def write(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


def sample(samples: Path, name: str) -> Any:
    return json.loads((samples / name).read_text())
