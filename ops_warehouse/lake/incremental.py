"""Incremental rebuilds: recompute only the tail of a table that new data can change.

A model opts in with a header line ``-- incremental: key=<column> [grain=week] rule=<name>``.
Every other model is always rebuilt whole. ``partition=day chunks=<relation>`` adds that the table
is kept as one file per UTC day of its key and computed in spans of days sized by the rows of
``<relation>`` (see ``ops_warehouse.lake.models._run_by_day``): its incremental runs rewrite only
the days from ``since`` on.

Build state (``lake/_build_state.json``) records, per model, the raw data it was built against
(a digest of every raw Parquet file's identity: files are only ever replaced whole, so a changed
file is where new or newer rows are) and a fingerprint of everything that is not data: every
model's SQL, the benchmark files and the catalog with its settings.

A build is planned once, by the first model that runs after new data arrived
(``lake/_build/plan.json``): when every model was last built against the same data and
fingerprint (the previous build completed), the plan records that data as its *base*, the lake's
current files as its *target*, and hard-links every derived table as it stands into
``lake/_build/base/`` (the tables "before"). Anything else (no state, a changed catalog or model,
a half-finished previous build, data arriving during the build) means a full rebuild.

Under a plan, a model's ``since`` is the earliest value of its time key that the new data can
change, found by its rule from exact evidence, not from guessed windows:

- the rows of raw files new or replaced since the base (and every stored version of their keys,
  so a key that moved to another day counts at both days), and
- the rows of upstream tables that differ before and after (symmetric difference; an incremental
  upstream only differs at or after its own ``since``),

widened by the model's declared reach (attribution window, the deployment a rollback marks, the
commits a deployment can ship, the 12-week tier periods). Late data is simply early evidence: it
moves ``since`` back as far as needed. The runner then keeps the old rows with ``key < since``,
recomputes the rows with ``key >= since`` (the SQL reads ``getvariable('since')``; NULL means all)
and writes both as the new table, atomically.
"""

from __future__ import annotations

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
from ops_warehouse.duck import quote_literal
from ops_warehouse.fileio import locked, write_text
from ops_warehouse.home import DataHome
from ops_warehouse.lake.store import PART, Lake, derived_location, derived_read_sql, typed_scan
from ops_warehouse.tables import RAW_TABLES

STATE_FILE = "_build_state.json"
BUILD_DIR = "_build"
FORMAT = 1  # bump when the incremental logic changes: forces one full rebuild
_DECL = re.compile(r"^\s*--\s*incremental:\s*(.+)$", re.MULTILINE)
FULL = "full"


@dataclass(frozen=True)
class Declaration:
    key: str
    rule: str
    grain: str | None = None  # "week": the key is a week_start DATE
    partition: str | None = None  # "day": kept as one file per UTC day of the key
    chunks: str | None = None  # the day-partitioned relation whose rows size the spans


def declaration(sql: str | None) -> Declaration | None:
    """The ``-- incremental: key=... rule=...`` header of a model's SQL, if any."""
    if not sql:
        return None
    m = _DECL.search(sql)
    if not m:
        return None
    fields = dict(part.split("=", 1) for part in m.group(1).split() if "=" in part)
    if "key" not in fields or "rule" not in fields:
        raise ValueError(f"incremental header needs key= and rule=: {m.group(0).strip()}")
    if fields["rule"] not in RULES:
        raise ValueError(f"unknown incremental rule {fields['rule']!r}")
    if fields.get("partition") not in (None, "day"):
        raise ValueError(f"unknown partition {fields['partition']!r} (known: day)")
    return Declaration(
        fields["key"], fields["rule"], fields.get("grain"), fields.get("partition"), fields.get("chunks")
    )


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
        folder = os.path.relpath(lake.table_dir(table), root)
        if table.partition_by is None:
            candidates = [os.path.join(folder, PART)]
        else:
            try:
                with os.scandir(os.path.join(root, folder)) as it:
                    days = sorted(e.name for e in it if e.name.startswith("day=") and e.is_dir())
            except FileNotFoundError:
                days = []
            candidates = [os.path.join(folder, day, PART) for day in days]
        files = {}
        for rel in candidates:
            try:
                st = os.stat(os.path.join(root, rel))
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


