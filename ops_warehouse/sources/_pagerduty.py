"""What the PagerDuty adapters share: reading pages of records, and the field rules.

PagerDuty's REST API answers a list call with one page: an object holding the records under one
key (``incidents``, ``log_entries``, ``data``) next to paging fields (``limit``, ``offset``,
``more``) and, for analytics, the ``time_zone`` its timestamps are written in. Exports arrive as

- one page (``{"incidents": [...], "more": true}``), located by JSON pointer (``/incidents/3``);
- a bare array of records (``/3``), or a lone record (``/``);
- NDJSON, one page or one record per line, e.g. pages saved while paginating
  (``line 2 /incidents/0`` or ``line 7``).

Every PagerDuty row is keyed ``pagerduty:<PagerDuty id>`` and has source ``pagerduty``.

Field rules shared by the incident adapters (METRICS.md, Incidents):

- ``status`` must be one of triggered, acknowledged, resolved; any other value sends the record to
  quarantine, because whether an incident is open cannot be told from it.
- ``resolved_at`` is set only for a resolved incident: PagerDuty's ``resolved_at``, else (older
  exports lack it) the ``last_status_change_at`` that the resolution set. An incident that is not
  resolved has no ``resolved_at``, whatever a stale field says.
- Severity: priority ``P1``..``P5`` or ``SEV-1``..``SEV-4`` names, else urgency (high -> sev2,
  low -> sev3), else NULL. PagerDuty priorities are account-defined names, so an unknown name is
  kept in ``priority`` and severity falls back to urgency. An urgency other than high or low is
  stored as NULL.
- A timeline that runs backwards (acknowledged or resolved before created) is quarantined: it
  would make a negative MTTA or MTTR.
- Timestamps without a UTC offset are read in the export's time zone (analytics ``time_zone``) or
  the one given at ingestion (``--tz``); without either the record is quarantined.
- The first acknowledgement is the earliest ever seen (METRICS.md): a newer export that lists only a
  later re-acknowledgement, or none (PagerDuty clears them on resolution), replaces the incident row
  whole, so an incident's acknowledgement is also kept as an ``acknowledge`` row of
  ``raw.incident_events`` (event_id ``<incident_id>:ack:<UTC time>``, one per distinct time) that no
  later export replaces. ``core.incidents`` takes the earliest of them and of the log entries. Such a
  record therefore counts as two rows read (the incident and its acknowledgement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_warehouse.sources.base import (
    BadRecord,
    FileError,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    iter_ndjson,
    load_json,
    normalize_severity,
    pointer,
    raw_json,
    records_of,
    text,
    timestamp_field,
)

SOURCE = "pagerduty"
STATUSES = ("triggered", "acknowledged", "resolved")
URGENCIES = ("high", "low")


@dataclass(frozen=True, slots=True)
class Item:
    """One record of an export, where it was, and the page that held it."""

    locator: str
    value: Any
    raw: str | None = None
    page: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- reading


def iter_items(path: Path, wrapper: str) -> Iterator[Item]:
    """Every record of a page, array or NDJSON export whose pages hold records under ``wrapper``."""
    if Sniff(path).is_ndjson:
        yield from _ndjson_items(path, wrapper)
    else:
        yield from _page_items(load_json(path), wrapper, prefix="")


def _page_items(doc: Any, wrapper: str, prefix: str) -> Iterator[Item]:
    if isinstance(doc, dict) and wrapper in doc and not isinstance(doc[wrapper], list):
        raise FileError(f"{prefix}/{wrapper}: expected an array, got {type(doc[wrapper]).__name__}")
    records, ptr = records_of(doc, wrapper)
    page = doc if isinstance(doc, dict) and ptr is not None else {}
    for i, rec in enumerate(records):
        yield Item(f"{prefix}{pointer(ptr, i)}".strip(), rec, None, page)


def _ndjson_items(path: Path, wrapper: str) -> Iterator[Item]:
    for lineno, value, raw in iter_ndjson(path):
        where = f"line {lineno}"
        if isinstance(value, dict) and isinstance(value.get(wrapper), list):
            yield from _page_items(value, wrapper, prefix=f"{where} ")
        else:
            yield Item(where, value, raw)


def first_item(sniff: Sniff, wrapper: str) -> Any:
    """The first record of a page, array or NDJSON export, for detection (None when empty)."""
    rec = sniff.first_record
    if isinstance(rec, dict) and isinstance(rec.get(wrapper), list):
        return rec[wrapper][0] if rec[wrapper] else None
    return rec


def read_rows(
    ctx: ReadContext, wrapper: str, table: str, build: Callable[[dict[str, Any], Item, ReadContext], dict[str, Any]]
) -> Iterator[Record]:
    """Rows of ``table`` built by ``build`` from each record; a record it refuses is a Reject."""
    for item in iter_items(ctx.path, wrapper):
        yield to_record(item, table, build, ctx)


def with_acknowledgements(records: Iterator[Record]) -> Iterator[Record]:
    """Each incident row, followed by its acknowledgement as an ``incident_events`` row (see above)."""
    for rec in records:
        yield rec
        if isinstance(rec, Row) and rec.table == "incidents" and rec.values.get("acknowledged_at") is not None:
            yield ack_event(rec)


def ack_event(row: Row) -> Row:
    """The ``acknowledge`` event an incident row's acknowledged_at stands for."""
    incident_id, at = row.values["incident_id"], row.values["acknowledged_at"]
    when = at.astimezone(UTC).isoformat()
    values = {
        "event_id": f"{incident_id}:ack:{when}",
        "incident_id": incident_id,
        "event_type": "acknowledge",
        "created_at": at,
        "source": SOURCE,
    }
    return Row("incident_events", values, row.locator, row.raw)


