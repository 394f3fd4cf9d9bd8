"""The weekly review's Security section: patch SLA attainment by severity against the policy, the
backlog past its SLA, the oldest open critical findings, and security incidents' time to
acknowledge against its target.

Every figure is read from ``marts.vulnerability_weekly`` and ``marts.security_incident_weekly``
(the policy's hours and the acknowledgement target come with the rows); the open critical findings
are listed from ``core.vulnerabilities``. Nothing is computed here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import plotly.graph_objects as go

from ops_warehouse.reporting.data import Metric, query_rows
from ops_warehouse.reporting.figures import BAD, NEUTRAL, chart_layout, week_labels

TITLE = "Security"
ORDER = 10
SEVERITIES = ("critical", "high", "medium", "low")
SEVERITY_COLOURS = {"critical": "#a40e26", "high": "#e16f24", "medium": "#d4a72c", "low": "#8c959f"}
TREND_WEEKS = 12
OLDEST = 5


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    prev_start = week_start - timedelta(days=7)
    first = week_start - timedelta(weeks=TREND_WEEKS - 1)
    severity_rows = query_rows(
        con,
        """
        SELECT week_start, severity, opened, fixed, dismissed, fixed_within_sla, sla_attainment,
               remediation_p50_hours, remediation_p90_hours, open_at_week_end, open_past_sla_at_week_end, sla_hours
        FROM marts.vulnerability_weekly
        WHERE scope IN ('severity', 'overall') AND week_start BETWEEN ? AND ?
        ORDER BY week_start
    """,
        [first, week_start],
    )
    if not severity_rows:
        return {"has_data": False}
    this = {r["severity"]: r for r in severity_rows if r["week_start"] == week_start}
    prev = {r["severity"]: r for r in severity_rows if r["week_start"] == prev_start}
    policy = {r["severity"]: r["sla_hours"] for r in severity_rows if r["severity"] in SEVERITIES}
    by_severity = []
    for sev in SEVERITIES + ("(all)",):
        cur, before = this.get(sev), prev.get(sev)
        if cur is None and before is None:
            continue
        by_severity.append({"severity": sev, "sla_hours": policy.get(sev), "this": cur or {}, "prev": before or {}})
    overall, overall_prev = this.get("(all)") or {}, prev.get("(all)") or {}

    services = query_rows(
        con,
        """
        SELECT service, open_at_week_end, open_past_sla_at_week_end, fixed, sla_attainment
        FROM marts.vulnerability_weekly
        WHERE scope = 'service' AND week_start = ? AND open_past_sla_at_week_end > 0
        ORDER BY open_past_sla_at_week_end DESC, open_at_week_end DESC, service
        LIMIT 10
    """,
        [week_start],
    )
    week_end = week_start + timedelta(days=7)
    oldest = query_rows(
        con,
        """
        SELECT finding_id, service, package, advisory_id, title, opened_at, sla_due_at, source
        FROM core.vulnerabilities
        WHERE severity = 'critical' AND opened_at < ?
          AND (fixed_at IS NULL OR fixed_at >= ?) AND (dismissed_at IS NULL OR dismissed_at >= ?)
        ORDER BY opened_at, finding_id
        LIMIT ?
    """,
        [week_end, week_end, week_end, OLDEST],
    )
    incidents = query_rows(
        con,
        """
        SELECT week_start, incidents, acknowledged, unacknowledged, acknowledged_within_target,
               ack_target_attainment, ack_minutes_p50, ack_minutes_mean, ack_target_minutes
        FROM marts.security_incident_weekly WHERE week_start IN (?, ?)
    """,
        [week_start, prev_start],
    )
    inc_this = next((r for r in incidents if r["week_start"] == week_start), None)
    inc_prev = next((r for r in incidents if r["week_start"] == prev_start), None)

    card = Metric(
        "patch_sla",
        "Patch SLA attainment",
        overall.get("sla_attainment"),
        overall_prev.get("sla_attainment"),
        "pct",
        better="up",
        note=f"{overall.get('open_past_sla_at_week_end') or 0} open findings past SLA" if overall else None,
    )
    return {
        "has_data": True,
        "by_severity": by_severity,
        "overall": overall,
        "overall_prev": overall_prev,
        "services": services,
        "oldest": oldest,
        "incidents": inc_this,
        "incidents_prev": inc_prev,
        "cards": [card],
        "figures": {"attainment": _attainment_figure(severity_rows), "backlog": _backlog_figure(severity_rows)},
    }


def _weeks(rows: list[dict[str, Any]]) -> list[date]:
    return sorted({r["week_start"] for r in rows})


def _attainment_figure(rows: list[dict[str, Any]]) -> go.Figure:
    weeks = _weeks(rows)
    x = week_labels(weeks)
    fig = go.Figure()
    for sev in SEVERITIES:
        got = {r["week_start"]: r["sla_attainment"] for r in rows if r["severity"] == sev}
        if any(v is not None for v in got.values()):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[got.get(w) for w in weeks],
                    name=sev,
                    mode="lines+markers",
                    connectgaps=False,
                    line={"color": SEVERITY_COLOURS[sev]},
                )
            )
    fig.update_yaxes(range=[0, 1.05])
    return chart_layout(fig, "Patch SLA attainment by severity (fixes of the week)", yformat=".0%")


def _backlog_figure(rows: list[dict[str, Any]]) -> go.Figure:
    weeks = _weeks(rows)
    x = week_labels(weeks)
    overall = {r["week_start"]: r for r in rows if r["severity"] == "(all)"}
    past = [(overall.get(w) or {}).get("open_past_sla_at_week_end") or 0 for w in weeks]
    total = [(overall.get(w) or {}).get("open_at_week_end") or 0 for w in weeks]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=total, name="open", marker_color=NEUTRAL))
    fig.add_trace(go.Bar(x=x, y=past, name="of which past SLA", marker_color=BAD))
    fig.update_layout(barmode="overlay")
    return chart_layout(fig, "Open findings at each week's end")
