"""``alertmanager-alerts``: Alertmanager's ``GET /api/v2/alerts`` into ``raw.alerts``.

Accepts the API's array, one alert, or NDJSON of alerts (snapshots appended over time). The API
lists alerts that are still firing (``status.state`` active, suppressed or unprocessed): each is
one firing, keyed like the webhook's (METRICS.md, "Alert quality"):

- fingerprint: ``fingerprint``, else the first 16 hex digits of the MD5 of the labels' JSON
- started_at: ``startsAt``, to the millisecond (the webhook writes nanoseconds: the same firing in
  both exports is one row)
- ended_at: none. The API's ``endsAt`` is a projection a few minutes ahead while the alert fires,
  not an end; the end comes from a resolved webhook notification.
- status: ``suppressed`` when silenced or inhibited, else ``firing``
- alertname, severity (lower case), summary (``annotations.summary``, else ``description``), labels
- service: label ``service``, else ``job`` (the catalog may map it)
- updated_at: ``updatedAt``, but never later than a resolution: a snapshot taken while the alert
  fired does not undo its resolved notification

Rejected: an alert without ``startsAt`` or labels, a bad timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.alertmanager_webhook import alert_values
from ops_warehouse.sources.base import Adapter, ReadContext, Record, Row, Sniff, text


def looks_like_api_alert(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and "startsAt" in rec
        and isinstance(rec.get("labels"), dict)
        and isinstance(rec.get("status"), dict)
        and "state" in rec["status"]
    )


def api_alert_values(rec: dict[str, Any], tz: str | None) -> dict[str, Any]:
    values = alert_values(rec, tz, firing_only=True)
    status = rec.get("status") or {}
    state = (text(status.get("state")) or "").lower()
    values["status"] = "suppressed" if state == "suppressed" else "firing"
    updated = sec.when(rec.get("updatedAt"), "updatedAt", tz)
    # while firing, the snapshot's time orders it after the firing notification's start
    values["updated_at"] = updated or values["started_at"]
    return values


class AlertmanagerAlertsAdapter(Adapter):
    kind = "alertmanager-alerts"
    description = "Alertmanager GET /api/v2/alerts"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_api_alert(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        def rows(rec: dict[str, Any], locator: str) -> list[Row]:
            return [Row("alerts", api_alert_values(rec, ctx.default_tz), locator)]

        return sec.read_mapped(ctx.path, rows)


ADAPTER = AlertmanagerAlertsAdapter()
