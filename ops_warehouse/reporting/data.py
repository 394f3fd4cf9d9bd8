"""Data assembly for the weekly metrics review: plain dicts read from the published snapshot.

One definition per figure: every number the page shows is a column of a mart (or of a core table
row it lists), read here as it is. Nothing is recomputed, no fallback stands in for a missing mart
column, and targets, tiers and thresholds come from the marts (which take them from the catalog's
settings and the benchmark files), never from constants here or in the templates. A missing mart or
a failing query turns that section into "no data"; it never fails the report.

Which mart holds what:

- SLOs: ``marts.slo_weekly`` (attainment, met, window attainment, budget, burn rate, policy stage,
  forecast), ``marts.slo_budget_daily`` (the burn-down), ``marts.slo_alerts``;
- DORA: ``marts.dora_weekly`` (scope ``overall`` and ``service``), ``marts.dora_tier`` (tiers and
  ``weeks_measured``), ``marts.dora_benchmark`` (the chart's tier bands);
- deployments: ``marts.deployment_health_weekly`` (success and rollback rates, durations, targets);
- incidents: ``marts.incident_weekly`` (counts, MTTA/MTTR, targets) and the week's rows of
  ``core.incidents`` (with their ``time_to_ack_minutes`` and ``time_to_resolve_minutes``);
- action items: ``marts.action_items_weekly`` (on-time rate over what is due so far, target) and the
  overdue rows of ``core.action_items`` (``is_overdue``, ``days_overdue``, the mart's own rule).

Week-over-week: each figure is also read for the previous ISO week. Rates stay fractions here;
formatting happens in :mod:`ops_warehouse.reporting.render`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import duckdb

from ops_warehouse.catalog import DEFAULT_SETTINGS
from ops_warehouse.reporting.sections import Section, build_sections
from ops_warehouse.timeutil import iso_week_label

log = logging.getLogger(__name__)

TREND_WEEKS = 12
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
DORA_METRICS = ("deployment_frequency", "lead_time", "change_failure_rate", "recovery_time")


def _nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _clean(v: Any) -> Any:
    """NaN (DuckDB can return it for 0/0 in doubles) is no data, like NULL."""
    return None if _nan(v) else v


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

    def cols(self, table: str, names: Iterable[str]) -> str:
        """The select list: each column that exists, ``NULL AS name`` for one the mart lacks (shown as
        "no data"; nothing is computed in its place)."""
        return ", ".join(n if self.has(table, n) else f"NULL AS {n}" for n in names)

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]] | None:
        try:
            cur = self.con.execute(sql, list(params))
        except duckdb.Error as exc:
            log.warning("report query failed, the section shows no data: %s", str(exc).splitlines()[0])
            return None
        names = [d[0] for d in cur.description or []]
        return [{k: _clean(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]


def query_rows(con: duckdb.DuckDBPyConnection, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
    """The rows of ``sql`` as dicts by column name (a failing query raises)."""
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@dataclass
class Metric:
    """One summary card: a figure with its previous-week value; ``better`` is 'up', 'down' or None.

    ``target_met`` is the mart's own verdict (a ``*_target_met`` column); ``target_text`` says the
    target the mart compared with.
    """

    key: str
    label: str
    value: float | None
    prev: float | None
    kind: str  # pct | pct3 | count | minutes | hours | number
    better: str | None = None
    target: float | None = None  # the target the verdict compared with, when a section has it
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
        core = (self.slo, self.dora, self.deployments, self.incidents, self.actions)
        return any(s.get("has_data") for s in core) or any(s.has_data for s in self.sections)

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


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _section(name: str, fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
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
        generated_at=(now or datetime.now(UTC)).astimezone(UTC),
        settings=cfg,
    )
    teams = _service_teams(r)
    data.slo = _section("slo", _slo, r, week_start, teams)
    data.dora = _section("dora", _dora, r, week_start)
    data.deployments = _section("deployments", _deployments, r, week_start)
    data.incidents = _section("incidents", _incidents, r, week_start)
    data.actions = _section("actions", _actions, r, week_start)
    data.sections = build_sections(con, week_start, cfg)
    data.teams = sorted({t for t in teams.values() if t} | set(_teams_in(data)))
    data.summary = _summary(data)
    return data


def _service_teams(r: Reader) -> dict[str, str | None]:
    """A service's team as the marts state it: marts.deployment_health_weekly's service rows carry
    the team of the service's latest deployment (the same rule as marts.dora_events)."""
    t = "marts.deployment_health_weekly"
    if not r.has(t, "scope", "service", "team", "week_start"):
        return {}
    rows = (
        r.rows(f"SELECT service, arg_max(team, week_start) AS team FROM {t} WHERE scope = 'service' GROUP BY service")
        or []
    )
    return {row["service"]: None if row["team"] == "(none)" else row["team"] for row in rows}


