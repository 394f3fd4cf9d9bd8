"""SQL models: the derived tables, one ``assets/models/<layer>/<name>.sql`` file each.

A model file is one DuckDB ``SELECT`` (CTEs welcome) whose leading comment explains, rule by rule,
how the table is computed. It may read:

- ``raw.<table>``: the lake's raw tables,
- ``core.<table>`` and ``marts.<table>``: other models (dependencies are found from these names),
- ``catalog.<relation>``: the service catalog (see ``ops_warehouse.catalog``), and the SLO
  engine's constants as data, ``catalog.slo_<name>`` from ``assets/slo/<name>.csv`` (alert
  windows, policy stages),
- ``getvariable('<name>')``: the catalog's settings, e.g. ``attribution_window_hours``, and the
  variables every engine sets (:func:`model_variables`), e.g. ``dora_benchmarks_dir``.

An incremental model has its rules beside it, ``<name>.since.sql`` (and ``<name>.span.sql``);
those files are not models (see :mod:`ops_warehouse.lake.incremental`).

Running a model writes its result to ``lake/<layer>/<name>.parquet`` atomically. A model whose
declaration says ``partition=day`` (the SLO engine's per-minute tables) is kept as one file per UTC
day of its key, ``lake/<layer>/<name>/day=YYYY-MM-DD/part-0.parquet``, and computed in spans of
whole days sized by the input rows they read (see :func:`_run_by_day`): a full build never holds
a year of minutes at once, and an incremental one rewrites only the days from ``since`` on. The
Dagster assets call :func:`run_model`; nothing here imports Dagster.
"""

from __future__ import annotations

import functools
import graphlib
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from ops_warehouse import progress
from ops_warehouse.catalog import Catalog
from ops_warehouse.duck import connect, quote_ident, quote_literal
from ops_warehouse.fileio import replace_folder, replace_with
from ops_warehouse.home import DataHome
from ops_warehouse.lake import incremental as incremental_
from ops_warehouse.lake.store import PART, Lake, atomic_copy, derived_day_files, derived_read_sql, is_derived
from ops_warehouse.tables import INGEST_LOG, RAW_TABLES, REJECTED_ROWS, RawTable

LAYERS = ("core", "marts")
T = TypeVar("T")


