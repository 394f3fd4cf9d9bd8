"""otlp-metrics' columnar pass gives exactly the rows, rejects and accounting of the record-by-record
reader, falling back to it whenever a file holds something it cannot classify exactly: the real
samples, and hostile variants of both the NDJSON and the single-document form."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.sources.otlp_metrics import ADAPTER
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import bulk_and_read_agree

T = "1544712660300000000"
KV = [
    {"key": "route", "value": {"stringValue": "/api/çé/日本"}},
    {"key": "code", "value": {"intValue": "200"}},
    {"key": "ratio", "value": {"doubleValue": 0.25}},
    {"key": "ok", "value": {"boolValue": True}},
    {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": 3}]}}},
    {"key": "map", "value": {"kvlistValue": {"values": [{"key": "z", "value": {"stringValue": "y"}}]}}},
]


def pt(value: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"startTimeUnixNano": T, "timeUnixNano": T, "attributes": KV[:2], **(value or {}), **extra}


def hist(**extra: Any) -> dict[str, Any]:
    fields = {"count": "6", "sum": 7.5, "bucketCounts": ["1", "2", "3"], "explicitBounds": [0.5, 1]}
    return pt(None, **{**fields, **extra})


def summ(**extra: Any) -> dict[str, Any]:
    quantiles = [{"quantile": 0.5, "value": 1.5}, {"quantile": 1, "value": "2"}, {"value": 0.1}]
    return pt(None, **{"count": "3", "sum": 3.5, "quantileValues": quantiles, **extra})


def req(*metrics: dict[str, Any], resource: Any = None, scope: Any = None) -> dict[str, Any]:
    return {
        "resourceMetrics": [
            {
                "resource": resource
                if resource is not None
                else {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
                "scopeMetrics": [
                    {
                        "scope": scope
                        if scope is not None
                        else {"name": "lib", "version": "1.0", "attributes": KV[2:]},
                        "metrics": list(metrics),
                    }
                ],
            }
        ]
    }


def gauge(name: str, *points: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "unit": "1", "gauge": {"dataPoints": list(points)}}


def sum_(name: str, temporality: Any, monotonic: Any, *points: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "sum": {"aggregationTemporality": temporality, "isMonotonic": monotonic, "dataPoints": list(points)},
    }


CLEAN = [
    req(
        gauge("cpu.util", pt({"asDouble": 0.5}), pt({"asDouble": "NaN"}, timeUnixNano="1544712661300000000")),
        sum_("http.requests", 2, True, pt({"asInt": "9007199254740993"})),
        sum_("http.delta", 1, True, pt({"asInt": 5})),
        sum_("queue.depth", 2, False, pt({"asDouble": -3})),
        sum_("queue.delta", "AGGREGATION_TEMPORALITY_DELTA", False, pt({"asDouble": "1e300"})),
        {"name": "unspecified", "sum": {"isMonotonic": True, "dataPoints": [pt({"asDouble": "-Inf"})]}},
        {"name": "unspecified.updown", "sum": {"dataPoints": [pt({"asDouble": "+Inf"})]}},
        {"name": "lat", "histogram": {"aggregationTemporality": 2, "dataPoints": [hist(), hist(timeUnixNano="1")]}},
        {"name": "lat.delta", "histogram": {"aggregationTemporality": 1, "dataPoints": [hist(sum=None)]}},
        {"name": "rpc", "summary": {"dataPoints": [summ()]}},
        {"name": "empty", "exponentialHistogram": {"aggregationTemporality": 2, "dataPoints": []}},
        gauge("名前.ünïcode", pt({"asDouble": 1}, attributes=[{"key": "ключ", "value": {"stringValue": "значение"}}])),
    ),
    req(gauge("cpu.util", pt({"asDouble": 0.75})), resource={}, scope={"name": "other"}),
]


def _drop_none(doc: Any) -> Any:
    if isinstance(doc, dict):
        return {k: _drop_none(v) for k, v in doc.items() if v is not None}
    if isinstance(doc, list):
        return [_drop_none(v) for v in doc]
    return doc


def lines(*docs: Any) -> str:
    return "".join((d if isinstance(d, str) else json.dumps(_drop_none(d), ensure_ascii=False)) + "\n" for d in docs)


G = json.dumps(gauge("g", pt({"asDouble": 1})))
CASES: dict[str, str] = {
    "clean": lines(*CLEAN),
    "clean document": json.dumps(_drop_none(CLEAN[0]), indent=2, ensure_ascii=False),
    "blank lines and CRLF": lines(CLEAN[0]).replace("\n", "\r\n") + "\n   \n" + lines(CLEAN[1]),
    "exponential histogram": lines(req({"name": "e", "exponentialHistogram": {"dataPoints": [pt()]}})),
    "no recorded value": lines(req(gauge("g", pt({"asDouble": 1}, flags=1), pt({"asDouble": 2}, timeUnixNano="5")))),
    "bad numbers": lines(
        req(
            gauge("g", pt({"asDouble": "abc"}), pt({"asDouble": " 1"}), pt({"asDouble": True}), pt({"asDouble": "1_0"}))
        )
    ),
    "bad ints": lines(req(sum_("s", 2, True, pt({"asInt": "1.5"}), pt({"asInt": 2.0}), pt({"asInt": "--3"})))),
    "missing fields": lines(
        req(
            gauge(
                "g", pt(), {"asDouble": 1}, pt({"asDouble": 1}, timeUnixNano="0"), pt({"asDouble": 1}, timeUnixNano=0)
            )
        )
    ),
    "timestamps": lines(
        req(gauge("g", pt({"asDouble": 1}, timeUnixNano=" 5"), pt({"asDouble": 1}, timeUnixNano=1.5e18)))
    ),
    "huge values": lines(
        req(
            gauge("g", pt({"asDouble": "1e999"}), pt({"asInt": "1" + "0" * 25}, timeUnixNano="2")),
            sum_(
                "s", 2, True, pt({"asInt": "9" * 19}), pt({"asDouble": 1.7976931348623157e308}, timeUnixNano="9" * 19)
            ),
        )
    ),
    "huge integer value": lines(req(gauge("g", pt({"asDouble": 10**400})))),
    "huge integer bound": lines(
        req({"name": "h", "histogram": {"dataPoints": [hist(explicitBounds=[10**400, "1e999"])]}})
    ),
    "huge timestamp": lines(req(gauge("g", pt({"asDouble": 1}, timeUnixNano="9" * 25)))),
    "negative zero": lines(req(gauge("g", pt({"asDouble": -0.0}), pt({"asDouble": "-0"}, timeUnixNano="8")))),
    "negative zero count": lines(req(sum_("s", 2, True, pt({"asInt": "-0"}, timeUnixNano="7")))),
    "negative zero integer": lines(json.dumps(req(gauge("g", pt({"asDouble": 12345})))).replace("12345", "-0")),
    "histogram mismatch": lines(req({"name": "h", "histogram": {"dataPoints": [hist(bucketCounts=["1"])]}})),
    "histogram bad bound": lines(req({"name": "h", "histogram": {"dataPoints": [hist(explicitBounds=["x", 1])]}})),
    "histogram bounds without counts": lines(
        req({"name": "h", "histogram": {"dataPoints": [hist(bucketCounts=[], explicitBounds=["x"])]}})
    ),
    "histogram negative counts": lines(
        req(
            {"name": "h", "histogram": {"aggregationTemporality": 2, "dataPoints": [hist(bucketCounts=["-1", 2, "3"])]}}
        )
    ),
    "le attribute": lines(
        req(
            gauge("g", pt({"asDouble": 1}, attributes=[{"key": "le", "value": {"stringValue": "1"}}])),
            gauge("q", pt({"asDouble": 1}, attributes=[{"key": "quantile", "value": {"stringValue": "abc"}}])),
        )
    ),
    "no name": lines(req({"gauge": {"dataPoints": [pt({"asDouble": 1})]}}, {"name": 7, "gauge": {"dataPoints": []}})),
    "no data": lines(req({"name": "x", "unit": "1"})),
    "odd temporality": lines(
        req(
            sum_("a", 2.0, True, pt({"asDouble": 1})),
            sum_("b", "2", True, pt({"asDouble": 1})),
            sum_("c", 2, "false", pt({"asDouble": 1})),
        )
    ),
    "two data types": lines(
        req(
            {
                "name": "x",
                "sum": {"isMonotonic": True, "dataPoints": [pt({"asInt": "1"})]},
                "gauge": {"dataPoints": [pt({"asInt": "2"})]},
            }
        )
    ),
    "odd attributes": lines(
        req(
            gauge(
                "g",
                pt(
                    {"asDouble": 1},
                    attributes=[
                        {"key": "a", "value": {"stringValue": "x", "intValue": 3}},
                        {"key": "b", "value": {}},
                        {"key": 5, "value": {"stringValue": "skipped"}},
                        "not an item",
                        {"key": "d", "value": {"doubleValue": 3}},
                        {"key": "e", "value": {"doubleValue": "text"}},
                    ],
                ),
            ),
            resource={"attributes": "not a list"},
            scope={"name": 5, "version": "", "attributes": [{"key": "k", "value": {"boolValue": 0}}]},
        )
    ),
    "repeated sample": lines(req(gauge("g", pt({"asDouble": 1}), pt({"asDouble": 2})))),
    "duplicate attribute keys": lines(
        req(
            gauge(
                "g",
                pt(
                    {"asDouble": 1},
                    attributes=[
                        {"key": "a", "value": {"stringValue": "1"}},
                        {"key": "a", "value": {"stringValue": "2"}},
                    ],
                ),
            )
        )
    ),
    "duplicate keys in a point": lines(
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "g", "gauge": {"dataPoints": '
        f'[{{"timeUnixNano": "{T}", "asDouble": 1, "asDouble": 2}}]}}}}]}}]}}]}}'
    ),
    "duplicate keys in a value": lines(
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "g", "gauge": {"dataPoints": '
        f'[{{"timeUnixNano": "{T}", "asDouble": 1, "attributes": [{{"key": "a", "value": '
        '{"stringValue": "1", "stringValue": "2"}}]}]}}]}]}]}'
    ),
    "duplicate resourceMetrics": lines(
        '{"resourceMetrics": [], "resourceMetrics": [{"scopeMetrics": [{"metrics": [' + G + "]}]}]}"
    ),
    "null value": lines(
        json.dumps(req(gauge("g", pt({"asDouble": 1}, flags=None), pt({"asInt": "2"}, asDouble=None))))
    ),
    "NaN literal": lines(
        G.join(['{"resourceMetrics": [{"scopeMetrics": [{"metrics": [', "]}]}]}"]).replace(
            '"asDouble": 1', '"asDouble": NaN'
        )
    ),
    "trailing comma": lines('{"resourceMetrics": [{"scopeMetrics": [{"metrics": [' + G + ",]}]}]}"),
    "invalid line": lines(CLEAN[1], '{"resourceMetrics": [', "[1, 2]", '{"other": 1}'),
    "not an object": lines(req(gauge("g", pt({"asDouble": 1}), 5))),
    "no resourceMetrics": lines(CLEAN[1], {"resourceMetrics": {}}),
    "legacy scope name": lines(
        {"resourceMetrics": [{"instrumentationLibraryMetrics": [{"metrics": [gauge("g", pt({"asDouble": 1}))]}]}]}
    ),
    "lone surrogate": lines(
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "g\\ud800", "gauge": {"dataPoints": []}}]}]}]}'
    ),
    "control character": lines(
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "a\tb", "gauge": {"dataPoints": []}}]}]}]}'
    ),
    "NUL character": lines(
        '{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "a\\u0000b", "gauge": {"dataPoints": '
        f'[{{"timeUnixNano": "{T}", "asDouble": 1}}]}}}}]}}]}}'
    ),
    "legacy and current scope names": lines(
        {
            "resourceMetrics": [
                {
                    "scopeMetrics": [{"metrics": [gauge("g", pt({"asDouble": 1}))]}],
                    "instrumentationLibraryMetrics": [{"metrics": [gauge("h", pt({"asDouble": 1}))]}],
                }
            ]
        }
    ),
    "pretty-printed lines": lines(CLEAN[1]) + json.dumps(CLEAN[1], indent=1),
    "truncated document": json.dumps(CLEAN[0], indent=2)[:-40],
    "document and more": json.dumps(CLEAN[1], indent=2) + "\n" + json.dumps(CLEAN[1], indent=2),
    "bare carriage return": lines(CLEAN[1]).rstrip("\n") + "\r" + lines(CLEAN[1]),
}
COLUMNAR = ("clean", "clean document", "blank lines and CRLF", "real file exporter sample", "odd attributes")


@pytest.mark.parametrize("case", [*CASES, "real request sample", "real file exporter sample"])
def test_columnar_and_record_by_record_readers_agree(
    tmp_path: Path, case: str, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "metrics.json"
    if case == "real request sample":
        shutil.copy(samples / "otlp_metrics_request_example.json", path)
    elif case == "real file exporter sample":
        shutil.copy(samples / "otel_fileexporter_metrics_splunk_workshop.jsonl", path)
    else:
        path.write_text(CASES[case], encoding="utf-8")
    bulk_and_read_agree(tmp_path, path, ADAPTER, monkeypatch, bulk_alone=case in COLUMNAR, kind=ADAPTER.kind)


def test_columnar_pass_keeps_kinds_and_temporality(tmp_path: Path) -> None:
    """The columnar pass alone (no record-by-record reader to fall back to) stores each OTLP data
    type with the kind its temporality gives."""
    path = tmp_path / "metrics.ndjson"
    path.write_text(CASES["clean"])
    home = DataHome.resolve(tmp_path / "home").ensure()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(type(ADAPTER), "read", lambda self, ctx: iter([1 / 0]))
        report = ingest_file(home, path)
    assert report.error is None and report.quarantined == 0
    kinds = dict(
        connect()
        .execute(
            f"SELECT DISTINCT metric, kind FROM ({Lake(home).scan_sql(RAW_TABLES['metric_samples'])}) "
            "WHERE metric NOT LIKE '%\\_%' ESCAPE '\\' OR metric LIKE 'lat%'"
        )
        .fetchall()
    )
    assert kinds["cpu.util"] == "gauge"
    assert kinds["http.requests"] == "counter"  # monotonic, cumulative
    assert kinds["http.delta"] == "unknown"  # monotonic, delta
    assert kinds["queue.depth"] == "gauge"  # not monotonic, cumulative
    assert kinds["queue.delta"] == "unknown"  # not monotonic, delta (by its enum name)
    assert kinds["unspecified"] == "unknown"  # monotonic, temporality not stated
    assert kinds["unspecified.updown"] == "gauge"  # not monotonic, not delta
    assert kinds["lat_bucket"] == kinds["lat_count"] == "histogram"
    assert kinds["lat.delta_bucket"] == "unknown"
    assert kinds["rpc"] == "summary"
