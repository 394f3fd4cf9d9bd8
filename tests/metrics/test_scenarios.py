"""Data-driven metric scenarios: one folder per case under ``scenarios/``.

Each folder holds canonical input files (CSV or NDJSON, explicit UTC offsets) and ``expected.yaml``:

    catalog: {settings: {attribution_window_hours: 0}}   # optional catalog.yaml content
    ingest: {deploys.csv: {loaded: 2, duplicates: 1}}    # optional per-file ingest counts
    checks:
      - table: marts.dora_weekly
        where: {scope: service, service: api, week_start: 2024-01-01}
        expect: {deployments: 2, change_failure_rate: 0.5}   # exactly one row must match
      - table: marts.dora_weekly
        where: {service: api, week_start: 2024-01-08}
        rows: 0                                              # how many rows match

Files named ``*.raw-<table>.ndjson`` are written straight to that raw table (for tables no
canonical file feeds, e.g. incident_events). ``*.json`` files are real exports (a GitHub issue list,
a PagerDuty page, ...) ingested with their detected kind, in file name order. CSV and NDJSON are
canonical unless ``sources`` names their kind (``sources: {alerts.ndjson: alertmanager-webhook}``).
Floats compare with a tolerance; ``null`` means NULL.
A new case is a new folder; the arithmetic behind every figure is a comment in its expected file.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import _Stager, check_row, ingest_file
from ops_warehouse.lake.models import build_models, open_lake
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import RAW_TABLES

SCENARIOS = Path(__file__).parent / "scenarios"
CASES = sorted(p for p in SCENARIOS.iterdir() if (p / "expected.yaml").is_file())
TOLERANCE = 1e-9


def _load_raw(home: DataHome, path: Path) -> None:
    table = RAW_TABLES[path.name.split(".raw-", 1)[1].split(".", 1)[0]]
    stager = _Stager(home.tmp / f"raw-{path.stem}", str(path), datetime.now(UTC))
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            stager.add(table, check_row(table, json.loads(line), None))
    stager.flush_all()
    lake = Lake(home)
    with lake.lock():
        lake.merge(table, stager.chunks[table.name])


def _norm(v: Any) -> Any:
    if isinstance(v, datetime):
        return (v if v.tzinfo else v.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return v


def _same(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(float(actual), float(expected), rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return _norm(actual) == _norm(expected)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scenario(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    home = DataHome.resolve(tmp_path / "home").ensure()
    if spec.get("catalog"):
        home.catalog.write_text(yaml.safe_dump(spec["catalog"]), encoding="utf-8")
    expected_ingest = spec.get("ingest") or {}
    for f in sorted(case.iterdir()):
        if f.name.startswith("expected."):
            continue
        if ".raw-" in f.name:
            _load_raw(home, f)
            continue
        kind = (spec.get("sources") or {}).get(f.name) or (None if f.suffix == ".json" else "canonical")
        report = ingest_file(home, f, kind=kind)
        assert report.ok, report.line()
        want = expected_ingest.get(f.name, {})
        assert report.quarantined == want.get("quarantined", 0), report.line()
        for key, value in want.items():
            assert getattr(report, key) == value, f"{f.name}: {key}: {report.line()}"
    build_models(home)
    con = open_lake(home)
    try:
        for n, check in enumerate(spec["checks"]):
            where = check.get("where") or {}
            cond = " AND ".join(f'"{k}" IS NOT DISTINCT FROM ?' for k in where) or "true"
            params = list(where.values())
            cur = con.execute(f"SELECT * FROM {check['table']} WHERE {cond}", params)
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
            label = f"check {n} {check['table']} {where}"
            if "rows" in check:
                assert len(rows) == check["rows"], f"{label}: {len(rows)} rows, expected {check['rows']}"
            if "expect" in check:
                assert len(rows) == 1, f"{label}: {len(rows)} rows match, expected exactly one"
                for col, want_value in check["expect"].items():
                    assert col in rows[0], f"{label}: no column {col}"
                    got = rows[0][col]
                    assert _same(got, want_value), f"{label}: {col} = {got!r}, expected {want_value!r}"
    finally:
        con.close()


def test_comparison_can_fail() -> None:
    """The runner's comparison rejects wrong figures: NULL is not 0, tolerance is tight."""
    assert _same(0.1 + 0.2, 0.3)
    assert not _same(0.5, 0.51)
    assert not _same(None, 0)
    assert not _same(0.0, None)
    assert _same(date(2024, 1, 1), "2024-01-01")
