"""Data assembly for the weekly metrics review: plain dicts read from the published snapshot.

Every section is read defensively. The tables and columns DESIGN.md fixes are the contract; extra
columns (``scope`` rollup rows, ``policy_stage``, ``met``, ...) are used when present and replaced
by a computation from the fixed columns, or by "no data", when absent. A missing table, a missing
column or a failing query turns that section into "no data"; it never fails the report.

Week-over-week: every figure is also computed for the previous ISO week, and the page shows the
change. Rates stay fractions here; formatting happens in :mod:`ops_warehouse.reporting.render`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import duckdb

from ops_warehouse.catalog import DEFAULT_SETTINGS
from ops_warehouse.reporting.sections import Section, build_sections
from ops_warehouse.timeutil import iso_week_label

log = logging.getLogger(__name__)

TREND_WEEKS = 12
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
# METRICS.md: error-budget policy stage by budget consumed (lower bound of each stage).
POLICY_STAGES = (
    (1.00, "feature_freeze"),
    (0.75, "all_hands"),
    (0.50, "freeze_consideration"),
    (0.25, "notify"),
    (float("-inf"), "ok"),
)
POLICY_ORDER = {name: i for i, (_, name) in enumerate(reversed(POLICY_STAGES))}
DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time")
TOLERANCE = 1e-9


def policy_stage(budget_consumed: float | None) -> str | None:
    if budget_consumed is None or _nan(budget_consumed):
        return None
    for bound, name in POLICY_STAGES:
        if budget_consumed >= bound - TOLERANCE:
            return name
    return "ok"  # pragma: no cover - the last bound is -inf


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _clean(v: Any) -> Any:
    """NaN (DuckDB can return it for 0/0 in doubles) is no data, like NULL."""
    return None if _nan(v) else v


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return num / den


class Reader:
    """A read-only connection that knows which relations and columns exist."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.columns: dict[str, list[str]] = {}
        try:
            rows = con.execute(
                "SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                "WHERE schema_name IN ('core', 'marts') ORDER BY schema_name, table_name, column_index"
            ).fetchall()
        except duckdb.Error as exc:  # pragma: no cover - duckdb_columns() always exists
            log.warning("cannot list the warehouse's columns: %s", exc)
            rows = []
        for schema, table, column in rows:
            self.columns.setdefault(f"{schema}.{table}", []).append(column)

    def has(self, table: str, *cols: str) -> bool:
        present = self.columns.get(table)
        return present is not None and all(c in present for c in cols)

    def col(self, table: str, name: str, fallback: str = "NULL") -> str:
        """``name`` when the column exists, else ``fallback AS name``."""
        return name if self.has(table, name) else f"{fallback} AS {name}"

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]] | None:
        try:
            cur = self.con.execute(sql, list(params))
        except duckdb.Error as exc:
            log.warning("report query failed, the section shows no data: %s", str(exc).splitlines()[0])
            return None
        names = [d[0] for d in cur.description or []]
        return [{k: _clean(v) for k, v in zip(names, r)} for r in cur.fetchall()]

    def overall(self, table: str, dims: tuple[str, ...]) -> str:
        """SQL predicate for the organisation-wide rollup rows of a mart."""
        if self.has(table, "scope"):
            return "scope = 'overall'"
        preds = [f"{d} = '(all)'" for d in dims if self.has(table, d)]
        return " AND ".join(preds) or "TRUE"

    def detail(self, table: str, scope: str, dim: str, extra: tuple[str, ...] = ()) -> str:
        """SQL predicate for per-``dim`` rows (``scope = 'service'``, or not a rollup)."""
        if self.has(table, "scope"):
            return f"scope = '{scope}'"
        preds = [f"{dim} IS DISTINCT FROM '(all)'"] + [f"{d} = '(all)'" for d in extra if self.has(table, d)]
        return " AND ".join(preds)


@dataclass
class Metric:
    """One figure with its previous-week value; ``better`` is 'up', 'down' or None."""

    key: str
    label: str
    value: float | None
    prev: float | None
    kind: str  # pct | pct3 | count | minutes | hours | number
    better: str | None = None
    target: float | None = None
    target_met: bool | None = None
    target_text: str | None = None
    note: str | None = None


