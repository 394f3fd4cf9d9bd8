"""SLO metric queries: which Prometheus expressions an SLO may use, and their SQL over the lake.

METRICS.md, "SLOs and error budgets": *A metric query is a Prometheus series selector
(``name{label="v",code!~"5.."}``), or one wrapped as ``sum(rate(SELECTOR[w]))`` /
``sum(increase(SELECTOR[w]))`` (``by`` clauses ignored; ``{{.window}}`` accepted). Anything else is
rejected with a clear message naming the construct.*

Parsing is done by ``promql_parser`` (the Prometheus grammar); this module only decides which of the
parsed shapes are allowed and turns the matchers into a SQL predicate over the distinct series of
``raw.metric_samples`` (``metric``, ``labels`` as sorted-key JSON text).

- Label matchers ``=``, ``!=``, ``=~``, ``!~``. A label the series lacks is the empty string, as in
  Prometheus (``code!~"5.."`` matches a series without ``code``; ``code=""`` matches it too).
- Regexes are fully anchored, as Prometheus anchors them (``regexp_full_match``; both use RE2).
- ``le`` (histogram bucket bound) compares numerically for ``=`` and ``!=``: ``le="1"`` and
  ``le="1.0"`` select the same bucket, ``le="+Inf"`` the overflow bucket.
- Values from definitions never reach SQL unquoted: every literal goes through ``quote_literal``.
- The range ``[w]`` and ``rate`` vs ``increase`` do not change the result: the engine works per minute
  and sums reset-aware increases of counters (see ``slo_sql``). A wrapped selector is read as a
  counter whatever the samples' ``kind`` says (``rate`` of a gauge is meaningless).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ops_warehouse.lake.store import quote_literal

WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*\.window\s*\}\}")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
OPS = ("=", "!=", "=~", "!~")


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
    ops_warehouse.metrics.slo_query.QueryError: binary operator '/' is not supported: ...
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


def _le_number(value: str) -> float | None:
    try:
        f = float(value.strip())
    except ValueError:
        return None
    return None if math.isnan(f) else f


def _num_sql(f: float) -> str:
    if math.isinf(f):
        return "CAST('inf' AS DOUBLE)" if f > 0 else "CAST('-inf' AS DOUBLE)"
    return f"CAST({quote_literal(repr(f))} AS DOUBLE)"


def label_sql(name: str, labels_col: str = "labels") -> str:
    """The value of label ``name`` in the JSON labels column; a missing label is ''."""
    if not _LABEL_NAME.match(name):
        raise QueryError(f"invalid label name {name!r}")
    path = quote_literal(f'$."{name}"')
    return f"coalesce(json_extract_string({labels_col}, {path}), '')"


def matcher_sql(m: Matcher, labels_col: str = "labels") -> str:
    """SQL predicate for one label matcher."""
    col = label_sql(m.name, labels_col)
    if m.name == "le" and m.op in ("=", "!=") and _le_number(m.value) is not None:
        num = f"TRY_CAST({col} AS DOUBLE)"
        cmp = f"coalesce({num} = {_num_sql(_le_number(m.value))}, false)"  # type: ignore[arg-type]
        return cmp if m.op == "=" else f"NOT {cmp}"
    lit = quote_literal(m.value)
    if m.op == "=":
        return f"{col} = {lit}"
    if m.op == "!=":
        return f"{col} <> {lit}"
    if m.op == "=~":
        return f"regexp_full_match({col}, {lit})"
    if m.op == "!~":
        return f"NOT regexp_full_match({col}, {lit})"
    raise QueryError(f"unsupported matcher {m.op}")  # pragma: no cover


def selector_sql(sel: Selector, metric_col: str = "metric", labels_col: str = "labels") -> str:
    """SQL predicate selecting the series of ``sel`` (over columns metric, labels)."""
    parts = [f"{metric_col} = {quote_literal(sel.metric)}"]
    parts += [matcher_sql(m, labels_col) for m in sel.matchers]
    return " AND ".join(parts)
