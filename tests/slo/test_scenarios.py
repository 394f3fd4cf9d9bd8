"""SLO rulings as data: one folder per case under ``scenarios/``.

Each folder holds exports in their real formats (OpenSLO or Sloth YAML, a Prometheus range answer,
OTLP/JSON, a Datadog query answer, or canonical CSV/NDJSON) and ``expected.yaml`` with the checks,
as in ``tests/metrics/scenarios`` (``where`` picks exactly one row for ``expect``; ``rows`` counts
matches; floats compare with a 1e-9 tolerance; ``null`` is NULL). The kind of every export is
detected from its content, as ``ops-warehouse ingest`` does; CSV and NDJSON files are canonical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models, open_lake
from tests.metrics.test_scenarios import _same

SCENARIOS = Path(__file__).parent / "scenarios"
CASES = sorted(p for p in SCENARIOS.iterdir() if (p / "expected.yaml").is_file())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_slo_scenario(case: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    home = DataHome.resolve(tmp_path / "home").ensure()
    for f in sorted(case.iterdir()):
        if f.name.startswith("expected."):
            continue
        kind = "canonical" if f.suffix in (".csv", ".ndjson") else None
        report = ingest_file(home, f, kind=kind)
        assert report.ok and report.quarantined == 0 and report.loaded > 0, report.line()
    build_models(home)
    con = open_lake(home)
    try:
        for n, check in enumerate(spec["checks"]):
            where = check.get("where") or {}
            cond = " AND ".join(f'"{k}" IS NOT DISTINCT FROM ?' for k in where) or "true"
            cur = con.execute(f"SELECT * FROM {check['table']} WHERE {cond}", list(where.values()))
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
            label = f"check {n} {check['table']} {where}"
            if "rows" in check:
                assert len(rows) == check["rows"], f"{label}: {len(rows)} rows, expected {check['rows']}"
            if "expect" in check:
                assert len(rows) == 1, f"{label}: {len(rows)} rows match, expected exactly one"
                for col, want in check["expect"].items():
                    assert col in rows[0], f"{label}: no column {col}"
                    assert _same(rows[0][col], want), f"{label}: {col} = {rows[0][col]!r}, expected {want!r}"
    finally:
        con.close()
