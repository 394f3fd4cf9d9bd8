"""``pagerduty-incidents``: PagerDuty incidents from ``GET /incidents`` into ``raw.incidents``.

Accepts the API's page (``{"incidents": [...], "limit", "offset", "more"}``), a bare array of
incidents, or NDJSON with one page or one incident per line (see ``_pagerduty`` for locators).

Mapping (METRICS.md, Incidents; shared rules in ``_pagerduty``):

- incident_id: ``pagerduty:`` + ``id`` (the same id the analytics adapter writes)
- service_ref, service_name: ``service.id``, ``service.summary``
- team: ``teams[0].summary`` (the first team listed)
- priority: ``priority.summary`` (e.g. ``P1``); urgency: ``urgency`` (high or low); severity from
  priority, else urgency
- title: ``title``, else ``summary``; status: ``status``; dedup_key: ``incident_key``
- created_at: ``created_at``
- acknowledged_at: the earliest ``acknowledgements[].at``; later re-acknowledgements don't move it.
  PagerDuty drops acknowledgements once an incident is resolved, so resolved incidents usually have
  none here; the log entries (``pagerduty-log-entries``) carry them. The acknowledgement is also
  written as an ``acknowledge`` event (``_pagerduty.with_acknowledgements``), so a newer export
  without it, or with only a later re-acknowledgement, never moves or erases the first one.
- resolved_at: ``resolved_at``, else ``last_status_change_at``, for resolved incidents only
- escalations: NULL, the list does not count escalations (analytics and log entries do)
- updated_at: ``updated_at``, else ``last_status_change_at``, so the newest export of an incident
  wins over earlier ones (a row replaces the stored one whole, it is not merged column by column)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ops_warehouse.sources import _pagerduty as pd
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Sniff

WRAPPER = "incidents"


def first_acknowledgement(acks: Any, tz: str | None) -> datetime | None:
    """The earliest ``at`` among the acknowledgements, or None."""
    if not isinstance(acks, list):
        return None
    times = [pd.timestamp_field(a.get("at"), "acknowledgements[].at", tz) for a in acks if isinstance(a, dict)]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def incident_values(rec: dict[str, Any], item: pd.Item, ctx: ReadContext) -> dict[str, Any]:
    tz = ctx.default_tz
    incident_id = pd.qualified(rec.get("id"))
    status = pd.status_of(rec.get("status"))
    created = pd.timestamp_field(rec.get("created_at"), "created_at", tz)
    acknowledged = first_acknowledgement(rec.get("acknowledgements"), tz)
    resolved = pd.resolved_at(status, rec.get("resolved_at"), rec.get("last_status_change_at"), tz)
    pd.check_timeline(created, acknowledged, resolved)
    service = pd.ref(rec, "service")
    priority = pd.text(pd.ref(rec, "priority").get("summary"))
    urgency = pd.urgency_of(rec.get("urgency"))
    updated = pd.timestamp_field(rec.get("updated_at"), "updated_at", tz)
    return {
        "incident_id": incident_id,
        "source": pd.SOURCE,
        "service_ref": pd.text(service.get("id")),
        "service_name": pd.text(service.get("summary")),
        "team": pd.first_summary(rec.get("teams")),
        "severity": pd.severity_of(priority, urgency),
        "priority": priority,
        "urgency": urgency,
        "title": pd.text(rec.get("title")) or pd.text(rec.get("summary")),
        "status": status,
        "dedup_key": pd.text(rec.get("incident_key")),
        "created_at": created,
        "acknowledged_at": acknowledged,
        "resolved_at": resolved,
        "escalations": None,
        "updated_at": updated or pd.timestamp_field(rec.get("last_status_change_at"), "last_status_change_at", tz),
    }


def looks_like_incident(rec: Any) -> bool:
    if not isinstance(rec, dict) or "id" not in rec:
        return False
    if rec.get("type") == "incident":
        return True
    return "incident_number" in rec and isinstance(rec.get("service"), dict) and "created_at" in rec


def is_empty_page(rec: Any) -> bool:
    return isinstance(rec, dict) and rec.get(WRAPPER) == [] and "more" in rec


class PagerDutyIncidentsAdapter(Adapter):
    kind = "pagerduty-incidents"
    description = "PagerDuty GET /incidents pages, arrays or NDJSON"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_incident(pd.first_item(sniff, WRAPPER)) or is_empty_page(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return pd.with_acknowledgements(pd.read_rows(ctx, WRAPPER, "incidents", incident_values))


ADAPTER = PagerDutyIncidentsAdapter()