@dataclass
class WeeklyData:
    week: str
    week_start: date
    week_end: date  # exclusive (next Monday)
    prev_week: str
    generated_at: datetime
    settings: dict[str, Any]
    teams: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    slo: dict[str, Any] = field(default_factory=dict)
    dora: dict[str, Any] = field(default_factory=dict)
    deployments: dict[str, Any] = field(default_factory=dict)
    incidents: dict[str, Any] = field(default_factory=dict)
    actions: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return any(
            s.get("has_data") for s in (self.slo, self.dora, self.deployments, self.incidents, self.actions)
        ) or any(s.has_data for s in self.sections)

    def placed(self, place: str | None) -> list[Section]:
        """The extra sections shown at the end of core section ``place`` (None: on their own)."""
        return [s for s in self.sections if s.place == place]

    def headline(self) -> dict[str, Any]:
        """The figures the index lists for this week (JSON-friendly)."""
        s = self.summary
        return {
            "week": self.week,
            "week_start": self.week_start.isoformat(),
            "has_data": self.has_data,
            "slos_met": s.get("slos_met"),
            "slos_total": s.get("slos_total"),
            "incidents": s.get("incidents"),
            "mtta_minutes": s.get("mtta_minutes"),
            "mttr_minutes": s.get("mttr_minutes"),
            "action_on_time_rate": s.get("action_on_time_rate"),
            "deployments": s.get("deployments"),
            "change_failure_rate": s.get("change_failure_rate"),
            "generated_at": self.generated_at.isoformat(timespec="seconds"),
        }


def _weeks(week_start: date, n: int = TREND_WEEKS) -> list[date]:
    return [week_start - timedelta(weeks=i) for i in range(n - 1, -1, -1)]


def _as_date(v: Any) -> date | None:
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).date()
    return v


def _section(name: str, fn: Any, *args: Any) -> dict[str, Any]:
    try:
        return fn(*args)
    except duckdb.Error as exc:
        log.warning("report section %s shows no data: %s", name, str(exc).splitlines()[0])
        return {"has_data": False}


