"""``pagerduty-alerts``: PagerDuty ``GET /incidents/{id}/alerts`` (or ``GET /alerts``) into
``raw.alerts``.

Accepts the API's page (``{"alerts": [...], "limit", "offset", "more"}``), a bare array, or NDJSON
with one page or one alert per line. A PagerDuty alert is an episode of its own (METRICS.md,
"Alert quality"):

- key: source ``pagerduty``, fingerprint ``alert_key`` (the dedup key, so repeated firings of one
  problem are the same fingerprint; else ``pagerduty:<id>``), started_at ``created_at``
- alert_id ``pagerduty:<id>``; incident_ref ``pagerduty:<incident.id>`` (the incident's own id in
  the warehouse)
- ended_at: ``resolved_at`` when the export has it. PagerDuty's alert list carries no resolved
  time: core takes a resolved alert's end from its incident's resolution.
- status: ``triggered`` is firing, ``resolved`` resolved; severity ``severity`` (critical, error,
  warning, info); alertname ``summary``; service ``service.summary``, service_ref ``service.id``
  (the catalog's incident services map them)
- updated_at: ended_at, else created_at

Rejected: an alert without ``id`` or ``created_at``, a bad timestamp, a resolution before the start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _pagerduty as pd
from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Sniff, text

WRAPPER = "alerts"
SOURCE = "pagerduty"


def looks_like_alert(rec: Any) -> bool:
    return isinstance(rec, dict) and rec.get("type") == "alert" and "created_at" in rec


def alert_values(rec: dict[str, Any], item: pd.Item, ctx: ReadContext) -> dict[str, Any]:
    tz = ctx.default_tz
    alert_id = pd.qualified(rec.get("id"))
    started = sec.when(rec.get("created_at"), "created_at", tz)
    if started is None:
        raise BadRecord("created_at: required but missing")
    status = (text(rec.get("status")) or "").lower()
    ended = sec.when(rec.get("resolved_at"), "resolved_at", tz) if status == "resolved" else None
    sec.check_order(started, ("resolved_at", ended))
    service = pd.ref(rec, "service")
    incident = pd.ref(rec, "incident")
    return {
        "source": SOURCE,
        "fingerprint": text(rec.get("alert_key")) or alert_id,
        "started_at": started,
        "alert_id": alert_id,
        "alertname": text(rec.get("summary")),
        "service": text(service.get("summary")),
        "service_ref": text(service.get("id")),
        "severity": (text(rec.get("severity")) or "").lower() or None,
        "status": "resolved" if status == "resolved" else ("suppressed" if rec.get("suppressed") is True else "firing"),
        "ended_at": ended,
        "incident_ref": f"{SOURCE}:{text(incident.get('id'))}" if text(incident.get("id")) else None,
        "summary": text(rec.get("summary")),
        "updated_at": ended or started,
    }


def is_empty_page(rec: Any) -> bool:
    return isinstance(rec, dict) and rec.get(WRAPPER) == [] and "more" in rec


class PagerDutyAlertsAdapter(Adapter):
    kind = "pagerduty-alerts"
    description = "PagerDuty alerts (GET /incidents/{id}/alerts, GET /alerts)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_alert(pd.first_item(sniff, WRAPPER)) or is_empty_page(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return pd.read_rows(ctx, WRAPPER, "alerts", alert_values)


ADAPTER = PagerDutyAlertsAdapter()