class Evidence:
    """SQL helpers over the lake for one plan: touched raw rows, tables before and after."""

    def __init__(self, home: DataHome, con: duckdb.DuckDBPyConnection, plan: dict[str, Any]):
        self.home, self.con, self.plan = home, con, plan
        self.lake = Lake(home)
        self._temp: dict[str, str] = {}

    def materialize(self, sql: str) -> str:
        """Compute a query once into a temp table (rules reuse their evidence several times)."""
        if sql not in self._temp:
            name = f"_evidence_{len(self._temp)}"
            self.con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
            self._temp[sql] = name
        return f"SELECT * FROM {self._temp[sql]}"

    def scan(self, table: str) -> str:
        """Every stored version of a raw table's rows (no dedup on the key)."""
        return self.lake.scan_sql(RAW_TABLES[table])

    def touched(self, table: str) -> str:
        """The rows of the raw files that are new or replaced since the plan's base."""
        base = self.plan["base_files"].get(table, {})
        now = lake_files(self.home)[table]
        changed = [self.home.lake / rel for rel, sig in sorted(now.items()) if base.get(rel) != sig]
        return typed_scan(RAW_TABLES[table], changed)

    def before(self, key: str) -> str:
        layer, name = key.split(".", 1)
        return derived_read_sql(derived_location(_build_dir(self.home) / "base", layer, name))

    def after(self, key: str) -> str:
        layer, name = key.split(".", 1)
        return derived_read_sql(derived_location(self.home.lake, layer, name))

    def upstream_since(self, key: str) -> Any:
        """The since an upstream model used in this plan: a value, FULL, or 'unchanged'."""
        return self.plan["since"].get(key, FULL)

    def diff(self, key: str, key_col: str, cols: list[str]) -> str:
        """Rows of an upstream table that differ before and after (both sides, ``_side`` says which).
        An incremental upstream differs only at or after its since, so only that tail is compared."""
        s = self.upstream_since(key)
        if s == "unchanged":
            sel = ", ".join(cols)
            return f"SELECT {sel}, 'before' AS _side FROM ({self.before(key)}) WHERE false"
        cond = "true" if s == FULL else f"({key_col} >= {_lit(s)} OR {key_col} IS NULL)"
        sel = ", ".join(cols)
        b = f"SELECT {sel} FROM ({self.before(key)}) WHERE {cond}"
        a = f"SELECT {sel} FROM ({self.after(key)}) WHERE {cond}"
        return self.materialize(
            f"(SELECT *, 'before' AS _side FROM ({b} EXCEPT ALL {a})) "
            f"UNION ALL (SELECT *, 'after' AS _side FROM ({a} EXCEPT ALL {b}))"
        )

    def value(self, sql: str) -> Any:
        return self.con.execute(sql).fetchone()[0]


def _lit(v: Any) -> str:
    """A SQL literal for a since value stored in the plan (ISO timestamp or date text)."""
    if isinstance(v, str) and len(v) == 10:
        return f"DATE {quote_literal(v)}"
    return f"TIMESTAMPTZ {quote_literal(str(v))}"


def _min(*parts: str) -> str:
    """The least of several one-column queries (NULLs ignored)."""
    return "SELECT min(t) FROM (" + " UNION ALL ".join(f"SELECT min(t) AS t FROM ({p})" for p in parts) + ")"


# ---------------------------------------------------------------------------------------- rules
# Each rule returns the earliest time (TIMESTAMPTZ) the new evidence can change in the model's key,
# None when nothing can change, or FULL.


def _prod_changes(ev: Evidence) -> str:
    """Successful production deployments that differ before/after (added, removed or changed)."""
    d = ev.diff("core.deployments", "finished_at", ["*"])
    return ev.materialize(f"SELECT * FROM ({d}) WHERE is_production AND status = 'success'")


