"""Plotly figures for the weekly review, returned as JSON that is safe inside ``<script>``.

Each figure is serialised with :func:`plotly.io.to_json` and drawn by one small inline script with
``Plotly.newPlot``; Plotly's own JavaScript is inlined once per page. Figures draw the marts' values;
targets and tier bands are passed in from the marts (``marts.dora_benchmark``'s bands, the target
columns), never defined here. :func:`script_safe_json`
escapes ``<``, ``>``, ``&`` and the JavaScript line separators, so no string from an export (a
service name, an SLO name) can close the script element or open a comment in it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

# One palette for the whole page (the CSS uses the same values).
GOOD = "#1a7f37"
BAD = "#cf222e"
WARN = "#bf8700"
NEUTRAL = "#0969da"
MUTED = "#8c959f"
TIER_COLOURS = {"elite": "#1a7f37", "high": "#4ac26b", "medium": "#d4a72c", "low": "#cf222e"}
SEVERITY_COLOURS = {"sev1": "#a40e26", "sev2": "#e16f24", "sev3": "#d4a72c", "sev4": "#8c959f"}
CONFIG = {"displayModeBar": False, "responsive": True}


def script_safe_json(text: str) -> str:
    """JSON text that can sit inside a ``<script>`` element without ending it or opening a comment."""
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def to_json(fig: go.Figure) -> str:
    return script_safe_json(pio.to_json(fig, validate=False, pretty=False, engine="json"))


def chart_layout(fig: go.Figure, title: str, *, yformat: str | None = None, height: int = 280) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 14}, "x": 0, "xanchor": "left"},
        template="plotly_white",
        height=height,
        margin={"l": 56, "r": 16, "t": 40, "b": 36},
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
    )
    if yformat:
        fig.update_yaxes(tickformat=yformat)
    return fig


def week_labels(weeks: list[date]) -> list[str]:
    return [w.isoformat() for w in weeks]


def _bands(fig: go.Figure, bands: list[dict[str, Any]], top: float) -> None:
    """Shade each tier's band (``marts.dora_benchmark``: band_low, band_high, NULL = unbounded)."""
    for b in bands:
        lo, hi = b["band_low"], b["band_high"]
        hi = top if hi is None else min(hi, top)
        if lo is None or lo >= hi:
            continue  # above the chart, or a tier no value reaches
        colour = TIER_COLOURS.get(b["tier"], MUTED)
        fig.add_hrect(y0=lo, y1=hi, fillcolor=colour, opacity=0.10, line_width=0, layer="below")
        fig.add_annotation(
            xref="paper",
            x=1,
            xanchor="right",
            y=(lo + hi) / 2,
            yanchor="middle",
            text=b["tier"],
            showarrow=False,
            font={"size": 10, "color": colour},
        )


def dora_trend(
    trend: dict[str, list[Any]],
    key: str,
    title: str,
    bands: list[dict[str, Any]] | None = None,
    *,
    pct: bool = False,
    bar: bool = False,
) -> go.Figure:
    x = week_labels(trend["week_start"])
    y = trend[key]
    fig = go.Figure()
    values = [v for v in y if v is not None]
    top = max(values) * 1.25 if values else 1.0
    if bands:
        # Show the tier the data sits in and the next boundary above it, not an empty ocean.
        bounds = sorted({v for b in bands for v in (b["band_low"], b["band_high"]) if v is not None})
        above = [v for v in bounds if v > (max(values) if values else 0)]
        top = max(top, above[0] * 1.05) if above else top
        _bands(fig, bands, top or 1.0)
    trace = go.Bar if bar else go.Scatter
    kwargs: dict[str, Any] = {"marker_color": NEUTRAL}
    if not bar:
        kwargs.update(mode="lines+markers", connectgaps=False)
    fig.add_trace(trace(x=x, y=y, name=title, **kwargs))
    fig.update_yaxes(range=[0, top or 1.0], rangemode="tozero")
    fig.update_layout(showlegend=False)
    return chart_layout(fig, title, yformat=".0%" if pct else None)