def _teams_in(data: WeeklyData) -> Iterable[str]:
    extra = [s.data for s in data.sections]
    for section in (data.slo, data.dora, data.deployments, data.incidents, data.actions, *extra):
        for key in ("rows", "by_service", "by_team", "list", "overdue"):
            for row in section.get(key) or []:
                if row.get("team") and row["team"] not in ("(all)", "(none)"):
                    yield row["team"]


# ---------------------------------------------------------------- SLOs


SLO_COLUMNS = (
    "slo_name",
    "service",
    "week_start",
    "attainment",
    "target",
    "met",
    "window_attainment",
    "budget_consumed",
    "budget_remaining",
    "burn_rate_1d",
    "policy_stage",
    "exhausted_at",
    "finding",
)


def _slo(r: Reader, ws: date, teams: dict[str, str | None]) -> dict[str, Any]:
    t = "marts.slo_weekly"
    out: dict[str, Any] = {"has_data": False, "rows": [], "burndown": None, "alerts": None}
    if not r.has(t, "slo_name", "week_start", "attainment", "target"):
        return out
    rows = r.rows(
        f"SELECT {r.cols(t, SLO_COLUMNS)} FROM {t} WHERE week_start IN (?, ?) ORDER BY slo_name",
        [ws, ws - timedelta(weeks=1)],
    )
    if rows is None:
        return out
    this = {row["slo_name"]: row for row in rows if row["week_start"] == ws}
    last = {row["slo_name"]: row for row in rows if row["week_start"] != ws}
    out_rows = []
    for name in sorted(this):
        row = dict(this[name])
        p = last.get(name) or {}
        row["prev_attainment"] = p.get("attainment")
        row["prev_budget_remaining"] = p.get("budget_remaining")
        row["prev_policy_stage"] = p.get("policy_stage")
        row["team"] = teams.get(row["service"])
        out_rows.append(row)
    out["rows"] = out_rows
    out["met"] = sum(1 for x in out_rows if x["met"] is True)
    out["missed"] = sum(1 for x in out_rows if x["met"] is False)
    out["prev_met"] = sum(1 for x in last.values() if x["met"] is True)
    out["prev_total"] = sum(1 for x in last.values() if x["met"] is not None)
    out["findings"] = [x for x in out_rows if x.get("finding")]
    out["has_data"] = bool(out_rows)

    if r.has("marts.slo_budget_daily", "slo_name", "day", "budget_remaining"):
        days = r.rows(
            "SELECT slo_name, day, budget_remaining FROM marts.slo_budget_daily "
            "WHERE day >= ? AND day < ? ORDER BY slo_name, day",
            [ws - timedelta(weeks=3), ws + timedelta(weeks=1)],
        )
        if days:
            series: dict[str, dict[str, list[Any]]] = {}
            for d in days:
                s = series.setdefault(d["slo_name"], {"x": [], "y": []})
                s["x"].append(d["day"])
                s["y"].append(d["budget_remaining"])
            out["burndown"] = series

    t = "marts.slo_alerts"
    if r.has(t, "slo_name", "alert", "fired_at", "resolved_at"):
        cols = r.cols(
            t, ("slo_name", "alert", "long_window", "short_window", "factor", "fired_at", "resolved_at", "service")
        )
        we = ws + timedelta(weeks=1)
        alerts = r.rows(
            f"SELECT {cols} FROM {t} WHERE fired_at < ? AND (resolved_at IS NULL OR resolved_at >= ?) "
            "ORDER BY fired_at, slo_name",
            [_midnight(we), _midnight(ws)],
        )
        prev_n = r.rows(
            f"SELECT count(*) AS n FROM {t} WHERE fired_at >= ? AND fired_at < ?",
            [_midnight(ws - timedelta(weeks=1)), _midnight(ws)],
        )
        if alerts is not None:
            for a in alerts:
                a["team"] = teams.get(a["service"]) if a.get("service") else None
            out["alerts"] = alerts
            out["alerts_fired"] = sum(1 for a in alerts if a["fired_at"] >= _midnight(ws))
            out["prev_alerts_fired"] = prev_n[0]["n"] if prev_n else None
    return out