def _previous_success(ev: Evidence) -> str:
    """Per service with a changed production success, the latest unchanged success before the
    earliest change: what a changed rollback (or a deployment inserted before a rollback) can mark."""
    return f"""
        SELECT max(p.finished_at) AS t
        FROM (SELECT service, min(finished_at) AS first_change FROM ({_prod_changes(ev)}) GROUP BY service) AS c
        JOIN ({ev.before("core.deployments")}) AS p
          ON p.service = c.service AND p.is_production AND p.status = 'success' AND p.finished_at < c.first_change
        GROUP BY c.service
    """


def rule_deployments(ev: Evidence) -> Any:
    """core.deployments, key finished_at. A deployment's row depends only on its own raw row and its
    statuses: the earliest of every time those (all versions) and its old row carry."""
    ids = ev.materialize(
        f"SELECT deploy_id FROM ({ev.touched('deployments')}) UNION SELECT deploy_id FROM ({ev.touched('deployment_statuses')})"  # noqa: E501
    )
    return ev.value(
        _min(
            f"SELECT least(started_at, finished_at) AS t FROM ({ev.scan('deployments')}) WHERE deploy_id IN ({ids})",
            f"SELECT created_at AS t FROM ({ev.scan('deployment_statuses')}) WHERE deploy_id IN ({ids})",
            f"SELECT finished_at AS t FROM ({ev.before('core.deployments')}) WHERE deploy_id IN ({ids})",
        )
    )


def rule_changes(ev: Evidence) -> Any:
    """core.changes, key authored_at. A commit's row changes when its raw rows or its pull request
    change, or when the successful production deployments that can ship it change: one whose sha is
    the commit or its PR's merge commit, its explicit or current deployment, or (first deployment
    finishing at or after the merge) any commit of the service merged since the latest unchanged
    deployment before the earliest changed one."""
    prod = _prod_changes(ev)
    # pull requests touched, or whose merge commit a changed deployment names
    prs = f"""
        SELECT repo, pr_number FROM ({ev.touched("pull_requests")})
        UNION SELECT repo, pr_number FROM ({ev.scan("pull_requests")}) WHERE merge_commit_sha IN (SELECT sha FROM ({prod}))
    """  # noqa: E501
    first_change = f"SELECT service, min(finished_at) AS f FROM ({prod}) GROUP BY service"
    prev = f"""
        SELECT c.service, max(p.finished_at) AS p
        FROM ({first_change}) AS c
        LEFT JOIN ({ev.before("core.deployments")}) AS p
          ON p.service = c.service AND p.is_production AND p.status = 'success' AND p.finished_at < c.f
        GROUP BY c.service
    """
    raw = ev.materialize(f"SELECT change_id, repo, pr_number, deploy_id, authored_at FROM ({ev.scan('changes')})")
    ids = f"""
        SELECT change_id FROM ({ev.touched("changes")})
        UNION SELECT r.change_id FROM ({raw}) AS r JOIN ({prs}) AS p ON p.repo = r.repo AND p.pr_number = r.pr_number
        UNION SELECT change_id FROM ({raw})
           WHERE change_id IN (SELECT sha FROM ({prod})) OR deploy_id IN (SELECT deploy_id FROM ({prod}))
        UNION SELECT change_id FROM ({ev.before("core.changes")})
           WHERE change_id IN (SELECT sha FROM ({prod})) OR deploy_id IN (SELECT deploy_id FROM ({prod}))
        UNION SELECT c.change_id FROM ({ev.before("core.changes")}) AS c JOIN ({prev}) AS p
           ON c.service = p.service AND (p.p IS NULL OR c.merged_at >= p.p)
    """
    ids = ev.materialize(ids)
    return ev.value(
        _min(
            f"SELECT authored_at AS t FROM ({raw}) WHERE change_id IN ({ids})",
            f"SELECT authored_at AS t FROM ({ev.before('core.changes')}) WHERE change_id IN ({ids})",
        )
    )


