"""``opsgenie-incidents``: Opsgenie incidents from ``GET /v1/incidents`` into ``raw.incidents``.

Accepts the API's response (``{"data": [...], "paging": {...}, "took", "requestId"}``) or a bare
array of incidents; records are located by JSON pointer (``/data/2``).

Mapping (METRICS.md, Incidents):

- incident_id: ``opsgenie:`` + ``id`` (the incident's UUID, not its short ``tinyId``)
- service_ref: the first of ``impactedServices`` (Opsgenie service ids). The list response names
  no services, so service_name is NULL and the service catalog maps the id. An incident impacting
  several services is attributed to the first one; the others are not stored.
- team: ``ownerTeam`` (Opsgenie writes the owning team's id there; empty means none)
- priority: ``priority``, which must be P1..P5 (Opsgenie has no other priorities: anything else
  is quarantined); severity: P1 -> sev1, P2 -> sev2, P3 -> sev3, P4/P5 -> sev4
- title: ``message``; status: ``status``, one of open, resolved, closed (anything else is
  quarantined); dedup_key: NULL (incidents have no alias)
- created_at: ``createdAt``, when the incident was opened (METRICS.md: not ``impactStartDate``, which
  says when the impact began and often precedes the incident by hours); ``impactStartDate`` only
  when an export lacks ``createdAt``
- acknowledged_at: NULL (incidents have no acknowledgement in this API)
- resolved_at: ``impactEndDate``; an incident without one is open however its status reads
- escalations: NULL
- updated_at: ``updatedAt``, so the newest export of an incident wins

An incident whose impact ends before it was opened is quarantined (it would make a negative MTTR).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    load_json,
    normalize_severity,
    one_of,
    pointed_records,
    raw_json,
    text,
    timestamp_field,
)

SOURCE = "opsgenie"
WRAPPER = "data"
STATUSES = ("open", "resolved", "closed")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


def first_service(services: Any) -> str | None:
    """The first impacted service id (entries are ids, or objects with an ``id``)."""
    if not isinstance(services, list) or not services:
        return None
    first = services[0]
    return text(first.get("id")) if isinstance(first, dict) else text(first)


def incident_values(rec: dict[str, Any], tz: str | None) -> dict[str, Any]:
    incident_id = text(rec.get("id"))
    if incident_id is None:
        raise BadRecord("id: required but missing")
    priority = one_of(rec.get("priority"), "priority", PRIORITIES, upper=True)
    created = timestamp_field(rec.get("createdAt"), "createdAt", tz) or timestamp_field(
        rec.get("impactStartDate"), "impactStartDate", tz
    )
    resolved = timestamp_field(rec.get("impactEndDate"), "impactEndDate", tz)
    if created is not None and resolved is not None and resolved < created:
        raise BadRecord(f"impactEndDate {resolved.isoformat()} is before created_at {created.isoformat()}")
    return {
        "incident_id": f"{SOURCE}:{incident_id}",
        "source": SOURCE,
        "service_ref": first_service(rec.get("impactedServices")),
        "team": text(rec.get("ownerTeam")),
        "severity": normalize_severity(priority=priority),
        "priority": priority,
        "title": text(rec.get("message")),
        "status": one_of(rec.get("status"), "status", STATUSES),
        "created_at": created,
        "resolved_at": resolved,
        "updated_at": timestamp_field(rec.get("updatedAt"), "updatedAt", tz),
    }


def to_record(rec: Any, locator: str, tz: str | None) -> Record:
    raw = raw_json(rec)
    if not isinstance(rec, dict):
        return Reject(locator, f"expected a JSON object, got {type(rec).__name__}", raw)
    try:
        return Row("incidents", incident_values(rec, tz), locator, raw)
    except BadRecord as exc:
        return Reject(locator, str(exc), raw)


def looks_like_incident(rec: Any) -> bool:
    """Opsgenie incidents have ``impactStartDate``/``impactedServices``; alerts have neither."""
    return (
        isinstance(rec, dict)
        and "id" in rec
        and "message" in rec
        and ("impactStartDate" in rec or "impactedServices" in rec)
    )


class OpsgenieIncidentsAdapter(Adapter):
    kind = "opsgenie-incidents"
    description = "Opsgenie GET /v1/incidents responses or arrays of incidents"

    def detect(self, sniff: Sniff) -> bool:
        rec = sniff.first_record
        if isinstance(rec, dict) and isinstance(rec.get(WRAPPER), list):
            rec = rec[WRAPPER][0] if rec[WRAPPER] else None
        return looks_like_incident(rec)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        for locator, rec in pointed_records(load_json(ctx.path), WRAPPER):
            yield to_record(rec, locator, ctx.default_tz)


ADAPTER = OpsgenieIncidentsAdapter()
