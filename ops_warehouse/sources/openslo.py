"""``openslo``: OpenSLO YAML files (``openslo/v1``, and the ``openslo/v1alpha`` shape Sloth reads).

A file may hold several YAML documents. ``kind: SLO`` documents become SLO definitions; their
indicator is inline (``spec.indicator``) or a reference (``spec.indicatorRef``) to a ``kind: SLI``
document of the same file. Other kinds (Service, DataSource, AlertPolicy, ...) carry nothing the
warehouse computes and are passed over.

- ``ratioMetric`` with ``good``/``total`` or ``bad``/``total`` (bad/total means good = total - bad),
  or ``thresholdMetric`` with the objective's ``op`` and ``value``.
- Queries are read from ``metricSource.spec.query`` (or ``promql``) and must be Prometheus selectors
  the SLO engine evaluates (see ``ops_warehouse.sources.slo_spec``).
- ``target`` (fraction) or ``targetPercent``; ``budgetingMethod`` Occurrences, Timeslices or
  RatioTimeslices with ``timeSliceTarget``/``timeSliceWindow``; ``timeWindow`` rolling, or calendar
  with ``calendar.startTime``/``calendar.timeZone``.
- An SLO with several objectives becomes one SLO per objective, named ``<name>:<objective>``.
- ``openslo/v1alpha`` (as Sloth accepts it): ``objectives[].ratioMetrics`` with ``good``/``total``
  queries, ``timeWindows[].count``/``unit``; always rolling unless ``isRolling: false``.

Every bad SLO document is a Reject locating the document (1-based) and its line, naming the field.
Unparsable YAML is a FileError with its line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from ops_warehouse.sources.base import Adapter, FileError, ReadContext, Record, Reject, Row, Sniff, raw_json, read_text
from ops_warehouse.sources.slo_spec import (
    BUDGETING_METHODS,
    SpecError,
    check_duration,
    check_query,
    check_target,
    check_time_zone,
    validate_spec,
)

_API = re.compile(r"(?m)^\s*apiVersion:\s*[\"']?openslo/(v1|v1alpha)[\"']?\s*(#.*)?$")
_UNITS = {"minute": "m", "hour": "h", "day": "d", "week": "w", "month": "M", "quarter": "Q", "year": "Y"}


def yaml_error_message(exc: yaml.YAMLError, text: str) -> str:
    """One line: where the YAML broke and why."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        where = f"line {mark.line + 1} column {mark.column + 1}"
    elif isinstance(getattr(exc, "position", None), int):  # a character the reader refuses
        pos = exc.position  # type: ignore[attr-defined]
        line = text.count("\n", 0, pos) + 1
        where = f"line {line} column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"
    else:
        where = "an unknown place"
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    return f"invalid YAML at {where}: {' '.join(str(problem).split())}"


def load_documents(text: str) -> list[tuple[int, Any]]:
    """Every YAML document of the text with the line it starts on; FileError on bad YAML."""
    out: list[tuple[int, Any]] = []
    try:
        for node in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if node is None:
                continue
            loader = yaml.SafeLoader("")
            try:
                value = loader.construct_document(node)
            finally:
                loader.dispose()
            out.append((node.start_mark.line + 1, value))
    except yaml.YAMLError as exc:
        raise FileError(yaml_error_message(exc, text)) from None
    return out


def _get(obj: Any, path: str) -> Any:
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _require_dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(f"{field}: required object missing" if value is None else f"{field}: not an object")
    return value


def _query_of(source: Any, field: str) -> str:
    """The query of an OpenSLO metricSource (``spec.query`` or ``spec.promql``)."""
    ms = _require_dict(_get(source, "metricSource"), f"{field}.metricSource")
    spec = ms.get("spec")
    if not isinstance(spec, dict):
        raise SpecError(f"{field}.metricSource.spec: required object missing")
    for key in ("query", "promql"):
        if key in spec:
            return check_query(spec[key], f"{field}.metricSource.spec.{key}")
    nested = [v for v in spec.values() if isinstance(v, dict) and ("query" in v or "promql" in v)]
    if len(nested) == 1:
        key = "query" if "query" in nested[0] else "promql"
        return check_query(nested[0][key], f"{field}.metricSource.spec.{key}")
    raise SpecError(f"{field}.metricSource.spec: no 'query' (or 'promql') with a Prometheus selector")