def rule_deployment_failures(ev: Evidence) -> Any:
    """marts.deployment_failures, key finished_at. Reach: a changed deployment's own row; the
    deployment a changed rollback marks; for a changed incident, the deployments finishing within
    the attribution window before it (lookback W hours), from its creation on (open incidents),
    and the deployment it names as cause, however old."""
    prod = _prod_changes(ev)
    inc = ev.diff(
        "core.incidents", "created_at", ["incident_id", "service", "created_at", "resolved_at", "caused_by_deploy_id"]
    )
    w = "to_microseconds(CAST(round(greatest(coalesce(getvariable('attribution_window_hours'), 0), 0) * 3600e6) AS BIGINT))"  # noqa: E501
    named = f"SELECT caused_by_deploy_id FROM ({inc})"
    return ev.value(
        _min(
            f"SELECT finished_at AS t FROM ({prod})",
            _previous_success(ev),
            f"SELECT created_at - {w} AS t FROM ({inc})",
            f"SELECT finished_at AS t FROM ({ev.before('core.deployments')}) WHERE deploy_id IN ({named})",
            f"SELECT finished_at AS t FROM ({ev.after('core.deployments')}) WHERE deploy_id IN ({named})",
        )
    )


def _service_team(src: str) -> str:
    return (
        f"SELECT service, coalesce(arg_max(team, finished_at) FILTER (WHERE team IS NOT NULL), '(none)') AS team "
        f"FROM ({src}) GROUP BY service"
    )


def rule_dora_events(ev: Evidence) -> Any:
    """marts.dora_events, key event_at: deployments by finish, changes by deployed_at, recoveries by
    recovery time. Every event row is one row of deployment_failures or core.changes; a service's
    team comes from its latest deployment, so a team change means a full rebuild."""
    b, a = _service_team(ev.before("core.deployments")), _service_team(ev.after("core.deployments"))
    if ev.value(f"SELECT count(*) FROM (({b}) EXCEPT ({a}) UNION ALL (({a}) EXCEPT ({b})))"):
        return FULL
    df = ev.diff("marts.deployment_failures", "finished_at", ["*"])
    ch = ev.diff(
        "core.changes",
        "authored_at",
        ["change_id", "deploy_id", "deployed_at", "lead_time_hours", "lead_time_negative"],
    )
    return ev.value(
        _min(
            f"SELECT least(finished_at, recovered_at) AS t FROM ({df})",
            f"SELECT deployed_at AS t FROM ({ch})",
        )
    )


def _week_ts(col: str) -> str:
    return f"CAST({col} AS TIMESTAMP) AT TIME ZONE 'UTC'"


def rule_dora_weekly(ev: Evidence) -> Any:
    """marts.dora_weekly, key week_start: the weeks of changed events; when the last week of the
    data moves, every service's empty weeks after the earlier of the two last weeks."""
    e = ev.diff("marts.dora_events", "event_at", ["*"])
    return ev.value(
        _min(
            f"SELECT {_week_ts('week_start')} AS t FROM ({e})",
            f"""SELECT {_week_ts("least(b, a)")} + INTERVAL 7 DAY AS t
            FROM (SELECT max(week_start) AS b FROM ({ev.before("marts.dora_events")})),
                 (SELECT max(week_start) AS a FROM ({ev.after("marts.dora_events")}))
            WHERE b IS DISTINCT FROM a""",
        )
    )


def rule_dora_tier(ev: Evidence) -> Any:
    """marts.dora_tier, key last_week_start: a period holds its week and the 11 before, so a changed
    week w changes the periods ending at w .. w + 11 weeks: since = the earliest changed week."""
    w = ev.diff("marts.dora_weekly", "week_start", ["*"])
    e = ev.diff("marts.dora_events", "event_at", ["*"])
    return ev.value(
        _min(
            f"SELECT {_week_ts('week_start')} AS t FROM ({w})",
            f"SELECT {_week_ts('week_start')} AS t FROM ({e}) WHERE kind IN ('change', 'recovery')",
        )
    )


def _slos_changed(ev: Evidence) -> bool:
    """Whether any SLO definition (its service, target, queries ...) differs before and after."""
    return bool(ev.value(f"SELECT count(*) FROM ({ev.diff('core.slos', 'slo_name', ['*'])})"))