# ---------------------------------------------------------------- DORA

DORA_WEEKLY = (
    "week_start",
    "deployments",
    "deploy_days",
    "failed_deployments",
    "change_failure_rate",
    "lead_time_p50_hours",
    "lead_time_p90_hours",
    "recovery_time_p50_hours",
    "rework_rate",
)
DORA_CHARTS = ("deploy_days", "lead_time_p50_hours", "change_failure_rate", "recovery_time_p50_hours")


def _dora(r: Reader, ws: date) -> dict[str, Any]:
    out: dict[str, Any] = {"has_data": False, "trend": None, "tiers": {}, "by_service": [], "bands": {}}
    t = "marts.dora_weekly"
    weeks = _weeks(ws)
    if r.has(t, "scope", "service", "week_start", "deployments"):
        rows = r.rows(
            f"SELECT {r.cols(t, DORA_WEEKLY)} FROM {t} WHERE scope = 'overall' AND week_start BETWEEN ? AND ?",
            [weeks[0], ws],
        )
        if rows:
            by_week = {row["week_start"]: row for row in rows}
            # a week the mart has no row for is outside the data: no data, not zero
            out["trend"] = {
                "week_start": weeks,
                **{k: [(by_week.get(w) or {}).get(k) for w in weeks] for k in DORA_WEEKLY[1:]},
            }
            out["this"] = by_week.get(ws, {})
            out["prev"] = by_week.get(ws - timedelta(weeks=1), {})
            out["has_data"] = True
        cols = r.cols(
            t,
            (
                "team",
                "deployments",
                "change_failure_rate",
                "lead_time_p50_hours",
                "recovery_time_p50_hours",
                "deploy_days",
            ),
        )
        out["by_service"] = (
            r.rows(
                f"SELECT service, {cols} FROM {t} WHERE scope = 'service' AND week_start = ? "
                "ORDER BY deployments DESC, service",
                [ws],
            )
            or []
        )

    t = "marts.dora_tier"
    if r.has(t, "scope", "service", "metric", "tier", "period_end"):
        end = ws + timedelta(weeks=1)
        cols = r.cols(t, ("metric", "tier", "value", "benchmark", "period_end", "service", "weeks_measured"))
        ov = r.rows(f"SELECT {cols} FROM {t} WHERE scope = 'overall' AND period_end IN (?, ?)", [end, ws]) or []
        this_end = {row["metric"]: row for row in ov if row["period_end"] == end}
        prev_end = {row["metric"]: row for row in ov if row["period_end"] == ws}
        for m in DORA_METRICS:
            if m in this_end or m in prev_end:
                cur = this_end.get(m) or {}
                out["tiers"][m] = {
                    "tier": cur.get("tier"),
                    "value": cur.get("value"),
                    "weeks_measured": cur.get("weeks_measured"),
                    "prev_tier": (prev_end.get(m) or {}).get("tier"),
                }
                out["benchmark"] = out.get("benchmark") or cur.get("benchmark")
        svc = r.rows(f"SELECT {cols} FROM {t} WHERE scope = 'service' AND period_end = ?", [end]) or []
        tiers: dict[str, dict[str, Any]] = {}
        for row in svc:
            tiers.setdefault(row["service"], {})[row["metric"]] = row["tier"]
            tiers[row["service"]]["weeks_measured"] = row["weeks_measured"]
        for row in out["by_service"]:
            row["tiers"] = tiers.get(row["service"], {})
        out["has_data"] = out["has_data"] or bool(out["tiers"])

    t = "marts.dora_benchmark"
    if r.has(t, "chart_column", "tier", "rank", "band_low", "band_high"):
        rows = r.rows(f"SELECT benchmark, chart_column, tier, rank, band_low, band_high FROM {t} ORDER BY rank") or []
        for row in rows:
            out["bands"].setdefault(row["chart_column"], []).append(row)
            out["benchmark"] = out.get("benchmark") or row["benchmark"]
    return out