def _indicator_v1(sli_spec: dict[str, Any], field: str, objective: dict[str, Any], ofield: str) -> dict[str, Any]:
    if "ratioMetric" in sli_spec:
        rm = _require_dict(sli_spec["ratioMetric"], f"{field}.ratioMetric")
        if "raw" in rm or "rawType" in rm:
            raise SpecError(f"{field}.ratioMetric.raw: precomputed ratios are not supported; give good/bad and total")
        total = _query_of(rm.get("total"), f"{field}.ratioMetric.total") if rm.get("total") is not None else None
        if total is None:
            raise SpecError(f"{field}.ratioMetric.total: required")
        has_good, has_bad = rm.get("good") is not None, rm.get("bad") is not None
        if has_good == has_bad:
            raise SpecError(f"{field}.ratioMetric: give exactly one of good or bad")
        good = _query_of(rm["good"], f"{field}.ratioMetric.good") if has_good else None
        bad = _query_of(rm["bad"], f"{field}.ratioMetric.bad") if has_bad else None
        return {"kind": "ratio", "good": good, "bad": bad, "total": total, "threshold": None}
    if "thresholdMetric" in sli_spec:
        query = _query_of(sli_spec["thresholdMetric"], f"{field}.thresholdMetric")
        op = objective.get("op")
        if op not in ("lt", "lte", "gt", "gte"):
            raise SpecError(f"{ofield}.op: {op!r} is not one of lt, lte, gt, gte (required by a threshold metric)")
        value = objective.get("value")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise SpecError(f"{ofield}.value: {value!r} is not a number (required by a threshold metric)")
        return {
            "kind": "threshold",
            "good": None,
            "bad": None,
            "total": None,
            "threshold": {"query": query, "op": op, "value": float(value)},
        }
    raise SpecError(f"{field}: needs ratioMetric or thresholdMetric")


def _target(objective: dict[str, Any], field: str) -> float:
    if objective.get("target") is not None:
        return check_target(objective["target"], f"{field}.target")
    if objective.get("targetPercent") is not None:
        return check_target(objective["targetPercent"], f"{field}.targetPercent", percent=True)
    raise SpecError(f"{field}: needs target or targetPercent")


def _time_window_v1(spec: dict[str, Any]) -> dict[str, Any]:
    tws = spec.get("timeWindow")
    if not isinstance(tws, list) or not tws:
        raise SpecError("spec.timeWindow: required list with one window")
    if len(tws) > 1:
        raise SpecError("spec.timeWindow: only one time window is supported")
    tw = _require_dict(tws[0], "spec.timeWindow[0]")
    duration = check_duration(tw.get("duration"), "spec.timeWindow[0].duration")
    rolling = tw.get("isRolling", False)
    if not isinstance(rolling, bool):
        raise SpecError(f"spec.timeWindow[0].isRolling: {rolling!r} is not true or false")
    cal = tw.get("calendar") or {}
    if not isinstance(cal, dict):
        raise SpecError("spec.timeWindow[0].calendar: not an object")
    tz = check_time_zone(cal.get("timeZone"), "spec.timeWindow[0].calendar.timeZone")
    start = cal.get("startTime")
    return {
        "duration": duration,
        "is_rolling": rolling,
        "time_zone": tz,
        "start_time": str(start) if start is not None else None,
    }


def _time_window_v1alpha(spec: dict[str, Any]) -> dict[str, Any]:
    tws = spec.get("timeWindows")
    if not isinstance(tws, list) or len(tws) != 1 or not isinstance(tws[0], dict):
        raise SpecError("spec.timeWindows: required list with one window")
    tw = tws[0]
    count, unit = tw.get("count"), str(tw.get("unit", "")).strip().lower()
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise SpecError(f"spec.timeWindows[0].count: {count!r} is not a positive integer")
    if unit not in _UNITS:
        raise SpecError(f"spec.timeWindows[0].unit: {tw.get('unit')!r} is not one of {', '.join(_UNITS)}")
    cal = tw.get("calendar") or {}
    return {
        "duration": f"{count}{_UNITS[unit]}",
        "is_rolling": bool(tw.get("isRolling", True)),
        "time_zone": check_time_zone(
            cal.get("timeZone") if isinstance(cal, dict) else None, "spec.timeWindows[0].calendar.timeZone"
        ),
        "start_time": None,
    }


def _objective_name(objective: dict[str, Any], index: int, count: int) -> str | None:
    label = objective.get("name") or objective.get("displayName")
    if count == 1:
        return str(label) if label else None
    return str(label) if label else str(index)


