"""Shared helpers of the SLO tests: write canonical metric samples and SLO definitions, ingest them,
build the models and read the results."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.store import derived_location, derived_read_sql

UTC = UTC


def ts(text: str) -> datetime:
    """'2025-11-03 10:00' (UTC) as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def write_samples(path: Path, samples: list[tuple[str, dict[str, str], datetime, float, str]]) -> Path:
    """Canonical NDJSON metric samples: (metric, labels, ts, value, kind)."""
    with open(path, "w", encoding="utf-8") as fh:
        for metric, labels, t, value, kind in samples:
            fh.write(
                json.dumps({"metric": metric, "labels": labels, "ts": t.isoformat(), "value": value, "kind": kind})
                + "\n"
            )
    return path


def openslo_yaml(
    name: str,
    *,
    target: float = 0.99,
    method: str = "Occurrences",
    duration: str = "28d",
    rolling: bool = True,
    tz: str | None = None,
    good: str = "req_good",
    total: str = "req_total",
    bad: str | None = None,
    extra_objective: str = "",
) -> str:
    cal = (
        "" if rolling else f"\n      calendar:\n        startTime: 2020-01-01 00:00:00\n        timeZone: {tz or 'UTC'}"
    )
    first = (
        f"bad:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: '{bad}'"
        if bad
        else f"good:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: '{good}'"  # noqa: E501
    )
    return f"""apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
spec:
  service: svc
  indicator:
    metadata:
      name: {name}-sli
    spec:
      ratioMetric:
        {first}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: '{total}'
  timeWindow:
    - duration: {duration}
      isRolling: {"true" if rolling else "false"}{cal}
  budgetingMethod: {method}
  objectives:
    - displayName: main
      target: {target}{extra_objective}
"""


def ingest(home: DataHome, path: Path, kind: str | None = None):
    report = ingest_file(home, path, kind=kind)
    assert report.ok, report.error
    return report


def build(home: DataHome) -> dict[str, int]:
    return build_models(home)


def rows(home: DataHome, layer: str, table: str, where: str = "true", order: str | None = None) -> list[dict[str, Any]]:
    scan = derived_read_sql(derived_location(home.lake, layer, table))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    try:
        cur = con.execute(f"SELECT * FROM ({scan}) WHERE {where}" + (f" ORDER BY {order}" if order else ""))
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
    finally:
        con.close()
