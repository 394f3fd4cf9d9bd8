"""A model's DuckDB SQL carried to Spark SQL with sqlglot, plus the runner's plumbing.

Every model is one SQL file in DuckDB's dialect. To run it on Spark, :func:`to_spark` parses it
with sqlglot, rewrites the few things that are plumbing rather than model logic, and prints it in
Spark's dialect:

- ``raw.deployments``, ``core.changes``, ``catalog.repos`` ... become the session's temp views
  ``raw__deployments``, ``core__changes``, ``catalog__repos`` (the runner creates them over the
  lake's Parquet and the catalog), keeping the original name as the alias;
- ``getvariable('setting')`` becomes the setting's value as a typed literal (``since`` is NULL: Spark
  builds are full builds);
- ``read_csv(path, ...)`` over a data folder becomes a temp view the runner reads with Spark's CSV
  reader (see :func:`csv_reads`).

and maps the DuckDB functions sqlglot 30 leaves untranslated or translates with another meaning to
the Spark functions with the same result (the session's time zone is UTC, as DuckDB's is):

- ``timezone('UTC', t)`` (a TIMESTAMPTZ as UTC wall-clock time) -> ``CAST(t AS TIMESTAMP_NTZ)``;
- ``epoch(a - b)`` (seconds of an interval, fractional) -> ``(unix_micros(a) - unix_micros(b)) / 1e6``
  (sqlglot writes ``unix_timestamp(a - b)``, which Spark rejects), ``epoch(t)`` likewise;
- ``epoch_us(t)`` -> ``unix_micros(t)`` and ``make_timestamptz(micros)`` -> ``timestamp_micros(micros)``
  (a minute or hour start computed by integer arithmetic, much cheaper per row than ``date_trunc``
  on a TIMESTAMPTZ);
- ``to_microseconds(n)``, ``to_days(n)`` -> ``make_dt_interval(...)``;
- ``json_extract_string(j, '$."' || key || '"')`` (the member named by ``key``, whatever characters
  it holds) -> ``try_element_at(from_json(j, 'map<string,string>'), key)``: Spark's
  ``get_json_object`` knows no quoted member names;
- ``isodow(t)`` (Monday 1 .. Sunday 7) -> ``weekday(t) + 1`` (sqlglot's ``dayofweek(t) % 7 + 1``
  is off by one), ``dayofweek(t)`` (Sunday 0) -> ``dayofweek(t) - 1`` (Spark's counts Sunday 1);
- ``quantile_cont(x, q)`` -> ``percentile(x, q)`` (both interpolate linearly between ranks);
- ``row_number()``, ``rank()``, ``dense_rank()`` and integer ``generate_series`` are cast to
  BIGINT, their type in DuckDB (INT in Spark);
- a decimal literal such as ``3600.0`` -> a DOUBLE: DuckDB's arithmetic on it yields DOUBLE where
  Spark's would yield DECIMAL.

>>> print(to_spark("SELECT epoch(b - a) / 60.0 AS m FROM core.deployments", variables={}))
SELECT (UNIX_MICROS(b) - UNIX_MICROS(a)) / 1000000.0D / 60.0D AS m FROM core__deployments AS deployments
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

SCHEMAS = ("raw", "core", "marts", "catalog", "quarantine")


class SparkTranspileError(ValueError):
    """A model uses a construct the Spark runner cannot carry over."""


def view_name(schema: str, name: str) -> str:
    """The Spark temp view that stands for ``schema.name``."""
    return f"{schema}__{name}"


@dataclass
class CsvRead:
    """A ``read_csv`` table function of a model, to be registered as a temp view."""

    view: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.cast(exp.Literal.number(value), exp.DataType.build("BIGINT"))
    if isinstance(value, float):
        return exp.cast(exp.Literal.string(repr(value)), exp.DataType.build("DOUBLE"))
    return exp.Literal.string(str(value))


def _constant(node: exp.Expression) -> str:
    """The value of a constant string expression (literals joined with ``||``)."""
    if isinstance(node, exp.Literal) and node.is_string:
        return str(node.this)
    if isinstance(node, exp.DPipe):
        return _constant(node.this) + _constant(node.expression)
    raise SparkTranspileError(f"read_csv needs a constant path, not {node.sql('duckdb')}")


def _fn_name(node: exp.Expression) -> str:
    return node.name.lower() if isinstance(node, exp.Anonymous) else ""


def _epoch_micros(arg: exp.Expression) -> exp.Expression:
    """Microseconds since the epoch of a timestamp, or of an interval ``a - b`` between two."""
    if isinstance(arg, exp.Paren):
        return _epoch_micros(arg.this)
    if isinstance(arg, exp.Sub):
        return exp.Sub(this=_epoch_micros(arg.this), expression=_epoch_micros(arg.expression))
    return exp.Anonymous(this="UNIX_MICROS", expressions=[arg])


def _naive(node: exp.Expression) -> bool:
    """Whether an expression is a TIMESTAMP (wall-clock time, no zone), as far as its shape shows:
    a cast to TIMESTAMP, a TIMESTAMP literal, arithmetic or CASE on those, or a ``local_*`` column
    (the models' name for wall-clock times). Anything else is taken as a TIMESTAMPTZ."""
    if isinstance(node, exp.Paren):
        return _naive(node.this)
    if isinstance(node, (exp.Cast, exp.TryCast)):
        return node.to.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ, exp.DataType.Type.DATETIME)
    if isinstance(node, (exp.Add, exp.Sub)):
        return _naive(node.this)
    if isinstance(node, exp.Case):
        branches = [i.args.get("true") for i in node.args.get("ifs", [])] + [node.args.get("default")]
        return any(b is not None and _naive(b) for b in branches)
    if isinstance(node, exp.Column):
        return node.name.lower().startswith("local_") or node.name.lower() == "anchor"
    return False