# ---------------------------------------------------------------- deployments

HEALTH = (
    "attempts",
    "successful",
    "failed",
    "errored",
    "cancelled",
    "rollbacks",
    "success_rate",
    "rollback_rate",
    "duration_p50_minutes",
    "duration_p90_minutes",
    "success_target",
    "rollback_rate_target",
    "duration_target_minutes",
    "success_target_met",
    "rollback_target_met",
    "duration_target_met",
)


def _deployments(r: Reader, ws: date) -> dict[str, Any]:
    """Deployment health: ``marts.deployment_health_weekly`` as it is."""
    t = "marts.deployment_health_weekly"
    out: dict[str, Any] = {"has_data": False, "by_service": []}
    if not r.has(t, "scope", "service", "week_start", "attempts"):
        return out
    weeks = _weeks(ws)
    rows = r.rows(
        f"SELECT week_start, {r.cols(t, HEALTH)} FROM {t} WHERE scope = 'overall' AND week_start BETWEEN ? AND ?",
        [weeks[0], ws],
    )
    if rows is None:
        return out
    by_week = {row["week_start"]: row for row in rows}
    out["trend"] = {
        "week_start": weeks,
        **{k: [(by_week.get(w) or {}).get(k) for w in weeks] for k in ("successful", "failed", "errored", "cancelled")},
    }
    out["this"] = by_week.get(ws) or {}
    out["prev"] = by_week.get(ws - timedelta(weeks=1)) or {}
    out["by_service"] = (
        r.rows(
            f"SELECT service, team, {r.cols(t, HEALTH)} FROM {t} WHERE scope = 'service' AND week_start = ? "
            "ORDER BY attempts DESC, service",
            [ws],
        )
        or []
    )
    out["has_data"] = bool(rows)
    return out


# ---------------------------------------------------------------- incidents

INCIDENT_TIMES = ("mtta_minutes_p50", "mtta_minutes_mean", "mttr_minutes_p50", "mttr_minutes_mean")
INCIDENT_TARGETS = ("mtta_target_minutes", "mttr_target_minutes", "mtta_target_met", "mttr_target_met")


def _incidents(r: Reader, ws: date) -> dict[str, Any]:
    m = "marts.incident_weekly"
    out: dict[str, Any] = {"has_data": False, "list": [], "by_severity": [], "trend": None}
    weeks = _weeks(ws)
    prev = ws - timedelta(weeks=1)
    if r.has(m, "scope", "week_start", "severity", "incidents"):
        overall = (
            r.rows(
                f"SELECT week_start, incidents, {r.cols(m, ('open_incidents', *INCIDENT_TIMES, *INCIDENT_TARGETS))} "
                f"FROM {m} WHERE scope = 'overall' AND week_start BETWEEN ? AND ?",
                [weeks[0], ws],
            )
            or []
        )
        by_sev = (
            r.rows(
                f"SELECT week_start, severity, incidents FROM {m} WHERE scope = 'severity' AND week_start BETWEEN ? AND ?",  # noqa: E501
                [weeks[0], ws],
            )
            or []
        )
        times = {row["week_start"]: row for row in overall}
        grid = {(row["week_start"], row["severity"]): row["incidents"] for row in by_sev}
        sev = sorted({row["severity"] for row in by_sev}, key=_sev_key)  # the severities the mart has
        out["trend"] = {"week_start": weeks, "by_severity": {s: [grid.get((w, s)) for w in weeks] for s in sev}}
        for k in INCIDENT_TIMES:
            out["trend"][k] = [(times.get(w) or {}).get(k) for w in weeks]
        out["by_severity"] = [
            {"severity": s, "count": grid.get((ws, s)), "prev": grid.get((prev, s))}
            for s in sev
            if grid.get((ws, s)) is not None or grid.get((prev, s)) is not None
        ]
        out["this"] = times.get(ws) or {}
        out["prev"] = times.get(prev) or {}
        out["total"] = out["this"].get("incidents")
        out["prev_total"] = out["prev"].get("incidents")
        out["open"] = out["this"].get("open_incidents")
        out["has_data"] = bool(overall)

    t = "core.incidents"
    if r.has(t, "incident_id", "created_at"):
        dep = "core.deployments"
        link = r.has(dep, "deploy_id", "sha") and r.has(t, "caused_by_deploy_id")
        cols = ", ".join(
            f"i.{c}" if r.has(t, c) else f"NULL AS {c}"
            for c in (
                "incident_id",
                "service",
                "team",
                "severity",
                "title",
                "created_at",
                "acknowledged_at",
                "resolved_at",
                "caused_by_deploy_id",
                "time_to_ack_minutes",
                "time_to_resolve_minutes",
            )
        )
        join = (
            (
                f"LEFT JOIN (SELECT deploy_id, any_value(sha) AS deploy_sha FROM {dep} GROUP BY deploy_id) AS d "
                "ON d.deploy_id = i.caused_by_deploy_id"
            )
            if link
            else ""
        )
        rows = r.rows(
            f"SELECT {cols}, {'d.deploy_sha' if link else 'NULL AS deploy_sha'} FROM {t} AS i {join} "
            "WHERE i.created_at >= ? AND i.created_at < ? ORDER BY i.severity, i.created_at, i.incident_id",
            [_midnight(ws), _midnight(ws + timedelta(weeks=1))],
        )
        if rows is not None:
            for row in rows:
                row["open"] = row["resolved_at"] is None
            out["list"] = rows
    return out


