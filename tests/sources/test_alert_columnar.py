"""The Alertmanager webhook's columnar path against its record-by-record path: the same file gives
the same rows, the same quarantine (locator, reason and raw text) and the same accounting, on the
real sample and on notifications with every kind of bad or unusual alert; and the columnar path
handles them itself (the record-by-record reader is not called) unless the mapper would load an
alert the pass cannot classify."""

from __future__ import annotations

import copy
import gc
import json
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.sources import alertmanager_webhook
from ops_warehouse.sources.base import ReadContext
from ops_warehouse.tables import RAW_TABLES, REJECTED_ROWS
from tests.sources.lake_rows import accounting, ingest, scan

STRIP = ("source_file", "ingested_at")


def _sample(samples: Path) -> dict[str, Any]:
    return json.loads((samples / "alertmanager_webhook_payload.json").read_text())


def _alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": "firing",
        "labels": {"alertname": "DiskFull", "service": "api", "severity": "Critical"},
        "annotations": {"summary": "disk full"},
        "startsAt": "2026-11-23T10:00:00.123456789Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "f1",
    }
    alert.update(fields)
    return {k: v for k, v in alert.items() if v is not _DROP}


_DROP = object()


def _note(*alerts: Any, status: Any = "firing") -> dict[str, Any]:
    return {"receiver": "pager", "status": status, "alerts": list(alerts), "groupKey": "{}", "version": "4"}


def _lines(samples: Path, *, object_annotations: bool = False) -> list[dict[str, Any]]:
    """The real sample, re-sent and resolved, then notifications with odd and bad alerts (one with
    annotations that are not an object, unless ``object_annotations``)."""
    sample = _sample(samples)
    resolved = copy.deepcopy(sample)
    resolved["status"] = "resolved"
    for a in resolved["alerts"]:
        a["status"] = "resolved"
        a["endsAt"] = "2020-10-11T17:00:00.5+02:00"
    return [
        sample,
        sample,  # re-sent
        resolved,
        sample,  # a firing re-sent after the resolution does not undo it
        _note(
            _alert(),
            _alert(fingerprint=""),  # no fingerprint: the labels' hash
            _alert(fingerprint=7, startsAt="2026-11-23T11:00:00+01:00"),  # not text: the labels' hash
            _alert(status=" RESOLVED ", endsAt="2026-11-23T10:30:00.000001999Z", fingerprint="f2"),
            _alert(status=None, fingerprint="f3", annotations={"summary": "\u00a0 ", "description": " \tlow <disk>\n"}),
            _alert(
                fingerprint="f4",
                annotations={} if object_annotations else "not an object",
                startsAt="  2026-11-23T12:00:00Z ",
            ),
            _alert(fingerprint="f5", labels={"alertname": 'x\u00e9\\"quoted"', "z": "\u2028", "a": ""}),
            _alert(status="resolved", fingerprint="f6", endsAt=""),  # no end: none
            _alert(status="resolved", fingerprint="f7", endsAt=None),
            # digits beyond the millisecond (start) and the microsecond (end) are cut, not rounded
            _alert(
                fingerprint="f9", startsAt="2026-11-23T10:00:00.9999999Z", annotations={"summary": "caf\u00e9 \u3000"}
            ),
            _alert(status="resolved", fingerprint="f10", endsAt="2026-11-23T12:00:00.9999999+01:00"),
            _alert(fingerprint="f13", startsAt="1969-12-31T23:59:59.9995Z"),  # cut down before 1970 too
            _alert(fingerprint=" f11 ", annotations={"summary": "\u2003em\u2003"}),  # white space at either end
            _alert(fingerprint="f12", annotations={"summary": "caf\u00e9"}),  # beyond ASCII, no white space
            status="resolved",
        ),
        _note(
            _alert(labels={}),  # no labels
            _alert(labels=_DROP),
            _alert(labels="alertname=x"),
            _alert(startsAt=_DROP),
            _alert(startsAt=""),
            _alert(startsAt="   "),
            _alert(startsAt="0001-01-01T00:00:00Z"),
            _alert(startsAt="yesterday"),
            _alert(startsAt="2026-02-30T10:00:00Z"),
            _alert(startsAt="2026-11-23T10:00:00"),  # no offset, no default zone
            _alert(startsAt=1700000000),
            _alert(status="resolved", endsAt="2026-11-23T09:00:00Z"),  # before the start
            _alert(status="resolved", endsAt="soon"),
            _alert(status="resolved", endsAt="   "),
            _alert(status="resolved", endsAt=5),
        ),
        _note(),  # no alerts at all
        {"receiver": "pager", "status": "firing", "groupKey": "{}", "alerts": None},
        _note(_alert(fingerprint="f8"), status=3),  # a status that is not text: the alert's own counts
    ]