def to_record(
    item: Item, table: str, build: Callable[[dict[str, Any], Item, ReadContext], dict[str, Any]], ctx: ReadContext
) -> Record:
    raw = item.raw if item.raw is not None else raw_json(item.value)
    if isinstance(item.value, ValueError):
        return Reject(item.locator, str(item.value), raw)
    if not isinstance(item.value, dict):
        return Reject(item.locator, f"expected a JSON object, got {type(item.value).__name__}", raw)
    try:
        values = build(item.value, item, ctx)
    except BadRecord as exc:
        return Reject(item.locator, str(exc), raw)
    return Row(table, values, item.locator, raw)


# ---------------------------------------------------------------- field rules


def qualified(value: Any, name: str = "id") -> str:
    """``pagerduty:<id>`` for a non-empty id, else BadRecord naming the field."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise BadRecord(f"{name}: required but missing")
    return f"{SOURCE}:{str(value).strip()}"


def ref(rec: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested reference object (``service``, ``priority``), or an empty one."""
    value = rec.get(key)
    return value if isinstance(value, dict) else {}


def first_summary(refs: Any) -> str | None:
    """The summary of the first reference in a list (``teams``)."""
    if isinstance(refs, list) and refs and isinstance(refs[0], dict):
        return text(refs[0].get("summary"))
    return None


def status_of(value: Any) -> str:
    status = text(value)
    if status is None:
        raise BadRecord("status: required but missing")
    if status.lower() not in STATUSES:
        raise BadRecord(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    return status.lower()


def urgency_of(value: Any) -> str | None:
    urgency = (text(value) or "").lower()
    return urgency if urgency in URGENCIES else None


def severity_of(priority: str | None, urgency: str | None) -> str | None:
    return normalize_severity(priority=priority, urgency=urgency, labels=[priority] if priority else [])


def resolved_at(status: str, resolved: Any, last_change: Any, tz: str | None) -> datetime | None:
    """When a resolved incident was resolved (see the module docs); None for open incidents."""
    if status != "resolved":
        return None
    return timestamp_field(resolved, "resolved_at", tz) or timestamp_field(last_change, "last_status_change_at", tz)


def check_timeline(created: datetime | None, acknowledged: datetime | None, resolved: datetime | None) -> None:
    if created is None:
        return
    for name, when in (("acknowledged_at", acknowledged), ("resolved_at", resolved)):
        if when is not None and when < created:
            raise BadRecord(f"{name} {when.isoformat()} is before created_at {created.isoformat()}")
