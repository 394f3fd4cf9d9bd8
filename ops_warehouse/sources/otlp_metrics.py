"""``otlp-metrics``: OTLP/JSON ``ExportMetricsServiceRequest`` documents, and the OpenTelemetry
collector file exporter's NDJSON (one request per line).

Format (64-bit integers are JSON strings, enums are integers)::

    {"resourceMetrics": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
      "scopeMetrics": [{"scope": {"name": "lib", "version": "1.0"},
        "metrics": [{"name": "http.requests", "sum": {"aggregationTemporality": 2, "isMonotonic": true,
          "dataPoints": [{"timeUnixNano": "1544712660300000000", "asInt": "5", "attributes": [...]}]}}]}]}]}

Mapping to ``raw.metric_samples``:

- ``metric``: the OTLP name as sent, dots kept (``http.server.duration``); no unit or type suffix
  is added. Histograms give ``<name>_bucket`` (cumulative counts, ``le`` from ``explicitBounds``
  plus ``+Inf``), ``<name>_sum`` (when sent) and ``<name>_count``; summaries give ``<name>`` with a
  ``quantile`` label, ``<name>_sum`` and ``<name>_count``.
- ``labels``: resource attributes, then scope as ``otel_scope_name``, ``otel_scope_version`` and
  ``otel_scope_<attribute>``, then the data point's attributes; a later level wins a clash. Keys are
  kept as sent, dots included (``service.name``). Values are text: strings as is, ints as decimals,
  doubles as Python reprs, booleans ``true``/``false``, arrays and maps as compact JSON.
- ``ts``: ``timeUnixNano``; ``value``: ``asDouble`` or ``asInt`` (NaN kept).
- ``kind``: gauge -> ``gauge``; sum -> ``counter`` when monotonic and cumulative
  (``aggregationTemporality`` 2), ``gauge`` when not monotonic and not delta; histogram ->
  ``histogram`` when cumulative. Delta (1) or unspecified (0) temporality values are per-interval
  amounts: ``unknown`` (use them by value, never take their increase).
- ``source``: ``otlp``.

Rejected with a reason, per data point: exponential histograms (not converted: bucket boundaries
would be approximations; have the collector export explicit-bucket histograms), points flagged
"no recorded value", points without a value or timestamp, histograms whose bucket counts do not
match their bounds. An NDJSON line that is not JSON is one reject (``line N``).

Locators: ``/resourceMetrics/0/scopeMetrics/0/metrics/2/histogram/dataPoints/0``, prefixed with
``line N`` in NDJSON. A single JSON document is streamed one resource at a time.

A file as the collector or an SDK writes it (NDJSON requests, or one ``{"resourceMetrics": [...]}``
document) is first read in one columnar pass by DuckDB's JSON reader: every data point becomes its
rows in SQL, and each distinct label set (resource, scope and point attributes, ``le``/``quantile``)
is worked out once in Python by the same functions as above. Whenever that pass meets anything it
cannot classify exactly as the record-by-record reader would (a point it would reject, JSON it reads
differently, a value spelled in a way the two might read apart, a key repeated in the file...), the
whole file is read record by record instead, so rejects keep their reasons and locators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
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
    columnar_connection,
    copy_range,
    format_bound,
    iter_lines,
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
    BulkInput,
    FileError,
    ReadContext,
    Record,
    Sniff,
)
from ops_warehouse.timeutil import TimestampError, from_epoch_ns

SOURCE: Final = "otlp"
DELTA: Final = 1
CUMULATIVE: Final = 2
_TEMPORALITY_NAMES: Final = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0,
    "AGGREGATION_TEMPORALITY_DELTA": DELTA,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": CUMULATIVE,
}
FLAG_NO_RECORDED_VALUE: Final = 1
_MARKER = re.compile(rb'"resourceMetrics"\s*:\s*\[')
_RESOURCE: Final = "resourceMetrics.item"


@dataclass(frozen=True)
class _Metric:
    """One OTLP metric's identity: name, its series' base labels, where it sits."""

    name: str
    labels: dict[str, str]
    locator: str


class OtlpMetricsAdapter(Adapter):
    kind = "otlp-metrics"
    description = "OTLP/JSON metrics (ExportMetricsServiceRequest) or the collector file exporter's NDJSON"

    def detect(self, sniff: Sniff) -> bool:
        return sniff.first_char == "{" and _MARKER.search(sniff.head) is not None

    def bulk(self, ctx: ReadContext) -> BulkInput | None:
        """The columnar pass (see the module docs), or None to read the file record by record."""
        if ctx.scratch is None:
            return None
        try:
            return _columnar(ctx.path, ctx.scratch, ndjson=_is_ndjson(ctx))
        except FileError:  # not UTF-8 and the like: the record-by-record reader names the place
            return None

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        require_content(ctx.path)
        if _is_ndjson(ctx):
            yield from _read_ndjson(ctx)
        else:
            yield from _read_document(ctx)


def _is_ndjson(ctx: ReadContext) -> bool:
    """NDJSON when the first non-blank line is a whole JSON object (a one-line document is both)."""
    for _, text in iter_lines(ctx.path):
        if text.strip():
            try:
                return isinstance(json.loads(text), dict)
            except ValueError:
                return False
    return False


def _read_ndjson(ctx: ReadContext) -> Iterator[Record]:
    for lineno, text in iter_lines(ctx.path):
        if not text.strip():
            continue
        where = f"line {lineno}"
        try:
            request = json.loads(text)
        except ValueError as exc:
            yield reject(where, f"invalid JSON: {exc}", text[:2_000])
            continue
        if not isinstance(request, dict) or not isinstance(request.get("resourceMetrics"), list):
            yield reject(where, "not an ExportMetricsServiceRequest (no resourceMetrics array)", text[:2_000])
            continue
        for i, resource in enumerate(request["resourceMetrics"]):
            yield from _resource(resource, f"{where} /resourceMetrics/{i}")


def _read_document(ctx: ReadContext) -> Iterator[Record]:
    where = ["/"]
    seen = False
    with open(ctx.path, "rb") as fh:
        events = json_events(fh, where)
        index = 0
        for prefix, event, value in events:
            if prefix == "resourceMetrics":
                seen = True
            if prefix == _RESOURCE and event not in ("end_map", "map_key"):
                where[0] = f"/resourceMetrics/{index}"
                yield from _resource(build_value(event, value, events), where[0])
                index += 1
    if not seen:
        raise FileError("no resourceMetrics: not an OTLP metrics request")


def _resource(resource: Any, locator: str) -> Iterator[Record]:
    if not isinstance(resource, dict):
        yield reject(locator, "resourceMetrics item is not an object", resource)
        return
    base = attributes((resource.get("resource") or {}).get("attributes"))
    for j, scope_metrics in enumerate(
        _list(resource.get("scopeMetrics") or resource.get("instrumentationLibraryMetrics"))
    ):
        where = f"{locator}/scopeMetrics/{j}"
        if not isinstance(scope_metrics, dict):
            yield reject(where, "scopeMetrics item is not an object", scope_metrics)
            continue
        labels = {**base, **_scope_labels(scope_metrics.get("scope") or {})}
        for k, metric in enumerate(_list(scope_metrics.get("metrics"))):
            yield from _metric(metric, labels, f"{where}/metrics/{k}")


def _scope_labels(scope: Any) -> dict[str, str]:
    if not isinstance(scope, dict):
        return {}
    labels = {f"otel_scope_{k}": v for k, v in attributes(scope.get("attributes")).items()}
    for key in ("name", "version"):
        if scope.get(key):
            labels[f"otel_scope_{key}"] = str(scope[key])
    return labels


def _metric(metric: Any, labels: dict[str, str], locator: str) -> Iterator[Record]:
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str) or not metric["name"]:
        yield reject(locator, "metric without a name", metric)
        return
    for data_type in ("gauge", "sum", "histogram", "summary", "exponentialHistogram"):
        data = metric.get(data_type)
        if isinstance(data, dict):
            info = _Metric(metric["name"], labels, f"{locator}/{data_type}")
            yield from _data(data_type, data, info)
            return
    yield reject(locator, "metric has no gauge, sum, histogram, summary or exponentialHistogram data", metric)


def _data(data_type: str, data: dict[str, Any], info: _Metric) -> Iterator[Record]:
    kind = _kind(data_type, data)
    for p, point in enumerate(_list(data.get("dataPoints"))):
        locator = f"{info.locator}/dataPoints/{p}"
        try:
            yield from _point(data_type, point, info, kind, locator)
        except (BadRecord, TimestampError) as exc:
            yield reject(locator, str(exc), point)


def _kind(data_type: str, data: dict[str, Any]) -> str:
    temporality = data.get("aggregationTemporality", 0)
    temporality = _TEMPORALITY_NAMES.get(temporality, temporality) if isinstance(temporality, str) else temporality
    if data_type == "gauge":
        return "gauge"
    if data_type == "summary":
        return "summary"
    if data_type == "sum" and not data.get("isMonotonic", False):
        return "unknown" if temporality == DELTA else "gauge"
    if temporality == CUMULATIVE:
        return "counter" if data_type == "sum" else "histogram"
    return "unknown"


def _point(data_type: str, point: Any, info: _Metric, kind: str, locator: str) -> Iterator[Record]:
    if not isinstance(point, dict):
        raise BadRecord("data point is not an object")
    if _int64(point.get("flags", 0) or 0, "flags") & FLAG_NO_RECORDED_VALUE:
        raise BadRecord("data point flagged as having no recorded value")
    if data_type == "exponentialHistogram":
        raise BadRecord("exponential histograms are not supported; export explicit-bucket histograms instead")
    if "timeUnixNano" not in point or point["timeUnixNano"] in ("0", 0):
        raise BadRecord("data point without timeUnixNano")
    ts = from_epoch_ns(point["timeUnixNano"])
    labels = {**info.labels, **attributes(point.get("attributes"))}
    for suffix, extra, value in _values(data_type, point):
        yield sample(info.name + suffix, {**labels, **extra}, ts, value, kind, SOURCE, locator)


def _values(data_type: str, point: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    """(name suffix, extra labels, value) of every series one data point contributes to."""
    if data_type in ("gauge", "sum"):
        return [("", {}, _number_value(point))]
    if data_type == "histogram":
        return _histogram(point)
    return _summary(point)


def _number_value(point: dict[str, Any]) -> float:
    if "asDouble" in point:
        return parse_value(point["asDouble"])
    if "asInt" in point:
        return float(_int64(point["asInt"], "asInt"))
    raise BadRecord("data point has neither asDouble nor asInt")


def _histogram(point: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    counts = [_int64(c, "bucketCounts") for c in _list(point.get("bucketCounts"))]
    bounds = [format_bound(b) for b in _list(point.get("explicitBounds"))]
    if counts and len(counts) != len(bounds) + 1:
        raise BadRecord(f"{len(counts)} bucketCounts for {len(bounds)} explicitBounds (expected one more)")
    rows = [("_bucket", {"le": le}, float(n)) for le, n in zip([*bounds, "+Inf"], accumulate(counts), strict=False)]
    if "sum" in point:
        rows.append(("_sum", {}, parse_value(point["sum"])))
    rows.append(("_count", {}, float(_int64(point.get("count", 0), "count"))))
    return rows


def _summary(point: dict[str, Any]) -> list[tuple[str, dict[str, str], float]]:
    rows: list[tuple[str, dict[str, str], float]] = []
    for q in _list(point.get("quantileValues")):
        if not isinstance(q, dict):
            raise BadRecord("quantileValues item is not an object")
        rows.append(("", {"quantile": format_bound(q.get("quantile", 0))}, parse_value(q.get("value", 0))))
    rows.append(("_sum", {}, parse_value(point.get("sum", 0))))
    rows.append(("_count", {}, float(_int64(point.get("count", 0), "count"))))
    return rows


def _int64(value: Any, what: str) -> int:
    """OTLP's 64-bit integers: JSON strings (or plain numbers from lenient writers)."""
    if isinstance(value, bool):
        raise BadRecord(f"{what}: not an integer: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise BadRecord(f"{what}: not an integer: {value!r}")


def attributes(items: Any) -> dict[str, str]:
    """OTLP ``KeyValue`` list to labels (see the module docs for how values become text).

    >>> attributes([{"key": "a", "value": {"intValue": "3"}}, {"key": "b", "value": {"boolValue": True}}])
    {'a': '3', 'b': 'true'}
    """
    out: dict[str, str] = {}
    for item in _list(items):
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            out[item["key"]] = _any_value(item.get("value"))
    return out


def _any_value(value: Any) -> str:
    if not isinstance(value, dict) or not value:
        return ""
    key, inner = next(iter(value.items()))
    if key == "boolValue":
        return "true" if inner else "false"
    if key == "doubleValue":
        return repr(float(inner)) if isinstance(inner, (int, float)) else str(inner)
    if key == "arrayValue":
        return json.dumps([_any_value(v) for v in _list((inner or {}).get("values"))], separators=(",", ":"))
    if key == "kvlistValue":
        return json.dumps(attributes((inner or {}).get("values")), separators=(",", ":"), sort_keys=True)
    return str(inner)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# ---------------------------------------------------------------- the columnar pass

_LINE_BYTES: Final = 64 << 20
# what DuckDB's JSON reader takes and Python's readers refuse or read apart: bare null (the columnar
# reader cannot tell a null from a missing key), NaN and Infinity, trailing commas, and lone carriage
# returns (line breaks to DuckDB only). A block is searched for the literal first, which is cheap.
_TRAILING_COMMA: Final = re.compile(rb",\s*[\]}]")
_BARE: Final = re.compile(rb"[:\[,]\s*(?:null|NaN|-?Infinity)")
_LONE_CR: Final = re.compile(rb"\r(?!\n)")
_SUSPECTS: Final = ((b"null", _BARE), (b"NaN", _BARE), (b"Infinity", _BARE), (b"\r", _LONE_CR))
_BLOCK: Final = 16 << 20
_OVERLAP: Final = 4096
_DOC_HEAD: Final = re.compile(rb'\A\s*\{\s*"resourceMetrics"\s*:\s*(?=\[)')
_DOC_TAIL: Final = re.compile(rb"\]\s*\}\s*\Z")

_KEY_VALUES: Final = "JSON"
_TIMED: Final = f"timeUnixNano VARCHAR, flags VARCHAR, attributes {_KEY_VALUES}"
_NUMBER_POINT: Final = f"STRUCT({_TIMED}, asDouble VARCHAR, asInt VARCHAR)"
_HISTOGRAM_POINT: Final = (
    f"STRUCT({_TIMED}, count VARCHAR, sum VARCHAR, bucketCounts VARCHAR[], explicitBounds VARCHAR[])"
)
_SUMMARY_POINT: Final = (
    f"STRUCT({_TIMED}, count VARCHAR, sum VARCHAR, quantileValues STRUCT(quantile VARCHAR, value VARCHAR)[])"
)
_METRIC: Final = (
    "STRUCT(name JSON, "
    f"gauge STRUCT(dataPoints {_NUMBER_POINT}[]), "
    f"sum STRUCT(aggregationTemporality JSON, isMonotonic JSON, dataPoints {_NUMBER_POINT}[]), "
    f"histogram STRUCT(aggregationTemporality JSON, dataPoints {_HISTOGRAM_POINT}[]), "
    f"summary STRUCT(dataPoints {_SUMMARY_POINT}[]), "
    "exponentialHistogram JSON)"
)
_RESOURCE_FIELDS: Final = {
    "resource": f"STRUCT(attributes {_KEY_VALUES})",
    # the legacy name of scopeMetrics, read by the record-by-record reader only
    "instrumentationLibraryMetrics": "JSON",
    "scopeMetrics": f"STRUCT(scope JSON, metrics {_METRIC}[])[]",
}
_LABEL_KEY: Final = ("rattrs", "scope", "pattrs", "ek", "er")
_LABELS_SCHEMA: Final = pa.schema([*((k, pa.string()) for k in _LABEL_KEY), ("labels", pa.string())])


def _unsafe(path: Path) -> bool:
    """Whether the file holds JSON the two readers might read apart (see ``_SUSPECTS``)."""
    with open(path, "rb") as fh:
        tail = b""
        while block := fh.read(_BLOCK):
            text = tail + block
            if _TRAILING_COMMA.search(text):
                return True
            if any(literal in text and pattern.search(text) for literal, pattern in _SUSPECTS):
                return True
            tail = block[-_OVERLAP:]
    return False


def _columnar(path: Path, scratch: Path, *, ndjson: bool) -> BulkInput | None:
    if _unsafe(path):
        return None
    scratch.mkdir(parents=True, exist_ok=True)
    if ndjson:
        columns = f"{{'resourceMetrics': 'STRUCT({', '.join(f'{k} {t}' for k, t in _RESOURCE_FIELDS.items())})[]'}}"
        resources = (
            "SELECT rm.resource AS resource, rm.scopeMetrics AS scopeMetrics, "
            "rm IS NULL OR rm.instrumentationLibraryMetrics IS NOT NULL AS bad FROM ("
            "SELECT unnest(CASE WHEN resourceMetrics IS NULL THEN [NULL] ELSE resourceMetrics END) AS rm "
            f"FROM read_json({quote_literal(str(path))}, format = 'newline_delimited', columns = {columns}, "
            f"maximum_object_size = {_LINE_BYTES}))"
        )
    else:
        span = _resources_span(path)
        if span is None:
            return None
        body = scratch / "otlp-resources.json"
        copy_range(path, body, *span)
        columns = "{" + ", ".join(f"'{k}': '{t}'" for k, t in _RESOURCE_FIELDS.items()) + "}"
        resources = (
            "SELECT resource, scopeMetrics, instrumentationLibraryMetrics IS NOT NULL AS bad "
            f"FROM read_json({quote_literal(str(body))}, format = 'array', columns = {columns}, "
            f"maximum_object_size = {max(_LINE_BYTES, span[1] - span[0] + 1)})"
        )
    samples = scratch / "otlp-samples.parquet"
    labels = scratch / "otlp-labels.parquet"
    con = columnar_connection(scratch)
    try:
        con.execute(f"COPY ({_samples_sql(resources)}) TO {quote_literal(str(samples))} (FORMAT parquet)")
        if con.execute(f"SELECT bool_or(bad) FROM read_parquet({quote_literal(str(samples))})").fetchall()[0][0]:
            return None
        keys = con.sql(
            f"SELECT DISTINCT {', '.join(_LABEL_KEY)} FROM read_parquet({quote_literal(str(samples))})"
        ).to_arrow_table()
    except duckdb.Error:  # JSON the columnar reader refuses: the record-by-record reader names the place
        return None
    finally:
        con.close()
    pq.write_table(_label_sets(keys), labels)
    return BulkInput.exact(TABLE, _rows_sql(samples, labels))


def _resources_span(path: Path) -> tuple[int, int] | None:
    """Byte range of the ``resourceMetrics`` array when the file is one request and nothing else."""
    return array_span(path, _DOC_HEAD, _DOC_TAIL)


def _number(text: str) -> str:
    """:func:`parse_value` of a JSON number or string as DuckDB's JSON reader gives it as text; NULL
    where the two readers might differ (an integer too large for a double: Python cannot convert it)."""
    return f"CASE WHEN length({text}) <= 300 THEN {sql_value(text)} END"


def _integer(text: str) -> str:
    """``float(_int64(...))`` of a JSON integer or decimal string; NULL for anything else (and for
    ``"-0"``, which Python reads as the integer 0 and a cast to double as -0.0)."""
    return (
        f"CASE WHEN regexp_full_match({text}, '-?[0-9]{{1,300}}') AND NOT regexp_full_match({text}, '-0+') "
        f"THEN CAST({text} AS DOUBLE) END"
    )


def _point_ok(p: str) -> str:
    """What the reader checks of every point before its values: flags, and a timestamp."""
    flags = f"{p}.flags"
    return f"({flags} IS NULL OR (regexp_full_match({flags}, '[0-9]{{1,18}}') AND CAST({flags} AS BIGINT) % 2 = 0))"


def _ts(p: str) -> str:
    t = f"{p}.timeUnixNano"
    return (
        f"CASE WHEN regexp_full_match({t}, '[0-9]{{1,19}}') AND {t} <> '0' AND TRY_CAST({t} AS BIGINT) IS NOT NULL "
        f"THEN make_timestamp(CAST({t} AS BIGINT) // 1000)::TIMESTAMPTZ END"
    )


def _samples_sql(resources: str) -> str:
    """Every sample the record-by-record reader would write, with the texts its labels are made of,
    and ``bad`` where that reader would reject something (or might read it differently)."""
    temporality = (
        "CASE WHEN tj IS NULL THEN 0 WHEN json_type(tj) IN ('UBIGINT', 'BIGINT') THEN TRY_CAST(tj::VARCHAR AS BIGINT) "
        "WHEN json_type(tj) = 'VARCHAR' THEN CASE tj ->> '$' "
        + " ".join(f"WHEN '{name}' THEN {code}" for name, code in _TEMPORALITY_NAMES.items())
        + " ELSE -1 END END"
    )
    monotonic = "CASE WHEN mj IS NULL THEN false WHEN json_type(mj) = 'BOOLEAN' THEN (mj ->> '$') = 'true' END"
    counts = "list_transform(coalesce(p.bucketCounts, []), lambda c: TRY_CAST(CASE WHEN regexp_full_match(c, '-?[0-9]{1,15}') THEN c END AS BIGINT))"  # noqa: E501
    return f"""
        WITH r AS ({resources}),
        s AS (
            SELECT bad, resource.attributes AS rattrs,
                   unnest(CASE WHEN bad THEN [NULL] ELSE scopeMetrics END) AS sm
            FROM r
        ),
        m AS (
            SELECT bad, rattrs, sm.scope AS scope, unnest(CASE WHEN bad THEN [NULL] ELSE sm.metrics END) AS mt
            FROM s
        ),
        d AS (
            SELECT bad, rattrs, scope, mt,
                   CASE WHEN json_type(mt.name) = 'VARCHAR' THEN mt.name ->> '$' END AS name,
                   CASE WHEN mt.gauge IS NOT NULL THEN 'gauge' WHEN mt.sum IS NOT NULL THEN 'sum'
                        WHEN mt.histogram IS NOT NULL THEN 'histogram' WHEN mt.summary IS NOT NULL THEN 'summary'
                        WHEN json_type(mt.exponentialHistogram) = 'OBJECT' THEN 'exponential' END AS dtype,
                   CASE WHEN mt.gauge IS NOT NULL THEN NULL WHEN mt.sum IS NOT NULL THEN mt.sum.aggregationTemporality
                        ELSE mt.histogram.aggregationTemporality END AS tj,
                   mt.sum.isMonotonic AS mj
            FROM m
        ),
        k AS (
            SELECT *, bad OR mt IS NULL OR coalesce(name, '') = '' OR dtype IS NULL
                      OR coalesce(dtype = 'exponential' AND json_type(mt.exponentialHistogram -> 'dataPoints') = 'ARRAY'
                                   AND json_array_length(mt.exponentialHistogram -> 'dataPoints') > 0, false)
                      AS metric_bad,
                   CASE WHEN dtype = 'gauge' THEN 'gauge' WHEN dtype = 'summary' THEN 'summary'
                        WHEN dtype = 'sum' THEN
                            CASE WHEN {monotonic} IS NULL OR {temporality} IS NULL THEN NULL
                                 WHEN NOT {monotonic} THEN CASE WHEN {temporality} = {DELTA} THEN 'unknown' ELSE 'gauge' END
                                 WHEN {temporality} = {CUMULATIVE} THEN 'counter' ELSE 'unknown' END
                        WHEN dtype = 'histogram' THEN
                            CASE WHEN {temporality} = {CUMULATIVE} THEN 'histogram'
                                 WHEN {temporality} IS NOT NULL THEN 'unknown' END
                   END AS kind
            FROM d
        ),
        numbers AS (
            SELECT name, kind, rattrs, scope,
                   unnest(CASE WHEN dtype = 'gauge' THEN mt.gauge.dataPoints ELSE mt.sum.dataPoints END) AS p
            FROM k WHERE NOT metric_bad AND dtype IN ('gauge', 'sum')
        ),
        histograms AS (
            SELECT name, kind, rattrs, scope, unnest(mt.histogram.dataPoints) AS p
            FROM k WHERE NOT metric_bad AND dtype = 'histogram'
        ),
        hc AS (
            SELECT *, {counts} AS n, coalesce(p.explicitBounds, []) AS bounds FROM histograms
        ),
        summaries AS (
            SELECT name, kind, rattrs, scope, unnest(mt.summary.dataPoints) AS p
            FROM k WHERE NOT metric_bad AND dtype = 'summary'
        ),
        rows AS (
            SELECT true AS bad, NULL::VARCHAR AS metric, NULL::VARCHAR AS kind, rattrs, scope, NULL::JSON AS pattrs,
                   {{'s': '', 'ek': NULL::VARCHAR, 'er': NULL::VARCHAR, 'x': NULL::DOUBLE}} AS v, NULL::TIMESTAMPTZ AS ts
            FROM k WHERE metric_bad
            UNION ALL
            SELECT NOT {_point_ok("p")}, name, kind, rattrs, scope, p.attributes,
                   {{'s': '', 'ek': NULL, 'er': NULL,
                     'x': CASE WHEN p.asDouble IS NOT NULL THEN {_number("p.asDouble")}
                               ELSE {_integer("p.asInt")} END}}, {_ts("p")}
            FROM numbers
            UNION ALL
            SELECT NOT {_point_ok("p")} OR len(list_filter(n, lambda c: c IS NULL)) > 0
                       OR coalesce(list_sum(list_transform(n, lambda c: abs(c))), 0) > {2**53}
                       OR (len(n) = 0 AND len(bounds) > 0) OR (len(n) > 0 AND len(n) <> len(bounds) + 1)
                       OR (p.count IS NOT NULL AND {_integer("p.count")} IS NULL),
                   name, kind, rattrs, scope, p.attributes,
                   unnest(list_concat(
                       list_transform(range(len(n)), lambda i: {{
                           's': '_bucket', 'ek': 'le', 'er': CASE WHEN i < len(bounds) THEN bounds[i + 1] ELSE '+Inf' END,
                           'x': CAST(list_sum(n[1:i + 1]) AS DOUBLE)}}),
                       CASE WHEN p.sum IS NULL THEN [] ELSE [{{'s': '_sum', 'ek': NULL, 'er': NULL, 'x': {_number("p.sum")}}}] END,
                       [{{'s': '_count', 'ek': NULL, 'er': NULL, 'x': coalesce({_integer("p.count")}, 0)}}]
                   )), {_ts("p")}
            FROM hc
            UNION ALL
            SELECT NOT {_point_ok("p")}, name, kind, rattrs, scope, p.attributes,
                   unnest(list_concat(
                       list_transform(coalesce(p.quantileValues, []), lambda q: {{
                           's': '', 'ek': 'quantile', 'er': coalesce(q.quantile, '0'),
                           'x': {_number("coalesce(q.value, '0')")}}}),
                       [{{'s': '_sum', 'ek': NULL, 'er': NULL, 'x': {_number("coalesce(p.sum, '0')")}}},
                        {{'s': '_count', 'ek': NULL, 'er': NULL, 'x': {_integer("coalesce(p.count, '0')")}}}]
                   )), {_ts("p")}
            FROM summaries
        )
        SELECT coalesce(bad, true) OR v.x IS NULL OR ts IS NULL OR kind IS NULL AS bad, metric || v.s AS metric, kind, ts,
               v.x AS value, coalesce(rattrs::VARCHAR, '') AS rattrs, coalesce(scope::VARCHAR, '') AS scope,
               coalesce(pattrs::VARCHAR, '') AS pattrs, coalesce(v.ek, '') AS ek, coalesce(v.er, '') AS er
        FROM rows
    """  # noqa: E501


def _rows_sql(samples: Path, labels: Path) -> str:
    key = " AND ".join(f"s.{k} = l.{k}" for k in _LABEL_KEY)
    return f"""
        SELECT s.metric, l.labels, s.ts, s.value, s.kind, '{SOURCE}' AS source, l.labels IS NULL AS _unclean
        FROM read_parquet({quote_literal(str(samples))}) AS s
        LEFT JOIN read_parquet({quote_literal(str(labels))}) AS l ON {key}
    """


def _label_sets(keys: pa.Table) -> pa.Table:
    """The stored labels of each distinct (resource attributes, scope, point attributes, bound label)
    the samples carry, made as the record-by-record reader makes them; NULL where it would not."""
    out: dict[str, list[Any]] = {k: keys.column(k).to_pylist() for k in _LABEL_KEY}
    out["labels"] = [_labels(*row) for row in zip(*(out[k] for k in _LABEL_KEY), strict=True)]
    return pa.table(out, schema=_LABELS_SCHEMA)


def _labels(rattrs: str, scope: str, pattrs: str, ek: str, er: str) -> str | None:
    try:
        labels = {
            **attributes(json.loads(rattrs) if rattrs else None),
            **_scope_labels((json.loads(scope) if scope else None) or {}),
            **attributes(json.loads(pattrs) if pattrs else None),
        }
        if ek:
            labels[ek] = format_bound(int(er) if re.fullmatch(r"-?[0-9]+", er) else er)
        return normalize_labels(labels)
    except Exception:  # noqa: BLE001 - whatever the reader would make of it, it is not this batch's to say
        return None


ADAPTER = OtlpMetricsAdapter()