def _sli_changes(ev: Evidence) -> str:
    """SLI minutes (slo_name, minute) that differ before and after. When core.sli_minutes is
    recomputed whole (no since of its own) and no SLO definition changed, its rows can only differ
    from the minute of the earliest new or replaced metric sample on (a counter's increase belongs to
    the later sample's minute), so only that tail is compared."""
    cols = ["slo_name", "minute", "good", "total"]
    if ev.upstream_since("core.sli_minutes") != FULL:
        return ev.diff("core.sli_minutes", "minute", cols)
    lo = ev.value(f"SELECT min(ts) FROM ({ev.touched('metric_samples')}) WHERE ts IS NOT NULL")
    if lo is None:
        return "SELECT NULL::VARCHAR AS slo_name, NULL::TIMESTAMPTZ AS minute WHERE false"
    cond = f"minute >= date_trunc('minute', {_lit(lo.isoformat())})"
    sel = ", ".join(cols)
    b = f"SELECT {sel} FROM ({ev.before('core.sli_minutes')}) WHERE {cond}"
    a = f"SELECT {sel} FROM ({ev.after('core.sli_minutes')}) WHERE {cond}"
    return ev.materialize(f"({b} EXCEPT ALL {a}) UNION ALL ({a} EXCEPT ALL {b})")


def rule_deploy_slo_impact(ev: Evidence) -> Any:
    """marts.deploy_slo_impact, key finished_at. A row reads its deployment and the SLI minutes in
    (started_at - 60 min, started_at] and (finished_at, finished_at + 60 min]: a changed production
    success changes its own row; a changed minute m the deployments finishing at or after
    m - 60 min (a before window holding m starts at or after m, and finished_at >= started_at); a
    changed SLO definition (service, target) any row, so the table is rebuilt."""
    if _slos_changed(ev):
        return FULL
    return ev.value(
        _min(
            f"SELECT finished_at AS t FROM ({_prod_changes(ev)})",
            f"SELECT minute - INTERVAL 60 MINUTE AS t FROM ({_sli_changes(ev)})",
        )
    )


def rule_deploy_impact_weekly(ev: Evidence) -> Any:
    """marts.deploy_impact_weekly, key week_start: the week of a changed deploy_slo_impact row (its
    finished_at; its post-deployment hour starts then) and of a changed SLI minute; a changed SLO
    definition (the service a minute counts for) rebuilds the table."""
    if _slos_changed(ev):
        return FULL
    impact = ev.diff("marts.deploy_slo_impact", "finished_at", ["*"])
    return ev.value(
        _min(
            f"SELECT finished_at AS t FROM ({impact})",
            f"SELECT minute AS t FROM ({_sli_changes(ev)})",
        )
    )


RULES = {
    "deployments": rule_deployments,
    "changes": rule_changes,
    "deployment_failures": rule_deployment_failures,
    "dora_events": rule_dora_events,
    "dora_weekly": rule_dora_weekly,
    "dora_tier": rule_dora_tier,
    "deploy_slo_impact": rule_deploy_slo_impact,
    "deploy_impact_weekly": rule_deploy_impact_weekly,
}


# ------------------------------------------------------------------------------------ SLO rules
# The SLO models (assets/models/core/sli_*.sql, slo_*.sql, marts/slo_*.sql). A changed SLO
# definition (any column of core.slos) recomputes every SLO table: a new or changed definition is
# computed over all its history.


def _upstream_time(ev: Evidence, key: str) -> Any:
    """The since an upstream model used, as a value (None: unchanged; FULL: rebuilt whole)."""
    s = ev.upstream_since(key)
    if s == "unchanged":
        return None
    if s == FULL:
        return FULL
    return ev.value(f"SELECT {_lit(s)}")


def rule_sli_minutes(ev: Evidence) -> Any:
    """core.sli_minutes, key minute. New samples of the queried metrics change their own minute and
    the next sample's increase (later): since = the start of the time slice holding the earliest
    new sample (slices divide a day and are aligned to the epoch). What the SQL must read before
    ``since`` (each series' previous sample) is set per span by :func:`sli_minutes_span`."""
    if _slos_changed(ev):
        return FULL
    metrics = ev.materialize(f"SELECT DISTINCT metric FROM ({ev.after('core.slo_selectors')})")
    t0 = ev.value(
        f"SELECT min(ts) FROM ({ev.touched('metric_samples')}) WHERE metric IN (SELECT metric FROM ({metrics}))"
    )
    if t0 is None:
        return None
    slice_s = ev.value(f"SELECT coalesce(max(slice_s), 60) FROM ({ev.after('core.slos')})")
    return ev.con.execute(
        "SELECT to_timestamp(floor(epoch(date_trunc('minute', CAST(? AS TIMESTAMPTZ))) / ?) * ?)",
        [t0, slice_s, slice_s],
    ).fetchone()[0]


