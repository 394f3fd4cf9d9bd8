"""The SLO engine end to end: canonical metric samples and SLO files ingested, models built, results
checked against published vectors and hand-computed cases."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.slo.helpers import (
    build,
    ingest,
    openslo_yaml,
    per_minute_counts,
    rows,
    ts,
    write_samples,
)

M = timedelta(minutes=1)


def setup(home, tmp_path: Path, slo_text: str, samples: list, name: str = "slo.yaml") -> None:
    (tmp_path / name).write_text(slo_text)
    ingest(home, tmp_path / name)
    ingest(home, write_samples(tmp_path / "samples.ndjson", samples))
    build(home)


def test_nobl9_occurrences_vector(home, tmp_path: Path) -> None:
    good = [2, 10, 12, 13, 13, 12, 13, 13, 12, 11]
    valid = [4, 10, 12, 13, 14, 15, 14, 13, 12, 11]
    setup(home, tmp_path, openslo_yaml("nobl9", target=0.95), per_minute_counts(ts("2025-11-04 10:00"), good, valid))
    [w] = rows(home, "marts", "slo_weekly")
    assert (w["good"], w["total"]) == (111, 118)
    assert w["attainment"] == pytest.approx(0.940677966, abs=1e-9)
    assert w["week_start"] == date(2025, 11, 3)
    assert w["attainment"] < w["target"] and not w["met"]
    assert w["budget_consumed"] == pytest.approx((1 - 111 / 118) / 0.05)
    assert w["policy_stage"] == "feature_freeze"


def test_bad_over_total_counter_resets_and_gaps(home, tmp_path: Path) -> None:
    """Counters: delta to the previous sample; a drop is a reset (the new value is the increase);
    the increase after a gap lands in the later sample's minute; the first sample adds nothing."""
    t0 = ts("2025-11-04 10:00")
    total = [(0, 100), (1, 110), (2, 5), (5, 20), (6, 30)]  # reset at minute 2, gap minutes 3-4
    bad = [(0, 7), (1, 8), (2, 8), (5, 10), (6, 10)]
    samples = [("http_requests_total", {"job": "api"}, t0 + m * M, v, "unknown") for m, v in total]
    samples += [("http_errors_total", {"job": "api"}, t0 + m * M + timedelta(seconds=30), v, "counter") for m, v in bad]
    slo = openslo_yaml(
        "resets",
        bad='sum(rate(http_errors_total{job="api"}[{{.window}}]))',
        total='sum(increase(http_requests_total{job="api"}[5m]))',
        target=0.9,
    )
    setup(home, tmp_path, slo, samples)
    got = [(r["minute"] - t0, r["good"], r["total"]) for r in rows(home, "core", "sli_minutes", order="minute")]
    assert got == [(0 * M, 0, 0), (1 * M, 9, 10), (2 * M, 5, 5), (5 * M, 13, 15), (6 * M, 10, 10)]
    [w] = rows(home, "marts", "slo_weekly")
    assert (w["good"], w["total"]) == (37, 40)


def test_gauge_counts_threshold_and_le(home, tmp_path: Path) -> None:
    """A bare selector over gauges sums values; histogram buckets le="1" and le="1.0" are one bucket."""
    t0 = ts("2025-11-04 10:00")
    samples = []
    for m, (fast, all_) in enumerate([(8, 10), (9, 10)]):
        samples.append(("lat_bucket", {"le": "1.0", "pod": "a"}, t0 + m * M, fast, "gauge"))
        samples.append(("lat_bucket", {"le": "+Inf", "pod": "a"}, t0 + m * M, all_, "gauge"))
        samples.append(("lat_bucket", {"le": "1", "pod": "b"}, t0 + m * M, fast, "gauge"))
        samples.append(("lat_bucket", {"le": "+Inf", "pod": "b"}, t0 + m * M, all_, "gauge"))
        samples.append(("lat_bucket", {"le": "0.5", "pod": "b"}, t0 + m * M, 1, "gauge"))
    slo = openslo_yaml("latency", good='lat_bucket{le="1"}', total='lat_bucket{le="+Inf"}')
    setup(home, tmp_path, slo, samples)
    got = [(r["good"], r["total"]) for r in rows(home, "core", "sli_minutes", order="minute")]
    assert got == [(16, 20), (18, 20)]


