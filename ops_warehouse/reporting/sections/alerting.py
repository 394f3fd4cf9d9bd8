"""The weekly review's Alerting section: episodes and pages, the noise rate against its target,
after-hours pages, flapping, episodes per incident, the services with the noisiest week and the
noisiest alert names.

Every figure is read from ``marts.alert_weekly`` (the noise target comes with its rows) and
``marts.alert_names_weekly``. Nothing is computed here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb
import plotly.graph_objects as go

from ops_warehouse.reporting.data import Metric, query_rows
from ops_warehouse.reporting.figures import BAD, MUTED, NEUTRAL, chart_layout, week_labels

TITLE = "Alerting"
ORDER = 20
TREND_WEEKS = 12


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    prev_start = week_start - timedelta(days=7)
    first = week_start - timedelta(weeks=TREND_WEEKS - 1)
    trend = query_rows(
        con,
        """
        SELECT week_start, episodes, paging_episodes, actionable, noisy, noise_rate, flapping, after_hours_pages,
               episodes_per_incident, incidents, noise_target, noise_target_met
        FROM marts.alert_weekly
        WHERE scope = 'overall' AND week_start BETWEEN ? AND ?
        ORDER BY week_start
    """,
        [first, week_start],
    )
    this = next((r for r in trend if r["week_start"] == week_start), None)
    if this is None:
        return {"has_data": False}
    prev = next((r for r in trend if r["week_start"] == prev_start), None) or {}
    target = this["noise_target"]
    services = query_rows(
        con,
        """
        SELECT t.service, t.episodes, t.paging_episodes, t.noisy, t.noise_rate, t.flapping, t.after_hours_pages,
               t.episodes_per_incident, t.noise_target_met, p.noise_rate AS prev_noise_rate
        FROM marts.alert_weekly AS t
        LEFT JOIN marts.alert_weekly AS p ON p.scope = 'service' AND p.service = t.service AND p.week_start = ?
        WHERE t.scope = 'service' AND t.week_start = ? AND t.episodes > 0
        ORDER BY t.noisy DESC, t.episodes DESC, t.service
        LIMIT 10
    """,
        [prev_start, week_start],
    )
    names = query_rows(
        con,
        """
        SELECT t.alertname, t.episodes, t.noisy, t.noise_rate, t.noise_rank, p.noisy AS prev_noisy
        FROM marts.alert_names_weekly AS t
        LEFT JOIN marts.alert_names_weekly AS p
          ON p.scope = 'overall' AND p.alertname = t.alertname AND p.week_start = ?
        WHERE t.scope = 'overall' AND t.week_start = ?
        ORDER BY t.noise_rank
    """,
        [prev_start, week_start],
    )
    rate = this["noise_rate"]
    card = Metric(
        "alert_noise",
        "Alert noise rate",
        rate,
        prev.get("noise_rate"),
        "pct",
        better="down",
        target_met=this["noise_target_met"],
        target_text=f"target < {target:.0%}" if target is not None else None,
        note=f"{this['episodes']} episodes, {this['paging_episodes']} pages",
    )
    return {
        "has_data": True,
        "this": this,
        "prev": prev,
        "target": target,
        "noise_met": card.target_met,
        "services": services,
        "names": names,
        "cards": [card],
        "figures": {"trend": _trend_figure(trend, target)},
        # the noise rule and the working day as configured (the catalog's settings), for the note
        "rule": {
            k: settings.get(k)
            for k in (
                "alert_short_episode_minutes",
                "alert_flap_window_minutes",
                "alert_incident_lead_minutes",
                "business_hours_start",
                "business_hours_end",
            )
        },
    }


def _trend_figure(rows: list[dict[str, Any]], target: float | None) -> go.Figure:
    x = week_labels([r["week_start"] for r in rows])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=[r["episodes"] for r in rows], name="episodes", marker_color=MUTED))
    fig.add_trace(go.Bar(x=x, y=[r["paging_episodes"] for r in rows], name="pages", marker_color=NEUTRAL))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r["noise_rate"] for r in rows],
            name="noise rate",
            yaxis="y2",
            mode="lines+markers",
            line={"color": BAD},
        )
    )
    if target is not None:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[target] * len(rows),
                name=f"target {target:.0%}",
                yaxis="y2",
                mode="lines",
                line={"color": BAD, "dash": "dot"},
            )
        )
    fig.update_layout(
        barmode="overlay", yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%", "rangemode": "tozero"}
    )
    return chart_layout(fig, "Alert episodes, pages and noise rate per week")