def _sev_key(s: str) -> tuple[int, str]:
    return (SEVERITIES.index(s), s) if s in SEVERITIES else (len(SEVERITIES), s)


# ---------------------------------------------------------------- action items

ACTION_FIELDS = (
    "due",
    "completed_on_time",
    "completed_late",
    "open_overdue",
    "on_time_rate",
    "due_to_date",
    "completed_on_time_to_date",
    "on_time_target",
    "on_time_target_met",
    "as_of",
)


def _actions(r: Reader, ws: date) -> dict[str, Any]:
    out: dict[str, Any] = {"has_data": False, "overdue": None, "by_team": [], "trend": None}
    weeks = _weeks(ws)
    m = "marts.action_items_weekly"
    if r.has(m, "scope", "week_start", "team", "due"):
        rows = r.rows(
            f"SELECT week_start, {r.cols(m, ACTION_FIELDS)} FROM {m} "
            "WHERE scope = 'overall' AND week_start BETWEEN ? AND ?",
            [weeks[0], ws],
        )
        if rows is not None:
            by_week = {row["week_start"]: row for row in rows}
            out["trend"] = {
                "week_start": weeks,
                **{
                    k: [(by_week.get(w) or {}).get(k) for w in weeks]
                    for k in ("on_time_rate", "due", "due_to_date", "on_time_target", "on_time_target_met")
                },
            }
            out["this"] = by_week.get(ws) or {}
            out["prev"] = by_week.get(ws - timedelta(weeks=1)) or {}
            out["has_data"] = bool(rows)
        out["by_team"] = (
            r.rows(
                f"SELECT team, {r.cols(m, ACTION_FIELDS)} FROM {m} WHERE scope = 'team' AND week_start = ? AND due > 0 "
                "ORDER BY team",
                [ws],
            )
            or []
        )

    t = "core.action_items"
    if r.has(t, "item_id", "due_date", "is_overdue"):
        # the rows the mart counts as open_overdue, in the weeks up to this one
        cols = r.cols(
            t, ("item_id", "incident_id", "title", "owner", "team", "category", "due_date", "days_overdue", "as_of")
        )
        sql = f"SELECT {cols} FROM {t} WHERE is_overdue AND due_date < ? ORDER BY days_overdue DESC, item_id"
        rows = r.rows(sql, [ws + timedelta(weeks=1)])
        if rows is not None:
            out["overdue"] = rows
            out["has_data"] = out["has_data"] or bool(rows)
            prev = r.rows(f"SELECT count(*) AS n FROM {t} WHERE is_overdue AND due_date < ?", [ws])
            out["prev_overdue"] = prev[0]["n"] if prev else None
    return out


