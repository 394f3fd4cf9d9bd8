"""Report section "Deploys that burned budget", in the deployments section.

Lists the week's suspect deployments from ``marts.deploy_slo_impact`` (METRICS.md, Deploy impact on
SLOs: burn in the hour after >= 6 and >= twice the hour before) with their burn before and after,
counts them against the previous week from ``marts.deploy_impact_weekly``, and draws the SLI around
each of the first few from the minute rows of ``core.sli_minutes`` (a listing, not a figure). The
executive summary gains the count of suspect deploys.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import duckdb
import plotly.graph_objects as go

from ops_warehouse.reporting.data import Metric, query_rows

TITLE = "Deploys that burned budget"
PLACE = "deployments"
ORDER = 10
MAX_ROWS = 25
MAX_CHARTS = 6
CONTEXT = timedelta(minutes=90)  # minutes of SLI drawn before the deploy and after its finish


def _utc(d: date) -> datetime:
    return datetime.combine(d, time(), UTC)


def _weekly(con: duckdb.DuckDBPyConnection, week_start: date) -> dict[str, Any] | None:
    rows = query_rows(
        con,
        "SELECT deployments_measured, suspect_deployments FROM marts.deploy_impact_weekly "
        "WHERE scope = 'overall' AND week_start = ?",
        [week_start],
    )
    return rows[0] if rows else None


def sli_figure(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> go.Figure:
    """The SLO's per-minute SLI (good / total, as listed from core.sli_minutes) around a deploy, with
    the deploy's start and finish and the target."""
    points = query_rows(
        con,
        "SELECT minute, good / total AS sli FROM core.sli_minutes "
        "WHERE slo_name = ? AND minute > ? AND minute <= ? AND total > 0 ORDER BY minute",
        [row["slo_name"], row["started_at"] - CONTEXT, row["finished_at"] + CONTEXT],
    )
    fig = go.Figure(
        go.Scatter(
            x=[p["minute"] for p in points],
            y=[p["sli"] for p in points],
            mode="lines",
            name="SLI",
            line={"color": "#0969da", "width": 1.5},
        )
    )
    for at, label in ((row["started_at"], "deploy started"), (row["finished_at"], "finished")):
        fig.add_shape(type="line", x0=at, x1=at, yref="paper", y0=0, y1=1, line={"color": "#cf222e", "dash": "dot"})
        fig.add_annotation(x=at, yref="paper", y=1, text=label, showarrow=False, font={"size": 10})
    if row.get("target") is not None:
        fig.add_hline(y=row["target"], line={"color": "#8c959f", "dash": "dash"})
    fig.update_layout(
        title={"text": f"{row['slo_name']} around {row['deploy_id']}", "font": {"size": 13}, "x": 0},
        height=220,
        margin={"l": 50, "r": 10, "t": 36, "b": 30},
        showlegend=False,
        yaxis={"tickformat": ".2%"},
        template="plotly_white",
    )
    return fig


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    lo, hi = _utc(week_start), _utc(week_start + timedelta(days=7))
    suspects = query_rows(
        con,
        """SELECT deploy_id, service, slo_name, started_at, finished_at, burn_before, burn_after, bad_after, target
           FROM marts.deploy_slo_impact
           WHERE suspect AND finished_at >= ? AND finished_at < ?
           ORDER BY burn_after DESC, finished_at, deploy_id, slo_name""",
        [lo, hi],
    )
    this, prev = _weekly(con, week_start), _weekly(con, week_start - timedelta(days=7))
    count = this["suspect_deployments"] if this else None
    prev_count = prev["suspect_deployments"] if prev else None
    figures = {f"sli_{i}": sli_figure(con, row) for i, row in enumerate(suspects[:MAX_CHARTS])}
    for i, row in enumerate(suspects):
        row["figure"] = f"sli_{i}" if i < MAX_CHARTS else None
    threshold = float(settings.get("deploy_suspect_burn_rate", 6))
    return {
        "has_data": this is not None,
        "rows": suspects[:MAX_ROWS],
        "more": max(0, len(suspects) - MAX_ROWS),
        "suspect_deployments": count,
        "prev_suspect_deployments": prev_count,
        "deployments_measured": this["deployments_measured"] if this else None,
        "threshold": threshold,
        "figures": figures,
        "cards": [
            Metric(
                "suspect_deploys",
                "Deploys that burned budget",
                count,
                prev_count,
                "count",
                better="down",
                note=f"burn >= {threshold:g}x in the hour after",
            )
        ],
    }
