"""Incremental rebuilds: recompute only the tail of a table that new data can change.

A model opts in with a header line ``-- incremental: key=<column> [grain=week]`` and a *since
rule* beside it, ``assets/models/<layer>/<name>.since.sql`` (see below). Every other model is
always rebuilt whole. ``partition=day chunks=<relation>`` adds that the table is kept as one file
per UTC day of its key and computed in spans of days sized by the rows of ``<relation>`` (see
``ops_warehouse.lake.models._run_by_day``): its incremental runs rewrite only the days from
``since`` on. A model kept by day may also have a *span rule*, ``<name>.span.sql``. A declared
model without its since file, or a rule file beside no such model, stops model discovery.

Build state (``lake/_build_state.json``) records, per model, the raw data it was built against
(a digest of every raw Parquet file's identity: files are only ever replaced whole, so a changed
file is where new or newer rows are) and a fingerprint of everything that is not data: every
file under ``assets/models`` (models and their rules: a changed rule forces one full rebuild),
the benchmark files and the catalog with its settings.

A build is planned once, by the first model that runs after new data arrived
(``lake/_build/plan.json``): when every model was last built against the same data and
fingerprint (the previous build completed), the plan records that data as its *base*, the lake's
current files as its *target*, and hard-links every derived table as it stands into
``lake/_build/base/`` (the tables "before"). Anything else (no state, a changed catalog or model,
a half-finished previous build, data arriving during the build) means a full rebuild.

Under a plan, a model's ``since`` is the earliest value of its time key that the new data can
change, found by its since rule from exact evidence, not from guessed windows:

- the rows of raw files new or replaced since the base (and every stored version of their keys,
  so a key that moved to another day counts at both days), and
- the rows of upstream tables that differ before and after (symmetric difference; an incremental
  upstream only differs at or after its own ``since``),

widened by the model's declared reach (attribution window, the deployment a rollback marks, the
commits a deployment can ship, the 12-week tier periods). Late data is simply early evidence: it
moves ``since`` back as far as needed. The runner then keeps the old rows with ``key < since``,
recomputes the rows with ``key >= since`` (the SQL reads ``getvariable('since')``; NULL means all)
and writes both as the new table, atomically.

**A since rule** is one DuckDB query, run on the model's connection (every ``raw``, ``core``,
``marts`` and ``catalog`` relation, read as after the upstreams ran, and the variables models
read, e.g. ``getvariable('attribution_window_hours')``), returning one row of one column:

- NULL: nothing the model reads changed, the table is kept as it is;
- ``TIMESTAMPTZ '-infinity'`` (:data:`REBUILD`): the table is rebuilt whole;
- else the earliest key value to recompute (a ``grain=week`` key is then truncated to its week).

The evidence is relations in fixed schemas, created before the query runs (only the ones it
reads, found by sqlglot's parse of it) and dropped after it:

- ``touched.<raw table>``: the rows of the raw files new or replaced since the plan's base;
- ``versions.<raw table>``: every stored version of the raw table's rows (no dedup on the key);
- ``before.<layer>_<name>``: a model's table as it stood before this build (``core.x`` is after);
- ``changed.<layer>_<name>``: the rows of a model's table that differ before and after, with a
  ``_side`` column ('before' or 'after'), compared from that upstream's own since (on its key);
  computed once into a table. A line ``-- compare: <layer>.<name>(col, ...)`` in the since file
  compares only those columns (the ones the model reads), every column otherwise;
- ``plan.upstream_since(model, since)``: for every model, the since it used in this build, in the
  same encoding (NULL kept, ``-infinity`` rebuilt whole; a week's date at UTC midnight).

**A span rule** (models kept by day) is one query run before each span of days, with the
``since`` and ``until`` variables set to the span's (NULL: open): its one row's ``since`` column is
where the span starts (earlier than its ``since`` to recompute a firing still open) and every
other column is set as a variable of that name for the model (``sli_samples_from``). It may read
the model's own table as the earlier spans left it (while it does not exist, the span starts at
its ``since`` and the query is not run).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.catalog import Catalog
from ops_warehouse.duck import quote_ident, quote_literal
from ops_warehouse.fileio import locked, write_text
from ops_warehouse.home import DataHome
from ops_warehouse.lake.store import PART, Lake, derived_location, derived_read_sql, typed_scan
from ops_warehouse.tables import RAW_TABLES

STATE_FILE = "_build_state.json"
BUILD_DIR = "_build"
FORMAT = 1  # bump when the incremental logic changes: forces one full rebuild
_DECL = re.compile(r"^\s*--\s*incremental:\s*(.+)$", re.MULTILINE)
FULL = "full"
# what a since query returns to ask for a whole rebuild (NULL: nothing it reads changed)
REBUILD = "-infinity"


@dataclass(frozen=True)
class Declaration:
    key: str
    grain: str | None = None  # "week": the key is a week_start DATE
    partition: str | None = None  # "day": kept as one file per UTC day of the key
    chunks: str | None = None  # the day-partitioned relation whose rows size the spans


def declaration(sql: str | None) -> Declaration | None:
    """The ``-- incremental: key=...`` header of a model's SQL, if any."""
    if not sql:
        return None
    m = _DECL.search(sql)
    if not m:
        return None
    fields = dict(part.split("=", 1) for part in m.group(1).split() if "=" in part)
    if "key" not in fields:
        raise ValueError(f"incremental header needs key=: {m.group(0).strip()}")
    unknown = sorted(set(fields) - {"key", "grain", "partition", "chunks"})
    if unknown:
        hint = " (a model's rule is its <name>.since.sql file)" if "rule" in unknown else ""
        raise ValueError(f"incremental header: unknown field {', '.join(unknown)}{hint}: {m.group(0).strip()}")
    if fields.get("partition") not in (None, "day"):
        raise ValueError(f"unknown partition {fields['partition']!r} (known: day)")
    return Declaration(fields["key"], fields.get("grain"), fields.get("partition"), fields.get("chunks"))