def _specs_of(doc: dict[str, Any], version: str, slis: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    meta = _require_dict(doc.get("metadata"), "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SpecError("metadata.name: required")
    spec = _require_dict(doc.get("spec"), "spec")
    method = spec.get("budgetingMethod")
    if method is None:
        raise SpecError("spec.budgetingMethod: required (Occurrences, Timeslices or RatioTimeslices)")
    if method not in BUDGETING_METHODS:
        raise SpecError(f"spec.budgetingMethod: {method!r} is not one of {', '.join(BUDGETING_METHODS)}")
    objectives = spec.get("objectives")
    if not isinstance(objectives, list) or not objectives:
        raise SpecError("spec.objectives: required list with at least one objective")
    tw = _time_window_v1(spec) if version == "v1" else _time_window_v1alpha(spec)
    sli_spec: dict[str, Any] | None = None
    sli_field = "spec.indicator.spec"
    if version == "v1":
        if spec.get("indicator") is not None and spec.get("indicatorRef") is not None:
            raise SpecError("spec: give indicator or indicatorRef, not both")
        if spec.get("indicator") is not None:
            sli_spec = _require_dict(_get(spec, "indicator.spec"), "spec.indicator.spec")
        elif spec.get("indicatorRef") is not None:
            ref = spec["indicatorRef"]
            if ref not in slis:
                raise SpecError(f"spec.indicatorRef: no kind: SLI document named {ref!r} in this file")
            sli_spec = slis[ref]
            sli_field = f"SLI {ref}: spec"
        else:
            raise SpecError("spec.indicator or spec.indicatorRef: required")
    out = []
    for i, objective in enumerate(objectives):
        ofield = f"spec.objectives[{i}]"
        objective = _require_dict(objective, ofield)
        if version == "v1":
            indicator = _indicator_v1(sli_spec or {}, sli_field, objective, ofield)
        else:
            rm = _require_dict(objective.get("ratioMetrics"), f"{ofield}.ratioMetrics")
            good_src, bad_src, total_src = rm.get("good"), rm.get("bad"), rm.get("total")
            if total_src is None or (good_src is None) == (bad_src is None):
                raise SpecError(f"{ofield}.ratioMetrics: needs total and exactly one of good or bad")
            indicator = {
                "kind": "ratio",
                "good": check_query(_get(rm, "good.query"), f"{ofield}.ratioMetrics.good.query") if good_src else None,
                "bad": check_query(_get(rm, "bad.query"), f"{ofield}.ratioMetrics.bad.query") if bad_src else None,
                "total": check_query(_get(rm, "total.query"), f"{ofield}.ratioMetrics.total.query"),
                "threshold": None,
            }
        oname = _objective_name(objective, i, len(objectives))
        slice_target = objective.get("timeSliceTarget")
        slice_window = objective.get("timeSliceWindow")
        built = {
            "name": name.strip() if len(objectives) == 1 else f"{name.strip()}:{oname}",
            "service": str(spec["service"]) if spec.get("service") else None,
            "description": spec.get("description") or None,
            "budgeting_method": method,
            "target": _target(objective, ofield),
            "time_window": tw,
            "indicator": indicator,
            "time_slice_target": check_target(slice_target, f"{ofield}.timeSliceTarget")
            if slice_target is not None
            else None,
            "time_slice_window": check_duration(str(slice_window), f"{ofield}.timeSliceWindow")
            if slice_window is not None
            else None,
            "source_spec": "openslo",
            "objective": oname,
        }
        try:
            out.append(validate_spec(built))
        except SpecError as exc:
            msg = str(exc)
            raise SpecError(msg if msg.startswith(("spec", "metadata")) else f"{ofield}: {msg}") from None
    return out


class OpenSLOAdapter(Adapter):
    kind = "openslo"
    description = "OpenSLO v1 (and v1alpha) YAML: kind SLO and SLI documents"

    def detect(self, sniff: Sniff) -> bool:
        return (
            bool(_API.search(sniff.text)) and re.search(r"(?m)^\s*kind:\s*[\"']?SLO[\"']?\s*$", sniff.text) is not None
        )

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        text = read_text(ctx.path)
        if not text.strip():
            raise FileError("empty file")
        docs = load_documents(text)
        slis: dict[str, dict[str, Any]] = {}
        for _, doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "SLI":
                name = _get(doc, "metadata.name")
                if isinstance(name, str) and isinstance(doc.get("spec"), dict):
                    slis[name] = doc["spec"]
        for index, (line, doc) in enumerate(docs, start=1):
            locator = f"document {index} (line {line})"
            if not isinstance(doc, dict):
                yield Reject(locator, f"expected a mapping, got {type(doc).__name__}", raw_json(doc))
                continue
            if doc.get("kind") != "SLO":
                continue
            api = str(doc.get("apiVersion", ""))
            version = {"openslo/v1": "v1", "openslo/v1alpha": "v1alpha"}.get(api)
            if version is None:
                yield Reject(locator, f"apiVersion: {api!r} is not openslo/v1 or openslo/v1alpha", raw_json(doc))
                continue
            try:
                specs = _specs_of(doc, version, slis)
            except SpecError as exc:
                yield Reject(locator, str(exc), raw_json(doc))
                continue
            for spec in specs:
                yield Row(
                    "slo_definitions",
                    {
                        "slo_name": spec["name"],
                        "service": spec["service"],
                        "source": "openslo",
                        "spec": json.dumps(spec, sort_keys=True),
                    },
                    locator,
                    raw_json(doc),
                )


ADAPTER = OpenSLOAdapter()
