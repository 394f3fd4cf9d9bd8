"""SLO queries: accepted shapes, rejected constructs, and matcher semantics in the SQL models."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.sources.slo_spec import QueryError, compile_query, parse_query
from tests.slo.helpers import build, ingest, rows, ts, write_samples

SERIES = [
    ("http_requests_total", {"code": "200", "job": "api"}),
    ("http_requests_total", {"code": "500", "job": "api"}),
    ("http_requests_total", {"code": "1500", "job": "api"}),
    ("http_requests_total", {"job": "api"}),
    ("http_requests_total", {"code": "429", "job": "it's"}),
    ("lat_bucket", {"le": "1"}),
    ("lat_bucket", {"le": "1.0"}),
    ("lat_bucket", {"le": "0.5"}),
    ("lat_bucket", {"le": "+Inf"}),
    ("http.server.request.count", {"service.name": "api", "http.response.status_code": "503"}),
    ("http.server.request.count", {"service.name": "web", "http.response.status_code": "200"}),
]

CASES = [
    ('http_requests_total{code="500"}', [1]),
    ('http_requests_total{code=~"5.."}', [1]),  # anchored: not 1500
    ('http_requests_total{code!~"5..",job="api"}', [0, 2, 3]),
    ('http_requests_total{code=""}', [3]),  # a missing label is ''
    ('http_requests_total{code!="200",code!~"5..|1500",job="api"}', [3]),
    ('sum by (job) (rate(http_requests_total{job="it\'s"}[{{.window}}]))', [4]),
    ('lat_bucket{le="1"}', [5, 6]),
    ('lat_bucket{le="1.0"}', [5, 6]),
    ('lat_bucket{le="+Inf"}', [8]),
    ('lat_bucket{le!="1"}', [7, 8]),
    ('{__name__="lat_bucket",le="0.5"}', [7]),
    ('http_requests_total{job="\'); DROP TABLE s; --"}', []),
    ('{"http.server.request.count", "service.name"="api"}', [9]),
    (
        ('sum(rate({"http.server.request.count", "service.name"=~"api|web", "http.response.status_code"=~"5.."}[5m]))'),
        [9],
    ),
]


def test_matchers(home: DataHome, tmp_path: Path) -> None:
    """Each query is the total of its own SLO; series i carries 2**i events a minute (gauges), so
    an SLO's total names exactly the series its query selects."""
    defs = tmp_path / "slos.csv"
    with open(defs, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["slo_name", "target", "good_query", "total_query"])
        for i, (query, _) in enumerate(CASES):
            w.writerow([f"q{i:02d}", "0.99", query, query])
    ingest(home, defs)
    t0 = ts("2025-11-04 10:00")
    ingest(
        home,
        write_samples(
            tmp_path / "s.ndjson", [(m, labels, t0, float(2**i), "gauge") for i, (m, labels) in enumerate(SERIES)]
        ),
    )
    build(home)
    totals = {r["slo_name"]: r["total"] for r in rows(home, "core", "sli_minutes")}
    for i, (query, expected) in enumerate(CASES):
        got = totals.get(f"q{i:02d}")
        assert got == (sum(2**j for j in expected) or None), (query, got, expected)
    findings = {r["slo_name"]: r["finding"] for r in rows(home, "marts", "slo_weekly")}
    assert findings[f"q{len(CASES) - 3:02d}"] == "no data: its queries match no series"


def test_wrappers() -> None:
    assert parse_query('sum(rate(x{a="b"}[5m]))').wrapper == "rate"
    assert parse_query("sum(increase(x[{{.window}}])) by (a)").wrapper == "increase"
    assert parse_query("x").wrapper is None


def test_compiled_selectors_are_data() -> None:
    """The SQL reads values as data, never as SQL text: quotes stay in the value."""
    sel = compile_query("""x{a="'); DROP TABLE s; --"}""", "total")
    assert sel["matchers"] == [{"label": "a", "op": "=", "value": "'); DROP TABLE s; --", "pattern": None}]
    assert compile_query('lat_bucket{le="1"}', "good")["matchers"][0]["value"] == "1.0"


@pytest.mark.parametrize(
    "query,message",
    [
        ("sum(rate(a[5m])) / sum(rate(b[5m]))", "binary operator '/'"),
        ("avg(rate(a[5m]))", "aggregation 'avg'"),
        ("sum(irate(a[5m]))", "function 'irate'"),
        ("histogram_quantile(0.9, sum(rate(a_bucket[5m])) by (le))", "function 'histogram_quantile'"),
        ("rate(a[5m])", "rate() must be wrapped in sum"),
        ("a offset 5m", "offset modifiers"),
        ("sum(rate(a[5m] offset 1h))", "offset modifiers"),
        ("a[5m]", "bare range selector"),
        ("sum(a)", "sum(...) must wrap rate"),
        ("sum without (x) (rate(a[5m]))", "'without'"),
        ('{job="x"}', "names no metric"),
        ("42", "number literal"),
        ("a{", "not a valid PromQL expression"),
        ("", "empty"),
    ],
)
def test_rejected(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_query(query)
