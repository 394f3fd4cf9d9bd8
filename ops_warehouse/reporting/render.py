"""HTML rendering of the weekly review and the index with Jinja2 (autoescaping on).

Templates and CSS live in the repository's top-level ``reports/`` folder (override with
``OPS_WAREHOUSE_REPORTS_TEMPLATES``). Every string from an export reaches the page through
autoescaping; figure data goes through :func:`figures.script_safe_json`. The only markup marked
safe is the project's own: the stylesheet, Plotly's JavaScript and the escaped figure JSON.
"""

from __future__ import annotations

import functools
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from ops_warehouse.reporting import figures
from ops_warehouse.reporting.data import WeeklyData

ENV_VAR = "OPS_WAREHOUSE_REPORTS_TEMPLATES"
NO_DATA = "no data"
DORA_LABELS = {
    "deployment_frequency": "Deployment frequency",
    "lead_time": "Lead time for changes",
    "change_failure_rate": "Change failure rate",
    "recovery_time": "Failed deployment recovery time",
}
DORA_SHORT = {
    "deployment_frequency": "frequency",
    "lead_time": "lead time",
    "change_failure_rate": "failure rate",
    "recovery_time": "recovery",
}


def templates_dir() -> Path:
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "reports"


def _env(folder: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=lambda v, digits=1: fmt(v, "pct" if digits == 1 else "pct3"),
        minutes=lambda v: fmt(v, "minutes"),
        hours=lambda v: fmt(v, "hours"),
        count=lambda v: fmt(v, "count"),
        fmt=fmt,
        when=_when,
        day=_day,
        label=lambda s: (s or "").replace("_", " "),
        short=lambda s, n=10: s if s is None or len(s) <= n else s[:n],
    )
    env.globals.update(
        delta=delta,
        NO_DATA=NO_DATA,
        DORA_LABELS=DORA_LABELS,
        DORA_SHORT=DORA_SHORT,
        tier_change=tier_change,
        stage_change=stage_change,
    )
    return env


@functools.lru_cache(maxsize=1)
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


# ---------------------------------------------------------------- formatting


def _num(v: float, digits: int) -> float:
    """``v`` rounded for display, with no negative zero: -0.0 and -0.04 at one digit show as 0.0."""
    r = round(float(v), digits)
    return 0.0 if r == 0 else r


def fmt(v: Any, kind: str) -> str:
    """A figure for the page: rates as percentages (stored as fractions), NULL as "no data"."""
    if v is None:
        return NO_DATA
    if kind == "pct":
        return f"{_num(v * 100, 1):.1f}%"
    if kind == "pct3":
        return f"{_num(v * 100, 3):.3f}%"
    if kind == "count":
        return f"{int(v):,}" if float(v).is_integer() else f"{_num(v, 1):,.1f}"
    if kind == "minutes":
        return f"{_num(v, 1):.1f} min" if abs(v) < 120 else f"{_num(v / 60, 1):.1f} h"
    if kind == "hours":
        if abs(v) < 1:
            return f"{_num(v * 60, 0):.0f} min"
        return f"{_num(v, 1):.1f} h" if abs(v) < 72 else f"{_num(v / 24, 1):.1f} d"
    if kind == "ratio":
        return f"{_num(v, 2):.2f}x"
    return f"{_num(v, 2):,.2f}"


def delta(value: Any, prev: Any, kind: str, better: str | None = None) -> dict[str, str]:
    """Week-over-week change: text, and a class saying whether the change is good or bad."""
    if value is None or prev is None:
        return {"text": "no data to compare" if value is not None else "", "cls": "flat", "arrow": ""}
    diff = value - prev
    if abs(diff) < 1e-12:
        return {"text": "no change", "cls": "flat", "arrow": "="}
    if kind in ("pct", "pct3"):
        digits = 1 if kind == "pct" else 3
        text = f"{diff * 100:+.{digits}f} pp"
        if float(text[:-3]) == 0:
            text = f"{'+' if diff > 0 else '-'}<{10**-digits:.{digits}f} pp"
    elif kind == "count":
        text = f"{diff:+,.0f}" if float(diff).is_integer() else f"{diff:+,.1f}"
    elif kind == "minutes":
        text = f"{diff:+.1f} min" if abs(diff) < 120 else f"{diff / 60:+.1f} h"
    elif kind == "hours":
        text = f"{diff:+.1f} h" if abs(diff) < 72 else f"{diff / 24:+.1f} d"
    else:
        text = f"{diff:+,.2f}"
    cls = "flat"
    if better:
        cls = "good" if (diff > 0) == (better == "up") else "bad"
    return {"text": text, "cls": cls, "arrow": "▲" if diff > 0 else "▼"}


def tier_change(cur: str | None, prev: str | None, ranks: dict[str, int] | None = None) -> dict[str, str]:
    """ "up from high" / "down from elite": better or worse by the benchmark's own tier ranks."""
    ranks = ranks or {}
    if not cur or not prev or cur == prev or cur not in ranks or prev not in ranks:
        return {"text": "" if not prev or cur == prev else f"was {prev}", "cls": "flat"}
    better = ranks[cur] < ranks[prev]
    return {"text": f"{'up' if better else 'down'} from {prev}", "cls": "good" if better else "bad"}