def _write(tmp_path: Path, lines: list[Any]) -> Path:
    path = tmp_path / "notifications.ndjson"
    path.write_text("".join(json.dumps(n) + "\n" for n in lines))
    return path


def _lake(home: DataHome) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [{k: v for k, v in r.items() if k not in STRIP} for r in scan(home, RAW_TABLES["alerts"])]
    quarantine = [{k: v for k, v in r.items() if k not in STRIP} for r in scan(home, REJECTED_ROWS)]

    def order(r: dict[str, Any]) -> str:
        return json.dumps(r, default=str, sort_keys=True)

    return sorted(rows, key=order), sorted(quarantine, key=order)


def _both(home: DataHome, tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch, *, columnar_alone: bool) -> Any:
    """Ingest the file by the columnar path into ``home`` and record by record into another home;
    assert the two agree and return the columnar ingest's report."""
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    with monkeypatch.context() as m:
        if columnar_alone:  # the record-by-record reader must not be needed

            def refuse(self: Any, ctx: Any) -> Any:
                raise AssertionError("the columnar path gave way to the record-by-record reader")

            m.setattr(alertmanager_webhook.AlertmanagerWebhookAdapter, "read", refuse)
        columnar = ingest(home, path)
    assert columnar.ok, columnar.line()
    other = DataHome.resolve(tmp_path / "by-record").ensure()
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 1 << 40)
    by_record = ingest(other, path)
    assert accounting(columnar) == accounting(by_record)
    assert _lake(home) == _lake(other)
    return columnar


