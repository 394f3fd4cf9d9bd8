"""otlp-metrics: the request and file-exporter samples, temporality, histograms, broken lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from tests.sources.lake_rows import metric_rows, rejects

KIND = "otlp-metrics"
T0 = datetime(2018, 12, 13, 14, 51, 0, 300000, tzinfo=UTC)


def request(metric: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceMetrics": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
                "scopeMetrics": [{"scope": {"name": "lib"}, "metrics": [metric]}],
            }
        ]
    }


def point(value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"timeUnixNano": "1544712660300000000", "attributes": [], **value, **extra}


def test_request_sample(home: DataHome, samples: Path) -> None:
    path = samples / "otlp_metrics_request_example.json"
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    # counter 1 + gauge 1 + histogram (2 buckets, sum, count) 4 + exponential histogram rejected 1
    assert (report.error, report.read, report.loaded, report.quarantined) == (None, 7, 6, 1)
    gauge = metric_rows(home, "metric = 'my.gauge'")
    assert [(r[2], r[3], r[4], r[5]) for r in gauge] == [(T0, 10.0, "gauge", "otlp")]
    assert json.loads(gauge[0][1]) == {
        "my.gauge.attr": "some value",
        "otel_scope_my.scope.attribute": "some scope attribute",
        "otel_scope_name": "my.library",
        "otel_scope_version": "1.0.0",
        "service.name": "my.service",
    }
    buckets = metric_rows(home, "metric = 'my.histogram_bucket'")
    assert [(json.loads(r[1])["le"], r[3], r[4]) for r in buckets] == [
        ("+Inf", 2.0, "unknown"),
        ("1.0", 1.0, "unknown"),
    ]
    assert [r[3] for r in metric_rows(home, "metric IN ('my.histogram_count', 'my.histogram_sum')")] == [2.0, 2.0]
    assert metric_rows(home, "metric = 'my.counter'")[0][3:5] == (5.0, "unknown")  # delta temporality
    assert "exponential" in rejects(home)[0][1]
    assert ingest_file(home, path).loaded == 0


def test_file_exporter_sample(home: DataHome, samples: Path) -> None:
    path = samples / "otel_fileexporter_metrics_splunk_workshop.jsonl"
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.error, report.read, report.loaded) == (None, 1, 1)
    metric, labels, ts, value, kind, _ = metric_rows(home)[0]
    assert (metric, value, kind) == ("system.cpu.time", 1168005.59, "gauge")
    assert ts == datetime(2025, 1, 17, 17, 8, 46, 158376, tzinfo=UTC)
    assert json.loads(labels)["host.name"] == "YOUR_HOST_NAME" and json.loads(labels)["state"] == "user"


def test_cumulative_int64_strings_and_enum_names(home: DataHome, tmp_path: Path) -> None:
    lines = [
        request(
            {
                "name": "req",
                "sum": {
                    "aggregationTemporality": 2,
                    "isMonotonic": True,
                    "dataPoints": [point({"asInt": "9007199254740993"})],
                },
            }
        ),
        request(
            {
                "name": "lat",
                "histogram": {
                    "aggregationTemporality": "AGGREGATION_TEMPORALITY_CUMULATIVE",
                    "dataPoints": [
                        point({"count": "6", "sum": 7.5, "bucketCounts": ["1", "2", "3"], "explicitBounds": [0.5, 1]})
                    ],
                },
            }
        ),
    ]
    path = tmp_path / "metrics.ndjson"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.read, report.loaded) == (1 + 5, 6)
    req = metric_rows(home, "metric = 'req'")[0]
    assert (req[3], req[4]) == (9007199254740992.0, "counter")
    assert json.loads(req[1]) == {"otel_scope_name": "lib", "service.name": "checkout"}
    buckets = metric_rows(home, "metric = 'lat_bucket'")
    assert sorted((json.loads(r[1])["le"], r[3], r[4]) for r in buckets) == [
        ("+Inf", 6.0, "histogram"),
        ("0.5", 1.0, "histogram"),
        ("1.0", 3.0, "histogram"),
    ]


def test_bad_points_and_lines(home: DataHome, tmp_path: Path) -> None:
    good = request(
        {
            "name": "g",
            "gauge": {
                "dataPoints": [
                    point({"asDouble": "NaN"}),
                    point({}),
                    {"asDouble": 1},
                    point({"asDouble": 1}, flags=1),
                ]
            },
        }
    )
    bad_hist = request(
        {"name": "h", "histogram": {"dataPoints": [point({"bucketCounts": ["1"], "explicitBounds": [1]})]}}
    )
    path = tmp_path / "metrics.ndjson"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad_hist) + "\n" + '{"resourceMetrics": [\n')
    report = ingest_file(home, path, kind=KIND)
    assert (report.read, report.loaded, report.quarantined) == (6, 1, 5)
    reasons = dict(rejects(home))
    prefix = "line 1 /resourceMetrics/0/scopeMetrics/0/metrics/0/gauge/dataPoints"
    assert "neither asDouble nor asInt" in reasons[f"{prefix}/1"]
    assert "timeUnixNano" in reasons[f"{prefix}/2"]
    assert "no recorded value" in reasons[f"{prefix}/3"]
    assert "explicitBounds" in reasons["line 2 /resourceMetrics/0/scopeMetrics/0/metrics/0/histogram/dataPoints/0"]
    assert "invalid JSON" in reasons["line 3"]


def test_truncated_document_and_unreadable_files(home: DataHome, tmp_path: Path, samples: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes((samples / "otlp_metrics_request_example.json").read_bytes()[:1500])
    report = ingest_file(home, cut, kind=KIND)
    assert report.error is not None and "/resourceMetrics/0" in report.error
    latin = tmp_path / "latin.ndjson"
    latin.write_bytes(b'{"resourceMetrics": []}\n{"resourceMetrics": [{"caf\xe9": 1}]}\n')
    error = ingest_file(home, latin, kind=KIND).error or ""
    assert "line 2" in error and "UTF-8" in error
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert ingest_file(home, empty, kind=KIND).error == "empty file"
    assert metric_rows(home) == []
