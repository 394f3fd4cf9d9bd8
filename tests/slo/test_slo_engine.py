"""The SLO engine end to end, for what is not a figure table: the figures of the SLO tables are
checked by the scenario folders under ``scenarios/`` (see test_scenarios.py)."""

from __future__ import annotations

from datetime import timedelta
from itertools import permutations
from pathlib import Path

import duckdb

from tests.slo.helpers import build, ingest, openslo_yaml, rows, ts, write_samples

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


def test_minute_sums_are_exact_whatever_the_order(home, tmp_path: Path) -> None:
    """A minute's sum does not depend on the order its samples are added in: whole numbers add as
    they are, other values (and whole numbers past 2^32) exactly as DECIMAL(38, 18) with the one
    rounding at the end. Hand-computed: the good samples 0.1, 0.2, 0.3 add up, as doubles, to
    0.6000000000000001 left to right and 0.6 right to left; the exact sum of their 18-digit decimals
    (0.100000000000000006 + 0.200000000000000011 + 0.299999999999999989) is 0.600000000000000006,
    nearest double 0.6. The totals add 5 and 2^33: 8589934597.600000000000000006, nearest double
    8589934597.6, where some orders of double additions give 8589934597.599998."""
    t0 = ts("2025-11-04 00:00")
    goods = [0.1, 0.2, 0.3]
    totals = [*goods, 5.0, 8589934592.0]
    assert {sum(p) for p in permutations(totals)} == {8589934597.6, 8589934597.599998}
    assert {sum(p) for p in permutations(goods)} == {0.6, 0.6000000000000001}
    data = [("req_total", {"i": str(i)}, t0, v, "gauge") for i, v in enumerate(totals)]
    data += [("req_good", {"i": str(i)}, t0, v, "gauge") for i, v in enumerate(goods)]
    (tmp_path / "slo.yaml").write_text(openslo_yaml("exact"), encoding="utf-8")
    ingest(home, tmp_path / "slo.yaml")
    ingest(home, write_samples(tmp_path / "s.ndjson", data))
    build(home)
    [minute] = rows(home, "core", "sli_minutes")
    assert (minute["good"], minute["total"]) == (0.6, 8589934597.6)