THRESHOLD = """apiVersion: openslo/v1
kind: SLO
metadata: {name: p99}
spec:
  service: svc
  indicator:
    metadata: {name: p99-latency}
    spec:
      thresholdMetric:
        metricSource: {type: Prometheus, spec: {query: 'latency_p99{route="/"}'}}
  timeWindow: [{duration: 1d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lt, value: 0.5, target: 0.9}]
"""


def test_threshold_occurrences(home, tmp_path: Path) -> None:
    t0 = ts("2025-11-04 10:00")
    values = [0.3, 0.6, 0.4, 0.5, 0.2]  # 0.5 is not < 0.5
    samples = [("latency_p99", {"route": "/"}, t0 + i * M, v, "gauge") for i, v in enumerate(values)]
    samples.append(("latency_p99", {"route": "/x"}, t0, 9.0, "gauge"))
    setup(home, tmp_path, THRESHOLD, samples)
    assert [r["good"] for r in rows(home, "core", "sli_minutes", order="minute")] == [1, 0, 1, 0, 1]
    [w] = rows(home, "marts", "slo_weekly")
    assert w["attainment"] == pytest.approx(3 / 5)


SLICE_GOOD = [9, 8, 0, 5]
SLICE_TOTAL = [10, 10, 0, 5]  # minute 3 has no events: it counts neither way


@pytest.mark.parametrize(
    "method,extra,expected",
    [
        ("Occurrences", "", 22 / 25),
        ("Timeslices", "\n      timeSliceTarget: 0.9\n      timeSliceWindow: 1m", 2 / 3),
        ("RatioTimeslices", "\n      timeSliceWindow: 1m", (0.9 + 0.8 + 1.0) / 3),
    ],
)
def test_budgeting_methods_with_no_data_minutes(home, tmp_path: Path, method: str, extra: str, expected: float) -> None:
    slo = openslo_yaml("m", method=method, extra_objective=extra)
    setup(home, tmp_path, slo, per_minute_counts(ts("2025-11-04 10:00"), SLICE_GOOD, SLICE_TOTAL))
    [w] = rows(home, "marts", "slo_weekly")
    assert w["attainment"] == pytest.approx(expected, abs=1e-12)
    assert w["window_attainment"] == pytest.approx(expected, abs=1e-12)


def test_five_minute_slices(home, tmp_path: Path) -> None:
    good = [9] * 5 + [8] * 5
    slo = openslo_yaml(
        "s5", method="Timeslices", extra_objective="\n      timeSliceTarget: 0.9\n      timeSliceWindow: 5m"
    )
    setup(home, tmp_path, slo, per_minute_counts(ts("2025-11-04 10:00"), good, [10] * 10))
    mins = rows(home, "core", "sli_minutes", order="minute")
    assert [r["slice_start"] for r in mins] == [ts("2025-11-04 10:00")] * 5 + [ts("2025-11-04 10:05")] * 5
    assert [r["slice_is_good"] for r in mins] == [True] * 5 + [False] * 5
    assert sum(r["slice_first"] for r in mins) == 2
    [w] = rows(home, "marts", "slo_weekly")
    assert w["attainment"] == pytest.approx(0.5)


