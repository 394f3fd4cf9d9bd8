"""``prometheus-range``: the JSON answer of Prometheus' ``GET /api/v1/query_range`` (or
``/api/v1/query``).

Format::

    {"status": "success",
     "data": {"resultType": "matrix",
              "result": [{"metric": {"__name__": "up", "job": "api"},
                          "values": [[1435781430.781, "1"], [1435781445.781, "NaN"], ...]}]}}

``resultType`` ``vector`` (an instant query) is read the same way, with one ``value`` per series.
``scalar`` and ``string`` results are not series and make the file unreadable.

Mapping to ``raw.metric_samples`` (one row per point):

- ``metric`` is the ``__name__`` label; the other labels are the row's labels (``le`` and
  ``quantile`` normalized, see ``_metrics``). A series without ``__name__`` (the result of an
  expression such as ``rate(...)``) cannot be addressed later: each of its points is rejected.
- ``ts`` is the float-second timestamp; ``value`` the sample string (``"NaN"``, ``"+Inf"``,
  ``"-Inf"`` kept as floats).
- The API states no metric type, so ``kind`` is inferred from the name: ``counter`` when it ends in
  ``_total``, ``_count``, ``_bucket`` or ``_sum``, otherwise ``unknown`` (a value; inside an SLO
  query's ``rate()``/``increase()`` a counter, as PromQL reads it).
- ``source`` is ``prometheus``.

An export as Prometheus writes it (``{"status":"success","data":{"resultType":...,"result":[...]}}``
and nothing else) is read in one columnar pass by DuckDB's JSON reader; each series' labels are
normalized once in Python. Whenever that pass meets anything it cannot classify exactly as the
point-by-point reader would (a series without ``__name__``, a label that is not text, a point that
is not a ``[number, "number"]`` pair...), the whole file is read point by point instead, so rejects
keep their reasons and JSON pointers. The point-by-point reader streams the file (ijson), so exports
of any size fit in a bounded memory; a series' labels may come before or after its points. Overlapping exports (Prometheus caps a query at
11,000 points per series, so long ranges come as several files) merge without duplicates: the lake
key is metric + labels + timestamp. Locators are JSON pointers such as ``/data/result/3/values/17``.
"""  # noqa: E501

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.duck import quote_literal
from ops_warehouse.sources._metrics import (
    TABLE,
    array_span,
    build_value,
    bytes_match,
    columnar_connection,
    copy_range,
    infer_kind,
    json_events,
    normalize_labels,
    parse_value,
    reject,
    require_content,
    sample,
    sql_epoch_seconds,
    sql_value,
)
from ops_warehouse.sources.base import Adapter, BadRecord, BulkInput, FileError, ReadContext, Record, Sniff
from ops_warehouse.timeutil import TimestampError, from_epoch

SOURCE: Final = "prometheus"
_RESULT_TYPE = re.compile(rb'"resultType"\s*:\s*"(matrix|vector)"')
_SERIES: Final = "data.result.item"
_POINTS: Final = {f"{_SERIES}.values": "values", f"{_SERIES}.value": "value"}


@dataclass(frozen=True)
class _Identity:
    """A series' name, stored labels and inferred kind, or why its points cannot be used."""

    name: str = ""
    labels: str = ""
    kind: str = ""
    error: str | None = None

    @classmethod
    def of(cls, metric: Any) -> _Identity:
        if not isinstance(metric, dict):
            return cls(error="series has no metric object with its labels")
        name = metric.get("__name__")
        if not isinstance(name, str) or not name:
            return cls(error="series has no __name__ (an expression result?); export the raw series")
        try:
            labels = normalize_labels({k: v for k, v in metric.items() if k != "__name__"})
        except BadRecord as exc:
            return cls(error=str(exc))
        return cls(name, labels, infer_kind(name))


@dataclass
class _Series:
    """The series being read: its identity once seen, and points that came before it."""

    index: int
    identity: _Identity | None = None
    pending: list[tuple[str, Any]] = field(default_factory=list)