def assemble(
    con: duckdb.DuckDBPyConnection,
    week_start: date,
    settings: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> WeeklyData:
    """Everything the weekly page shows, for the ISO week starting ``week_start``."""
    r = Reader(con)
    cfg = dict(DEFAULT_SETTINGS)
    cfg.update(settings or {})
    prev = week_start - timedelta(weeks=1)
    data = WeeklyData(
        week=iso_week_label(week_start),
        week_start=week_start,
        week_end=week_start + timedelta(weeks=1),
        prev_week=iso_week_label(prev),
        generated_at=(now or datetime.now(timezone.utc)).astimezone(timezone.utc),
        settings=cfg,
    )
    teams = _service_teams(r)
    data.slo = _section("slo", _slo, r, week_start, teams)
    data.dora = _section("dora", _dora, r, week_start)
    data.deployments = _section("deployments", _deployments, r, week_start, cfg)
    data.incidents = _section("incidents", _incidents, r, week_start, cfg)
    data.actions = _section("actions", _actions, r, week_start, cfg)
    data.sections = build_sections(con, week_start, cfg)
    data.teams = sorted({t for t in teams.values() if t} | set(_teams_in(data)))
    data.summary = _summary(data)
    return data


def _service_teams(r: Reader) -> dict[str, str | None]:
    parts = [
        f"SELECT service, team FROM {t} WHERE service IS NOT NULL AND team IS NOT NULL"
        for t in ("core.deployments", "core.incidents")
        if r.has(t, "service", "team")
    ]
    if not parts:
        return {}
    rows = r.rows(f"SELECT service, min(team) AS team FROM ({' UNION ALL '.join(parts)}) GROUP BY service") or []
    return {row["service"]: row["team"] for row in rows}


def _teams_in(data: WeeklyData) -> Iterable[str]:
    extra = [s.data for s in data.sections]
    for section in (data.slo, data.dora, data.deployments, data.incidents, data.actions, *extra):
        for key in ("rows", "by_service", "by_team", "list", "overdue"):
            for row in section.get(key) or []:
                if row.get("team") and row["team"] != "(all)":
                    yield row["team"]


# ---------------------------------------------------------------- SLOs


def _slo(r: Reader, ws: date, teams: dict[str, str | None]) -> dict[str, Any]:
    t = "marts.slo_weekly"
    out: dict[str, Any] = {"has_data": False, "rows": [], "burndown": None, "alerts": None}
    if not r.has(t, "slo_name", "week_start", "attainment", "target"):
        return out
    cols = ", ".join(
        [
            "slo_name",
            r.col(t, "service"),
            "week_start",
            "attainment",
            "target",
            r.col(t, "window_attainment"),
            r.col(t, "budget_consumed"),
            r.col(t, "budget_remaining"),
            r.col(t, "burn_rate_1d"),
            r.col(t, "policy_stage"),
            r.col(t, "met"),
            r.col(t, "exhausted_at"),
            r.col(t, "total"),
        ]
    )
    rows = r.rows(f"SELECT {cols} FROM {t} WHERE week_start IN (?, ?) ORDER BY slo_name", [ws, ws - timedelta(weeks=1)])
    if rows is None:
        return out
    this = {row["slo_name"]: row for row in rows if row["week_start"] == ws}
    last = {row["slo_name"]: row for row in rows if row["week_start"] != ws}
    out_rows = []
    for name in sorted(this):
        row = dict(this[name])
        p = last.get(name) or {}
        if row["attainment"] is None:
            row["met"] = None
        elif row["met"] is None:
            row["met"] = row["attainment"] >= row["target"] - TOLERANCE
        if row["budget_consumed"] is None and row["window_attainment"] is not None and row["target"] not in (None, 1):
            row["budget_consumed"] = (1 - row["window_attainment"]) / (1 - row["target"])
            row["budget_remaining"] = 1 - row["budget_consumed"]
        row["policy_stage"] = row["policy_stage"] or policy_stage(row["budget_consumed"])
        row["prev_attainment"] = p.get("attainment")
        row["prev_budget_remaining"] = p.get("budget_remaining")
        row["prev_policy_stage"] = p.get("policy_stage") or policy_stage(p.get("budget_consumed"))
        row["team"] = teams.get(row["service"])
        out_rows.append(row)
    out["rows"] = out_rows
    out["met"] = sum(1 for x in out_rows if x["met"] is True)
    out["missed"] = sum(1 for x in out_rows if x["met"] is False)
    out["prev_met"] = sum(1 for x in last.values() if _met(x))
    out["prev_total"] = sum(1 for x in last.values() if x["attainment"] is not None)
    out["has_data"] = bool(out_rows)

    if r.has("marts.slo_budget_daily", "slo_name", "day", "budget_remaining"):
        window_days = 28
        days = r.rows(
            "SELECT slo_name, day, budget_remaining FROM marts.slo_budget_daily "
            "WHERE day >= ? AND day < ? ORDER BY slo_name, day",
            [ws + timedelta(days=7 - window_days), ws + timedelta(days=7)],
        )
        if days:
            series: dict[str, dict[str, list[Any]]] = {}
            for d in days:
                s = series.setdefault(d["slo_name"], {"x": [], "y": []})
                s["x"].append(d["day"])
                s["y"].append(d["budget_remaining"])
            out["burndown"] = series

    t = "marts.slo_alerts"
    if r.has(t, "slo_name", "alert", "fired_at"):
        cols = ", ".join(
            ["slo_name", "alert", r.col(t, "long_window"), r.col(t, "short_window"), r.col(t, "factor"),
             "fired_at", r.col(t, "resolved_at"), r.col(t, "service")]
        )
        we = ws + timedelta(weeks=1)
        alerts = r.rows(
            f"SELECT {cols} FROM {t} WHERE fired_at < ? AND (resolved_at IS NULL OR resolved_at >= ?) "
            "ORDER BY fired_at, slo_name",
            [_midnight(we), _midnight(ws)],
        ) if r.has(t, "resolved_at") else r.rows(
            f"SELECT {cols} FROM {t} WHERE fired_at >= ? AND fired_at < ? ORDER BY fired_at, slo_name",
            [_midnight(ws), _midnight(we)],
        )
        prev_n = r.rows(
            f"SELECT count(*) AS n FROM {t} WHERE fired_at >= ? AND fired_at < ?",
            [_midnight(ws - timedelta(weeks=1)), _midnight(ws)],
        )
        if alerts is not None:
            for a in alerts:
                a["duration_minutes"] = (
                    (a["resolved_at"] - a["fired_at"]).total_seconds() / 60 if a["resolved_at"] else None
                )
                a["team"] = teams.get(a["service"]) if a.get("service") else None
            out["alerts"] = alerts
            out["alerts_fired"] = sum(1 for a in alerts if a["fired_at"] >= _midnight(ws))
            out["prev_alerts_fired"] = prev_n[0]["n"] if prev_n else None
    return out


def _met(row: dict[str, Any]) -> bool:
    if row.get("met") is not None:
        return bool(row["met"])
    return row.get("attainment") is not None and row["attainment"] >= row["target"] - TOLERANCE


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


# ---------------------------------------------------------------- DORA


def _dora(r: Reader, ws: date) -> dict[str, Any]:
    out: dict[str, Any] = {"has_data": False, "trend": None, "tiers": {}, "by_service": []}
    t = "marts.dora_weekly"
    weeks = _weeks(ws)
    if r.has(t, "week_start", "deployments"):
        cols = ", ".join(
            ["week_start", "deployments", r.col(t, "deploy_days"), r.col(t, "failed_deployments"),
             r.col(t, "change_failure_rate"), r.col(t, "lead_time_p50_hours"), r.col(t, "lead_time_p90_hours"),
             r.col(t, "recovery_time_p50_hours"), r.col(t, "rework_rate")]
        )
        rows = r.rows(
            f"SELECT {cols} FROM {t} WHERE {r.overall(t, ('service', 'team'))} AND week_start >= ? AND week_start <= ?",
            [weeks[0], ws],
        )
        if rows is not None:
            by_week = {row["week_start"]: row for row in rows}
            keys = ("deployments", "deploy_days", "failed_deployments", "change_failure_rate",
                    "lead_time_p50_hours", "lead_time_p90_hours", "recovery_time_p50_hours", "rework_rate")
            trend: dict[str, list[Any]] = {"week_start": weeks}
            for k in keys:
                zero = 0 if k in ("deployments", "deploy_days", "failed_deployments") else None
                trend[k] = [by_week.get(w, {}).get(k, zero) for w in weeks]
            out["trend"] = trend
            out["this"] = by_week.get(ws, {})
            out["prev"] = by_week.get(ws - timedelta(weeks=1), {})
            out["has_data"] = bool(rows)
        cols_s = ", ".join(
            ["service", r.col(t, "team"), "deployments", r.col(t, "change_failure_rate"),
             r.col(t, "lead_time_p50_hours"), r.col(t, "recovery_time_p50_hours"), r.col(t, "deploy_days")]
        )
        if r.has(t, "service"):
            rows = r.rows(
                f"SELECT {cols_s} FROM {t} WHERE {r.detail(t, 'service', 'service', ('team',))} AND week_start = ? "
                "ORDER BY deployments DESC, service",
                [ws],
            )
            out["by_service"] = rows or []

    t = "marts.dora_tier"
    if r.has(t, "metric", "tier", "period_end"):
        end = ws + timedelta(weeks=1)
        cols = ", ".join(["metric", "tier", r.col(t, "value"), r.col(t, "benchmark"), "period_end",
                          r.col(t, "service"), r.col(t, "team")])
        rows = r.rows(
            f"SELECT {cols} FROM {t} WHERE period_end IN (?, ?, ?, ?)",
            [end, end - timedelta(days=1), ws, ws - timedelta(days=1)],
        )
        if rows is not None:
            overall_rows = r.rows(
                f"SELECT metric FROM {t} WHERE {r.overall(t, ('service', 'team'))} LIMIT 0"
            )
            if overall_rows is not None:
                ov = r.rows(
                    f"SELECT {cols} FROM {t} WHERE {r.overall(t, ('service', 'team'))} "
                    "AND period_end IN (?, ?, ?, ?)",
                    [end, end - timedelta(days=1), ws, ws - timedelta(days=1)],
                ) or []
                this_end = {row["metric"]: row for row in ov if row["period_end"] in (end, end - timedelta(days=1))}
                prev_end = {row["metric"]: row for row in ov if row["period_end"] in (ws, ws - timedelta(days=1))}
                for m in set(this_end) | set(prev_end):
                    cur = this_end.get(m) or {}
                    out["tiers"][m] = {
                        "tier": cur.get("tier"),
                        "value": cur.get("value"),
                        "benchmark": cur.get("benchmark"),
                        "prev_tier": (prev_end.get(m) or {}).get("tier"),
                    }
                    out["benchmark"] = out.get("benchmark") or cur.get("benchmark")
            if r.has(t, "service"):
                svc = r.rows(
                    f"SELECT service, metric, tier FROM {t} WHERE {r.detail(t, 'service', 'service', ('team',))} "
                    "AND period_end IN (?, ?)",
                    [end, end - timedelta(days=1)],
                ) or []
                tiers: dict[str, dict[str, str]] = {}
                for row in svc:
                    tiers.setdefault(row["service"], {})[row["metric"]] = row["tier"]
                for row in out["by_service"]:
                    row["tiers"] = tiers.get(row["service"], {})
            out["has_data"] = out["has_data"] or bool(out["tiers"])
    return out


# ---------------------------------------------------------------- deployments


def _deployments(r: Reader, ws: date, cfg: dict[str, Any]) -> dict[str, Any]:
    """Deployment health from ``core.deployments`` (fixed columns; METRICS.md rules)."""
    t = "core.deployments"
    out: dict[str, Any] = {"has_data": False}
    if not r.has(t, "deploy_id", "service", "status", "finished_at", "started_at", "is_production"):
        return out
    weeks = _weeks(ws)
    base = f"""
        SELECT service, {r.col(t, 'team')}, status, {r.col(t, 'is_rollback', 'false')},
               CAST(date_trunc('week', finished_at) AS DATE) AS week_start,
               epoch(finished_at - started_at) / 60.0 AS duration_minutes
        FROM {t}
        WHERE is_production AND finished_at >= ? AND finished_at < ?
    """
    agg = """
        count(*) FILTER (WHERE status IN ('success', 'failure', 'error')) AS attempts,
        count(*) FILTER (WHERE status = 'success') AS successful,
        count(*) FILTER (WHERE status IN ('failure', 'error')) AS failed,
        count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
        count(*) FILTER (WHERE status = 'success' AND is_rollback) AS rollbacks,
        quantile_cont(duration_minutes, 0.5) FILTER (WHERE duration_minutes >= 0) AS duration_p50_minutes,
        quantile_cont(duration_minutes, 0.9) FILTER (WHERE duration_minutes >= 0) AS duration_p90_minutes
    """
    params = [_midnight(weeks[0]), _midnight(ws + timedelta(weeks=1))]
    weekly = r.rows(f"SELECT week_start, {agg} FROM ({base}) GROUP BY week_start", params)
    if weekly is None:
        return out
    by_week = {row["week_start"]: _health(row) for row in weekly}
    empty = _health({"attempts": 0, "successful": 0, "failed": 0, "cancelled": 0, "rollbacks": 0,
                     "duration_p50_minutes": None, "duration_p90_minutes": None})
    out["trend"] = {
        "week_start": weeks,
        "successful": [by_week.get(w, empty)["successful"] for w in weeks],
        "failed": [by_week.get(w, empty)["failed"] for w in weeks],
        "cancelled": [by_week.get(w, empty)["cancelled"] for w in weeks],
        "duration_p50_minutes": [by_week.get(w, empty)["duration_p50_minutes"] for w in weeks],
    }
    out["this"] = by_week.get(ws, empty)
    out["prev"] = by_week.get(ws - timedelta(weeks=1), empty)
    services = r.rows(
        f"SELECT service, min(team) AS team, {agg} FROM ({base}) GROUP BY service ORDER BY attempts DESC, service",
        [_midnight(ws), _midnight(ws + timedelta(weeks=1))],
    ) or []
    out["by_service"] = [_health(row) for row in services]
    out["has_data"] = out["this"]["attempts"] > 0 or out["this"]["cancelled"] > 0 or any(
        by_week.get(w) for w in weeks
    )
    return out


def _health(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["success_rate"] = ratio(row["successful"], row["attempts"])
    row["rollback_rate"] = ratio(row["rollbacks"], row["successful"])
    return row


# ---------------------------------------------------------------- incidents


def _incidents(r: Reader, ws: date, cfg: dict[str, Any]) -> dict[str, Any]:
    t = "core.incidents"
    out: dict[str, Any] = {"has_data": False, "list": [], "by_severity": [], "trend": None}
    if not r.has(t, "incident_id", "severity", "created_at"):
        return out
    weeks = _weeks(ws)
    we = ws + timedelta(weeks=1)
    dep = "core.deployments"
    link = r.has(dep, "deploy_id", "sha") and r.has(t, "caused_by_deploy_id")
    sql = f"""
        SELECT i.incident_id, {_q(r, t, 'service', 'i')}, {_q(r, t, 'team', 'i')}, i.severity,
               {_q(r, t, 'title', 'i')}, i.created_at, {_q(r, t, 'acknowledged_at', 'i')},
               {_q(r, t, 'resolved_at', 'i')}, {_q(r, t, 'caused_by_deploy_id', 'i')},
               {'d.sha AS deploy_sha, d.finished_at AS deploy_finished_at' if link else 'NULL AS deploy_sha, NULL AS deploy_finished_at'}
        FROM {t} i
        {f'LEFT JOIN (SELECT deploy_id, any_value(sha) AS sha, max(finished_at) AS finished_at FROM {dep} GROUP BY deploy_id) d ON d.deploy_id = i.caused_by_deploy_id' if link else ''}
        WHERE i.created_at >= ? AND i.created_at < ?
        ORDER BY i.severity, i.created_at
    """
    rows = r.rows(sql, [_midnight(ws), _midnight(we)])
    if rows is None:
        return out
    for row in rows:
        c, a, z = row["created_at"], row["acknowledged_at"], row["resolved_at"]
        row["ack_minutes"] = (a - c).total_seconds() / 60 if a and c and a >= c else None
        row["duration_minutes"] = (z - c).total_seconds() / 60 if z and c and z >= c else None
        row["open"] = z is None
    out["list"] = rows
    counts = r.rows(
        f"""SELECT CAST(date_trunc('week', created_at) AS DATE) AS week_start, severity, count(*) AS n
            FROM {t} WHERE created_at >= ? AND created_at < ? GROUP BY ALL""",
        [_midnight(weeks[0]), _midnight(we)],
    ) or []
    sev = sorted({row["severity"] or "unknown" for row in counts} | set(SEVERITIES), key=_sev_key)
    grid = {(row["week_start"], row["severity"] or "unknown"): row["n"] for row in counts}
    out["trend"] = {"week_start": weeks, "by_severity": {s: [grid.get((w, s), 0) for w in weeks] for s in sev}}
    prev = ws - timedelta(weeks=1)
    out["by_severity"] = [
        {"severity": s, "count": grid.get((ws, s), 0), "prev": grid.get((prev, s), 0)} for s in sev
        if s in SEVERITIES or grid.get((ws, s)) or grid.get((prev, s))
    ]
    out["total"] = sum(grid.get((ws, s), 0) for s in sev)
    out["prev_total"] = sum(grid.get((prev, s), 0) for s in sev)
    out["open"] = sum(1 for row in rows if row["open"])

    # MTTA/MTTR: the mart's rollup when present, else the same definition from core.incidents.
    m = "marts.incident_weekly"
    keys = ("mtta_minutes_p50", "mtta_minutes_mean", "mttr_minutes_p50", "mttr_minutes_mean")
    times: dict[date, dict[str, Any]] = {}
    if r.has(m, "week_start", *keys):
        got = r.rows(
            f"SELECT week_start, {', '.join(keys)} FROM {m} "
            f"WHERE {r.overall(m, ('service', 'severity'))} AND week_start >= ? AND week_start <= ?",
            [weeks[0], ws],
        )
        if got:
            times = {row["week_start"]: row for row in got}
    if not times and r.has(t, "acknowledged_at", "resolved_at"):
        got = r.rows(
            f"""SELECT CAST(date_trunc('week', created_at) AS DATE) AS week_start,
                   quantile_cont(epoch(acknowledged_at - created_at) / 60, 0.5) AS mtta_minutes_p50,
                   avg(epoch(acknowledged_at - created_at) / 60) AS mtta_minutes_mean,
                   quantile_cont(epoch(resolved_at - created_at) / 60, 0.5) AS mttr_minutes_p50,
                   avg(epoch(resolved_at - created_at) / 60) AS mttr_minutes_mean
                FROM {t} WHERE created_at >= ? AND created_at < ? GROUP BY ALL""",
            [_midnight(weeks[0]), _midnight(we)],
        ) or []
        times = {row["week_start"]: row for row in got}
    for k in keys:
        out["trend"][k] = [(times.get(w) or {}).get(k) for w in weeks]
    out["this_times"] = times.get(ws, {})
    out["prev_times"] = times.get(prev, {})
    out["has_data"] = bool(counts)
    return out


def _q(r: Reader, table: str, col: str, alias: str) -> str:
    return f"{alias}.{col}" if r.has(table, col) else f"NULL AS {col}"


def _sev_key(s: str) -> tuple[int, str]:
    return (SEVERITIES.index(s), s) if s in SEVERITIES else (len(SEVERITIES), s)


# ---------------------------------------------------------------- action items


def _actions(r: Reader, ws: date, cfg: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"has_data": False, "overdue": [], "by_team": [], "trend": None}
    we = ws + timedelta(weeks=1)
    weeks = _weeks(ws)
    m = "marts.action_items_weekly"
    fields = ("due", "completed_on_time", "completed_late", "open_overdue")
    if r.has(m, "week_start", *fields):
        rows = r.rows(
            f"SELECT week_start, {', '.join(fields)} FROM {m} "
            f"WHERE {r.overall(m, ('team', 'category'))} AND week_start >= ? AND week_start <= ?",
            [weeks[0], ws],
        )
        if rows is not None:
            by_week = {row["week_start"]: row for row in rows}
            # on_time_rate recomputed from the counts: a week with nothing due is "no data", not 0.
            rate = {w: ratio(row["completed_on_time"], row["due"]) for w, row in by_week.items()}
            out["trend"] = {
                "week_start": weeks,
                "on_time_rate": [rate.get(w) for w in weeks],
                "due": [(by_week.get(w) or {}).get("due", 0) for w in weeks],
            }
            out["this"] = by_week.get(ws, {})
            out["this"]["on_time_rate"] = rate.get(ws)
            out["prev"] = by_week.get(ws - timedelta(weeks=1), {})
            out["prev"]["on_time_rate"] = rate.get(ws - timedelta(weeks=1))
            out["has_data"] = bool(rows)
        if r.has(m, "team"):
            teams = r.rows(
                f"SELECT team, {', '.join(fields)} FROM {m} "
                f"WHERE {r.detail(m, 'team', 'team', ('category',))} AND week_start = ? ORDER BY team",
                [ws],
            ) or []
            for row in teams:
                row["on_time_rate"] = ratio(row["completed_on_time"], row["due"])
            out["by_team"] = teams

    t = "core.action_items"
    if r.has(t, "item_id", "due_date", "status"):
        # Overdue at the end of the week: due before next Monday, not done by then, not dropped.
        done_by = "completed_at IS NOT NULL AND completed_at < ?" if r.has(t, "completed_at") else "status = 'done'"
        params: list[Any] = [_midnight(we)] if r.has(t, "completed_at") else []
        sql = f"""
            SELECT item_id, {r.col(t, 'incident_id')}, {r.col(t, 'title')}, {r.col(t, 'owner')},
                   {r.col(t, 'team')}, {r.col(t, 'category')}, due_date,
                   date_diff('day', due_date, CAST(? AS DATE)) AS days_overdue
            FROM {t}
            WHERE due_date IS NOT NULL AND due_date < ? AND status IS DISTINCT FROM 'not_doing'
              AND NOT ({done_by})
            ORDER BY days_overdue DESC, item_id
        """
        rows = r.rows(sql, [we, we, *params])
        if rows is not None:
            out["overdue"] = rows
            out["has_data"] = out["has_data"] or bool(rows)
            prev = r.rows(
                f"""SELECT count(*) AS n FROM {t} WHERE due_date IS NOT NULL AND due_date < ?
                    AND status IS DISTINCT FROM 'not_doing' AND NOT ({done_by})""",
                [ws, *([_midnight(ws)] if params else [])],
            )
            out["prev_overdue"] = prev[0]["n"] if prev else None
    return out


# ---------------------------------------------------------------- executive summary


def _summary(d: WeeklyData) -> dict[str, Any]:
    cfg = d.settings
    s: dict[str, Any] = {}
    slo = d.slo
    s["slos_met"] = slo.get("met") if slo.get("has_data") else None
    s["slos_total"] = (slo.get("met", 0) + slo.get("missed", 0)) if slo.get("has_data") else None
    inc = d.incidents
    s["incidents"] = inc.get("total") if inc.get("has_data") else None
    this_t, prev_t = inc.get("this_times") or {}, inc.get("prev_times") or {}
    s["mtta_minutes"] = this_t.get("mtta_minutes_mean")
    s["mttr_minutes"] = this_t.get("mttr_minutes_mean")
    act = d.actions
    s["action_on_time_rate"] = (act.get("this") or {}).get("on_time_rate")
    dora = d.dora
    s["deployments"] = (dora.get("this") or {}).get("deployments") if dora.get("trend") else None
    s["change_failure_rate"] = (dora.get("this") or {}).get("change_failure_rate")
    dep = d.deployments

    def target_met(value: float | None, target: float, better: str, strict: bool = False) -> bool | None:
        # "< 5 min" and "> 90%" are strict (METRICS.md); a success-rate target is "at least".
        if value is None:
            return None
        if better == "down":
            return value < target - TOLERANCE
        return value > target + TOLERANCE if strict else value > target - TOLERANCE

    mtta_t, mttr_t = float(cfg["mtta_target_minutes"]), float(cfg["mttr_target_minutes"])
    ai_t = float(cfg["action_item_target"])
    succ_t = float(cfg["deploy_success_target"])
    metrics = [
        Metric("incidents", "Incidents", s["incidents"], inc.get("prev_total") if inc.get("has_data") else None,
               "count", better="down"),
        Metric("mtta", "MTTA (mean)", s["mtta_minutes"], prev_t.get("mtta_minutes_mean"), "minutes", better="down",
               target=mtta_t, target_met=target_met(s["mtta_minutes"], mtta_t, "down"),
               target_text=f"target < {mtta_t:g} min",
               note=_p50_note(this_t.get("mtta_minutes_p50"))),
        Metric("mttr", "MTTR (mean)", s["mttr_minutes"], prev_t.get("mttr_minutes_mean"), "minutes", better="down",
               target=mttr_t, target_met=target_met(s["mttr_minutes"], mttr_t, "down"),
               target_text=f"target < {mttr_t:g} min",
               note=_p50_note(this_t.get("mttr_minutes_p50"))),
        Metric("action_items", "Action items on time", s["action_on_time_rate"],
               (act.get("prev") or {}).get("on_time_rate"), "pct", better="up", target=ai_t,
               target_met=target_met(s["action_on_time_rate"], ai_t, "up", strict=True), target_text=f"target > {ai_t:.0%}",
               note=f"{(act.get('this') or {}).get('due', 0) or 0} due this week" if act.get("trend") else None),
        Metric("deployments", "Production deployments", s["deployments"],
               (dora.get("prev") or {}).get("deployments") if dora.get("trend") else None, "count", better="up"),
        Metric("deploy_success", "Deployment success rate", (dep.get("this") or {}).get("success_rate"),
               (dep.get("prev") or {}).get("success_rate"), "pct", better="up", target=succ_t,
               target_met=target_met((dep.get("this") or {}).get("success_rate"), succ_t, "up"),
               target_text=f"target {succ_t:.1%}"),
        Metric("cfr", "Change failure rate", s["change_failure_rate"],
               (dora.get("prev") or {}).get("change_failure_rate"), "pct", better="down"),
    ]
    if slo.get("has_data"):
        metrics.insert(0, Metric("slos_met", "SLOs met", s["slos_met"], slo.get("prev_met"), "count", better="up",
                                 target=s["slos_total"], target_met=slo.get("missed", 0) == 0,
                                 target_text=f"of {s['slos_total']} with data"))
    for extra in d.sections:
        metrics.extend(extra.data.get("cards") or [])
    s["metrics"] = metrics
    return s


def _p50_note(v: float | None) -> str | None:
    if v is None:
        return None
    return f"p50 {v:.1f} min" if v < 120 else f"p50 {v / 60:.1f} h"
