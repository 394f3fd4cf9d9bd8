"""Report section "Postmortems", next to the action items.

From ``marts.postmortem_weekly`` (METRICS.md, Postmortems: a draft within 5 days and publication
within 14 days of a sev1/sev2 resolution, weekly by due week): required, drafted and published on
time, missing and late, per team and overall, against the previous week; the postmortems that name
an unknown incident are listed from ``core.postmortems`` as data-quality findings. The executive
summary gains the count of late postmortems.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import duckdb

from ops_warehouse.reporting.data import Metric, query_rows

TITLE = "Postmortem timeliness"
PLACE = "action-items"
ORDER = 10
MAX_FINDINGS = 10


def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
    rows = query_rows(
        con,
        """SELECT w.team, w.scope, w.required, w.drafted_on_time, w.published_on_time, w.missing, w.late,
                  w.on_time_rate, p.on_time_rate AS prev_on_time_rate, p.late AS prev_late
           FROM marts.postmortem_weekly AS w
           LEFT JOIN marts.postmortem_weekly AS p ON p.team = w.team AND p.scope = w.scope AND p.week_start = ?
           WHERE w.week_start = ?
           ORDER BY w.scope = 'overall' DESC, w.team""",
        [week_start - timedelta(days=7), week_start],
    )
    overall = next((r for r in rows if r["scope"] == "overall"), None)
    teams = [r for r in rows if r["scope"] == "team" and r["required"] > 0]
    findings = query_rows(
        con,
        "SELECT postmortem_id, title, incident_ref, finding, created_at FROM core.postmortems "
        "WHERE finding IS NOT NULL ORDER BY created_at DESC, postmortem_id LIMIT ?",
        [MAX_FINDINGS],
    )
    late = overall["late"] if overall else None
    prev_late = overall["prev_late"] if overall else None
    draft_days = settings.get("postmortem_draft_days", 5)
    publish_days = settings.get("postmortem_publish_days", 14)
    return {
        "has_data": overall is not None,
        "overall": overall,
        "teams": teams,
        "findings": findings,
        "draft_days": draft_days,
        "publish_days": publish_days,
        "cards": [
            Metric(
                "late_postmortems",
                "Late postmortems",
                late,
                prev_late,
                "count",
                better="down",
                note=f"sev1/sev2 not published within {publish_days} days",
            )
        ],
    }