def _timezone(zone: exp.Expression, value: exp.Expression) -> exp.Expression:
    """DuckDB's ``timezone(zone, t)`` (also ``t AT TIME ZONE zone``): a TIMESTAMPTZ as wall-clock
    time in the zone, or a wall-clock TIMESTAMP in the zone as a TIMESTAMPTZ. Spark (session time
    zone UTC): ``from_utc_timestamp`` kept as wall-clock (TIMESTAMP_NTZ), ``to_utc_timestamp``."""
    ntz = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
    utc = isinstance(zone, exp.Literal) and str(zone.this).upper() == "UTC"
    if _naive(value):
        if utc:
            return exp.cast(value, exp.DataType.build("TIMESTAMP", dialect="spark"))
        return exp.Anonymous(this="TO_UTC_TIMESTAMP", expressions=[value, zone])
    if utc:
        return exp.cast(value, ntz)
    return exp.cast(exp.Anonymous(this="FROM_UTC_TIMESTAMP", expressions=[value, zone]), ntz)


def _json_key(path: exp.Expression) -> exp.Expression | None:
    """The key of a JSON path built as ``'$."' || key || '"'`` (a member named at run time), else None."""
    if (
        isinstance(path, exp.DPipe)
        and isinstance(path.expression, exp.Literal)
        and path.expression.this == '"'
        and isinstance(path.this, exp.DPipe)
        and isinstance(path.this.this, exp.Literal)
        and path.this.this.this == '$."'
    ):
        return path.this.expression
    return None


def _seconds_interval(seconds: exp.Expression) -> exp.Expression:
    return exp.Anonymous(
        this="MAKE_DT_INTERVAL",
        expressions=[exp.Literal.number(0), exp.Literal.number(0), exp.Literal.number(0), seconds],
    )


