"""Ingestion: accounting, idempotency, quarantine and file-level errors, on canonical files."""

from __future__ import annotations

import hashlib
from datetime import UTC
from pathlib import Path

import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file, ingest_paths
from ops_warehouse.lake.store import Lake
from ops_warehouse.tables import INGEST_LOG, RAW_TABLES, REJECTED_ROWS

HEADER = "deploy_id,service,environment,sha,started_at,finished_at,status,is_rollback\n"


def _rows(home: DataHome, table: str, columns: str = "*", order: str = "1") -> list[tuple]:
    lake = Lake(home)
    t = RAW_TABLES[table] if table in RAW_TABLES else REJECTED_ROWS
    return connect().execute(f"SELECT {columns} FROM ({lake.scan_sql(t)}) ORDER BY {order}").fetchall()


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_every_row_is_accounted_for(home: DataHome, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "deploys.csv",
        HEADER
        + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n"
        + "d2,checkout,production,bbb,2026-11-24T10:00:00+01:00,2026-11-24T10:05:00+01:00,exploded,false\n"
        + "d3,checkout,production,ccc,2026-11-24 10:00:00,2026-11-24T10:05:00Z,success,false\n"
        + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n"
        + "d4,checkout,production,ddd,2026-11-25T10:00:00Z\n",
    )
    r = ingest_file(home, f)
    assert (r.kind, r.read, r.loaded, r.duplicates, r.quarantined) == ("canonical", 5, 1, 1, 3)
    assert r.balanced and r.ok
    reasons = _rows(home, "rejected_rows", "locator, reason")
    assert reasons[0] == (
        "line 3",
        "status: 'exploded' is not one of success, failure, error, cancelled, pending, in_progress, queued, inactive",
    )
    assert reasons[1][0] == "line 4" and "has no UTC offset" in reasons[1][1]
    assert reasons[2] == ("line 6", "expected 8 fields, found 5")
    # the bad rows keep their raw text
    assert "exploded" in _rows(home, "rejected_rows", "raw")[0][0]


def test_reingest_and_overlap_add_nothing(home: DataHome, tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a.csv",
        HEADER
        + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n"
        + "d2,checkout,production,bbb,2026-11-24T10:00:00Z,2026-11-24T10:05:00Z,success,false\n",
    )
    b = _write(
        tmp_path / "b.csv",
        HEADER
        + "d2,checkout,production,bbb,2026-11-24T10:00:00Z,2026-11-24T10:05:00Z,success,false\n"
        + "d3,checkout,production,ccc,2026-11-25T10:00:00Z,2026-11-25T10:05:00Z,success,false\n",
    )
    first = ingest_file(home, a)
    again = ingest_file(home, a)
    overlap = ingest_file(home, b)
    assert (first.loaded, first.duplicates) == (2, 0)
    assert (again.loaded, again.duplicates) == (0, 2)
    assert (overlap.loaded, overlap.duplicates) == (1, 1)
    assert [r[0] for r in _rows(home, "deployments", "deploy_id")] == ["d1", "d2", "d3"]
    # partitioned by the UTC day of the event
    days = sorted(p.parent.name for p in Lake(home).files(RAW_TABLES["deployments"]))
    assert days == ["day=2026-11-23", "day=2026-11-24", "day=2026-11-25"]


def test_a_corrected_row_replaces_the_old_one(home: DataHome, tmp_path: Path) -> None:
    a = _write(
        tmp_path / "a.csv",
        HEADER + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n",
    )
    b = _write(
        tmp_path / "b.csv",
        HEADER + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:09:00Z,failure,false\n",
    )
    ingest_file(home, a)
    r = ingest_file(home, b)
    assert (r.loaded, r.duplicates) == (1, 0)
    assert _rows(home, "deployments", "deploy_id, status") == [("d1", "failure")]


