"""``pagerduty-analytics``: PagerDuty Analytics raw incidents (``POST /analytics/raw/incidents``)
into ``raw.incidents``.

The response is ``{"data": [...], "time_zone": "Etc/UTC", "more", "first", "last", ...}``; it may also
come as a bare array of records or NDJSON of responses or records (see ``_pagerduty``). Analytics
timestamps are naive (``2023-05-31T10:05:00``) and written in the response's ``time_zone``; a record's
own ``time_zone`` wins over the response's, and without either the zone given at ingestion (``--tz``)
is used. They are localized in that zone (daylight saving included) and stored in UTC. Timestamps
that carry an offset keep it.

Mapping (METRICS.md, Incidents; shared rules in ``_pagerduty``). The incident id is the one
``pagerduty-incidents`` writes, so both exports describe one incident and the newer ``updated_at``
wins (rows replace each other whole; analytics has no ``incident_key``, so a newer analytics row
carries no dedup_key):

- incident_id: ``pagerduty:`` + ``id``
- service_ref, service_name: ``service_id``, ``service_name``
- team: ``team_name``
- priority: ``priority_name`` (account-defined, e.g. ``P1`` or ``SEV-2``); urgency: ``urgency``;
  severity from priority, else urgency
- title: ``description``; status: ``status``; dedup_key: NULL
- created_at: ``created_at``
- acknowledged_at: ``created_at`` + ``seconds_to_first_ack`` (the first acknowledgement), also
  kept as an ``acknowledge`` event (``_pagerduty.with_acknowledgements``)
- resolved_at: ``resolved_at``, else ``created_at`` + ``seconds_to_resolve``, for resolved
  incidents only
- escalations: ``escalation_count`` (manual and timeout escalations together)
- updated_at: ``updated_at``
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from ops_warehouse.sources import _pagerduty as pd
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Sniff

WRAPPER = "data"
MARKERS = ("seconds_to_first_ack", "seconds_to_resolve", "escalation_count", "assignment_count")


def time_zone(rec: dict[str, Any], page: dict[str, Any], default: str | None) -> str | None:
    return pd.text(rec.get("time_zone")) or pd.text(page.get("time_zone")) or default


def after(start: datetime | None, seconds: Any, name: str) -> datetime | None:
    """``start`` plus a duration in seconds, None when either is unknown."""
    if start is None or seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise pd.BadRecord(f"{name}: expected a non-negative number of seconds, got {seconds!r}")
    return start + timedelta(seconds=seconds)


def count(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise pd.BadRecord(f"{name}: expected a non-negative integer, got {value!r}")
    return value


def analytics_values(rec: dict[str, Any], item: pd.Item, ctx: ReadContext) -> dict[str, Any]:
    incident_id = pd.qualified(rec.get("id"))
    tz = time_zone(rec, item.page, ctx.default_tz)
    status = pd.status_of(rec.get("status"))
    created = pd.timestamp_field(rec.get("created_at"), "created_at", tz)
    acknowledged = after(created, rec.get("seconds_to_first_ack"), "seconds_to_first_ack")
    resolved = pd.resolved_at(status, rec.get("resolved_at"), None, tz)
    if status == "resolved" and resolved is None:
        resolved = after(created, rec.get("seconds_to_resolve"), "seconds_to_resolve")
    pd.check_timeline(created, acknowledged, resolved)
    priority = pd.text(rec.get("priority_name"))
    urgency = pd.urgency_of(rec.get("urgency"))
    return {
        "incident_id": incident_id,
        "source": pd.SOURCE,
        "service_ref": pd.text(rec.get("service_id")),
        "service_name": pd.text(rec.get("service_name")),
        "team": pd.text(rec.get("team_name")),
        "severity": pd.severity_of(priority, urgency),
        "priority": priority,
        "urgency": urgency,
        "title": pd.text(rec.get("description")),
        "status": status,
        "dedup_key": None,
        "created_at": created,
        "acknowledged_at": acknowledged,
        "resolved_at": resolved,
        "escalations": count(rec.get("escalation_count"), "escalation_count"),
        "updated_at": pd.timestamp_field(rec.get("updated_at"), "updated_at", tz),
    }


def looks_like_analytics(rec: Any) -> bool:
    return isinstance(rec, dict) and "id" in rec and "created_at" in rec and any(m in rec for m in MARKERS)


class PagerDutyAnalyticsAdapter(Adapter):
    kind = "pagerduty-analytics"
    description = "PagerDuty Analytics raw incidents (POST /analytics/raw/incidents)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_analytics(pd.first_item(sniff, WRAPPER))

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return pd.with_acknowledgements(pd.read_rows(ctx, WRAPPER, "incidents", analytics_values))


ADAPTER = PagerDutyAnalyticsAdapter()