def test_calendar_month_burn_down_vector(home, tmp_path: Path) -> None:
    """99.9% calendar month; daily SLIs 99.0..99.6% with equal traffic in a 30-day November."""
    slo = openslo_yaml("cal", target=0.999, duration="1M", rolling=False)
    samples = []
    for d in range(7):
        samples += per_minute_counts(ts(f"2025-11-{d + 1:02d} 12:00"), [990 + d], [1000])
    setup(home, tmp_path, slo, samples)
    daily = rows(home, "marts", "slo_budget_daily", order="day")
    assert [r["day"] for r in daily] == [date(2025, 11, d) for d in range(1, 8)]
    assert [round(r["budget_remaining"] * 100, 2) for r in daily] == [66.67, 36.67, 10.0, -13.33, -33.33, -50.0, -63.33]
    assert daily[0]["window_start"] == ts("2025-11-01 00:00") and daily[0]["period_end"] == ts("2025-12-01 00:00")
    # consumed 33.3%, 63.3%, 90%, 113.3%
    assert [r["policy_stage"] for r in daily[:4]] == ["notify", "freeze_consideration", "all_hands", "feature_freeze"]


def test_calendar_window_across_month_end_and_dst(home, tmp_path: Path) -> None:
    """A calendar month in Europe/Berlin: the week of Mon 2025-10-27 ends 2025-11-03 00:00 UTC, in
    November local time, so its window starts at 2025-11-01 00:00 CET = 2025-10-31 23:00 UTC. The
    same data under UTC months falls in October's window."""
    samples = per_minute_counts(ts("2025-10-31 22:30"), [0], [10])  # Oct 31 23:30 CET: October
    samples += per_minute_counts(ts("2025-10-31 23:30"), [10], [10])  # Nov 1 00:30 CET: November
    samples += per_minute_counts(ts("2025-11-02 10:00"), [9], [10])
    berlin = openslo_yaml("berlin", duration="1M", rolling=False, tz="Europe/Berlin")
    utc = openslo_yaml("utc", duration="1M", rolling=False, tz="UTC").replace("req_good", "req_good")
    (tmp_path / "b.yaml").write_text(berlin)
    (tmp_path / "u.yaml").write_text(utc)
    setup(home, tmp_path, berlin, samples, name="b.yaml")
    ingest(home, tmp_path / "u.yaml")
    build(home)
    weekly = {r["slo_name"]: r for r in rows(home, "marts", "slo_weekly", where="week_start = DATE '2025-10-27'")}
    b, u = weekly["berlin"], weekly["utc"]
    assert b["window_start"] == ts("2025-10-31 23:00") and b["window_end"] == ts("2025-11-03 00:00")
    assert b["window_attainment"] == pytest.approx(19 / 20)
    assert u["window_start"] == ts("2025-11-01 00:00")
    assert u["window_attainment"] == pytest.approx(9 / 10)  # Oct 31 23:30 UTC is still October in UTC
    assert b["attainment"] == u["attainment"] == pytest.approx(19 / 30)
    # daily burn-down in local days, across the end of summer time (2025-10-26 has 25 hours)
    day = {r["day"]: r for r in rows(home, "marts", "slo_budget_daily", where="slo_name = 'berlin'")}
    oct31 = day[date(2025, 10, 31)]
    assert oct31["window_start"] == ts("2025-09-30 22:00")  # Oct 1 00:00 CEST
    assert oct31["window_end"] == ts("2025-10-31 23:00")  # Nov 1 00:00 CET
    assert oct31["window_attainment"] == 0.0 and oct31["elapsed_fraction"] == pytest.approx(1.0)
    nov1 = day[date(2025, 11, 1)]
    assert nov1["window_start"] == ts("2025-10-31 23:00") and nov1["elapsed_fraction"] == pytest.approx(1 / 30)
    udays = {r["day"]: r for r in rows(home, "marts", "slo_budget_daily", where="slo_name = 'utc'")}
    assert udays[date(2025, 10, 31)]["window_attainment"] == pytest.approx(0.5)


