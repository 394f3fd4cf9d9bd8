"""The SLO engine's models: ``core.sli_minutes`` and ``marts.slo_weekly``, ``marts.slo_alerts``,
``marts.slo_budget_daily``. Each compiles the SLO specs of ``core.slos`` into SQL (see
:mod:`ops_warehouse.metrics.slo_sql`, which documents every rule) and returns the final SELECT."""

from __future__ import annotations

import duckdb

from ops_warehouse.lake.models import python_model
from ops_warehouse.metrics import slo_sql


@python_model(
    "core",
    "sli_minutes",
    {"core.slos", "raw.metric_samples"},
    "Per SLO and minute: good and total events from the SLO's queries over raw.metric_samples "
    "(counters by reset-aware increase, other series by value), plus time-slice values.",
)
def sli_minutes(con: duckdb.DuckDBPyConnection) -> str:
    return slo_sql.prepare_sli_minutes(con)


@python_model(
    "marts",
    "slo_weekly",
    {"core.slos", "core.sli_minutes"},
    "Per SLO and ISO week: attainment, window attainment, error budget, burn rates, policy stage, "
    "forecast of budget exhaustion.",
)
def slo_weekly(con: duckdb.DuckDBPyConnection) -> str:
    return slo_sql.prepare_slo_weekly(con)


@python_model(
    "marts",
    "slo_alerts",
    {"core.slos", "core.sli_minutes"},
    "Multi-window, multi-burn-rate alert firings (page 1h/5m, 6h/30m; ticket 1d/2h, 3d/6h) over history.",
)
def slo_alerts(con: duckdb.DuckDBPyConnection) -> str:
    return slo_sql.prepare_slo_alerts(con)


@python_model(
    "marts",
    "slo_budget_daily",
    {"core.slos", "core.sli_minutes"},
    "Per SLO and day: error budget remaining over the SLO window ending that day (the burn-down).",
)
def slo_budget_daily(con: duckdb.DuckDBPyConnection) -> str:
    return slo_sql.prepare_slo_budget_daily(con)