def sli_samples_from(con: duckdb.DuckDBPyConnection, since: Any, until: Any) -> Any:
    """The earliest sample core.sli_minutes must read to compute the minutes in [since, until):
    one day before ``since``, or further back for a series with samples in the span but none in
    that day (its previous sample, a counter's baseline, is older). ``con`` is the model's."""
    selected = (
        "SELECT metric, labels, ts FROM raw.metric_samples "
        "WHERE metric IN (SELECT DISTINCT metric FROM core.slo_selectors)"
    )
    lookback = con.execute("SELECT CAST(? AS TIMESTAMPTZ) - INTERVAL 1 DAY", [since]).fetchone()[0]
    missing = con.execute(
        f"""SELECT count(*) FROM (
            SELECT DISTINCT metric, labels FROM ({selected}) WHERE ts >= $since AND ($until IS NULL OR ts < $until)
            EXCEPT SELECT DISTINCT metric, labels FROM ({selected}) WHERE ts >= $lookback AND ts < $since)""",
        {"since": since, "until": until, "lookback": lookback},
    ).fetchone()[0]
    if not missing:
        return lookback
    deeper = con.execute(
        f"""SELECT min(last) FROM (
            SELECT max(s.ts) AS last FROM ({selected}) AS s
            JOIN (SELECT DISTINCT metric, labels FROM ({selected})
                  WHERE ts >= $since AND ($until IS NULL OR ts < $until)) AS m
              ON m.metric = s.metric AND m.labels = s.labels
            WHERE s.ts < $lookback GROUP BY s.metric, s.labels)""",
        {"since": since, "until": until, "lookback": lookback},
    ).fetchone()[0]
    return lookback if deeper is None else min(lookback, deeper)


def sli_minutes_span(con: duckdb.DuckDBPyConnection, target: Path, since: Any, until: Any) -> Any:
    """Before a span of core.sli_minutes: read samples from :func:`sli_samples_from` on."""
    start = None if since is None else sli_samples_from(con, since, until)
    con.execute("SET VARIABLE sli_samples_from = CAST(? AS TIMESTAMPTZ)", [start])
    return since


def rule_sli_hours(ev: Evidence) -> Any:
    """core.sli_hours, key hour: the hours of the minutes core.sli_minutes recomputed."""
    t = _upstream_time(ev, "core.sli_minutes")
    if t is None or t == FULL:
        return t
    return ev.con.execute("SELECT date_trunc('hour', CAST(? AS TIMESTAMPTZ))", [t]).fetchone()[0]


def rule_slo_windows(ev: Evidence) -> Any:
    """core.slo_windows, key window_end: an instant's sums cover the hours before it, so instants
    from the first recomputed hour on (new instants at the end of the data come after it)."""
    if _slos_changed(ev):
        return FULL
    return _upstream_time(ev, "core.sli_hours")


def rule_slo_weekly(ev: Evidence) -> Any:
    """marts.slo_weekly, key week_start: the weeks whose end is a recomputed instant."""
    if _slos_changed(ev):
        return FULL
    t = _upstream_time(ev, "core.slo_windows")
    if t is None or t == FULL:
        return t
    return ev.con.execute("SELECT CAST(? AS TIMESTAMPTZ) - INTERVAL 7 DAY", [t]).fetchone()[0]


def rule_slo_budget_daily(ev: Evidence) -> Any:
    """marts.slo_budget_daily, key window_end: the days whose end is a recomputed instant."""
    if _slos_changed(ev):
        return FULL
    return _upstream_time(ev, "core.slo_windows")


