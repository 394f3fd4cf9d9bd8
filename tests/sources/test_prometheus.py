"""prometheus-range: the query_range JSON sample, value strings, overlaps, broken files."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import metric_rows, rejects

KIND = "prometheus-range"


def export(tmp_path: Path, series: list[dict[str, Any]], name: str = "range.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"status": "success", "data": {"resultType": "matrix", "result": series}}))
    return path


def test_real_sample(home: DataHome, samples: Path) -> None:
    path = samples / "prometheus_query_range_matrix.json"
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.error, report.read, report.loaded, report.quarantined) == (None, 6, 6, 0)
    got = metric_rows(home, "labels LIKE '%node%'")
    assert [r[3] for r in got] == [0.0, 0.0, 1.0]
    metric, labels, ts, _, kind, source = got[0]
    assert (metric, kind, source) == ("up", "unknown", "prometheus")
    assert json.loads(labels) == {"instance": "localhost:9091", "job": "node"}
    assert ts == datetime(2015, 7, 1, 20, 10, 30, 781000, tzinfo=UTC)
    again = ingest_file(home, path)
    assert (again.read, again.loaded, again.duplicates) == (6, 0, 6)


def test_value_strings_kinds_and_le(home: DataHome, tmp_path: Path) -> None:
    series = [
        {"metric": {"__name__": "lat_bucket", "le": "1"}, "values": [[1700000000, "NaN"], [1700000015, "+Inf"]]},
        {"metric": {"__name__": "lat_bucket", "le": "+Inf"}, "values": [[1700000000, "-Inf"]]},
        {"values": [[1700000000, "2"]], "metric": {"__name__": "temp"}},  # labels after points
    ]
    report = ingest_file(home, export(tmp_path, series))
    assert (report.read, report.loaded) == (4, 4)
    got = metric_rows(home)
    assert [(r[0], json.loads(r[1]).get("le"), r[4]) for r in got] == [
        ("lat_bucket", "+Inf", "counter"),
        ("lat_bucket", "1.0", "counter"),
        ("lat_bucket", "1.0", "counter"),
        ("temp", None, "unknown"),
    ]
    assert got[0][3] == -math.inf and math.isnan(got[1][3]) and got[2][3] == math.inf


def test_vector_result(home: DataHome, tmp_path: Path) -> None:
    path = tmp_path / "vector.json"
    path.write_text(
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {"__name__": "up", "job": "a"}, "value": [1700000000.5, "1"]}],
                },
            }
        )
    )
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert report.loaded == 1
    assert metric_rows(home)[0][2] == datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=UTC)


def test_overlapping_exports_add_no_duplicates(home: DataHome, tmp_path: Path) -> None:
    metric = {"__name__": "req_total", "job": "api"}
    first = export(tmp_path, [{"metric": metric, "values": [[t, str(t)] for t in range(0, 300, 60)]}], "a.json")
    second = export(tmp_path, [{"metric": metric, "values": [[t, str(t)] for t in range(180, 480, 60)]}], "b.json")
    assert ingest_file(home, first).loaded == 5
    report = ingest_file(home, second)
    assert (report.read, report.loaded, report.duplicates) == (5, 3, 2)
    assert len(metric_rows(home)) == 8


def test_bad_points_are_rejected_with_reasons(home: DataHome, tmp_path: Path) -> None:
    series = [
        {"metric": {"__name__": "up"}, "values": [[1700000000, "abc"], [None, "1"], [1700000000], [1700000060, "1"]]},
        {"metric": {"job": "no-name"}, "values": [[1700000000, "1"]]},
    ]
    report = ingest_file(home, export(tmp_path, series))
    assert (report.read, report.loaded, report.quarantined) == (5, 1, 4)
    reasons = dict(rejects(home))
    assert "value is not a number" in reasons["/data/result/0/values/0"]
    assert reasons["/data/result/0/values/1"].startswith("time:")
    assert "pair" in reasons["/data/result/0/values/2"]
    assert "__name__" in reasons["/data/result/1/values/0"]


def test_truncated_json_names_the_place(home: DataHome, tmp_path: Path) -> None:
    full = export(tmp_path, [{"metric": {"__name__": "up"}, "values": [[t, "1"] for t in range(0, 600, 15)]}] * 3)
    cut = tmp_path / "cut.json"
    cut.write_bytes(full.read_bytes()[:-200])
    report = ingest_file(home, cut, kind=KIND)
    assert report.error is not None and "/data/result/2/values/" in report.error
    assert report.loaded == 0 and metric_rows(home) == []


def test_unreadable_files(home: DataHome, tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert ingest_file(home, empty, kind=KIND).error == "empty file"
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"caf\xe9"}}]}}')
    assert "invalid" in (ingest_file(home, bad, kind=KIND).error or "")
    scalar = tmp_path / "scalar.json"
    scalar.write_text('{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}')
    assert "scalar" in (ingest_file(home, scalar, kind=KIND).error or "")


@pytest.mark.parametrize(
    "name", ["datadog_v1_query_timeseries_TRIMMED.json", "otlp_metrics_request_example.json", "github_rest_issue.json"]
)
def test_does_not_claim_other_samples(samples: Path, name: str) -> None:
    from ops_warehouse.sources.base import Sniff
    from ops_warehouse.sources.prometheus_range import ADAPTER

    assert not ADAPTER.detect(Sniff(samples / name))


def test_failed_query_answer(home: DataHome, tmp_path: Path) -> None:
    path = tmp_path / "error.json"
    path.write_text('{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points"}')
    report = ingest_file(home, path, kind=KIND)
    assert report.error is not None and "11,000 points" in report.error


def test_deep_nesting_is_refused_without_exhausting_memory(home: DataHome, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"status":"success","data":{"resultType":"matrix","result":[' + "[" * 50_000)
    report = ingest_file(home, path, kind=KIND)
    assert report.error is not None and "nested deeper than 64" in report.error


COLUMNAR_CASES = {
    "clean": [
        {
            "metric": {"__name__": "http_requests_total", "job": "api", "code": "200"},
            "values": [[1435781430.781, "1"], [1435781445, "1e3"], [1435781460.5, "-2.5E-3"], ["1435781475", "NaN"]],
        },
        {
            "metric": {"__name__": "latency_bucket", "le": "1", "job": "äpi"},
            "values": [[1435781430, "+Inf"], [1435781445, "-Inf"]],
        },
        {"values": [[0.0000005, "7"], [1435781430.0000015, "8"]], "metric": {"__name__": "up", "instance": 'h"1\\'}},
    ],
    "vector": [{"metric": {"__name__": "up", "job": "a"}, "value": [1435781430.781, "1"]}],
    "bad point": [
        {"metric": {"__name__": "up"}, "values": [[1435781430, "1"], [1435781445, " 2"], [1435781460, "1_0"]]}
    ],
    "no name": [{"metric": {"__name__": "up"}, "values": [[1, "1"]]}, {"metric": {"job": "x"}, "values": [[1, "1"]]}],
    "null values": [{"metric": {"__name__": "up"}, "values": None}, {"metric": {"__name__": "x"}, "value": [1, "2"]}],
    "both": [{"metric": {"__name__": "up"}, "values": [[1, "1"]], "value": [2, "2"]}],
    "repeated key": [{"metric": {"__name__": "up"}, "values": [[1, "1"], [1.0000001, "2"]]}],
    "not pairs": [{"metric": {"__name__": "up"}, "values": [[1, "1", 3], [2], [3, True]]}],
}


@pytest.mark.parametrize("case", sorted(COLUMNAR_CASES))
def test_columnar_and_point_by_point_readers_agree(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The columnar pass gives exactly the rows, rejects and accounting of the point-by-point reader,
    falling back to it whenever a file holds something it cannot classify exactly."""
    from ops_warehouse.sources.prometheus_range import ADAPTER

    path = export(tmp_path, COLUMNAR_CASES[case])
    results = []
    point_by_point = type(ADAPTER).read
    for columnar in (True, False):
        if columnar and case in ("clean", "vector"):  # these must not need the point-by-point reader
            monkeypatch.setattr(type(ADAPTER), "read", lambda self, ctx: iter([1 / 0]))
        else:
            monkeypatch.setattr(type(ADAPTER), "read", point_by_point)
        if not columnar:
            monkeypatch.setattr(type(ADAPTER), "bulk", lambda self, ctx: None)
        home = DataHome.resolve(tmp_path / f"home-{columnar}").ensure()
        report = ingest_file(home, path)
        assert report.error is None, report.error
        loaded = (
            connect()
            .execute(
                f"SELECT metric, labels, ts, CAST(value AS VARCHAR), kind, source "
                f"FROM ({Lake(home).scan_sql(RAW_TABLES['metric_samples'])}) ORDER BY ALL"
            )
            .fetchall()
        )
        accounting = (report.read, report.loaded, report.duplicates, report.quarantined)
        results.append((accounting, loaded, rejects(home)))
    assert results[0] == results[1]
    if case in ("clean", "vector"):
        assert results[0][0][1] > 0
