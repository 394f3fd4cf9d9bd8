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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from ops_warehouse.sources._metrics import (
    SampleError,
    build_value,
    json_events,
    normalize_labels,
    parse_value,
    reject,
    require_content,
    sample,
)
from ops_warehouse.sources.base import Adapter, FileError, ReadContext, Record, Sniff
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
            raise SampleError("series has no metric name")
        labels = normalize_labels(tags(series))
    except SampleError as exc:
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
    except SampleError as exc:
        return reject(locator, str(exc), point)
    return sample(metric, labels, ts, value, KIND, SOURCE, locator)


ADAPTER = DatadogQueryAdapter()