def assets_dir() -> Path:
    override = os.environ.get("OPS_WAREHOUSE_ASSETS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "assets"


@dataclass
class Model:
    layer: str
    name: str
    sql: str | None = None
    path: Path | None = None
    deps: set[str] = field(default_factory=set)
    description: str = ""
    # an incremental model's rules, beside it: <name>.since.sql and (kept by day) <name>.span.sql
    since_sql: str | None = None
    span_sql: str | None = None

    @property
    def rule_deps(self) -> set[str]:
        """The ``raw``/``core``/``marts`` tables its since and span queries read."""
        return set().union(*(sql_dependencies(q) for q in (self.since_sql, self.span_sql) if q))

    @property
    def key(self) -> str:
        return f"{self.layer}.{self.name}"

    @property
    def catalog_reads(self) -> set[str]:
        """The ``catalog`` relations (``services``, ``slo_alert_windows``, ...) it and its rules read."""
        return set().union(*(catalog_relations(q) for q in (self.sql, self.since_sql, self.span_sql) if q))


def benchmarks_dir() -> Path:
    """The DORA benchmark data, ``assets/benchmarks/<name>.csv`` (one row per metric and tier)."""
    return assets_dir() / "benchmarks"


def available_benchmarks(con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """The benchmark names shipped as data (``dora-2021``, ``dora-2023``, ``dora-2024``, ...)."""
    own = con is None
    con = con or connect()
    try:
        rows = con.execute(
            "SELECT DISTINCT benchmark FROM read_csv(?, comment = '#', header = true, all_varchar = true) ORDER BY 1",
            [str(benchmarks_dir() / "*.csv")],
        ).fetchall()
    finally:
        if own:
            con.close()
    return [r[0] for r in rows]


def model_variables(catalog: Catalog) -> dict[str, Any]:
    """The variables every model may read with ``getvariable()``, as each engine sets them before
    a model runs: the catalog's settings; ``since``, ``until`` and ``sli_samples_from`` NULL (a
    full build: the DuckDB runner moves them for incremental and by-day builds); and
    ``dora_benchmarks_dir``, the folder of the benchmark data (:func:`benchmarks_dir`).

    >>> v = model_variables(Catalog())
    >>> v["since"], v["dora_benchmark"], v["dora_benchmarks_dir"] == str(benchmarks_dir())
    (None, 'dora-2023', True)
    """
    variables: dict[str, Any] = dict(catalog.settings)
    # incremental models read the earliest key to recompute; NULL (a full build) means everything
    variables["since"] = None
    # a model kept by day is computed in spans of days: rows with key < until (NULL: no end)
    variables["until"] = None
    # core.sli_minutes reads samples from here on (set per span by sli_minutes.span.sql; NULL: all)
    variables["sli_samples_from"] = None
    variables["dora_benchmarks_dir"] = str(benchmarks_dir())
    return variables


def check_settings(model: Model, catalog: Catalog) -> None:
    """Fail before a model runs on a setting its SQL reads that cannot work: a ``dora_benchmark``
    that names no shipped benchmark (its rows would be silently empty) is a ValueError that lists
    the known ones."""
    if "dora_benchmark" not in variables_read(model.sql or ""):
        return
    chosen = catalog.settings.get("dora_benchmark")
    known = available_benchmarks()
    if chosen not in known:
        raise ValueError(
            f"{model.key}: setting dora_benchmark: unknown benchmark {chosen!r} (known: {', '.join(known)})"
        )


def _leading_comment(sql: str) -> str:
    lines = []
    for line in sql.splitlines():
        s = line.strip()
        if s.startswith("--"):
            lines.append(s[2:].strip())
        elif s:
            break
    return "\n".join(lines).strip()


def sql_dependencies(sql: str, own: str | None = None) -> set[str]:
    """The ``raw``/``core``/``marts`` tables a model's SQL reads, from sqlglot's parse of it (CTE
    names, ``catalog.*`` relations and table functions are not dependencies).

    >>> sorted(sql_dependencies(
    ...     "WITH d AS (SELECT * FROM core.deployments) SELECT * FROM d JOIN Raw.incidents USING (x) "
    ...     "JOIN catalog.services s ON true WHERE x IN (SELECT y FROM marts.dora_events)"
    ... ))
    ['core.deployments', 'marts.dora_events', 'raw.incidents']
    """
    return set(_tables_read(sql)) - {own or ""}


@functools.lru_cache(maxsize=256)
def _statements(sql: str) -> tuple[Any, ...]:
    """sqlglot's parse of a model's SQL, once per text: its dependencies are read when the models
    are discovered and its variables when it runs (a parse is ~10 ms; the trees are only read)."""
    import sqlglot

    return tuple(sqlglot.parse(sql, read="duckdb"))


@functools.lru_cache(maxsize=256)
def _tables_read(sql: str) -> frozenset[str]:
    from sqlglot import exp

    deps: set[str] = set()
    for statement in _statements(sql):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            schema = (table.db or "").lower()
            if schema in ("raw", "core", "marts") and table.name:
                deps.add(f"{schema}.{table.name.lower()}")
    return frozenset(deps)


@functools.lru_cache(maxsize=256)
def catalog_relations(sql: str) -> frozenset[str]:
    """The ``catalog`` relations a query reads.

    >>> sorted(catalog_relations("SELECT * FROM catalog.services JOIN Catalog.slo_alert_windows ON true, raw.x"))
    ['services', 'slo_alert_windows']
    """
    from sqlglot import exp

    names: set[str] = set()
    for statement in _statements(sql):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if (table.db or "").lower() == "catalog" and table.name:
                names.add(table.name.lower())
    return frozenset(names)


@functools.lru_cache(maxsize=256)
def variables_read(sql: str) -> frozenset[str]:
    r"""The names a model's SQL reads with ``getvariable('<name>')`` (comments do not count).

    >>> sorted(variables_read("-- getvariable('a')\nSELECT getvariable('b') + getvariable('c')"))
    ['b', 'c']
    """
    from sqlglot import exp

    names: set[str] = set()
    for statement in _statements(sql):
        if statement is None:
            continue
        for fn in statement.find_all(exp.Anonymous):
            args = fn.expressions
            if fn.name.lower() == "getvariable" and args and isinstance(args[0], exp.Literal):
                names.add(args[0].this)
    return frozenset(names)


# the rule files beside an incremental model (see ops_warehouse.lake.incremental); not models
RULE_SUFFIXES = (".since.sql", ".span.sql")


def is_model_file(path: Path) -> bool:
    """Whether a ``.sql`` file under ``assets/models`` is a model (not a model's rule file)."""
    return path.suffix == ".sql" and not path.name.endswith(RULE_SUFFIXES)


def discover_models(root: Path | None = None) -> dict[str, Model]:
    """The models under ``root`` (``assets/models``), each with its rule files. A model that
    declares an incremental key without a ``<name>.since.sql``, a since file beside no incremental
    model, or a span file beside no model kept by day is a ValueError."""
    root = root or assets_dir() / "models"
    models: dict[str, Model] = {}
    for layer in LAYERS:
        files = sorted((root / layer).glob("*.sql"))
        for path in files:
            if not is_model_file(path):
                continue
            sql = path.read_text(encoding="utf-8")
            model = Model(layer, path.stem, sql=sql, path=path, description=_leading_comment(sql))
            model.deps = sql_dependencies(sql, model.key)
            models[model.key] = model
        for path in files:
            for suffix in RULE_SUFFIXES:
                if path.name.endswith(suffix):
                    _attach_rule(models, layer, path, suffix)
    for model in models.values():
        declared = incremental_.declaration(model.sql)
        if declared is not None and model.since_sql is None:
            raise ValueError(
                f"{model.key} declares an incremental key but has no since query: add {model.name}.since.sql "
                "beside it (see ops_warehouse.lake.incremental)"
            )
        if model.span_sql is not None and (declared is None or declared.partition != "day"):
            raise ValueError(f"{model.key}: {model.name}.span.sql is only for a model kept by day (partition=day)")
    _check_rule_reads(models)
    return models


def _check_rule_reads(models: dict[str, Model]) -> None:
    """A rule may read only models its model depends on (directly or not): those are built
    before it in every build, so their tables "after" and their sinces are this build's."""
    for model in models.values():
        if model.since_sql is None:
            continue
        read = {d for d in model.rule_deps if is_derived(d)}
        read |= {
            incremental_.model_key(name)
            for schema, name in incremental_.evidence_read(model.since_sql)
            if schema in ("before", "changed")
        }
        unknown = sorted(read - _upstream(models, model.key) - {model.key})
        if unknown:
            raise ValueError(f"{model.key}: its rules read {', '.join(unknown)}, which it does not depend on")
        diffed = {incremental_.model_key(n) for s, n in incremental_.evidence_read(model.since_sql) if s == "changed"}
        stray = sorted(set(incremental_.compared_columns(model.since_sql)) - diffed)
        if stray:
            raise ValueError(
                f"{model.key}: its since rule compares {', '.join(stray)} but reads no changed relation of it"
            )


def _upstream(models: dict[str, Model], key: str) -> set[str]:
    seen: set[str] = set()
    todo = [key]
    while todo:
        for dep in models[todo.pop()].deps:
            if dep in models and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _attach_rule(models: dict[str, Model], layer: str, path: Path, suffix: str) -> None:
    name = path.name[: -len(suffix)]
    model = models.get(f"{layer}.{name}")
    if model is None or incremental_.declaration(model.sql) is None:
        raise ValueError(f"{layer}/{path.name} is beside no incremental model {layer}.{name}")
    text = path.read_text(encoding="utf-8")
    if suffix == ".since.sql":
        model.since_sql = text
    else:
        model.span_sql = text


def topological(models: dict[str, Model]) -> list[Model]:
    """The models in an order where each comes after the models it reads (ties by name)."""
    sorter = graphlib.TopologicalSorter({k: sorted(d for d in models[k].deps if d in models) for k in sorted(models)})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise ValueError(f"models depend on each other in a cycle: {' -> '.join(exc.args[1])}") from None
    order: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(models[k] for k in ready)
        sorter.done(*ready)
    return order


def open_lake(
    home: DataHome,
    catalog: Catalog | None = None,
    *,
    raw: set[str] | None = None,
    derived: set[str] | None = None,
    catalog_tables: set[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """An in-memory connection where raw, core, marts and catalog relations resolve to the lake.

    ``raw`` names the raw relations to set up (``raw.deployments``, ``quarantine.rejected_rows``,
    ...), ``derived`` the core and mart tables and ``catalog_tables`` the catalog relations
    (``services``, ``slo_alert_windows``, ...); None means all of them. Each view reads the
    footers of its files when it is created, so a model opens only the ones it reads (and loads
    only the catalog tables it reads: ~15 ms a model for all of them).
    """
    catalog = catalog or Catalog.load(home.catalog)
    lake = Lake(home)
    con = connect(memory_limit=os.environ.get("OPS_WAREHOUSE_MEMORY_LIMIT", "4GB"), temp_dir=home.tmp / "duckdb")
    con.execute("SET preserve_insertion_order = false")  # models that need an order say ORDER BY
    for schema in ("raw", "core", "marts", "catalog", "quarantine"):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    def wanted(name: str) -> bool:
        return raw is None or name in raw

    for table in list(RAW_TABLES.values()):
        if wanted(f"raw.{table.name}"):
            con.execute(f"CREATE VIEW raw.{quote_ident(table.name)} AS {_latest_per_key(table, lake.scan_sql(table))}")
    if wanted("quarantine.rejected_rows"):
        con.execute(f"CREATE VIEW quarantine.rejected_rows AS {lake.scan_sql(REJECTED_ROWS)}")
    if wanted("raw.ingest_log"):
        con.execute(f"CREATE VIEW raw.ingest_log AS {lake.scan_sql(INGEST_LOG)}")
    for layer in LAYERS:
        layer_dir = home.lake / layer
        tables = (
            sorted(p for p in layer_dir.iterdir() if p.suffix == ".parquet" or p.is_dir()) if layer_dir.exists() else []
        )
        for f in tables:
            name = f.stem if f.suffix == ".parquet" else f.name
            if derived is not None and f"{layer}.{name}" not in derived:
                continue
            if f.is_dir() and (layer_dir / f"{name}.parquet").exists():
                continue  # a table that moved between layouts: the file is the one in use
            con.execute(f"CREATE VIEW {layer}.{quote_ident(name)} AS {derived_read_sql(f)}")
    for name, (columns, rows) in catalog.tables().items():
        if catalog_tables is not None and name not in catalog_tables:
            continue
        cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in columns)
        con.execute(f"CREATE TABLE catalog.{quote_ident(name)} ({cols})")
        if rows:
            # one Arrow table, not executemany: a statement per row cost ~0.5 ms, and every model
            # opens its own connection (0.3 s a model for a catalog of 200 services)
            values = pa.table(
                {
                    f"c{i}": pa.array([None if r[i] is None else str(r[i]) for r in rows], pa.string())
                    for i in range(len(columns))
                }
            )
            con.register("_catalog_rows", values)
            try:
                con.execute(f"INSERT INTO catalog.{quote_ident(name)} SELECT * FROM _catalog_rows")
            finally:
                con.unregister("_catalog_rows")
    for f in sorted((assets_dir() / "slo").glob("*.csv")):
        if catalog_tables is not None and f"slo_{f.stem}" not in catalog_tables:
            continue
        con.execute(
            f"CREATE TABLE catalog.{quote_ident('slo_' + f.stem)} AS "
            f"SELECT * FROM read_csv({quote_literal(str(f))}, header = true, comment = '#')"
        )
    for key, value in model_variables(catalog).items():
        if value is None:
            con.execute(f"SET VARIABLE {key} = NULL")
        else:
            con.execute(f"SET VARIABLE {key} = ?", [value])
    return con


def _latest_per_key(table: RawTable, scan: str) -> str:
    """One row per natural key, even if a key's event day moved between exports (a re-run with a
    new start time lands in another partition): the newest version wins, as in the lake's merge.
    Metric samples are partitioned by their own timestamp, which never moves, so they skip this."""
    if table.partition_by is None or table.partition_by in table.key:
        return scan
    key = ", ".join(quote_ident(k) for k in table.key)
    return (
        f"SELECT * FROM ({scan}) QUALIFY row_number() OVER "
        f"(PARTITION BY {key} ORDER BY updated_at DESC NULLS LAST, ingested_at DESC) = 1"
    )


class StagedTableRejected(Exception):
    """A model's new result failed validation and was discarded; the lake's table is as it was."""


def run_model(
    home: DataHome,
    model: Model,
    catalog: Catalog | None = None,
    *,
    incremental: bool = True,
    validate: Callable[[Path], bool] | None = None,
) -> int:
    """Compute a model from the lake and write it to ``lake/<layer>/<name>.parquet``; returns rows.

    With ``incremental`` (the default), a model that declares ``-- incremental: key=...`` is
    recomputed only from the earliest key new data can change, when the previous build allows it
    (see :mod:`ops_warehouse.lake.incremental`); the result is the same as a full rebuild.
    ``incremental=False`` always recomputes the whole table (and still records the build state).

    ``validate`` (the table's data contract) sees the new result in a staging file before it
    replaces the table; when it returns False the result is discarded, the table stays as it was,
    the next build recomputes the model in full, and :class:`StagedTableRejected` is raised. An
    unchanged table is validated where it is.
    """
    catalog = catalog or Catalog.load(home.catalog)
    check_settings(model, catalog)
    started = time.monotonic()
    progress.note(f"model {model.key}: started")
    reads = model.deps | model.rule_deps
    con = open_lake(
        home,
        catalog,
        raw={d for d in reads if not is_derived(d)},
        derived={d for d in reads if is_derived(d)},
        catalog_tables=model.catalog_reads,
    )
    declared = incremental_.declaration(model.sql)
    by_day = declared is not None and declared.partition == "day"
    target = incremental_.table_path(home, model.layer, model.name, declared)
    try:
        decision = incremental_.decide(home, con, discover_models(), model, catalog, assets_dir())
        if not incremental:
            decision.since, decision.unchanged, decision.reason = None, False, "full: asked for"
        incremental_.forget(home, model.key)
        if not decision.unchanged:
            select = _strip_semicolon(model.sql or "")
            if by_day:
                assert declared is not None
                if validate is not None:
                    raise ValueError(f"{model.key} is kept by day: a data contract on it is not supported")
                _run_by_day(home, con, model, declared, select, decision.since, target)
            else:
                if decision.since is not None:
                    con.execute("SET VARIABLE since = ?", [decision.since])
                    assert declared is not None  # a since is only decided for a model that declares its key
                    key = quote_ident(declared.key)
                    select = (
                        f"SELECT * FROM read_parquet({quote_literal(str(target))}) "
                        f"WHERE {key} < getvariable('since') "
                        f"UNION ALL BY NAME "
                        f"SELECT * FROM ({select}) WHERE {key} >= getvariable('since') OR {key} IS NULL"
                    )
                write_validated(
                    lambda path: atomic_copy(con, select, path, home.tmp), target, home.tmp, validate, model.key
                )
            incremental_.drop_other_layout(home, model.layer, model.name, by_day)
        elif validate is not None and not validate(target):
            raise StagedTableRejected(f"{model.key} failed validation")
        since = "unchanged" if decision.unchanged else incremental_.since_text(decision.since) or incremental_.FULL
        record_build(home, model, decision, since)
        counted = con.execute(f"SELECT count(*) FROM ({derived_read_sql(target)})").fetchone()
        rows = int(counted[0]) if counted else 0
        progress.note(f"model {model.key}: done, {rows:,} rows in {time.monotonic() - started:.1f}s")
        return rows
    finally:
        con.close()


def write_validated(
    write: Callable[[Path], T],
    target: Path,
    tmp_dir: Path,
    validate: Callable[[Path], bool] | None,
    key: str,
) -> T:
    """Write model ``key``'s table with ``write(path)`` (a file or a folder of days). Without
    ``validate`` it writes ``target`` itself; with it, the table is written to a staging path in
    ``tmp_dir`` and put in the place of ``target`` only when ``validate`` accepts it, else
    :class:`StagedTableRejected` is raised and ``target`` is left as it was."""
    if validate is None:
        return write(target)
    staged = tmp_dir / f"{target.stem}.{uuid.uuid4().hex}.staged.parquet"
    try:
        result = write(staged)
        if not validate(staged):
            raise StagedTableRejected(f"{key} failed validation; the table was left as it was")
        if staged.is_dir():
            replace_folder(staged, target, tmp_dir)
        else:
            replace_with(staged, target)
        return result
    finally:
        if staged.is_dir():
            shutil.rmtree(staged, ignore_errors=True)
        staged.unlink(missing_ok=True)


def record_build(home: DataHome, model: Model, decision: incremental_.Decision, since: str) -> None:
    """After ``model``'s table was written (or kept): its build state and how it ran."""
    incremental_.record(
        home,
        model.key,
        decision.target,
        decision.files,
        decision.fingerprint,
        decision.plan,
        since,
        upstream=sorted(d for d in model.deps if is_derived(d)),
    )
    LAST_DECISIONS[model.key] = decision.reason


# A span of a model kept by day reads about this many input rows (its ``chunks`` relation's rows
# of the span's days): the bound on what one query holds, whatever the history's length.
CHUNK_ROWS = int(os.environ.get("OPS_WAREHOUSE_CHUNK_ROWS", "6000000"))


def _spans(rows_by_day: dict[date, int], limit: int) -> list[tuple[date | None, date | None]]:
    """Consecutive days cut into spans of at most ``limit`` input rows (a day over it is a span of
    its own): ``(first day, next span's first day)``, the first open at its start (it begins at
    the build's ``since``) and the last at its end.

    >>> d = [date(2025, 1, n) for n in (1, 2, 3, 4)]
    >>> [(a and a.day, b and b.day) for a, b in _spans({d[0]: 3, d[1]: 3, d[2]: 7, d[3]: 1}, 6)]
    [(None, 3), (3, 4), (4, None)]
    >>> _spans({}, 6)
    [(None, None)]
    """
    cuts: list[date] = []
    held = 0
    for day in sorted(rows_by_day):
        n = rows_by_day[day]
        if held and held + n > limit:
            cuts.append(day)
            held = 0
        held += n
    bounds: list[date | None] = [None, *cuts, None]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _input_rows_by_day(home: DataHome, relation: str, first: date | None) -> dict[date, int]:
    """Rows per UTC day of a day-partitioned relation (a raw table, or a derived table kept by
    day), from the Parquet footers, for the days from ``first`` on."""
    import pyarrow.parquet as pq

    layer, name = relation.split(".", 1)
    if layer == "raw":
        files = {f.parent.name.split("=", 1)[1]: f for f in Lake(home).files(RAW_TABLES[name])}
    else:
        files = derived_day_files(home.lake / layer / name)
    out = {}
    for day, f in files.items():
        d = date.fromisoformat(day)
        if first is None or d >= first:
            out[d] = pq.read_metadata(f).num_rows
    return out


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _utc_day(t: datetime) -> date:
    return t.astimezone(UTC).date()


def _run_by_day(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    model: Model,
    declared: incremental_.Declaration,
    select: str,
    since: datetime | None,
    target: Path,
) -> None:
    """Write a model kept by day: the rows with ``key >= since`` (all of them when None),
    computed span by span (:func:`_spans` over the input rows of the declared ``chunks``
    relation). Each span sets the ``since`` and ``until`` variables the model's SQL reads and is
    written by one partitioned COPY, each of its days renamed into place; the first day of a span
    keeps the old rows before its ``since``. The model's span query (``<name>.span.sql``, see
    :func:`ops_warehouse.lake.incremental.span_start`) may move a span's start back (a firing
    still open) or set what the span reads (a counter's baseline). The days from the first
    recomputed one on that no span wrote are removed."""
    key = model.key
    first = None if since is None else _utc_day(since)
    rows_by_day = _input_rows_by_day(home, declared.chunks, first) if declared.chunks else {}
    written: set[str] = set()
    spans = _spans(rows_by_day, CHUNK_ROWS)
    for i, (lo, hi) in enumerate(spans):
        span_since = since if lo is None else _day_start(lo)
        until = None if hi is None else _day_start(hi)
        if model.span_sql:
            span_since = incremental_.span_start(con, model.span_sql, key, target, span_since, until)
        if span_since is not None:
            start = _utc_day(span_since)
            first = start if first is None or start < first else first
        if len(spans) > 1:
            progress.note(f"model {key}: days {lo or 'start'} to {hi or 'end'} ({i + 1}/{len(spans)})")
        written |= _write_span(home, con, declared.key, select, span_since, until, target)
    for name, f in derived_day_files(target).items():
        if name not in written and (since is None or (first is not None and date.fromisoformat(name) >= first)):
            f.unlink()
            f.parent.rmdir()
    empty = target / "empty.parquet"
    if derived_day_files(target):
        empty.unlink(missing_ok=True)
    elif not empty.exists():
        # an empty table keeps its columns: one file of no rows
        con.execute("SET VARIABLE since = NULL")
        con.execute("SET VARIABLE until = NULL")
        atomic_copy(con, f"SELECT * FROM ({select}) LIMIT 0", empty, home.tmp)


def _write_span(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    key_column: str,
    select: str,
    since: datetime | None,
    until: datetime | None,
    target: Path,
) -> set[str]:
    """The rows of ``[since, until)`` as day files of ``target`` (plus, in the day of ``since``,
    the old rows before it); returns the days written."""
    key = quote_ident(key_column)
    con.execute("SET VARIABLE since = ?", [since])
    con.execute("SET VARIABLE until = ?", [until])
    body = (
        f"SELECT * FROM ({select}) WHERE (getvariable('since') IS NULL OR {key} >= getvariable('since')) "
        f"AND (getvariable('until') IS NULL OR {key} < getvariable('until'))"
    )
    if since is not None:
        kept = derived_day_files(target).get(_utc_day(since).isoformat())
        if kept is not None:
            body = (
                f"SELECT * FROM read_parquet({quote_literal(str(kept))}, hive_partitioning = false) "
                f"WHERE {key} < getvariable('since') "
                f"UNION ALL BY NAME {body}"
            )
    home.tmp.mkdir(parents=True, exist_ok=True)
    scratch = home.tmp / f"{target.name}.{uuid.uuid4().hex}.days"
    try:
        con.execute(
            # the day as a DATE (not text): cheaper to compute per row and to partition on
            f"COPY (SELECT *, CAST(timezone('UTC', {key}) AS DATE) AS _day FROM ({body})) "
            f"TO {quote_literal(str(scratch))} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (_day))"
        )
        if (scratch / f"_day={NULL_PARTITION}").exists():  # before any day is put in place
            raise ValueError(f"{target.name} is kept by day but has rows without a {key_column}")
        days: set[str] = set()
        for folder in sorted(scratch.glob("_day=*")) if scratch.exists() else []:
            day = folder.name.split("=", 1)[1]
            parts = sorted(folder.glob("*.parquet"))
            one = parts[0]
            if len(parts) > 1:  # the writer closed and reopened the day: join its files
                one = folder / "joined.parquet"
                files = "[" + ", ".join(quote_literal(str(p)) for p in parts) + "]"
                con.execute(
                    f"COPY (SELECT * FROM read_parquet({files}, hive_partitioning = false)) "
                    f"TO {quote_literal(str(one))} "
                    "(FORMAT parquet, COMPRESSION zstd)"
                )
            replace_with(one, target / f"day={day}" / PART)
            days.add(day)
        return days
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# the folder name DuckDB's partitioned COPY gives rows whose partition value is NULL
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


# how each model ran in this process's latest build: "full: ...", "unchanged", "incremental from ..."
LAST_DECISIONS: dict[str, str] = {}


def _strip_semicolon(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


def build_models(home: DataHome, catalog: Catalog | None = None, *, incremental: bool = True) -> dict[str, int]:
    """Run every model in dependency order without Dagster (tests and scenario checks).

    The product's ``build`` runs the same :func:`run_model` calls as Dagster assets.
    """
    catalog = catalog or Catalog.load(home.catalog)
    return {m.key: run_model(home, m, catalog, incremental=incremental) for m in topological(discover_models())}
