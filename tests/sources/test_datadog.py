"""datadog-query: the query sample, tags to labels, null points, broken files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from tests.sources.lake_rows import metric_rows, rejects

KIND = "datadog-query"


def answer(tmp_path: Path, series: list[dict[str, Any]]) -> Path:
    path = tmp_path / "dd.json"
    path.write_text(json.dumps({"status": "ok", "res_type": "time_series", "series": series}))
    return path


def test_real_sample(home: DataHome, samples: Path) -> None:
    path = samples / "datadog_v1_query_timeseries_TRIMMED.json"
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.error, report.read, report.loaded, report.quarantined) == (None, 5, 5, 0)
    first = metric_rows(home)[0]
    assert first == (
        "system.cpu.idle",
        "{}",
        datetime(2021, 6, 16, 12, 25, tzinfo=UTC),
        94.31900300343831,
        "unknown",
        "datadog",
    )
    assert ingest_file(home, path).loaded == 0


def test_tags_and_null_points(home: DataHome, tmp_path: Path) -> None:
    series = [
        {
            "metric": "trace.http.request.hits",
            "scope": "env:prod,service:web",
            "tag_set": ["env:prod", "service:web", "url:http://x/a"],
            "aggr": "sum",
            "pointlist": [[1700000000000.0, 3.0], [1700000060000.0, None], [1700000120000.0, 5]],
        }
    ]
    report = ingest_file(home, answer(tmp_path, series))
    assert (report.read, report.loaded, report.quarantined) == (3, 2, 1)
    got = metric_rows(home)
    assert json.loads(got[0][1]) == {"aggr": "sum", "env": "prod", "service": "web", "url": "http://x/a"}
    assert [r[3] for r in got] == [3.0, 5.0]
    assert rejects(home) == [("/series/0/pointlist/1", "null point")]


def test_unreadable_files(home: DataHome, tmp_path: Path, samples: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_bytes((samples / "datadog_v1_query_timeseries_TRIMMED.json").read_bytes()[:400])
    report = ingest_file(home, cut, kind=KIND)
    assert report.error is not None and "/series/0" in report.error
    failed = tmp_path / "failed.json"
    failed.write_text('{"status": "error", "error": "Rate limit exceeded", "series": []}')
    assert "Rate limit" in (ingest_file(home, failed, kind=KIND).error or "")
    empty = tmp_path / "empty.json"
    empty.write_text(" ")
    assert ingest_file(home, empty, kind=KIND).error == "empty file"
    assert metric_rows(home) == []