class PrometheusRangeAdapter(Adapter):
    kind = "prometheus-range"
    description = "Prometheus /api/v1/query_range (or /api/v1/query) JSON: matrix or vector results"

    def detect(self, sniff: Sniff) -> bool:
        return sniff.first_char == "{" and _RESULT_TYPE.search(sniff.head) is not None

    def bulk(self, ctx: ReadContext) -> BulkInput | None:
        """The columnar pass (see the module docs), or None to read the file point by point."""
        if ctx.scratch is None:
            return None
        span = _result_span(ctx.path)
        if span is None:
            return None
        ctx.scratch.mkdir(parents=True, exist_ok=True)
        body = ctx.scratch / "prometheus-result.json"
        copy_range(ctx.path, body, *span)
        series = ctx.scratch / "prometheus-series.parquet"
        con = columnar_connection(ctx.scratch)
        try:
            if not _series(con, body, series):
                return None
        except duckdb.Error:  # JSON the columnar reader refuses: the point-by-point reader names the place
            return None
        finally:
            con.close()
        return BulkInput.exact(TABLE, _points_sql(body, series))

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        require_content(ctx.path)
        where = ["/"]
        with open(ctx.path, "rb") as fh:
            yield from _read_events(json_events(fh, where), where)


def _read_events(events: Iterator[tuple[str, str, Any]], where: list[str]) -> Iterator[Record]:
    series: _Series | None = None
    count = 0
    seen_result = False
    status = "success"
    for prefix, event, value in events:
        if prefix == _SERIES:
            if event == "start_map":
                series = _Series(count)
                where[0] = f"/data/result/{count}"
            elif event == "end_map" and series is not None:
                yield from _flush(series)
                series, count = None, count + 1
            elif event not in ("end_map", "map_key"):
                yield reject(f"/data/result/{count}", "series is not an object", build_value(event, value, events))
                count += 1
        elif series is not None and prefix == f"{_SERIES}.metric":
            series.identity = _Identity.of(build_value(event, value, events))
            yield from _flush(series)
        elif series is not None and prefix in _POINTS:
            yield from _points(series, _POINTS[prefix], event, value, events, where)
        else:
            seen_result |= prefix == "data.result"
            status = value if prefix == "status" else status
            _check_envelope(prefix, event, value)
    if status != "success":
        raise FileError(f"/status: the query failed ({status!r})")
    if not seen_result:
        raise FileError("no data.result: not a Prometheus query API answer")


def _check_envelope(prefix: str, event: str, value: Any) -> None:
    if prefix == "error" and event == "string":
        raise FileError(f"/error: the query failed: {value}")
    if prefix == "data.resultType" and value not in ("matrix", "vector"):
        raise FileError(f"/data/resultType: {value!r} results are not series (expected matrix or vector)")
    if prefix == "data.result" and event not in ("start_array", "end_array"):
        raise FileError(f"/data/result: expected an array, got {event}")


def _points(
    series: _Series,
    key: str,
    event: str,
    value: Any,
    events: Iterator[tuple[str, str, Any]],
    where: list[str],
) -> Iterator[Record]:
    base = f"/data/result/{series.index}/{key}"
    if key == "value":  # an instant vector: one point
        yield from _point(series, base, build_value(event, value, events))
        return
    if event != "start_array":
        yield reject(base, "values is not an array of [time, value] pairs", build_value(event, value, events))
        return
    item = f"{_SERIES}.values.item"
    for n, (prefix, ev, val) in enumerate(events):
        if prefix != item:  # end of the values array
            return
        where[0] = f"{base}/{n}"
        yield from _point(series, where[0], build_value(ev, val, events))


def _point(series: _Series, locator: str, point: Any) -> Iterator[Record]:
    if series.identity is None:
        series.pending.append((locator, point))
        return
    yield _record(series.identity, locator, point)


def _flush(series: _Series) -> Iterator[Record]:
    identity = series.identity or _Identity.of(None)
    for locator, point in series.pending:
        yield _record(identity, locator, point)
    series.pending.clear()


