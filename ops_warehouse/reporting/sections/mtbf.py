"""Report section "Time between serious failures (MTBF)", in the incident section.

From ``marts.incident_weekly`` (METRICS.md, Incident frequency: 720 / sev1-or-sev2 incidents in the
trailing 30 days at the week's end, NULL when there were none): each service's MTBF against the
target, worst first, with the previous week's value; "none in 30 days" where there is no failure
to measure.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from ops_warehouse.reporting.data import query_rows

TITLE = "Time between serious failures (MTBF)"
PLACE = "incidents"
ORDER = 10


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    rows = query_rows(
        con,
        """SELECT w.service, w.scope, w.mtbf_hours, w.serious_incidents_30d, w.mtbf_target_hours, w.mtbf_target_met,
                  p.mtbf_hours AS prev_mtbf_hours
           FROM marts.incident_weekly AS w
           LEFT JOIN marts.incident_weekly AS p
             ON p.service = w.service AND p.scope = w.scope AND p.week_start = ?
           WHERE w.week_start = ? AND w.scope IN ('service', 'overall')
           ORDER BY w.scope = 'overall' DESC, w.mtbf_hours ASC NULLS LAST, w.service""",
        [week_start - timedelta(days=7), week_start],
    )
    overall = next((r for r in rows if r["scope"] == "overall"), None)
    services = [r for r in rows if r["scope"] == "service"]
    target = overall["mtbf_target_hours"] if overall else settings.get("mtbf_target_hours")
    return {
        "has_data": overall is not None,
        "overall": overall,
        "services": services,
        "target": target,
        "below": sum(1 for r in services if r["mtbf_target_met"] is False),
    }