def rule_slo_alerts(ev: Evidence) -> Any:
    """marts.slo_alerts, key fired_at. A condition at instant t reads the minutes before t, so with
    minutes recomputed from c, instants from c + 1 minute can change; a firing still open then is
    recomputed from its start (its resolution may move, see :func:`slo_alerts_span`). An SLO whose
    data resumes after a gap was evaluated up to the end of its old last minute: the instants
    after it (its windows draining through the gap) are new, so they are recomputed too."""
    if _slos_changed(ev):
        return FULL
    c = _upstream_time(ev, "core.sli_minutes")
    if c is None or c == FULL:
        return c
    t = ev.con.execute("SELECT CAST(? AS TIMESTAMPTZ) + INTERVAL 1 MINUTE", [c]).fetchone()[0]
    lit = _lit(t.isoformat())
    changed = ev.materialize(f"SELECT DISTINCT slo_name FROM ({_sli_changes(ev)})")
    return ev.value(
        _min(
            f"SELECT {lit} AS t",
            f"SELECT max(last_minute) + INTERVAL 1 MINUTE AS t FROM ({ev.before('core.sli_hours')}) "
            f"WHERE slo_name IN (SELECT slo_name FROM ({changed})) GROUP BY slo_name",
        )
    )


def slo_alerts_span(con: duckdb.DuckDBPyConnection, target: Path, since: Any, until: Any) -> Any:
    """Before a span of marts.slo_alerts from ``since``: a firing written before ``since`` and still
    open at it (or resolved at or after it) may resolve elsewhere, so the span starts at its
    start instead."""
    if since is None or not target.exists():
        return since
    earlier = con.execute(
        f"SELECT min(fired_at) FROM ({derived_read_sql(target)}) "
        "WHERE fired_at < $since AND (resolved_at IS NULL OR resolved_at >= $since)",
        {"since": since},
    ).fetchone()[0]
    return since if earlier is None else min(since, earlier)


# Span hooks of the models kept by day: (the model's connection, its table, a span's since and
# until) -> the since the span must start at, after preparing what the span reads.
CHUNK_HOOKS = {"sli_minutes": sli_minutes_span, "slo_alerts": slo_alerts_span}


RULES.update(
    {
        "sli_minutes": rule_sli_minutes,
        "sli_hours": rule_sli_hours,
        "slo_windows": rule_slo_windows,
        "slo_weekly": rule_slo_weekly,
        "slo_budget_daily": rule_slo_budget_daily,
        "slo_alerts": rule_slo_alerts,
    }
)


# ------------------------------------------------------------------ security and alerting rules


def _last_week_moved(ev: Evidence, key: str, col: str) -> str:
    """The Monday after the earlier of the two last weeks of ``key`` (by ``col``), when the last
    week moved: rows for the weeks in between (empty weeks of a backlog or spine) are new."""
    monday = _week_ts("CAST(date_trunc('week', least(b, a)) AS DATE)")
    return f"""SELECT {monday} + INTERVAL 7 DAY AS t
        FROM (SELECT max({col}) AS b FROM ({ev.before(key)})), (SELECT max({col}) AS a FROM ({ev.after(key)}))
        WHERE date_trunc('week', b) IS DISTINCT FROM date_trunc('week', a)"""


def rule_vulnerabilities(ev: Evidence) -> Any:
    """core.vulnerabilities, key opened_at. An alert finding's row depends on its own raw rows; a
    scanner finding's on its target's scans: a scan at T changes the findings of that target
    still open at T (their fix may move) and any opened from T on."""
    ids = ev.materialize(f"SELECT finding_id FROM ({ev.touched('vulnerabilities')})")
    scans = ev.materialize(
        f"SELECT source, target, min(scanned_at) AS t FROM ("
        f"SELECT source, target, scanned_at FROM ({ev.touched('vulnerability_scans')}) UNION ALL "
        f"SELECT source, target, scanned_at FROM ({ev.touched('vulnerability_observations')})) GROUP BY source, target"
    )
    before = ev.before("core.vulnerabilities")
    return ev.value(
        _min(
            f"SELECT opened_at AS t FROM ({ev.scan('vulnerabilities')}) WHERE finding_id IN ({ids})",
            f"SELECT opened_at AS t FROM ({before}) WHERE finding_id IN ({ids})",
            f"SELECT t FROM ({scans})",
            f"""SELECT v.opened_at AS t FROM ({before}) AS v JOIN ({scans}) AS g
            ON v.source = g.source AND v.target = g.target AND (v.fixed_at IS NULL OR v.fixed_at >= g.t)""",
        )
    )


