"""``pagerduty-log-entries``: incident timelines from ``GET /incidents/{id}/log_entries`` (or
``GET /log_entries``) into ``raw.incident_events``.

Accepts the API's page (``{"log_entries": [...], "limit", "offset", "more"}``), a bare array of
log entries, or NDJSON with one page or one entry per line (see ``_pagerduty`` for locators).

Mapping:

- event_id: ``pagerduty:`` + the log entry's ``id``
- incident_id: ``pagerduty:`` + ``incident.id``, the same id ``pagerduty-incidents`` writes
- event_type: ``type`` without its ``_log_entry`` suffix: trigger, acknowledge, unacknowledge,
  escalate, assign, notify, resolve, annotate, snooze, ... (every PagerDuty type is kept; a ``type``
  that is not a log entry type is quarantined)
- created_at: ``created_at``. PagerDuty writes it in the account's (or the requested) time zone with
  its offset, e.g. ``2015-11-06T19:14:20-05:00``; it is stored as the same instant in UTC. A
  timestamp without an offset is read in the time zone given at ingestion (``--tz``).

The first ``acknowledge`` event of an incident is its acknowledgement when the incident record has
none (PagerDuty clears ``acknowledgements`` once an incident is resolved); ``escalate`` events count
its escalations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _pagerduty as pd
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Sniff

WRAPPER = "log_entries"
SUFFIX = "_log_entry"


def event_type(value: Any) -> str:
    kind = pd.text(value)
    if kind is None:
        raise pd.BadRecord("type: required but missing")
    if not kind.endswith(SUFFIX) or kind == SUFFIX:
        raise pd.BadRecord(f"type: {kind!r} is not a log entry type (..._log_entry)")
    return kind[: -len(SUFFIX)]


def event_values(rec: dict[str, Any], item: pd.Item, ctx: ReadContext) -> dict[str, Any]:
    return {
        "event_id": pd.qualified(rec.get("id")),
        "incident_id": pd.qualified(pd.ref(rec, "incident").get("id"), "incident.id"),
        "event_type": event_type(rec.get("type")),
        "created_at": pd.timestamp_field(rec.get("created_at"), "created_at", ctx.default_tz),
        "source": pd.SOURCE,
    }


def looks_like_log_entry(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and isinstance(rec.get("type"), str)
        and rec["type"].endswith(SUFFIX)
        and isinstance(rec.get("incident"), dict)
    )


def is_empty_page(rec: Any) -> bool:
    return isinstance(rec, dict) and rec.get(WRAPPER) == []


class PagerDutyLogEntriesAdapter(Adapter):
    kind = "pagerduty-log-entries"
    description = "PagerDuty incident log entries (GET /incidents/{id}/log_entries), pages, arrays or NDJSON"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_log_entry(pd.first_item(sniff, WRAPPER)) or is_empty_page(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return pd.read_rows(ctx, WRAPPER, "incident_events", event_values)


ADAPTER = PagerDutyLogEntriesAdapter()
