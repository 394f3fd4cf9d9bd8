"""``datadog-query``: the JSON answer of Datadog's ``GET /api/v1/query`` (timeseries points).

Format::

    {"status": "ok", "res_type": "time_series", "query": "avg:system.cpu.idle{env:prod} by {host}",
     "series": [{"metric": "system.cpu.idle", "scope": "env:prod,host:a", "tag_set": ["env:prod", "host:a"],
                 "aggr": "avg", "pointlist": [[1623846300000.0, 94.3], [1623846600000.0, null], ...]}]}

Mapping to ``raw.metric_samples`` (one row per point):

- ``metric`` is the series' ``metric``; labels are its tags, from ``scope`` (comma-separated; ``*``
  means none) and ``tag_set``: ``key:value`` gives label ``key`` = ``value`` (split at the first
  colon); a bare tag ``key`` gives ``key`` = ``""``; repeated keys join their sorted values with
  ``,``. A non-null ``aggr`` becomes label ``aggr``, so ``avg:`` and ``max:`` answers of one metric
  stay distinct series.
- ``ts`` is the point's epoch milliseconds; ``value`` its number.
- ``kind`` is ``unknown``: the answer states no metric type and its values are the query's
  per-interval aggregates (use them by value, never take their increase).
- ``source``: ``datadog``.
- A ``null`` value (no data in that interval) is not a sample: the point is rejected with reason
  ``null point``, so every point of the answer is accounted for.

Locators are JSON pointers such as ``/series/0/pointlist/3``. Answers are streamed (ijson) one
series at a time.

An answer of up to ``COLUMNAR_MAX_BYTES`` is first read in one columnar pass by DuckDB's JSON
functions, each series' labels made once in Python. Whenever that pass meets anything it cannot
classify exactly as the point-by-point reader would (a series without a name or pointlist, a point
that is not a ``[number, number]`` pair, a failed query...), the whole file is read point by point
instead, so rejects keep their reasons and JSON pointers. Null points are rejected by both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.duck import quote_literal
from ops_warehouse.sources._metrics import (
    _EPOCH_MAX,
    _EPOCH_MIN,
    NUMBER_SQL,
    TABLE,
    build_value,
    columnar_connection,
    json_events,
    normalize_labels,
    parse_value,
    reject,
    require_content,
    sample,
    sql_value,
)
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    BulkChunk,
    BulkInput,
    FileError,
    ReadContext,
    Record,
    Reject,
    Sniff,
    raw_json,
)
from ops_warehouse.timeutil import TimestampError, from_epoch_ms

SOURCE: Final = "datadog"
KIND: Final = "unknown"
_MARKERS: Final = (re.compile(rb'"series"\s*:\s*\['), re.compile(rb'"pointlist"\s*:'))
_SERIES: Final = "series.item"


class DatadogQueryAdapter(Adapter):
    kind = "datadog-query"
    description = "Datadog GET /api/v1/query timeseries answer (series[].pointlist)"

    def detect(self, sniff: Sniff) -> bool:
        return sniff.first_char == "{" and all(m.search(sniff.head) for m in _MARKERS)

    def bulk(self, ctx: ReadContext) -> list[BulkInput] | None:
        """The columnar pass (see the module docs), or None to read the file point by point."""
        if ctx.scratch is None or ctx.path.stat().st_size > COLUMNAR_MAX_BYTES:
            return None
        ctx.scratch.mkdir(parents=True, exist_ok=True)
        series = ctx.scratch / "datadog-series.parquet"
        con = columnar_connection(ctx.scratch)
        try:
            if not _identities(con, ctx.path, series):
                return None
            nulls = [
                Reject(f"/series/{idx}/pointlist/{i}", "null point", raw_json(json.loads(point), limit=2_000))
                for idx, i, point in con.execute(
                    f"{_points(ctx.path)} SELECT idx, i, pt FROM c WHERE null_point ORDER BY idx, i"
                ).fetchall()
            ]
        except duckdb.Error:  # JSON the columnar reader refuses: the point-by-point reader names the place
            return None
        finally:
            con.close()
        # the exact batch first: when it gives way, nothing of the rejects is staged yet
        return [
            BulkInput.exact(TABLE, _points_sql(ctx.path, series)),
            BulkInput(TABLE, iter([BulkChunk.rejects_only(nulls)])),
        ]

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        require_content(ctx.path)
        where = ["/"]
        seen = False
        status = "ok"
        with open(ctx.path, "rb") as fh:
            events = json_events(fh, where)
            index = 0
            for prefix, event, value in events:
                seen |= prefix == "series"
                status = value if prefix == "status" else status
                if prefix in ("error", "errors.item") and event == "string" and value:
                    raise FileError(f"/{prefix.split('.')[0]}: the query failed: {value}")
                if prefix == _SERIES and event not in ("end_map", "map_key"):
                    where[0] = f"/series/{index}"
                    yield from _series(build_value(event, value, events), where[0])
                    index += 1
        if status != "ok":
            raise FileError(f"/status: the query failed ({status!r})")
        if not seen:
            raise FileError("no series: not a Datadog query answer")


def _series(series: Any, locator: str) -> Iterator[Record]:
    if not isinstance(series, dict):
        yield reject(locator, "series is not an object", series)
        return
    points = series.get("pointlist")
    if not isinstance(points, list):
        yield reject(f"{locator}/pointlist", "series has no pointlist array", series)
        return
    metric = series.get("metric")
    try:
        if not isinstance(metric, str) or not metric:
            raise BadRecord("series has no metric name")
        labels = normalize_labels(tags(series))
    except BadRecord as exc:
        for i, point in enumerate(points):
            yield reject(f"{locator}/pointlist/{i}", str(exc), point)
        return
    for i, point in enumerate(points):
        yield _point(metric, labels, f"{locator}/pointlist/{i}", point)


def tags(series: dict[str, Any]) -> dict[str, str]:
    """A series' labels from its scope, tag_set and aggr (see the module docs).

    >>> tags({"scope": "env:prod,host:a", "tag_set": ["role:db", "role:web", "canary"], "aggr": "avg"})
    {'aggr': 'avg', 'canary': '', 'env': 'prod', 'host': 'a', 'role': 'db,web'}
    """
    scope = series.get("scope")
    found: list[str] = []
    if isinstance(scope, str) and scope.strip() not in ("", "*"):
        found.extend(t.strip() for t in scope.split(","))
    tag_set = series.get("tag_set")
    if isinstance(tag_set, list):
        found.extend(str(t).strip() for t in tag_set)
    values: dict[str, set[str]] = {}
    for tag in found:
        if tag:
            key, _, value = tag.partition(":")
            values.setdefault(key, set()).add(value)
    labels = {key: ",".join(sorted(v)) for key, v in values.items()}
    if series.get("aggr"):
        labels["aggr"] = str(series["aggr"])
    return dict(sorted(labels.items()))


def _point(metric: str, labels: str, locator: str, point: Any) -> Record:
    if not isinstance(point, list) or len(point) != 2:
        return reject(locator, "point is not a [time, value] pair", point)
    if point[1] is None:
        return reject(locator, "null point", point)
    try:
        ts = from_epoch_ms(point[0])
        value = parse_value(point[1])
    except TimestampError as exc:
        return reject(locator, f"time: {exc}", point)
    except BadRecord as exc:
        return reject(locator, str(exc), point)
    return sample(metric, labels, ts, value, KIND, SOURCE, locator)


# ---------------------------------------------------------------- the columnar pass

COLUMNAR_MAX_BYTES: Final = 256 << 20  # the answer is one JSON object, parsed whole
_NUMERIC: Final = "('BIGINT', 'UBIGINT', 'DOUBLE')"


def _doc(path: Path) -> str:
    size = path.stat().st_size + 1
    return f"read_json_objects({quote_literal(str(path))}, format = 'unstructured', maximum_object_size = {size})"


def _identities(con: duckdb.DuckDBPyConnection, path: Path, target: Path) -> bool:
    """Each series' name and stored labels, by position, written to ``target``; False when the
    answer or a series is one the point-by-point reader would fail or reject points of."""
    head = con.execute(
        f"SELECT count(*), any_value(json_type(json->'status')), any_value(json->>'status'), "
        f"any_value(json_type(json->'series')), any_value((json->'error') IS NULL), "
        f"any_value(coalesce(json_array_length(json->'errors'), 0) = 0) FROM {_doc(path)}"
    ).fetchall()[0]
    count, status_type, status, series_type, no_error, no_errors = head
    if count != 1 or series_type != "ARRAY" or not (no_error and no_errors):
        return False
    if status_type is not None and (status_type != "VARCHAR" or status != "ok"):
        return False
    rows: dict[str, list[Any]] = {"_idx": [], "metric": [], "labels": []}
    for idx, kind, points, metric, scope, tag_set, aggr in con.execute(
        f"SELECT idx, json_type(s), json_type(s->'pointlist'), s->'metric', s->'scope', s->'tag_set', s->'aggr' "
        f"FROM ({_SERIES_SQL.format(doc=_doc(path))})"
    ).fetchall():
        if kind != "OBJECT" or points != "ARRAY":
            return False
        fields = {"scope": scope, "tag_set": tag_set, "aggr": aggr}
        series = {k: json.loads(v) for k, v in fields.items() if v is not None}
        name = json.loads(metric) if metric is not None else None
        if not isinstance(name, str) or not name:
            return False
        try:
            labels = normalize_labels(tags(series))
        except BadRecord:
            return False
        rows["_idx"].append(idx)
        rows["metric"].append(name)
        rows["labels"].append(labels)
    pq.write_table(pa.table(rows, schema=_SERIES_SCHEMA), target)
    return True


_SERIES_SQL: Final = (
    "SELECT unnest(series) AS s, unnest(range(len(series))) AS idx "
    "FROM (SELECT CAST(json->'series' AS JSON[]) AS series FROM {doc})"
)


def _points(path: Path) -> str:
    """A ``WITH`` clause ending in ``c``: every point with its series and place, its time and value
    where the point-by-point reader would read them the same (NULL otherwise), and whether it is
    a null point (rejected by both readers)."""
    t, v = "(pt->0)", "(pt->1)"
    return f"""
        WITH s AS ({_SERIES_SQL.format(doc=_doc(path))}),
        l AS (SELECT idx, CAST(s->'pointlist' AS JSON[]) AS pl FROM s),
        p AS (SELECT idx, unnest(pl) AS pt, unnest(range(len(pl))) AS i FROM l),
        q AS (
            SELECT idx, i, pt, coalesce(json_type(pt) = 'ARRAY' AND json_array_length(pt) = 2, false) AS pair,
                   json_type({t}) AS tt, json_type({v}) AS vt, {t} ->> '$' AS t_text, {v} ->> '$' AS v_text
            FROM p
        ),
        c AS (
            SELECT idx, i, pt, pair AND vt = 'NULL' AS null_point,
                   CASE WHEN pair AND tt IN {_NUMERIC} AND regexp_full_match(t_text, '{NUMBER_SQL}')
                             AND CAST(t_text AS DOUBLE) BETWEEN {_EPOCH_MIN * 1000} AND {_EPOCH_MAX * 1000}
                        THEN make_timestamp(CAST(round_even(CAST(t_text AS DOUBLE) * 1000.0, 0) AS BIGINT))::TIMESTAMPTZ
                   END AS ts,
                   CASE WHEN pair AND vt IN {_NUMERIC} AND regexp_full_match(v_text, '{NUMBER_SQL}')
                        THEN CAST(v_text AS DOUBLE)
                        WHEN pair AND vt = 'VARCHAR' THEN {sql_value("v_text")} END AS value
            FROM q
        )
    """


def _points_sql(path: Path, series: Path) -> str:
    """Every point but the null ones as a metric_samples row, with ``_unclean`` where the
    point-by-point reader would reject it."""
    return f"""
        {_points(path)}
        SELECT series.metric, series.labels, c.ts, c.value, '{KIND}' AS kind, '{SOURCE}' AS source,
               NOT coalesce(c.ts IS NOT NULL AND c.value IS NOT NULL, false) AS _unclean
        FROM c JOIN read_parquet({quote_literal(str(series))}) AS series ON series._idx = c.idx
        WHERE NOT c.null_point
    """


_SERIES_SCHEMA: Final = pa.schema([("_idx", pa.int64()), ("metric", pa.string()), ("labels", pa.string())])


ADAPTER = DatadogQueryAdapter()