def slo_burndown(series: dict[str, dict[str, list[Any]]]) -> go.Figure:
    fig = go.Figure()
    fig.add_hline(
        y=0, line_dash="dot", line_color=BAD, annotation_text="budget exhausted", annotation_position="bottom right"
    )
    for name, s in sorted(series.items()):
        # budget_remaining may go negative; clamp only for drawing (hover shows the real value).
        y = [None if v is None else max(-0.5, min(1.0, v)) for v in s["y"]]
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in s["x"]],
                y=y,
                name=name,
                mode="lines",
                customdata=s["y"],
                hovertemplate="%{customdata:.1%}",
            )
        )
    fig.update_yaxes(range=[-0.5, 1.0])
    return chart_layout(fig, "Error budget remaining (SLO window, daily)", yformat=".0%", height=340)


def deployments_trend(trend: dict[str, list[Any]]) -> go.Figure:
    x = week_labels(trend["week_start"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=trend["successful"], name="succeeded", marker_color=GOOD))
    fig.add_trace(go.Bar(x=x, y=trend["failed"], name="failed", marker_color=BAD))
    fig.add_trace(go.Bar(x=x, y=trend["errored"], name="errored", marker_color=WARN))
    fig.add_trace(go.Bar(x=x, y=trend["cancelled"], name="cancelled", marker_color=MUTED))
    fig.update_layout(barmode="stack")
    return chart_layout(fig, "Production deployment attempts per week")


def incidents_trend(trend: dict[str, Any]) -> go.Figure:
    x = week_labels(trend["week_start"])
    fig = go.Figure()
    for sev, counts in trend["by_severity"].items():
        fig.add_trace(go.Bar(x=x, y=counts, name=sev, marker_color=SEVERITY_COLOURS.get(sev, MUTED)))
    fig.update_layout(barmode="stack")
    return chart_layout(fig, "Incidents per week by severity")


def response_trend(trend: dict[str, Any], mtta_target: float | None, mttr_target: float | None) -> go.Figure:
    x = week_labels(trend["week_start"])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(x=x, y=trend["mtta_minutes_mean"], name="MTTA (mean)", mode="lines+markers", line={"color": NEUTRAL})
    )
    fig.add_trace(
        go.Scatter(x=x, y=trend["mttr_minutes_mean"], name="MTTR (mean)", mode="lines+markers", line={"color": WARN})
    )
    if mtta_target is not None:
        fig.add_hline(
            y=mtta_target,
            line_dash="dot",
            line_color=NEUTRAL,
            annotation_text=f"MTTA target {mtta_target:g} min",
            annotation_position="top left",
        )
    if mttr_target is not None:
        fig.add_hline(
            y=mttr_target,
            line_dash="dot",
            line_color=WARN,
            annotation_text=f"MTTR target {mttr_target:g} min",
            annotation_position="top left",
        )
    fig.update_yaxes(rangemode="tozero", title_text="minutes")
    return chart_layout(fig, "Time to acknowledge and resolve (minutes)")


def action_items_trend(trend: dict[str, Any], target: float | None) -> go.Figure:
    """On-time rate by due week, coloured by the mart's own verdict (on_time_target_met)."""
    x = week_labels(trend["week_start"])
    y = trend["on_time_rate"]
    colours = [MUTED if met is None else (GOOD if met else BAD) for met in trend["on_time_target_met"]]
    fig = go.Figure(
        go.Bar(
            x=x,
            y=[v if v is not None else 0 for v in y],
            marker_color=colours,
            customdata=trend["due_to_date"],
            hovertemplate="%{y:.0%} of %{customdata} due",
        )
    )
    if target is not None:
        fig.add_hline(
            y=target,
            line_dash="dot",
            line_color=GOOD,
            annotation_text=f"target {target:.0%}",
            annotation_position="top left",
        )
    fig.update_yaxes(range=[0, 1.05])
    fig.update_layout(showlegend=False)
    return chart_layout(fig, "Action items completed on time (by due week, of those already due)", yformat=".0%")