def test_rolling_window_burn_rates_forecast_and_empty_weeks(home, tmp_path: Path) -> None:
    """28d rolling, 99%. An early minute two weeks before, then the week's last day at 0.5% errors."""
    samples = per_minute_counts(ts("2025-10-20 12:00"), [1000], [1000])
    samples += per_minute_counts(ts("2025-11-09 00:00"), [995] * 24, [1000] * 24, step=timedelta(hours=1))
    setup(home, tmp_path, openslo_yaml("roll", target=0.99), samples)
    weeks = rows(home, "marts", "slo_weekly", order="week_start")
    assert [w["week_start"] for w in weeks] == [date(2025, 10, 20), date(2025, 10, 27), date(2025, 11, 3)]
    assert weeks[1]["total"] == 0 and weeks[1]["attainment"] is None
    assert weeks[1]["window_attainment"] == 1.0 and weeks[1]["policy_stage"] == "ok"
    w = weeks[2]
    assert w["window_start"] == ts("2025-10-13 00:00") and w["window_end"] == ts("2025-11-10 00:00")
    assert w["window_attainment"] == pytest.approx((1000 + 995 * 24) / (1000 + 1000 * 24))
    assert w["burn_rate_1h"] == pytest.approx(0.5) and w["burn_rate_6h"] == pytest.approx(0.5)
    assert w["burn_rate_1d"] == pytest.approx(0.5)
    assert w["burn_rate_3d"] == pytest.approx(0.5)
    consumed = (1 - w["window_attainment"]) / 0.01
    assert w["budget_consumed"] == pytest.approx(0.48) and w["policy_stage"] == "notify"
    expected = ts("2025-11-10 00:00") + timedelta(days=(1 - consumed) * 28 / 0.5)
    assert abs((w["exhausted_at"] - expected).total_seconds()) < 1
    assert weeks[0]["burn_rate_1d"] is None and weeks[0]["exhausted_at"] is None


def test_burn_rate_alerts_fire_and_resolve(home, tmp_path: Path) -> None:
    """30-day SLO at 99.9%: 1000 requests a minute for 3 hours, 200 of them failing in minutes
    60-69. Hand-computed firings (windows [t - L, t) at minute boundaries t):
    page 1h/5m (14.4): fires at +65m (1000 bad of 60000 in the hour), resolves at +75m (last 5m clean);
    page 6h/30m (6): fires at +62m (400/62000 >= 0.6%), resolves at +100m;
    ticket 1d/2h (3) and 3d/6h (1): fire at +61m and still fire when the data ends."""
    t0 = ts("2025-11-04 00:00")
    good = [800 if 60 <= m < 70 else 1000 for m in range(180)]
    setup(
        home,
        tmp_path,
        openslo_yaml("alerting", target=0.999, duration="30d"),
        per_minute_counts(t0, good, [1000] * 180),
    )
    got = [
        (
            a["alert"],
            a["long_window"],
            a["short_window"],
            round(a["factor"], 4),
            a["fired_at"] - t0,
            None if a["resolved_at"] is None else a["resolved_at"] - t0,
        )
        for a in rows(home, "marts", "slo_alerts", order="long_window, fired_at")
    ]
    assert sorted(got) == sorted(
        [
            ("page", "1h", "5m", 14.4, 65 * M, 75 * M),
            ("page", "6h", "30m", 6.0, 62 * M, 100 * M),
            ("ticket", "1d", "2h", 3.0, 61 * M, None),
            ("ticket", "3d", "6h", 1.0, 61 * M, None),
        ]
    )


def test_alert_factors_28_days(home, tmp_path: Path) -> None:
    t0 = ts("2025-11-04 00:00")
    setup(home, tmp_path, openslo_yaml("f28", target=0.99, duration="28d"), per_minute_counts(t0, [0] * 10, [10] * 10))
    factors = {(a["long_window"], round(a["factor"], 4)) for a in rows(home, "marts", "slo_alerts")}
    assert factors == {("1h", 13.44), ("6h", 5.6), ("1d", 2.8), ("3d", 0.9333)}


def test_sloth_sample_end_to_end(home, tmp_path: Path, samples: Path) -> None:
    """The Sloth getting-started SLO over Prometheus-style counters (kind unknown, as range exports
    have it): bad = 5xx and 429 increases, good = total - bad."""
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