def test_columnar_path_matches_the_record_path_on_the_real_sample(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    path = _write(tmp_path, _lines(samples)[:4])
    report = _both(home, tmp_path, path, monkeypatch, columnar_alone=True)
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (12, 3, 9, 0)
    rows, _ = _lake(home)
    assert {r["status"] for r in rows} == {"resolved"}


@pytest.mark.parametrize("object_annotations", [False, True], ids=["annotations-not-an-object", "typed-annotations"])
def test_columnar_path_matches_the_record_path_on_bad_and_odd_alerts(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path, object_annotations: bool
) -> None:
    """Annotations that are all objects are read typed by the JSON reader; one that is not makes
    the pass read them as JSON: the same rows either way."""
    path = _write(tmp_path, _lines(samples, object_annotations=object_annotations))
    report = _both(home, tmp_path, path, monkeypatch, columnar_alone=True)
    assert report.quarantined == 17  # 15 bad alerts, a notification without alerts, one with alerts null
    rows, quarantine = _lake(home)
    reasons = {q["locator"]: q["reason"] for q in quarantine}
    assert reasons["line 6 /alerts/0"] == "labels: required but missing"
    assert reasons["line 6 /alerts/11"].startswith("endsAt: 2026-11-23T09:00:00+00:00 is before")
    assert reasons["line 7"] == "nothing to load from this record"
    assert all(q["raw"] for q in quarantine)
    by_fp = {r["fingerprint"]: r for r in rows}
    assert by_fp["f3"]["summary"] == "low <disk>" and by_fp["f3"]["status"] == "resolved"
    assert by_fp["f2"]["status"] == "resolved" and by_fp["f2"]["ended_at"].microsecond == 1
    assert by_fp["f4"]["summary"] is None
    assert by_fp["f9"]["started_at"].microsecond == 999_000 and by_fp["f9"]["summary"] == "caf\u00e9"
    assert by_fp["f10"]["ended_at"].microsecond == 999_999
    assert by_fp["f13"]["started_at"].second == 59 and by_fp["f13"]["started_at"].microsecond == 999_000
    assert by_fp["f11"]["summary"] == "em" and by_fp["f12"]["summary"] == "caf\u00e9"


def test_columnar_path_gives_way_when_the_mapper_would_load_what_it_cannot_classify(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    # a label value that is not text: the mapper stores str() of it, which the pass does not spell
    odd = _note(_alert(labels={"alertname": "x", "replicas": 3, "paging": True}))
    path = _write(tmp_path, [*_lines(samples)[:4], odd])
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    assert alertmanager_webhook.ADAPTER.bulk(ReadContext(path, scratch=tmp_path / "scratch")) is None
    report = _both(home, tmp_path, path, monkeypatch, columnar_alone=False)
    assert report.loaded == 4


@pytest.mark.parametrize("object_annotations", [False, True], ids=["annotations-not-an-object", "typed-annotations"])
def test_columnar_path_gives_way_on_a_repeated_annotation(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path, object_annotations: bool
) -> None:
    """Annotations that repeat summary: the mapper keeps the last one (Python's JSON), which the
    JSON reader refuses and the JSON functions would not pick: the file goes record by record."""
    lines = [json.dumps(n) for n in _lines(samples, object_annotations=object_annotations)]
    repeated = json.dumps(_note(_alert(fingerprint="r1", annotations={"summary": "first"})))
    repeated = repeated.replace('{"summary": "first"}', '{"summary": "first", "summary": "last"}')
    path = tmp_path / "notifications.ndjson"
    path.write_text("".join(line + "\n" for line in [*lines, repeated]))
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    assert alertmanager_webhook.ADAPTER.bulk(ReadContext(path, scratch=tmp_path / "scratch")) is None
    _both(home, tmp_path, path, monkeypatch, columnar_alone=False)
    rows, _ = _lake(home)
    assert {r["fingerprint"]: r["summary"] for r in rows}["r1"] == "last"


def test_columnar_path_keeps_the_merge_rule_across_ingests(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    """A second file re-sending firings already resolved in the lake changes nothing."""
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    lines = _lines(samples)
    first = ingest(home, _write(tmp_path, lines[:3]))
    assert first.loaded == 3
    (tmp_path / "later").mkdir()
    again = ingest(home, _write(tmp_path / "later", [lines[0], lines[0]]))
    assert (again.read, again.loaded, again.duplicates) == (6, 0, 6)
    rows, _ = _lake(home)
    assert {r["status"] for r in rows} == {"resolved"}


def test_columnar_path_releases_its_own_scratch_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path
) -> None:
    """Without the engine's scratch folder the adapter makes its own (the batch is written from its
    DuckDB connection, whose tables spill there): it goes once the batch is read, or with the last
    reference to a batch that was never read."""
    path = _write(tmp_path, _lines(samples)[:4])
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    own = tmp_path / "tmp"
    own.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(own))
    bulks = alertmanager_webhook.ADAPTER.bulk(ReadContext(path))
    assert bulks is not None and [p.name for p in own.iterdir()] != []
    (chunk,) = list(bulks[0].chunks)
    assert chunk.con is not None
    assert list(own.iterdir()) == []
    with pytest.raises(duckdb.ConnectionException):
        chunk.con.execute("SELECT 1")
    bulks = alertmanager_webhook.ADAPTER.bulk(ReadContext(path))
    assert bulks is not None and list(own.iterdir()) != []
    del bulks
    gc.collect()
    assert list(own.iterdir()) == []


def test_columnar_path_keeps_the_later_of_versions_with_the_same_update(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-sent firings of one alert share their updated_at: the later in the file wins, by line and
    by place within the line, as in the merge."""

    def summary(fp: str, text: str) -> dict[str, Any]:
        return _alert(fingerprint=fp, annotations={"summary": text})

    lines = [
        _note(summary("a", "a1"), summary("b", "b1")),
        _note(),  # a notification without alerts between them
        _note(summary("b", "b2"), summary("a", "a2"), summary("a", "a3")),
        _note(summary("c", "c1"), summary("c", "c2")),
    ]
    report = _both(home, tmp_path, _write(tmp_path, lines), monkeypatch, columnar_alone=True)
    assert (report.loaded, report.duplicates, report.quarantined) == (3, 4, 1)
    rows, _ = _lake(home)
    assert {r["fingerprint"]: r["summary"] for r in rows} == {"a": "a3", "b": "b2", "c": "c2"}


@pytest.mark.parametrize(
    ("plain", "lenient"),
    [
        ('"fingerprint": "f1"}', '"fingerprint": "f1",}'),  # a trailing comma in an alert
        ('"version": "4"}', '"version": "4",}'),  # in the notification
        ('"alerts": [{', '"alerts": [nan, {'),  # literals Python's JSON refuses (it takes NaN)
        ('"alerts": [{', '"alerts": [-inf, {'),
    ],
)
def test_columnar_path_gives_way_on_json_only_the_reader_accepts(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, samples: Path, plain: str, lenient: str
) -> None:
    """DuckDB's JSON reader takes trailing commas and nan or inf literals; the record reader
    quarantines such a line (Python's JSON refuses it): the file goes record by record."""
    lines = [json.dumps(n) for n in _lines(samples)[:4]]
    odd = json.dumps(_note(_alert(fingerprint="f1")))
    assert plain in odd
    path = tmp_path / "notifications.ndjson"
    path.write_text("".join(line + "\n" for line in [*lines, odd.replace(plain, lenient, 1)]))
    monkeypatch.setattr(alertmanager_webhook, "BULK_MIN_BYTES", 0)
    report = _both(home, tmp_path, path, monkeypatch, columnar_alone=False)
    _, quarantine = _lake(home)
    assert report.quarantined == 1 and quarantine[0]["locator"] == "line 5"