# ---------------------------------------------------------------- executive summary


def _target(op: str, value: Any, kind: str) -> str | None:
    """The words for a target the mart compared with: "target < 5 min"."""
    if value is None:
        return None
    shown = {"minutes": f"{value:g} min", "pct": f"{value * 100:g}%"}.get(kind, f"{value:g}")
    return f"target {op} {shown}".replace("  ", " ")


def _summary(d: WeeklyData) -> dict[str, Any]:
    s: dict[str, Any] = {}
    slo, inc, act, dora, dep = d.slo, d.incidents, d.actions, d.dora, d.deployments
    this_i, prev_i = inc.get("this") or {}, inc.get("prev") or {}
    this_a, prev_a = act.get("this") or {}, act.get("prev") or {}
    this_d, prev_d = dora.get("this") or {}, dora.get("prev") or {}
    this_h, prev_h = dep.get("this") or {}, dep.get("prev") or {}
    s["slos_met"] = slo.get("met") if slo.get("has_data") else None
    s["slos_total"] = (slo.get("met", 0) + slo.get("missed", 0)) if slo.get("has_data") else None
    s["incidents"] = inc.get("total")
    s["mtta_minutes"] = this_i.get("mtta_minutes_mean")
    s["mttr_minutes"] = this_i.get("mttr_minutes_mean")
    s["action_on_time_rate"] = this_a.get("on_time_rate")
    s["deployments"] = this_d.get("deployments")
    s["change_failure_rate"] = this_d.get("change_failure_rate")
    p50 = _p50_note
    metrics = [
        Metric("incidents", "Incidents", s["incidents"], inc.get("prev_total"), "count", better="down"),
        Metric(
            "mtta",
            "MTTA (mean)",
            s["mtta_minutes"],
            prev_i.get("mtta_minutes_mean"),
            "minutes",
            better="down",
            target_met=this_i.get("mtta_target_met"),
            target_text=_target("<", this_i.get("mtta_target_minutes"), "minutes"),
            note=p50(this_i.get("mtta_minutes_p50")),
        ),
        Metric(
            "mttr",
            "MTTR (mean)",
            s["mttr_minutes"],
            prev_i.get("mttr_minutes_mean"),
            "minutes",
            better="down",
            target_met=this_i.get("mttr_target_met"),
            target_text=_target("<", this_i.get("mttr_target_minutes"), "minutes"),
            note=p50(this_i.get("mttr_minutes_p50")),
        ),
        Metric(
            "action_items",
            "Action items on time",
            s["action_on_time_rate"],
            prev_a.get("on_time_rate"),
            "pct",
            better="up",
            target_met=this_a.get("on_time_target_met"),
            target_text=_target(">", this_a.get("on_time_target"), "pct"),
            note=(
                f"{this_a['due_to_date']} of {this_a['due']} due so far"
                if this_a.get("due") is not None and this_a.get("due_to_date") is not None
                else None
            ),
        ),
        Metric(
            "deployments", "Production deployments", s["deployments"], prev_d.get("deployments"), "count", better="up"
        ),
        Metric(
            "deploy_success",
            "Deployment success rate",
            this_h.get("success_rate"),
            prev_h.get("success_rate"),
            "pct",
            better="up",
            target_met=this_h.get("success_target_met"),
            target_text=_target(">=", this_h.get("success_target"), "pct"),
        ),
        Metric(
            "cfr",
            "Change failure rate",
            s["change_failure_rate"],
            prev_d.get("change_failure_rate"),
            "pct",
            better="down",
        ),
    ]
    if slo.get("has_data"):
        metrics.insert(
            0,
            Metric(
                "slos_met",
                "SLOs met",
                s["slos_met"],
                slo.get("prev_met"),
                "count",
                better="up",
                target_met=slo.get("missed", 0) == 0,
                target_text=f"of {s['slos_total']} with data",
            ),
        )
    for extra in d.sections:
        metrics.extend(extra.data.get("cards") or [])
    s["metrics"] = metrics
    return s


def _p50_note(v: float | None) -> str | None:
    if v is None:
        return None
    return f"p50 {v:.1f} min" if v < 120 else f"p50 {v / 60:.1f} h"