def table_path(home: DataHome, layer: str, name: str, decl: Declaration | None) -> Path:
    """Where a model's table is kept: the folder of days of a ``partition=day`` model, else one file."""
    if decl is not None and decl.partition == "day":
        return home.lake / layer / name
    return home.lake / layer / f"{name}.parquet"


def drop_other_layout(home: DataHome, layer: str, name: str, by_day: bool) -> None:
    """After a table was written in its layout, remove a copy of it left in the other one (a model
    that started or stopped being kept by day)."""
    if by_day:
        (home.lake / layer / f"{name}.parquet").unlink(missing_ok=True)
    else:
        shutil.rmtree(home.lake / layer / name, ignore_errors=True)


# ---------------------------------------------------------------------------------------- state


def _state_path(home: DataHome) -> Path:
    return home.lake / STATE_FILE


def _build_dir(home: DataHome) -> Path:
    return home.lake / BUILD_DIR


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_json(home: DataHome, path: Path, doc: dict[str, Any]) -> None:
    write_text(path, json.dumps(doc, indent=1, sort_keys=True), home.tmp)


def _locked(home: DataHome) -> AbstractContextManager[None]:
    """The build lock: one process at a time plans a build or records its state."""
    return locked(home.lake / ".build.lock")


def lake_files(home: DataHome) -> dict[str, dict[str, str]]:
    """Per raw table, each stored file (path under the lake) with its identity: inode, size and
    mtime. Files are only ever replaced whole by rename, so a file whose identity changed holds
    rows that may be new. (Comparing files, not a greatest ingested_at, also catches an ingest
    that stamped its rows earlier than another's but committed after it.)"""
    lake = Lake(home)
    root = str(home.lake)
    out: dict[str, dict[str, str]] = {}
    for name, table in RAW_TABLES.items():
        # every model of a build lists these (thousands of day files): plain os calls on strings,
        # not pathlib's glob, sort and relative_to
        # (and paths joined as text: os.path.join cost as much as the stat)
        folder = os.path.relpath(lake.table_dir(table), root)
        if table.partition_by is None:
            candidates = [f"{folder}{os.sep}{PART}"]
        else:
            try:
                with os.scandir(f"{root}{os.sep}{folder}") as it:
                    days = sorted(e.name for e in it if e.name.startswith("day=") and e.is_dir())
            except FileNotFoundError:
                days = []
            candidates = [f"{folder}{os.sep}{day}{os.sep}{PART}" for day in days]
        files = {}
        for rel in candidates:
            try:
                st = os.stat(f"{root}{os.sep}{rel}")
            except FileNotFoundError:
                continue
            files[rel] = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
        out[name] = files
    return out


