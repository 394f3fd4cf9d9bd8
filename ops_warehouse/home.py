"""The data home: where exports land, the lake lives and the warehouse is published.

``--home DIR`` or ``OPS_WAREHOUSE_HOME``, default ``./data``::

    landing/            drop exports here; the Dagster sensor ingests them
    lake/raw/<table>/   Hive-partitioned Parquet, the system of record
    lake/quarantine/    rejected rows with their reasons
    lake/core/, marts/  derived tables, one Parquet file each
    warehouse.duckdb    the published snapshot analysts query
    reports/            published HTML (reports/weekly/2026-W48.html, reports/index.html)
    catalog.yaml        the service catalog
    dagster/            the Dagster instance (runs, materializations, checks) unless DAGSTER_HOME is set
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "OPS_WAREHOUSE_HOME"


@dataclass(frozen=True)
class DataHome:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> DataHome:
        chosen = home if home is not None else os.environ.get(ENV_VAR) or "data"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.yaml"

    @property
    def tmp(self) -> Path:
        """Scratch space on the same file system, so renames out of it are atomic."""
        return self.root / ".tmp"

    def ensure(self) -> DataHome:
        for p in (self.landing, self.lake, self.reports, self.tmp):
            p.mkdir(parents=True, exist_ok=True)
        return self

    def clean_stale(self, *, older_than_hours: float = 6.0) -> int:
        """Remove scratch left by runs that were killed (staging folders, half-written snapshots).

        Only entries untouched for ``older_than_hours`` go, so a run in progress keeps its own.
        Returns how many were removed."""
        cutoff = time.time() - older_than_hours * 3600
        stale = [p for p in (list(self.tmp.glob("*")) if self.tmp.exists() else []) if _mtime(p) < cutoff]
        stale += [p for p in self.root.glob(".warehouse-*.duckdb.tmp*") if _mtime(p) < cutoff]
        for p in stale:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        return len(stale)

    def inside(self, path: Path) -> bool:
        """True when ``path`` (after resolving links) is inside the data home."""
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            return False
        return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")
