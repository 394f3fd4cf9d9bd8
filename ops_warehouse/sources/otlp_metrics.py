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
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, Final

from ops_warehouse.sources._metrics import (
    build_value,
    format_bound,
    iter_lines,
    json_events,
    parse_value,
    reject,
    require_content,
    sample,
)
from ops_warehouse.sources.base import Adapter, BadRecord, FileError, ReadContext, Record, Sniff
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


ADAPTER = OtlpMetricsAdapter()
