"""The SLO engine end to end, for what is not a figure table: the figures of the SLO tables are
checked by the scenario folders under ``scenarios/`` (see test_scenarios.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from tests.slo.helpers import build, ingest, rows, ts, write_samples

M = timedelta(minutes=1)


def test_sloth_sample_end_to_end(home, tmp_path: Path, samples: Path) -> None:
    """The Sloth getting-started SLO over Prometheus-style counters (kind unknown, as range exports
    have it): bad = 5xx and 429 increases, good = total - bad. Stays here rather than in a scenario
    folder: it reads the published Sloth file from the shared real-export samples (one copy, with its
    provenance in fixtures/samples/SOURCES.md) and checks that it parses as published."""
    t0 = ts("2025-11-04 00:00")
    series = {"200": [0, 100, 200, 300], "500": [0, 1, 1, 3], "429": [0, 0, 2, 2], "404": [0, 5, 10, 15]}
    data = [
        ("http_request_duration_seconds_count", {"job": "myservice", "code": code}, t0 + i * M, float(v), "unknown")
        for code, vals in series.items()
        for i, v in enumerate(vals)
    ]
    data.append(("http_request_duration_seconds_count", {"job": "other", "code": "500"}, t0 + M, 99.0, "unknown"))
    ingest(home, samples / "sloth_prometheus_v1_getting_started.yml")
    ingest(home, write_samples(tmp_path / "s.ndjson", data))
    build(home)
    got = [(r["good"], r["total"]) for r in rows(home, "core", "sli_minutes", order="minute")]
    assert got == [(0, 0), (105, 106), (105, 107), (105, 107)]
    [slo] = rows(home, "core", "slos")
    assert (slo["slo_name"], slo["target"], slo["time_window"]) == ("myservice-requests-availability", 0.999, "30d")


def test_empty_lake_builds_empty_tables(home) -> None:
    """No figures to check: a lake without SLOs or samples builds every SLO table empty, with the
    weekly mart's columns in their documented order (a scenario folder needs at least one export)."""
    counts = build(home)
    for key in ("core.slos", "core.sli_minutes", "marts.slo_weekly", "marts.slo_alerts", "marts.slo_budget_daily"):
        assert counts[key] == 0
    cols = {c for c in rows(home, "marts", "slo_weekly") or []}
    con = duckdb.connect()
    names = [
        d[0] for d in con.execute(f"SELECT * FROM read_parquet('{home.lake}/marts/slo_weekly.parquet')").description
    ]
    assert names[:18] == [
        "slo_name",
        "service",
        "week_start",
        "good",
        "total",
        "attainment",
        "target",
        "window_start",
        "window_end",
        "window_attainment",
        "budget_consumed",
        "budget_remaining",
        "burn_rate_1h",
        "burn_rate_6h",
        "burn_rate_1d",
        "burn_rate_3d",
        "policy_stage",
        "exhausted_at",
    ]
    assert not cols