def stage_change(
    cur: str | None, prev: str | None, remaining: float | None = None, prev_remaining: float | None = None
) -> dict[str, str]:
    """ "was notify": the stage moved; worse when the budget remaining went down."""
    if not cur or not prev or cur == prev:
        return {"text": "", "cls": "flat"}
    cls = "flat" if remaining is None or prev_remaining is None else ("bad" if remaining < prev_remaining else "good")
    return {"text": f"was {prev.replace('_', ' ')}", "cls": cls}


def _when(v: Any) -> str:
    if v is None:
        return NO_DATA
    if isinstance(v, datetime):
        return v.strftime("%a %d %b %H:%M")
    return str(v)


def _day(v: Any) -> str:
    if v is None:
        return NO_DATA
    if isinstance(v, (date, datetime)):
        return v.strftime("%d %b %Y")
    return str(v)


# ---------------------------------------------------------------- pages


def build_figures(data: WeeklyData) -> dict[str, dict[str, Any]]:
    """Figure id -> {"id", "json"}; a figure is present only when it has data to draw."""
    out: dict[str, Any] = {}

    def add(key: str, fig: Any) -> None:
        out[key] = {"id": f"fig-{key.replace('_', '-')}", "json": Markup(figures.to_json(fig))}

    if data.slo.get("burndown"):
        add("slo_burndown", figures.slo_burndown(data.slo["burndown"]))
    trend, bands = data.dora.get("trend"), data.dora.get("bands") or {}
    if trend and any(trend["deployments"]):
        add(
            "dora_deploy_days",
            figures.dora_trend(trend, "deploy_days", "Deployment days per week", bands.get("deploy_days"), bar=True),
        )
        add(
            "dora_lead_time",
            figures.dora_trend(
                trend, "lead_time_p50_hours", "Lead time for changes, p50 (hours)", bands.get("lead_time_p50_hours")
            ),
        )
        add(
            "dora_cfr",
            figures.dora_trend(
                trend, "change_failure_rate", "Change failure rate", bands.get("change_failure_rate"), pct=True
            ),
        )
        add(
            "dora_recovery",
            figures.dora_trend(
                trend,
                "recovery_time_p50_hours",
                "Failed deployment recovery time, p50 (hours)",
                bands.get("recovery_time_p50_hours"),
            ),
        )
    dep = data.deployments.get("trend")
    if dep and any(v for k in ("successful", "failed", "errored", "cancelled") for v in dep[k]):
        add("deployments", figures.deployments_trend(dep))
    inc = data.incidents.get("trend")
    if inc and any(v for counts in inc["by_severity"].values() for v in counts):
        add("incidents", figures.incidents_trend(inc))
        if any(v is not None for v in inc.get("mtta_minutes_mean", []) + inc.get("mttr_minutes_mean", [])):
            this = data.incidents.get("this") or {}
            add(
                "response",
                figures.response_trend(inc, this.get("mtta_target_minutes"), this.get("mttr_target_minutes")),
            )
    act = data.actions.get("trend")
    if act and any(v is not None for v in act["on_time_rate"]):
        add("action_items", figures.action_items_trend(act, (data.actions.get("this") or {}).get("on_time_target")))
    for section in data.sections:
        # a section's figures are drawn with m.chart(section.figure_ids[name])
        ids = section.data.setdefault("figure_ids", {})
        for name, fig in (section.data.get("figures") or {}).items():
            key = f"{section.topic}_{name}"
            ids[name] = key
            add(key, fig)
    return out


def render_weekly(data: WeeklyData, folder: Path | None = None) -> str:
    folder = folder or templates_dir()
    env = _env(folder)
    figs = build_figures(data)
    week_last_day = data.week_end - timedelta(days=1)
    tier_ranks = {b["tier"]: b["rank"] for rows in (data.dora.get("bands") or {}).values() for b in rows}
    return env.get_template("weekly.html.j2").render(
        d=data,
        tier_ranks=tier_ranks,
        figs=figs,
        figure_count=len(figs),
        period=f"{data.week_start.strftime('%d %b')} – {week_last_day.strftime('%d %b %Y')}",
        css=Markup((folder / "report.css").read_text(encoding="utf-8")),
        plotly_js=Markup(_plotly_js()) if figs else Markup(""),
        config_json=Markup(figures.script_safe_json(_json(figures.CONFIG))),
    )


def render_index(
    entries: list[dict[str, Any]], folder: Path | None = None, generated_at: datetime | None = None
) -> str:
    folder = folder or templates_dir()
    env = _env(folder)
    return env.get_template("index.html.j2").render(
        entries=entries,
        generated_at=generated_at,
        css=Markup((folder / "report.css").read_text(encoding="utf-8")),
    )


def _json(v: Any) -> str:
    import json

    return json.dumps(v, separators=(",", ":"))