def _record(identity: _Identity, locator: str, point: Any) -> Record:
    try:
        if identity.error:
            raise BadRecord(identity.error)
        if not isinstance(point, list) or len(point) != 2:
            raise BadRecord("point is not a [time, value] pair")
        ts = from_epoch(point[0])
        value = parse_value(point[1])
    except TimestampError as exc:
        return reject(locator, f"time: {exc}", point)
    except BadRecord as exc:
        return reject(locator, str(exc), point)
    return sample(identity.name, identity.labels, ts, value, identity.kind, SOURCE, locator)


# ---------------------------------------------------------------- the columnar pass

_HEAD: Final = re.compile(
    rb'\A\s*\{\s*"status"\s*:\s*"success"\s*,\s*"data"\s*:\s*\{\s*"resultType"\s*:\s*"(?:matrix|vector)"'
    rb'\s*,\s*"result"\s*:\s*(?=\[)'
)
_TAIL: Final = re.compile(rb"\]\s*\}\s*\}\s*\Z")
# JSON null where the point-by-point reader rejects a point (the columnar reader would see nothing)
_NULL_POINTS: Final = re.compile(rb'"values?"\s*:\s*null')


def _result_span(path: Path) -> tuple[int, int] | None:
    """Byte range of the ``data.result`` array when the file is exactly the API's answer."""
    span = array_span(path, _HEAD, _TAIL)
    if span is None or bytes_match(path, _NULL_POINTS, *span):
        return None
    return span


def _series(con: duckdb.DuckDBPyConnection, body: Path, target: Path) -> bool:
    """Each series' name, stored labels and kind, by position, written to ``target``; False when a
    series is one the point-by-point reader would reject points of (or might label differently)."""
    series = con.execute(
        f"SELECT ordinality - 1, metric FROM {_read(body, _SERIES_COLUMNS)} WITH ORDINALITY"
    ).fetchall()
    rows: dict[str, list[Any]] = {"_idx": [], "metric": [], "labels": [], "kind": []}
    for idx, metric in series:
        labels = json.loads(metric) if metric is not None else None
        identity = _Identity.of(labels)
        if identity.error or not all(isinstance(v, str) for v in labels.values()):  # type: ignore[union-attr]
            return False
        for key, value in (
            ("_idx", idx),
            ("metric", identity.name),
            ("labels", identity.labels),
            ("kind", identity.kind),
        ):
            rows[key].append(value)
    pq.write_table(pa.table(rows, schema=_SERIES_SCHEMA), target)
    return True


def _read(body: Path, columns: str) -> str:
    return f"read_json({quote_literal(str(body))}, format = 'array', columns = {columns})"


def _points_sql(body: Path, series: Path) -> str:
    """Every point as a metric_samples row, with ``_unclean`` where the point-by-point reader would
    reject it (not a pair, a time or value it would not read the same)."""
    t, x = "pt[1]", "pt[2]"
    return f"""
        WITH s AS (
            -- a series with both "values" and "value" gets a point that is not a pair
            SELECT ordinality - 1 AS idx,
                   CASE WHEN value IS NULL THEN values WHEN values IS NULL THEN [value] ELSE [['both']] END AS v
            FROM {_read(body, _POINT_COLUMNS)} WITH ORDINALITY
        ),
        p AS (SELECT idx, unnest(v) AS pt FROM s),
        c AS (SELECT idx, len(pt) = 2 AS pair, {sql_epoch_seconds(t)} AS ts, {sql_value(x)} AS value FROM p)
        SELECT series.metric, series.labels, c.ts, c.value, series.kind, '{SOURCE}' AS source,
               NOT coalesce(c.pair AND c.ts IS NOT NULL AND c.value IS NOT NULL, false) AS _unclean
        FROM c JOIN read_parquet({quote_literal(str(series))}) AS series ON series._idx = c.idx
    """


_SERIES_COLUMNS: Final = "{'metric': 'JSON'}"
_POINT_COLUMNS: Final = "{'value': 'VARCHAR[]', 'values': 'VARCHAR[][]'}"
_SERIES_SCHEMA: Final = pa.schema(
    [("_idx", pa.int64()), ("metric", pa.string()), ("labels", pa.string()), ("kind", pa.string())]
)


ADAPTER = PrometheusRangeAdapter()
