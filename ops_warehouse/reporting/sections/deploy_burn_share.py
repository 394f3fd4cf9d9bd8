"""Report section "Burn that followed deploys", in the SLO section.

From ``marts.deploy_impact_weekly`` (METRICS.md, Deploy impact on SLOs): the share of the week's
bad events that fell in the hour after a production deploy, overall and per service, against the
previous week. Figures are read from the mart, never computed here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from ops_warehouse.reporting.data import query_rows

TITLE = "Burn that followed deploys"
PLACE = "slos"
ORDER = 10


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    prev_week = week_start - timedelta(days=7)
    rows = query_rows(
        con,
        """SELECT w.service, w.scope, w.deploy_budget_share, w.bad_events, w.bad_events_after_deploys,
                  w.deployments_measured, w.suspect_deployments, p.deploy_budget_share AS prev_share
           FROM marts.deploy_impact_weekly AS w
           LEFT JOIN marts.deploy_impact_weekly AS p
             ON p.service = w.service AND p.scope = w.scope AND p.week_start = ?
           WHERE w.week_start = ?
           ORDER BY w.scope = 'overall' DESC, w.deploy_budget_share DESC NULLS LAST, w.service""",
        [prev_week, week_start],
    )
    overall = next((r for r in rows if r["scope"] == "overall"), None)
    services = [r for r in rows if r["scope"] == "service"]
    if services:
        teams = dict(
            con.execute(
                "SELECT service, arg_max(team, finished_at) FROM core.deployments WHERE team IS NOT NULL GROUP BY service"  # noqa: E501
            ).fetchall()
        )
        for r in services:
            r["team"] = teams.get(r["service"])
    return {"has_data": overall is not None, "overall": overall, "services": services}