def to_spark(
    sql: str,
    *,
    variables: Mapping[str, Any],
    csv_reads: list[CsvRead] | None = None,
    pretty: bool = False,
) -> str:
    """The Spark SQL for a model's DuckDB SQL (see the module docstring for what changes).

    ``variables`` are the values of ``getvariable(...)``; a variable the model reads but that is
    not given is an error. ``csv_reads`` (when given) collects the ``read_csv`` calls the runner
    must register as temp views.
    """
    tree = sqlglot.parse_one(sql.strip().rstrip(";"), read="duckdb")
    reads = csv_reads if csv_reads is not None else []

    def rewrite(node: exp.Expression) -> exp.Expression:
        name = _fn_name(node)
        if name == "getvariable":
            key = node.expressions[0]
            if not (isinstance(key, exp.Literal) and key.is_string):
                raise SparkTranspileError(f"getvariable needs a literal name: {node.sql('duckdb')}")
            if key.this not in variables:
                raise SparkTranspileError(f"the model reads setting {key.this!r}, which is not set")
            return _literal(variables[key.this])
        if name == "timezone":
            zone, value = node.expressions
            return _timezone(zone, value)
        if isinstance(node, exp.AtTimeZone):
            return _timezone(node.args["zone"], node.this)
        if name == "to_microseconds":
            (micros,) = node.expressions
            return _seconds_interval(exp.Div(this=exp.Paren(this=micros), expression=exp.Literal.number("1000000.0")))
        if name == "epoch_us" and len(node.expressions) == 1:
            return _epoch_micros(node.expressions[0])
        if name == "make_timestamptz" and len(node.expressions) == 1:
            # the argument's own functions (epoch_us) are rewritten too
            return exp.Anonymous(this="TIMESTAMP_MICROS", expressions=[node.expressions[0].transform(rewrite)])
        if isinstance(node, exp.ToDays):
            return exp.Anonymous(
                this="MAKE_DT_INTERVAL",
                expressions=[node.this, exp.Literal.number(0), exp.Literal.number(0), exp.Literal.number(0)],
            )
        if isinstance(node, exp.TimeToUnix):
            return exp.Div(this=exp.Paren(this=_epoch_micros(node.this)), expression=exp.Literal.number("1000000.0"))
        if isinstance(node, exp.DayOfWeekIso):
            # sqlglot writes (DAYOFWEEK(t) % 7) + 1, which makes Sunday 2 and Saturday 1
            weekday = exp.Anonymous(this="WEEKDAY", expressions=[node.this])
            return exp.Paren(this=exp.Add(this=weekday, expression=exp.Literal.number(1)))
        if isinstance(node, exp.DayOfWeek):
            # DuckDB's dayofweek counts Sunday 0 .. Saturday 6; Spark's DAYOFWEEK Sunday 1 .. Saturday 7
            dow = exp.Anonymous(this="DAYOFWEEK", expressions=[node.this])
            return exp.Paren(this=exp.Sub(this=dow, expression=exp.Literal.number(1)))
        if isinstance(node, exp.JSONExtractScalar) and (key := _json_key(node.expression)) is not None:
            # get_json_object has no quoted member ($."a.b"): read the object as a map instead
            as_map = exp.Anonymous(this="FROM_JSON", expressions=[node.this, exp.Literal.string("map<string,string>")])
            return exp.Anonymous(this="TRY_ELEMENT_AT", expressions=[as_map, key])
        if isinstance(node, exp.PercentileCont) and node.expression is not None:
            return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
        if isinstance(node, exp.Table) and isinstance(node.this, exp.ReadCSV):
            read = node.this
            options: dict[str, Any] = {}
            for opt in read.expressions:
                if isinstance(opt, exp.EQ):
                    value = opt.expression
                    options[opt.this.name.lower()] = value.this if isinstance(value, exp.Boolean) else value.name
            view = f"_csv_{len(reads)}"
            reads.append(CsvRead(view=view, path=_constant(read.this), options=options))
            alias = node.args.get("alias")
            table = exp.Table(this=exp.to_identifier(view))
            if alias is not None:
                table.set("alias", alias)
            return table
        if isinstance(node, exp.Table) and node.db.lower() in SCHEMAS and isinstance(node.this, exp.Identifier):
            table = exp.Table(this=exp.to_identifier(view_name(node.db.lower(), node.name)))
            table.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
            return table
        return node

    # getvariable() inside read_csv's path must become a literal before the read_csv is seen
    tree = tree.transform(lambda n: rewrite(n) if _fn_name(n) == "getvariable" else n)
    tree = tree.transform(rewrite)
    tree = tree.transform(_double_literals)
    tree = tree.transform(_bigint_counters)
    return tree.sql(dialect="spark", pretty=pretty, comments=False, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _bigint_counters(node: exp.Expression) -> exp.Expression:
    """Ranks and integer series are BIGINT in DuckDB and INT in Spark: cast Spark's to BIGINT."""
    bigint = exp.DataType.build("BIGINT")
    ranks = (exp.RowNumber, exp.Rank, exp.DenseRank)
    if isinstance(node, exp.Window) and isinstance(node.this, ranks) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node, bigint)
    if isinstance(node, exp.GenerateSeries):
        for arg in ("start", "end"):
            value = node.args.get(arg)
            if isinstance(value, exp.Literal) and not value.is_string and value.is_int:
                node.set(arg, exp.cast(value.copy(), bigint))
    return node


def _double_literals(node: exp.Expression) -> exp.Expression:
    """``3600.0`` is DECIMAL in both engines, but DuckDB's DOUBLE arithmetic on it stays DOUBLE and
    Spark's BIGINT arithmetic on it turns DECIMAL: make Spark read it as a DOUBLE literal."""
    if isinstance(node, exp.Literal) and not node.is_string and "." in node.this and "e" not in node.this.lower():
        return exp.Literal(this=f"{node.this}D", is_string=False)
    return node