def test_newer_updated_at_wins_whatever_the_order(home: DataHome, tmp_path: Path) -> None:
    head = "incident_id,service,created_at,resolved_at,updated_at\n"
    newer = _write(
        tmp_path / "newer.csv", head + "i1,checkout,2026-11-23T10:00:00Z,2026-11-23T11:00:00Z,2026-11-23T11:00:00Z\n"
    )
    older = _write(tmp_path / "older.csv", head + "i1,checkout,2026-11-23T10:00:00Z,,2026-11-23T10:01:00Z\n")
    ingest_file(home, newer)
    late = ingest_file(home, older)
    assert (late.loaded, late.duplicates) == (0, 1)
    resolved = _rows(home, "incidents", "resolved_at")[0][0]
    assert resolved is not None and resolved.hour == 11


def test_default_time_zone_localizes_naive_timestamps(home: DataHome, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "d.csv",
        HEADER + "d1,checkout,production,aaa,2026-07-01 12:00:00,2026-07-01 12:30:00,success,false\n",
    )
    r = ingest_file(home, f, default_tz="Europe/Berlin")
    assert r.loaded == 1
    started = _rows(home, "deployments", "strftime(started_at, '%H:%M')")[0][0]
    assert started == "10:00"  # CEST is UTC+2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b'{"deploy_id": "d1", "environment": "production", "started_at": "2026-11-23T10:00:00Z"', "could not tell"),
        (b"\xff\xfe\x00garbage", "could not tell"),
    ],
)
def test_unreadable_files_fail_whole_and_write_nothing(
    home: DataHome, tmp_path: Path, content: bytes, message: str
) -> None:
    f = _write(tmp_path / "bad.json", content)
    r = ingest_file(home, f)
    assert not r.ok and message in (r.error or "")
    assert (r.loaded, r.duplicates, r.quarantined) == (0, 0, 0)
    assert Lake(home).files(RAW_TABLES["deployments"]) == []
    assert not any(home.tmp.glob("ingest-*")), "staging must be cleaned up"


def test_truncated_json_names_the_place(home: DataHome, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "deploys.json",
        '[{"deploy_id": "d1", "environment": "production", "started_at": "2026-11-23T10:00:00Z"},\n {"deploy_id": ',
    )
    r = ingest_file(home, f, kind="canonical")
    assert r.error is not None and "line 2" in r.error and "column" in r.error
    assert Lake(home).files(RAW_TABLES["deployments"]) == []


def test_non_utf8_csv_is_a_file_error(home: DataHome, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "d.csv",
        HEADER.encode() + b"d1,caf\xe9,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false\n",
    )
    r = ingest_file(home, f, kind="canonical")
    assert r.error is not None and "UTF-8" in r.error


def test_ndjson_bad_lines_are_quarantined(home: DataHome, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "incidents.ndjson",
        '{"incident_id": "i1", "service": "checkout", "created_at": "2026-11-23T10:00:00Z"}\n'
        '{"incident_id": "i2", "service": \n'
        '{"incident_id": "i3", "service": "checkout", "created_at": "2026-11-23T11:00:00Z", "severity": "sev9"}\n'
        '["not", "an", "object"]\n',
    )
    r = ingest_file(home, f)
    assert (r.read, r.loaded, r.quarantined) == (4, 1, 3)
    locators = [row[0] for row in _rows(home, "rejected_rows", "locator")]
    assert locators == ["line 2", "line 3", "line 4"]


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (  # the canonical columns
            "incidents.ndjson",
            '{"incident_id": "i2", "service": "check\\ud800out", "created_at": "2026-11-23T11:00:00Z"}',
        ),
        (  # an adapter's mapping, and a key of the record itself
            "deliveries.ndjson",
            '{"deployment": {"id": 7, "sha": "\\udc00", "environment": "production", "created_at": '
            '"2026-11-23T10:00:00Z"}, "repository": {"full_name": "acme/shop"}, "\\ud83d": 1}',
        ),
    ],
)
def test_a_lone_surrogate_is_quarantined_not_a_crash(home: DataHome, tmp_path: Path, name: str, line: str) -> None:
    """JSON escapes can spell half a UTF-16 pair, which Python reads but no UTF-8 file can hold: the
    record is quarantined with its reason, its raw text kept with the escape written out."""
    good = (
        '{"incident_id": "i1", "service": "checkout", "created_at": "2026-11-23T10:00:00Z"}'
        if name == "incidents.ndjson"
        else line.replace('"\\udc00"', '"abc"').replace('"\\ud83d"', '"x"').replace('"id": 7', '"id": 8')
    )
    f = _write(tmp_path / name, good + "\n" + line + "\n")
    r = ingest_file(home, f)
    assert r.error is None
    assert (r.read, r.loaded, r.quarantined) == (2, 1, 1)
    [(locator, reason, raw)] = _rows(home, "rejected_rows", "locator, reason, raw")
    assert locator.startswith("line 2")
    assert "not valid Unicode text" in reason
    assert "\\ud800" in raw or "\\udc00" in raw


