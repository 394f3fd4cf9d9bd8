"""The normalized SLO definition every SLO source is turned into.

OpenSLO, Sloth and canonical files all become one JSON object (stored in
``raw.slo_definitions.spec``)::

    {
      "name": "checkout-availability",
      "service": "checkout",
      "description": "...",
      "budgeting_method": "Occurrences" | "Timeslices" | "RatioTimeslices",
      "target": 0.999,                       # a fraction, never a percentage
      "time_window": {"duration": "28d", "is_rolling": true, "time_zone": "UTC", "start_time": null},
                                             # calendar (is_rolling false): the period to date in
                                             # time_zone; start_time anchors d/h/m/w periods
      "indicator": {
        "kind": "ratio" | "threshold",
        "good": "<query>" | null,            # ratio: good and total, or bad and total
        "bad": "<query>" | null,
        "total": "<query>" | null,
        "threshold": {"query": "<query>", "op": "lte", "value": 0.5} | null
      },                                     # op: lt | lte | gt | gte (OpenSLO's operators)
      "time_slice_target": 0.95 | null,      # Timeslices: a slice is good when its ratio >= this
      "time_slice_window": "1m" | null,
      "source_spec": "openslo" | "sloth" | "canonical",
      "objective": "<objective name>" | null # OpenSLO objective name/displayName (optional)
    }

A threshold indicator makes every sample of its series one event, good when ``value op threshold``
holds; a ratio indicator counts events (good, or total - bad, of total).

Queries are Prometheus series selectors, bare or wrapped in ``sum(rate(...[w]))`` /
``sum(increase(...[w]))``. This module also compiles them (with ``promql_parser``, the Prometheus
grammar) into data the SQL models read: every spec carries ``"selectors"``, one entry per query::

    {"role": "good" | "bad" | "total" | "threshold", "metric": "http_requests_total",
     "wrapped": true,                        # inside rate()/increase()
     "matchers": [{"label": "code", "op": "=~", "value": "5..", "pattern": "^(?s:5..)$"}]}

METRICS.md, "SLOs and error budgets": *A metric query is a Prometheus series selector
(``name{label="v",code!~"5.."}``), or one wrapped as ``sum(rate(SELECTOR[w]))`` /
``sum(increase(SELECTOR[w]))`` (``by`` clauses ignored; ``{{.window}}`` accepted). Anything else is
rejected with a clear message naming the construct.* Quoted UTF-8 names (Prometheus 3:
``{"http.server.request.count", "service.name"="api"}``) select OpenTelemetry and Datadog series.

- Matchers ``=``, ``!=``, ``=~``, ``!~``; ``assets/models/core/sli_minutes.sql`` applies them (a
  missing label is the empty string, as in Prometheus). ``pattern`` is the regex anchored as
  Prometheus anchors it, ``^(?s:re)$``.
- ``le`` and ``quantile`` values are written as the metric adapters store them (``le="1"`` selects
  the stored bucket ``"1.0"``), so equal bounds spelled differently match.
- The range ``[w]`` and ``rate`` vs ``increase`` do not change the result: the engine works per
  minute. Whether a series is read as a counter is decided by its kind (see ``sli_minutes.sql``);
  ``wrapped`` only says that a series of unstated kind from Prometheus is a counter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
_DURATION = re.compile(r"^(\d+)(m|h|d|w|M|Q|Y)$")


class SpecError(ValueError):
    """An invalid SLO definition; the message names the field."""


def check_duration(text: Any, field: str) -> str:
    if not isinstance(text, str) or not _DURATION.match(text.strip()):
        raise SpecError(f"{field}: {text!r} is not a duration like 28d, 1h or 1M")
    return text.strip()


def check_target(value: Any, field: str, *, percent: bool = False) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{field}: {value!r} is not a number") from None
    if percent:  # via Decimal, so 99.9% is exactly 0.999 and not 0.9990000000000001
        from decimal import Decimal, InvalidOperation

        try:
            t = float(Decimal(str(value).strip()) / 100)
        except InvalidOperation:
            raise SpecError(f"{field}: {value!r} is not a number") from None
    if not 0.0 < t < 1.0:
        shown = f"{value}%" if percent else str(value)
        raise SpecError(f"{field}: {shown} is not a target between 0 and 1 (exclusive)")
    return t


THRESHOLD_OPS = ("lt", "lte", "gt", "gte")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "Q": 90 * 86400, "Y": 365 * 86400}


def duration_parts(text: str) -> tuple[int, str]:
    """``"28d"`` -> ``(28, "d")``."""
    m = _DURATION.match(text.strip())
    if not m:
        raise SpecError(f"{text!r} is not a duration like 28d, 1h or 1M")
    return int(m.group(1)), m.group(2)


def duration_seconds(text: str) -> int:
    """Nominal length of a duration in seconds; the SLO *period* used for alert factors and the
    forecast. Choice: a month is 30 days (as Sloth's default period), a quarter 90, a year 365.

    >>> duration_seconds("28d") // 86400, duration_seconds("1M") // 86400, duration_seconds("2w") // 86400
    (28, 30, 14)
    """
    n, unit = duration_parts(text)
    if n <= 0:
        raise SpecError(f"{text!r}: a duration must be positive")
    return n * _UNIT_SECONDS[unit]


def check_query(text: object, field: str) -> str:
    """A query the SLO engine can evaluate (see :func:`parse_query`)."""
    try:
        parse_query(text)
    except QueryError as exc:
        raise SpecError(f"{field}: {exc}") from None
    return str(text).strip()


def check_time_zone(tz: object, field: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if tz in (None, ""):
        return "UTC"
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(f"{field}: {tz!r} is not a known time zone") from None
    return str(tz)


def validate_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Check a normalized spec built by an adapter; raise SpecError naming the field."""
    if not spec.get("name") or not str(spec["name"]).strip():
        raise SpecError("name: required but missing")
    if spec["budgeting_method"] not in BUDGETING_METHODS:
        raise SpecError(f"budgetingMethod: {spec['budgeting_method']!r} is not one of {', '.join(BUDGETING_METHODS)}")
    tw = spec["time_window"]
    duration_seconds(tw["duration"])
    if not tw["is_rolling"]:
        n, unit = duration_parts(tw["duration"])
        if unit in ("M", "Q") and 12 % (n * (3 if unit == "Q" else 1)) != 0:
            raise SpecError(f"timeWindow.duration: a calendar window of {tw['duration']} does not divide a year")
        if unit == "Y" and n != 1:
            raise SpecError("timeWindow.duration: a calendar window of several years is not supported")
    ind = spec["indicator"]
    if ind["kind"] == "ratio":
        if not ind.get("total"):
            raise SpecError("indicator.total: required for a ratio metric")
        if bool(ind.get("good")) == bool(ind.get("bad")):
            raise SpecError("indicator: a ratio metric needs exactly one of good or bad")
    elif ind["kind"] == "threshold":
        th = ind.get("threshold") or {}
        if th.get("op") not in THRESHOLD_OPS:
            raise SpecError(f"objectives.op: {th.get('op')!r} is not one of {', '.join(THRESHOLD_OPS)}")
        if not isinstance(th.get("value"), (int, float)) or isinstance(th.get("value"), bool):
            raise SpecError(f"objectives.value: {th.get('value')!r} is not a number")
    else:
        raise SpecError(f"indicator: unknown kind {ind['kind']!r}")
    if spec["budgeting_method"] == "Timeslices" and ind["kind"] == "ratio" and spec.get("time_slice_target") is None:
        raise SpecError("objectives.timeSliceTarget: required for Timeslices")
    if spec["budgeting_method"] != "Occurrences" and not spec.get("time_slice_window"):
        spec["time_slice_window"] = "1m"
    if spec.get("time_slice_window"):
        secs = duration_seconds(spec["time_slice_window"])
        if 86400 % secs != 0:
            raise SpecError(
                f"objectives.timeSliceWindow: {spec['time_slice_window']!r} must be minutes, hours or days "
                "that divide a day"
            )
    return with_selectors(spec)


def normalize_canonical(values: dict[str, Any]) -> dict[str, Any]:
    """A canonical SLO row (columns slo_name, service, budgeting_method, target, time_window,
    is_rolling, time_zone, good_query, bad_query, total_query, time_slice_target,
    time_slice_window, description) as a normalized spec."""
    name = values.get("slo_name")
    if not name or not str(name).strip():
        raise SpecError("slo_name: required but missing")
    method = values.get("budgeting_method") or "Occurrences"
    if method not in BUDGETING_METHODS:
        raise SpecError(f"budgeting_method: {method!r} is not one of {', '.join(BUDGETING_METHODS)}")
    target = check_target(values.get("target"), "target")
    duration = check_duration(values.get("time_window") or "28d", "time_window")
    rolling_raw = values.get("is_rolling", True)
    is_rolling = (
        rolling_raw
        if isinstance(rolling_raw, bool)
        else str(rolling_raw).strip().lower() not in ("false", "0", "no", "calendar")
    )
    good, bad, total = values.get("good_query"), values.get("bad_query"), values.get("total_query")
    if not total:
        raise SpecError("total_query: required")
    if bool(good) == bool(bad):
        raise SpecError("good_query / bad_query: give exactly one of them")
    slice_target = values.get("time_slice_target")
    spec = {
        "name": str(name).strip(),
        "service": values.get("service") or None,
        "description": values.get("description") or None,
        "budgeting_method": method,
        "target": target,
        "time_window": {
            "duration": duration,
            "is_rolling": is_rolling,
            "time_zone": values.get("time_zone") or "UTC",
            "start_time": None,
        },
        "indicator": {"kind": "ratio", "good": good or None, "bad": bad or None, "total": total, "threshold": None},
        "time_slice_target": check_target(slice_target, "time_slice_target")
        if slice_target not in (None, "")
        else None,
        "time_slice_window": check_duration(values["time_slice_window"], "time_slice_window")
        if values.get("time_slice_window")
        else None,
        "source_spec": "canonical",
    }
    if method == "Timeslices" and spec["time_slice_target"] is None:
        raise SpecError("time_slice_target: required for Timeslices")
    check_query(total, "total_query")
    check_query(good or bad, "good_query" if good else "bad_query")
    if method != "Occurrences" and not spec["time_slice_window"]:
        spec["time_slice_window"] = "1m"
    return with_selectors(spec)


# ---------------------------------------------------------------- PromQL selectors

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
OPS = ("=", "!=", "=~", "!~")
MAX_MATCHERS = 16  # per query; the SQL reads matcher indexes 0..15


class QueryError(ValueError):
    """A query the SLO engine cannot evaluate; the message names the construct."""


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # one of OPS
    value: str


@dataclass(frozen=True)
class Selector:
    """A parsed SLO query: the metric name, label matchers, and whether it was wrapped in
    ``rate``/``increase`` (then its series are read as counters)."""

    metric: str
    matchers: tuple[Matcher, ...]
    wrapper: str | None = None  # "rate" | "increase" | None

    @property
    def as_counter(self) -> bool:
        return self.wrapper is not None


def _op_text(op: object) -> str:
    import promql_parser as pp

    if op == pp.MatchOp.Equal:
        return "="
    if op == pp.MatchOp.NotEqual:
        return "!="
    if op == pp.MatchOp.Re:
        return "=~"
    if op == pp.MatchOp.NotRe:
        return "!~"
    raise QueryError(f"unsupported label matcher {op}")  # pragma: no cover


def _selector(vs: object, wrapper: str | None) -> Selector:
    if getattr(vs, "offset", None) is not None:
        raise QueryError("offset modifiers are not supported")
    if getattr(vs, "at", None) is not None:
        raise QueryError("@ modifiers are not supported")
    ms = vs.matchers  # type: ignore[attr-defined]
    if ms.or_matchers:
        raise QueryError("'or' between label matchers is not supported")
    name = vs.name  # type: ignore[attr-defined]
    matchers: list[Matcher] = []
    for m in ms.matchers:
        op = _op_text(m.op)
        if m.name == "__name__":
            if op != "=":
                raise QueryError("__name__ must be matched with '=' (one metric per query)")
            if name and name != m.value:
                raise QueryError("the metric name is given twice with different values")
            name = m.value
            continue
        matchers.append(Matcher(m.name, op, m.value))
    if not name:
        raise QueryError("the selector names no metric")
    return Selector(name, tuple(matchers), wrapper)


def parse_query(text: object) -> Selector:
    """Parse an SLO query into a :class:`Selector`, or raise :class:`QueryError`.

    >>> parse_query('sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))').metric
    'http_requests_total'
    >>> parse_query('up{job="api"}').matchers[0].value
    'api'
    >>> parse_query('sum(rate(a[5m])) / sum(rate(b[5m]))')
    Traceback (most recent call last):
    ...
    ops_warehouse.sources.slo_spec.QueryError: binary operator '/' is not supported: ...
    """
    import promql_parser as pp

    if not isinstance(text, str) or not text.strip():
        raise QueryError("the query is empty")
    src = WINDOW_PLACEHOLDER.sub("5m", text.strip())
    try:
        expr = pp.parse(src)
    except (ValueError, RuntimeError) as exc:
        raise QueryError(f"not a valid PromQL expression: {exc}") from None
    while isinstance(expr, pp.ParenExpr):
        expr = expr.expr
    wrapped_in_sum = False
    if isinstance(expr, pp.AggregateExpr):
        op = str(expr.op)
        if op != "sum":
            raise QueryError(f"aggregation '{op}' is not supported: only sum(rate(...)) or sum(increase(...))")
        if expr.param is not None:
            raise QueryError(f"aggregation '{op}' with a parameter is not supported")
        modifier = str(expr.modifier or "")
        if "without" in modifier:
            raise QueryError("'without' clauses are not supported ('by' is ignored)")
        expr = expr.expr
        while isinstance(expr, pp.ParenExpr):
            expr = expr.expr
        wrapped_in_sum = True
    if isinstance(expr, pp.Call):
        fname = expr.func.name
        if fname not in ("rate", "increase"):
            raise QueryError(f"function '{fname}' is not supported: only rate() and increase()")
        if not wrapped_in_sum:
            raise QueryError(f"{fname}() must be wrapped in sum(...)")
        args = list(expr.args)
        if len(args) != 1 or not isinstance(args[0], pp.MatrixSelector):
            raise QueryError(f"{fname}() needs one range selector such as metric[5m]")
        return _selector(args[0].vector_selector, fname)
    if wrapped_in_sum:
        raise QueryError("sum(...) must wrap rate(...) or increase(...)")
    if isinstance(expr, pp.VectorSelector):
        return _selector(expr, None)
    raise QueryError(f"{_construct(expr)} is not supported: {text.strip()}")


def _construct(expr: object) -> str:
    import promql_parser as pp

    if isinstance(expr, pp.BinaryExpr):
        return f"binary operator '{expr.op}'"
    if isinstance(expr, pp.MatrixSelector):
        return "a bare range selector (wrap it in sum(rate(...)))"
    if isinstance(expr, pp.SubqueryExpr):
        return "a subquery"
    if isinstance(expr, pp.NumberLiteral):
        return "a number literal"
    if isinstance(expr, pp.StringLiteral):
        return "a string literal"
    if isinstance(expr, pp.UnaryExpr):
        return "a unary operator"
    return type(expr).__name__


def _stored_bound(name: str, value: str) -> str:
    """An ``le``/``quantile`` value as the metric adapters store it, when it is a number."""
    if name not in ("le", "quantile"):
        return value
    from ops_warehouse.sources._metrics import format_bound
    from ops_warehouse.sources.base import BadRecord

    try:
        return format_bound(value)
    except BadRecord:
        return value


def compile_query(text: object, role: str) -> dict[str, Any]:
    """The ``selectors`` entry of one query (see the module docstring).

    >>> compile_query('sum(rate({"http.server.request.count", "service.name"=~"api|web"}[5m]))', "total")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'role': 'total', 'metric': 'http.server.request.count', 'wrapped': True,
     'matchers': [{'label': 'service.name', 'op': '=~', 'value': 'api|web', 'pattern': '^(?s:api|web)$'}]}
    """
    sel = parse_query(text)
    if len(sel.matchers) > MAX_MATCHERS:
        raise QueryError(f"more than {MAX_MATCHERS} label matchers in one query")
    matchers = []
    for m in sel.matchers:
        if '"' in m.name or "\\" in m.name:
            raise QueryError(f"label name {m.name!r}: quotes and backslashes are not supported")
        exact = m.op in ("=", "!=")
        value = _stored_bound(m.name, m.value) if exact else m.value
        matchers.append(
            {"label": m.name, "op": m.op, "value": value, "pattern": None if exact else f"^(?s:{m.value})$"}
        )
    return {"role": role, "metric": sel.metric, "wrapped": sel.as_counter, "matchers": matchers}


def compile_selectors(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every query of a normalized spec, compiled (threshold, or good/bad/total)."""
    ind = spec["indicator"]
    if ind["kind"] == "threshold":
        return [compile_query(ind["threshold"]["query"], "threshold")]
    return [compile_query(ind[role], role) for role in ("good", "bad", "total") if ind.get(role)]


def with_selectors(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its compiled ``selectors``; SpecError naming the query that fails."""
    try:
        spec["selectors"] = compile_selectors(spec)
    except QueryError as exc:
        raise SpecError(f"indicator: {exc}") from None
    return spec