def rule_vulnerability_weekly(ev: Evidence) -> Any:
    """marts.vulnerability_weekly, key week_start: a changed finding changes its opening week and
    every later week (its backlog counts); a new scan can move the last week of the data."""
    d = ev.diff("core.vulnerabilities", "opened_at", ["*"])
    return ev.value(
        _min(
            f"SELECT opened_at AS t FROM ({d})",
            f"SELECT scanned_at AS t FROM ({ev.touched('vulnerability_scans')})",
        )
    )


def rule_alert_episodes(ev: Evidence) -> Any:
    """core.alert_episodes, key started_at. An episode's row depends on its raw row, the previous
    episode of its fingerprint (a later start), and the incidents of its service created in its
    window, or the incident it belongs to (its end, its urgency)."""
    inc = ev.diff("core.incidents", "created_at", ["incident_id", "service", "created_at", "resolved_at", "urgency"])
    lead = (
        "to_microseconds(CAST(round(coalesce(CAST(getvariable('alert_incident_lead_minutes') AS DOUBLE), 0) "
        "* 60e6) AS BIGINT))"
    )
    before = ev.before("core.alert_episodes")
    return ev.value(
        _min(
            f"SELECT started_at AS t FROM ({ev.touched('alerts')})",
            f"""SELECT e.started_at AS t FROM ({before}) AS e JOIN ({inc}) AS i
            ON e.service = i.service AND e.started_at <= i.created_at + {lead}
           AND (e.ended_at IS NULL OR e.ended_at >= i.created_at)""",
            f"SELECT started_at AS t FROM ({before}) WHERE incident_ref IN (SELECT incident_id FROM ({inc}))",
            f"SELECT started_at AS t FROM ({ev.scan('alerts')}) WHERE incident_ref IN (SELECT incident_id FROM ({inc}))",  # noqa: E501
        )
    )


def rule_alert_weekly(ev: Evidence) -> Any:
    """marts.alert_weekly, key week_start: the weeks of changed episodes and incidents, and the
    weeks after the earlier last week when the data's last week moves."""
    e = ev.diff("core.alert_episodes", "started_at", ["*"])
    inc = ev.diff("core.incidents", "created_at", ["incident_id", "service", "created_at"])
    return ev.value(
        _min(
            f"SELECT started_at AS t FROM ({e})",
            f"SELECT created_at AS t FROM ({inc})",
            _last_week_moved(ev, "core.alert_episodes", "started_at"),
        )
    )


def rule_alert_names_weekly(ev: Evidence) -> Any:
    """marts.alert_names_weekly, key week_start: the weeks of changed episodes."""
    e = ev.diff("core.alert_episodes", "started_at", ["*"])
    return ev.value(_min(f"SELECT started_at AS t FROM ({e})"))


def rule_security_incident_weekly(ev: Evidence) -> Any:
    """marts.security_incident_weekly, key week_start: the weeks of changed incidents, and the
    weeks after the earlier last week when the incidents' last week moves."""
    inc = ev.diff("core.incidents", "created_at", ["*"])
    return ev.value(
        _min(
            f"SELECT created_at AS t FROM ({inc})",
            _last_week_moved(ev, "core.incidents", "created_at"),
        )
    )


RULES.update(
    {
        "vulnerabilities": rule_vulnerabilities,
        "vulnerability_weekly": rule_vulnerability_weekly,
        "alert_episodes": rule_alert_episodes,
        "alert_weekly": rule_alert_weekly,
        "alert_names_weekly": rule_alert_names_weekly,
        "security_incident_weekly": rule_security_incident_weekly,
    }
)


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
    since = RULES[decl.rule](Evidence(home, con, plan))
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