def test_parquet_and_folders(home: DataHome, tmp_path: Path) -> None:
    from datetime import datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    t = datetime(2026, 11, 23, 10, tzinfo=UTC)
    pq.write_table(
        pa.table(
            {"metric": ["up", "up"], "labels": ['{"job":"api"}', '{"job":"api"}'], "ts": [t, t], "value": [1.0, 1.0]}
        ),
        tmp_path / "in" / "m.parquet" if (tmp_path / "in").mkdir() is None else None,
    )
    reports = ingest_paths(home, [tmp_path / "in"])
    assert len(reports) == 1 and (reports[0].loaded, reports[0].duplicates) == (1, 1)


def test_missing_file(home: DataHome, tmp_path: Path) -> None:
    r = ingest_file(home, tmp_path / "nope.csv")
    assert r.error == "no such file"


def test_vectorized_and_row_by_row_checks_agree(tmp_path: Path) -> None:
    """Canonical CSV is checked in one vectorized pass, NDJSON row by row: same rows, same reasons."""
    import csv
    import json

    rows = [
        ["d1", "checkout", "production", "aaa", "2026-11-23T10:00:00Z", "2026-11-23T10:05:00-0800", "success", "true"],
        ["d2", "checkout", "production", "bbb", "2026-11-24T10:00:00+01:00", "", "exploded", "false"],
        ["d3", "", "production", "ccc", "2026-11-24 10:00:00", "2026-11-24T10:05:00Z", "success", "no"],
        ["d4", "checkout", "", "ddd", "2026-11-25T10:00:00Z", "yesterday", "failure", "maybe"],
        ["d5", "checkout", "staging", "eee", "not a time", "", "success", ""],
        ["", "checkout", "staging", "fff", "2026-11-25T10:00:00Z", "", "success", ""],
    ]
    columns = HEADER.strip().split(",")
    with open(tmp_path / "d.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([columns, *rows])
    with open(tmp_path / "d.ndjson", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(dict(zip(columns, r, strict=False))) + "\n")
    results = {}
    for name in ("d.csv", "d.ndjson"):
        home = DataHome.resolve(tmp_path / f"home-{name}").ensure()
        report = ingest_file(home, tmp_path / name)
        loaded = _rows(home, "deployments", "deploy_id, service, finished_at, is_rollback")
        reasons = [r[0] for r in _rows(home, "rejected_rows", "reason")]
        results[name] = (report.read, report.loaded, report.quarantined, loaded, reasons)
    assert results["d.csv"] == results["d.ndjson"]
    read, loaded, quarantined, rows_loaded, reasons = results["d.csv"]
    assert (read, loaded, quarantined) == (6, 1, 5)
    assert rows_loaded[0][0] == "d1" and rows_loaded[0][2].hour == 18 and rows_loaded[0][3] is True
    assert sorted(reasons) == sorted(
        [
            "status: 'exploded' is not one of success, failure, error, cancelled, pending, in_progress, queued, inactive",  # noqa: E501
            "started_at: timestamp 2026-11-24 10:00:00 has no UTC offset; add one or pass a default time zone (--tz)",
            "environment: required but missing",
            "started_at: not an ISO 8601 timestamp: 'not a time'",
            "deploy_id: required but missing",
        ]
    )


def test_merging_a_few_days_at_a_time_gives_the_same_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ops_warehouse.lake.store as store

    lines = [
        f"d{i % 40},checkout,production,s{i},2026-11-{1 + i % 20:02d}T10:00:00Z,2026-11-{1 + i % 20:02d}T10:05:00Z,success,false\n"  # noqa: E501
        for i in range(60)
    ]
    f = _write(tmp_path / "d.csv", HEADER + "".join(lines))
    whole = DataHome.resolve(tmp_path / "whole").ensure()
    r1 = ingest_file(whole, f)
    monkeypatch.setattr(store, "MERGE_BATCH_ROWS", 7)
    batched = DataHome.resolve(tmp_path / "batched").ensure()
    r2 = ingest_file(batched, f)
    assert (r1.read, r1.loaded, r1.duplicates) == (r2.read, r2.loaded, r2.duplicates) == (60, 40, 20)
    assert _rows(whole, "deployments", "deploy_id, sha") == _rows(batched, "deployments", "deploy_id, sha")
    assert sorted(r2.partitions["deployments"]) == sorted(r1.partitions["deployments"])


@pytest.mark.parametrize("text", ["[]", '{"items": [], "total_count": 0}', "[ ]\n"])
def test_an_export_with_no_records_loads_nothing_and_says_so(home: DataHome, tmp_path: Path, text: str) -> None:
    """A quiet week's export has no record to tell its kind by; it is not an error."""
    f = tmp_path / "quiet.json"
    f.write_text(text, encoding="utf-8")
    report = ingest_file(home, f)
    assert report.ok, report.error
    assert (report.kind, report.loaded, report.quarantined) == ("empty", 0, 0)
    assert "no records" in report.line()


def test_an_empty_page_of_a_known_api_is_read_as_that_kind(home: DataHome, tmp_path: Path) -> None:
    f = tmp_path / "page.json"
    f.write_text('{"incidents": [], "limit": 25, "more": false}', encoding="utf-8")
    report = ingest_file(home, f)
    assert report.ok, report.error
    assert (report.kind, report.read, report.loaded) == ("pagerduty-incidents", 0, 0)


def test_a_json_file_of_no_known_kind_is_still_an_error(home: DataHome, tmp_path: Path) -> None:
    f = tmp_path / "other.json"
    f.write_text('{"total": 0}', encoding="utf-8")
    report = ingest_file(home, f)
    assert not report.ok and "could not tell" in (report.error or "")


def test_each_partition_written_is_flushed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One fsync per day file written (and one for the ingest log), whether the days are new to
    the lake or merged with what it holds, from CSV or Parquet."""
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        [f"d{i}", "checkout", "production", f"s{i}", f"2026-11-{1 + i % 9:02d}T10:00:00Z", "", "success", "false"]
        for i in range(30)
    ]
    columns = HEADER.strip().split(",")
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate(columns)}), parquet)
    csv = _write(tmp_path / "d.csv", HEADER + "".join(",".join([*r[:3], "new", *r[4:]]) + "\n" for r in rows))
    flushed: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real(fd))[1])
    home = DataHome.resolve(tmp_path / "home").ensure()
    for path in (parquet, csv, parquet):  # days new to the lake, then merged with new versions twice
        flushed.clear()
        report = ingest_file(home, path)
        assert report.ok, report.error
        assert (report.loaded, len(report.partitions["deployments"])) == (30, 9)
        assert len(flushed) == 9 + 1
    assert len(_rows(home, "deployments", "deploy_id")) == 30


def test_the_log_has_each_files_checksum_loaded_or_failed(home: DataHome, tmp_path: Path) -> None:
    good = _write(tmp_path / "deploys.csv", HEADER + "d1,checkout,production,aaa,2026-11-23T10:00:00Z,,success,false\n")
    bad = _write(tmp_path / "deploys.json", '[{"deploy_id": "d1", "started_at": ')
    assert ingest_file(home, good, kind="canonical").ok
    assert not ingest_file(home, bad, kind="canonical").ok
    logged = dict(connect().execute(f"SELECT source_file, sha256 FROM ({Lake(home).scan_sql(INGEST_LOG)})").fetchall())
    assert logged == {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in (good, bad)}
