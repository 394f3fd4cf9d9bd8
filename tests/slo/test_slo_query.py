"""SLO queries: accepted shapes, rejected constructs, and matcher semantics in SQL."""

from __future__ import annotations

import duckdb
import pytest

from ops_warehouse.metrics.slo_query import QueryError, parse_query, selector_sql

SERIES = [
    ("http_requests_total", '{"code":"200","job":"api"}'),
    ("http_requests_total", '{"code":"500","job":"api"}'),
    ("http_requests_total", '{"code":"1500","job":"api"}'),
    ("http_requests_total", '{"job":"api"}'),
    ("http_requests_total", '{"code":"429","job":"it\'s"}'),
    ("lat_bucket", '{"le":"1"}'),
    ("lat_bucket", '{"le":"1.0"}'),
    ("lat_bucket", '{"le":"0.5"}'),
    ("lat_bucket", '{"le":"+Inf"}'),
]


def matching(query: str) -> list[tuple[str, str]]:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (metric VARCHAR, labels VARCHAR)")
    con.executemany("INSERT INTO s VALUES (?, ?)", SERIES)
    return con.execute(f"SELECT metric, labels FROM s WHERE {selector_sql(parse_query(query))} "
                       "ORDER BY labels").fetchall()


@pytest.mark.parametrize("query,expected", [
    ('http_requests_total{code="500"}', ['{"code":"500","job":"api"}']),
    ('http_requests_total{code=~"5.."}', ['{"code":"500","job":"api"}']),  # anchored: not 1500
    ('http_requests_total{code!~"5..",job="api"}',
     ['{"code":"1500","job":"api"}', '{"code":"200","job":"api"}', '{"job":"api"}']),
    ('http_requests_total{code=""}', ['{"job":"api"}']),  # a missing label is ''
    ('http_requests_total{code!="200",code!~"5..|1500",job="api"}', ['{"job":"api"}']),
    ('sum by (job) (rate(http_requests_total{job="it\'s"}[{{.window}}]))', ['{"code":"429","job":"it\'s"}']),
    ('lat_bucket{le="1"}', ['{"le":"1.0"}', '{"le":"1"}']),
    ('lat_bucket{le="1.0"}', ['{"le":"1.0"}', '{"le":"1"}']),
    ('lat_bucket{le="+Inf"}', ['{"le":"+Inf"}']),
    ('lat_bucket{le!="1"}', ['{"le":"+Inf"}', '{"le":"0.5"}']),
    ('{__name__="lat_bucket",le="0.5"}', ['{"le":"0.5"}']),
])
def test_matchers(query: str, expected: list[str]) -> None:
    assert [labels for _, labels in matching(query)] == sorted(expected)


def test_wrappers() -> None:
    assert parse_query('sum(rate(x{a="b"}[5m]))').wrapper == "rate"
    assert parse_query('sum(increase(x[{{.window}}])) by (a)').wrapper == "increase"
    assert parse_query("x").wrapper is None


def test_injection_is_quoted() -> None:
    sql = selector_sql(parse_query("""x{a="'); DROP TABLE s; --"}"""))
    assert "''); DROP TABLE s; --'" in sql
    assert matching("""http_requests_total{job="'); DROP TABLE s; --"}""") == []


@pytest.mark.parametrize("query,message", [
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
])
def test_rejected(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_query(query)
