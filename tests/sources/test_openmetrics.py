"""prometheus-text: the 0.0.4 and OpenMetrics samples, timestamps, le normalization, bad lines."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import detect_kind, ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import REJECTED_ROWS
from tests.sources.lake_rows import metric_rows

KIND = "prometheus-text"
SCRAPE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def copy_with_mtime(src: Path, tmp_path: Path) -> Path:
    """The sample with a known modification time: samples without timestamps take it."""
    dst = tmp_path / src.name
    dst.write_bytes(src.read_bytes())
    os.utime(dst, (SCRAPE.timestamp(), SCRAPE.timestamp()))
    return dst


def test_text_0_0_4_sample(home: DataHome, samples: Path, tmp_path: Path) -> None:
    path = copy_with_mtime(samples / "prometheus_text_exposition_0.0.4.prom", tmp_path)
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.error, report.read, report.loaded, report.quarantined) == (None, 27, 27, 0)
    bucket = metric_rows(
        home, "metric = 'prometheus_tsdb_compaction_chunk_size_bytes_bucket' AND labels LIKE '%364.5%'"
    )
    assert [(json.loads(r[1]), r[2], r[3], r[4], r[5]) for r in bucket] == [
        ({"le": "364.5"}, SCRAPE, 10493.0, "histogram", "prometheus")
    ]
    les = {json.loads(r[1])["le"] for r in metric_rows(home, "metric LIKE '%chunk_size_bytes_bucket'")}
    assert {"32.0", "108.0", "+Inf", "1230.1875"} <= les
    quantiles = {json.loads(r[1])["quantile"] for r in metric_rows(home, "metric = 'go_gc_duration_seconds'")}
    assert quantiles == {"0.0", "0.25", "0.5", "0.75", "1.0"}
    counter = metric_rows(home, "metric = 'net_conntrack_dialer_conn_attempted_total' AND labels LIKE '%blackbox%'")
    assert counter[0][3:] == (5210.0, "counter", "prometheus")
    assert ingest_file(home, path).loaded == 0


def test_openmetrics_sample(home: DataHome, samples: Path, tmp_path: Path) -> None:
    path = copy_with_mtime(samples / "openmetrics_alltypes_5mfs.om.txt", tmp_path)
    assert detect_kind(path) == KIND
    report = ingest_file(home, path)
    assert (report.error, report.read, report.loaded, report.quarantined) == (None, 53, 53, 0)
    assert {r[5] for r in metric_rows(home)} == {"openmetrics"}
    neg = metric_rows(home, "metric = 'rpc_durations_histogram_seconds_bucket' AND labels LIKE '%-8.99%'")
    assert json.loads(neg[0][1]) == {"le": "-8.999999999999979e-05"} and neg[0][3] == 5.0
    total = metric_rows(home, "metric = 'rpc_requests_total' AND labels LIKE '%normal%'")
    assert total[0][3:5] == (15.0, "counter")
    created = metric_rows(home, "metric = 'rpc_requests_created' AND labels LIKE '%normal%'")
    assert created[0][4] == "gauge" and created[0][3] == 1726839813.016717
    assert metric_rows(home, "metric = 'go_build_info'")[0][4] == "gauge"
    assert ingest_file(home, path).loaded == 0


def test_timestamps_ms_vs_float_seconds(home: DataHome, tmp_path: Path) -> None:
    text = tmp_path / "a.prom"
    text.write_text('# TYPE up gauge\nup{job="a"} 1 1435781430781\nup{job="b"} NaN 1435781430781\n')
    om = tmp_path / "b.om.txt"
    om.write_text('# TYPE up gauge\nup{job="c"} +Inf 1435781430.781\n# EOF\n')
    for path in (text, om):
        assert detect_kind(path) == KIND
        assert ingest_file(home, path).loaded >= 1
    got = metric_rows(home)
    expected = datetime(2015, 7, 1, 20, 10, 30, 781000, tzinfo=UTC)
    assert [r[2] for r in got] == [expected] * 3
    assert [r[5] for r in got] == ["prometheus", "prometheus", "openmetrics"]
    assert math.isnan(got[1][3]) and got[2][3] == math.inf


def test_le_spellings_are_one_bucket(home: DataHome, tmp_path: Path) -> None:
    a = tmp_path / "a.prom"
    a.write_text('# TYPE h histogram\nh_bucket{le="1"} 3 1700000000000\n')
    b = tmp_path / "b.prom"
    b.write_text('# TYPE h histogram\nh_bucket{le="1.0"} 3 1700000000000\n')
    assert ingest_file(home, a).loaded == 1
    report = ingest_file(home, b)
    assert (report.loaded, report.duplicates) == (0, 1)
    assert json.loads(metric_rows(home)[0][1]) == {"le": "1.0"}


def test_bad_lines_are_rejected(home: DataHome, tmp_path: Path) -> None:
    path = tmp_path / "bad.prom"
    path.write_text('# TYPE up gauge\nup 1 1700000000000\nup{job="x"} abc 1700000000000\nup{job="y"\n')
    report = ingest_file(home, path, kind=KIND)
    assert (report.read, report.loaded, report.quarantined) == (3, 1, 2)
    sql = Lake(home).scan_sql(REJECTED_ROWS)
    got = connect().execute(f"SELECT locator, raw FROM ({sql}) ORDER BY locator").fetchall()
    assert got == [("line 3", 'up{job="x"} abc 1700000000000'), ("line 4", 'up{job="y"')]


def test_unreadable_files(home: DataHome, tmp_path: Path) -> None:
    bad = tmp_path / "bad.prom"
    bad.write_bytes(b'up 1 1700000000000\nup{job="caf\xe9"} 1 1700000000000\n')
    report = ingest_file(home, bad, kind=KIND)
    assert report.error is not None and "line 2" in report.error and "UTF-8" in report.error
    empty = tmp_path / "empty.prom"
    empty.write_text("\n\n")
    assert ingest_file(home, empty, kind=KIND).error == "empty file"
    assert metric_rows(home) == []