def _digest(files: dict[str, dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def fingerprint(models: dict[str, Any], catalog: Catalog, assets: Path) -> str:
    h = hashlib.sha256(f"format {FORMAT}\n".encode())
    for key in sorted(models):
        m = models[key]
        h.update(key.encode())
        h.update((m.sql or "").encode())
    data = sorted((assets / "benchmarks").glob("*.csv")) + sorted((assets / "slo").glob("*.csv"))
    for f in sorted((assets / "models").rglob("*.sql")) + data:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    h.update(json.dumps(catalog.settings, sort_keys=True, default=str).encode())
    h.update(json.dumps(catalog.tables(), sort_keys=True, default=str).encode())
    return h.hexdigest()


@dataclass
class Decision:
    """How to run one model: ``since`` None = full; ``unchanged`` = keep the table as it is."""

    plan: dict[str, Any] | None
    target: str
    files: dict[str, dict[str, str]]
    fingerprint: str
    since: Any = None
    unchanged: bool = False
    reason: str = "full"


def full_decision(models: dict[str, Any], home: DataHome, catalog: Catalog, assets: Path, reason: str) -> Decision:
    """A full rebuild against the lake as it is now, planned by no one (an engine that always
    rebuilds whole)."""
    files = lake_files(home)
    return Decision(
        plan=None, target=_digest(files), files=files, fingerprint=fingerprint(models, catalog, assets), reason=reason
    )


def decide_plan(
    home: DataHome,
    con: duckdb.DuckDBPyConnection,
    models: dict[str, Any],
    model_key: str,
    catalog: Catalog,
    assets: Path,
) -> tuple[dict[str, Any] | None, str, str, dict[str, dict[str, str]]]:
    """The plan this model runs under (or None: full rebuild), the current data digest, the
    fingerprint and the current raw files."""
    fp = fingerprint(models, catalog, assets)
    files = lake_files(home)
    current = _digest(files)
    with _locked(home):
        state = _read_json(_state_path(home)) or {}
        done = state.get("models", {})
        plan = _read_json(_build_dir(home) / "plan.json")
        if plan and plan.get("target") == current and plan.get("fingerprint") == fp:
            mine = done.get(model_key)
            others_ok = all(
                (done.get(k) or {}).get("watermarks") in (plan["base"], plan["target"])
                and (done.get(k) or {}).get("fingerprint") == fp
                for k in models
            )
            if mine and mine.get("watermarks") == plan["base"] and others_ok:
                return plan, current, fp, files
            if not all((done.get(k) or {}).get("watermarks") == current for k in models):
                return None, current, fp, files
            # the plan's build completed and nothing arrived since: plan again (nothing to do)
        # a new plan: only when every model was last built against the same data and definitions
        entries = [done.get(k) for k in models]
        if not entries or any(e is None or e.get("fingerprint") != fp for e in entries):
            return None, current, fp, files
        base = entries[0]["watermarks"]
        if any(e["watermarks"] != base for e in entries):
            return None, current, fp, files
        base_files = (state.get("files") or {}).get(base)
        if base_files is None:
            return None, current, fp, files
        plan = _new_plan(home, models, base, current, fp, base_files)
        return plan, current, fp, files


def _new_plan(
    home: DataHome, models: dict[str, Any], base: str, target: str, fp: str, base_files: dict
) -> dict[str, Any]:
    d = _build_dir(home)
    shutil.rmtree(d, ignore_errors=True)
    (d / "base").mkdir(parents=True, exist_ok=True)
    for key in models:
        layer, name = key.split(".", 1)
        src = derived_location(home.lake, layer, name)
        if src.exists():
            dst = d / "base" / layer / src.name
            dst.parent.mkdir(parents=True, exist_ok=True)
            # the build replaces files by rename, so a link keeps the old one
            if src.is_dir():
                shutil.copytree(src, dst, copy_function=_link_or_copy)
            else:
                _link_or_copy(src, dst)
    plan = {
        "id": uuid.uuid4().hex,
        "base": base,
        "target": target,
        "base_files": base_files,
        "fingerprint": fp,
        "created_at": datetime.now(UTC).isoformat(),
        "since": {},
    }
    _write_json(home, d / "plan.json", plan)
    return plan


def _link_or_copy(src: str | Path, dst: str | Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def record(
    home: DataHome,
    model_key: str,
    digest: str,
    files: dict,
    fp: str,
    plan: dict | None,
    since: Any,
    upstream: list[str] | tuple[str, ...] = (),
) -> None:
    """After a model was written: its new state, and (under a plan) the since it used.

    A model is only as current as its inputs: when an upstream model was last built against other
    data (new data landed in the middle of a build, after the upstream ran), the model records the
    upstream's older data, so the next build recomputes it from there."""
    with _locked(home):
        state = _read_json(_state_path(home)) or {}
        models = state.setdefault("models", {})
        effective = digest
        for key in upstream:
            seen = (models.get(key) or {}).get("watermarks")
            if seen != digest:
                effective = seen
                break
        models[model_key] = {
            "watermarks": effective,
            "fingerprint": fp,
            "built_at": datetime.now(UTC).isoformat(),
        }
        # the raw files behind each digest still in use (the base of the next plan)
        known = state.setdefault("files", {})
        if effective == digest:
            known[digest] = files
        used = {m.get("watermarks") for m in state["models"].values() if isinstance(m.get("watermarks"), str)}
        state["files"] = {d: f for d, f in known.items() if d in used}
        _write_json(home, _state_path(home), state)
        if plan is not None:
            path = _build_dir(home) / "plan.json"
            current = _read_json(path)
            if current and current.get("id") == plan["id"]:
                current["since"][model_key] = since
                _write_json(home, path, current)
                plan["since"] = current["since"]


def forget(home: DataHome, model_key: str) -> None:
    """A model that failed midway has no trustworthy state: the next build of it is full."""
    with _locked(home):
        state = _read_json(_state_path(home)) or {}
        if state.get("models", {}).pop(model_key, None) is not None:
            _write_json(home, _state_path(home), state)


# ---------------------------------------------------------------------------------------- evidence

# The schemas of the relations a since query (and a span query) reads besides the lake's own.
EVIDENCE_SCHEMAS = ("touched", "versions", "before", "changed", "plan")
_COMPARE = re.compile(r"^\s*--\s*compare:\s*(\w+\.\w+)\s*\(([^)]*)\)\s*$", re.MULTILINE)


def evidence_read(sql: str) -> set[tuple[str, str]]:
    """The evidence relations ``(schema, name)`` a since query reads, from sqlglot's parse of it.

    >>> sorted(evidence_read("SELECT min(t) FROM touched.alerts, before.core_x, core.y, plan.upstream_since"))
    [('before', 'core_x'), ('plan', 'upstream_since'), ('touched', 'alerts')]
    """
    return {(schema, name) for schema, name in _tables(sql) if schema in EVIDENCE_SCHEMAS}


@functools.lru_cache(maxsize=256)
def _tables(sql: str) -> frozenset[tuple[str, str]]:
    """Every ``schema.name`` relation a query reads (lower case; CTE names have no schema)."""
    import sqlglot
    from sqlglot import exp

    out: set[tuple[str, str]] = set()
    for statement in sqlglot.parse(sql, read="duckdb"):
        if statement is None:
            continue
        for table in statement.find_all(exp.Table):
            if table.db and table.name:
                out.add((table.db.lower(), table.name.lower()))
    return frozenset(out)


def compared_columns(sql: str) -> dict[str, list[str]]:
    """A since file's ``-- compare: <layer>.<name>(col, ...)`` lines: the columns its
    ``changed.<layer>_<name>`` relation compares (every column when the upstream has no line).

    >>> compared_columns("-- compare: core.incidents(incident_id, created_at)\\nSELECT 1")
    {'core.incidents': ['incident_id', 'created_at']}
    """
    return {m.group(1).lower(): [c.strip() for c in m.group(2).split(",") if c.strip()] for m in _COMPARE.finditer(sql)}


def model_key(relation: str) -> str:
    """``core_deployments`` -> ``core.deployments`` (the name of a model's relation in an evidence
    schema)."""
    layer, _, name = relation.partition("_")
    if layer not in ("core", "marts") or not name:
        raise ValueError(f"evidence relation {relation!r}: expected <layer>_<name> with layer core or marts")
    return f"{layer}.{name}"


def _since_sql(v: Any) -> str:
    """The plan's record of the since an upstream used, as the since encoding of a rule: NULL
    (unchanged), '-infinity' (rebuilt whole) or the time (a week's date at UTC midnight)."""
    if v == "unchanged":
        return "NULL::TIMESTAMPTZ"
    if v == FULL:
        return f"TIMESTAMPTZ {quote_literal(REBUILD)}"
    return f"CAST({_lit(v)} AS TIMESTAMPTZ)"


class Evidence:
    """The evidence relations of one plan, created on the model's connection for one since query."""

    def __init__(self, home: DataHome, con: duckdb.DuckDBPyConnection, plan: dict[str, Any], models: dict[str, Any]):
        self.home, self.con, self.plan, self.models = home, con, plan, models
        self.lake = Lake(home)

    def before_sql(self, key: str) -> str:
        layer, name = key.split(".", 1)
        return derived_read_sql(derived_location(_build_dir(self.home) / "base", layer, name))

    def after_sql(self, key: str) -> str:
        layer, name = key.split(".", 1)
        return derived_read_sql(derived_location(self.home.lake, layer, name))

    def upstream_since(self, key: str) -> Any:
        """The since an upstream model used in this plan: a value, FULL, or 'unchanged'."""
        return self.plan["since"].get(key, FULL)

    def touched_sql(self, table: str) -> str:
        """The rows of the raw files that are new or replaced since the plan's base."""
        base = self.plan["base_files"].get(table, {})
        now = lake_files(self.home)[table]
        changed = [self.home.lake / rel for rel, sig in sorted(now.items()) if base.get(rel) != sig]
        return typed_scan(RAW_TABLES[table], changed)

    def diff_sql(self, key: str, cols: list[str]) -> str:
        """Rows of an upstream table that differ before and after (both sides, ``_side`` says which),
        over ``cols``. An incremental upstream differs only at or after its since (on its key), so
        only that tail is compared; an unchanged one not at all."""
        s = self.upstream_since(key)
        sel = ", ".join(cols)
        if s == "unchanged":
            return f"SELECT {sel}, 'before' AS _side FROM ({self.before_sql(key)}) WHERE false"
        cond = "true"
        if s != FULL:
            decl = declaration(self.models[key].sql)
            if decl is None:
                raise ValueError(f"{key} used since {s!r} but declares no incremental key")
            col = quote_ident(decl.key)
            cond = f"({col} >= {_lit(s)} OR {col} IS NULL)"
        b = f"SELECT {sel} FROM ({self.before_sql(key)}) WHERE {cond}"
        a = f"SELECT {sel} FROM ({self.after_sql(key)}) WHERE {cond}"
        return (
            f"(SELECT *, 'before' AS _side FROM ({b} EXCEPT ALL {a})) "
            f"UNION ALL (SELECT *, 'after' AS _side FROM ({a} EXCEPT ALL {b}))"
        )

    def _create(self, schema: str, name: str, compare: dict[str, list[str]]) -> None:
        rel = f"{schema}.{quote_ident(name)}"
        if schema in ("touched", "versions"):
            if name not in RAW_TABLES:
                raise ValueError(f"{schema}.{name}: no raw table {name!r}")
            sql = self.touched_sql(name) if schema == "touched" else self.lake.scan_sql(RAW_TABLES[name])
            self.con.execute(f"CREATE VIEW {rel} AS {sql}")
        elif schema == "before":
            self.con.execute(f"CREATE VIEW {rel} AS {self.before_sql(model_key(name))}")
        elif schema == "changed":
            key = model_key(name)
            self.con.execute(f"CREATE TABLE {rel} AS {self.diff_sql(key, compare.get(key, ['*']))}")
        elif name == "upstream_since":
            rows = " UNION ALL ".join(
                f"SELECT {quote_literal(k)} AS model, {_since_sql(self.upstream_since(k))} AS since"
                for k in sorted(self.models)
            )
            self.con.execute(f"CREATE TABLE {rel} AS {rows}")
        else:
            raise ValueError(f"unknown evidence relation {schema}.{name} (plan has: upstream_since)")

    def since(self, sql: str) -> Any:
        """Run a since query: None (nothing it reads changed), FULL, or the earliest key to
        recompute. Only the evidence relations the query reads are created, in their schemas,
        and dropped afterwards (``changed.*`` are computed once into tables: rules read them
        several times)."""
        reads = evidence_read(sql)
        compare = compared_columns(sql)
        schemas = sorted({schema for schema, _ in reads})
        try:
            for schema in schemas:
                self.con.execute(f"CREATE SCHEMA {schema}")
            for schema, name in sorted(reads):
                self._create(schema, name, compare)
            return _since_value(self.con, sql)
        finally:
            for schema in schemas:
                self.con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _since_value(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """The value of a since query (one row, one column): None, FULL or the time."""
    rel = con.sql(_strip(sql))
    if len(rel.columns) != 1:
        raise ValueError(f"a since query returns one column, not {rel.columns}")
    rows = con.execute(
        f"SELECT s IS NULL, CASE WHEN isinf(s) THEN CAST(s AS VARCHAR) NOT LIKE '-%' END, "
        f"CASE WHEN NOT isinf(s) THEN s END FROM ({_strip(sql)}) AS q(s)"
    ).fetchall()
    if len(rows) != 1:
        raise ValueError(f"a since query returns one row, not {len(rows)}")
    is_null, positive_infinity, value = rows[0]
    if is_null:
        return None
    if positive_infinity is not None:
        if positive_infinity:
            raise ValueError(f"a since query returned 'infinity': use NULL (nothing changed) or {REBUILD!r}")
        return FULL
    return value


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";").strip()


def _lit(v: Any) -> str:
    """A SQL literal for a since value stored in the plan (ISO timestamp or date text)."""
    if isinstance(v, str) and len(v) == 10:
        return f"DATE {quote_literal(v)}"
    return f"TIMESTAMPTZ {quote_literal(str(v))}"


def span_start(con: duckdb.DuckDBPyConnection, span_sql: str, own: str, target: Path, since: Any, until: Any) -> Any:
    """Run a model's span query before a span ``[since, until)`` of a model kept by day: the
    ``since`` and ``until`` variables are the span's; the query's one row gives the span's start
    (its ``since`` column) and sets every other column as a variable of that name for the model.
    The model's own table ``own`` reads as it stands (the days earlier spans wrote); while it does
    not exist yet, a query that reads it is not run and the span starts at ``since``."""
    layer, name = own.split(".", 1)
    if (layer, name) in _tables(span_sql):
        if not target.exists():
            return since
        con.execute(f"CREATE OR REPLACE VIEW {layer}.{quote_ident(name)} AS {derived_read_sql(target)}")
    con.execute("SET VARIABLE since = ?", [since])
    con.execute("SET VARIABLE until = ?", [until])
    con.execute(f"CREATE OR REPLACE TEMP TABLE _span AS {_strip(span_sql)}")
    try:
        cols = [r[0] for r in con.execute("DESCRIBE _span").fetchall()]
        rows = con.execute("SELECT count(*) FROM _span").fetchone()
        if "since" not in cols or rows is None or rows[0] != 1:
            raise ValueError(f"{own}: its span query returns one row with a since column")
        for col in cols:
            if col != "since":
                con.execute(f"SET VARIABLE {quote_ident(col)} = (SELECT {quote_ident(col)} FROM _span)")
        got = con.execute("SELECT since FROM _span").fetchone()
        return got[0] if got else since
    finally:
        con.execute("DROP TABLE IF EXISTS _span")


def decide(
    home: DataHome, con: duckdb.DuckDBPyConnection, models: dict[str, Any], model: Any, catalog: Catalog, assets: Path
) -> Decision:
    """Decide how to run ``model`` in this build (``con`` is the model's lake connection)."""
    decl = declaration(model.sql)
    plan, current, fp, files = decide_plan(home, con, models, model.key, catalog, assets)
    out = Decision(plan=plan, target=current, files=files, fingerprint=fp)
    if plan is None:
        out.reason = "full: no comparable previous build"
        return out
    target = table_path(home, model.layer, model.name, decl)
    if decl is None or not target.exists():
        out.reason = "full: not incremental"
        return out
    if not model.since_sql:
        raise ValueError(f"{model.key} declares an incremental key but has no since query")
    since = Evidence(home, con, plan, models).since(model.since_sql)
    if since == FULL:
        out.reason = "full: rule asked for it"
        return out
    if since is None:
        out.unchanged, out.reason = True, "unchanged"
        return out
    if decl.grain == "week":
        since = con.execute(
            "SELECT CAST(date_trunc('week', timezone('UTC', ?::TIMESTAMPTZ)) AS DATE)", [since]
        ).fetchone()[0]
    out.since, out.reason = since, f"incremental from {since}"
    return out


def since_text(v: Any) -> Any:
    """A since value as stored in the plan (JSON)."""
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.astimezone(UTC).isoformat()
    return v.isoformat()
