"""``alertmanager-webhook``: Alertmanager webhook notification payloads (``version`` 4) into
``raw.alerts``, one row per firing.

A file holds one notification, a JSON array of them, or NDJSON with one notification per line
(what a webhook receiver that appends each POST body writes). Every ``alerts[]`` entry of a
notification maps to one row (locator ``line 7 /alerts/2``). METRICS.md ("Alert quality"):

- An episode is one firing of one alert: key (source ``alertmanager``, fingerprint, started_at).
  fingerprint is the alert's ``fingerprint``, else the first 16 hex digits of the MD5 of its
  labels' JSON; started_at is ``startsAt`` to the millisecond (webhooks write nanoseconds, the API
  milliseconds). Re-sent notifications of the same firing repeat the key and count as duplicates.
- ended_at: the ``endsAt`` of a *resolved* notification. A firing notification's ``endsAt`` (the
  zero time ``0001-01-01T00:00:00Z``, or a projected time) is ignored.
- updated_at: ended_at for a resolved alert, else started_at, so a resolution is never undone by a
  firing notification re-sent or ingested after it.
- status: the alert's ``status`` (firing, resolved), else the notification's
- alertname, severity (lower case) and labels (JSON, sorted keys) from ``labels``; service from
  label ``service``, else ``job`` (the catalog may map it); summary from ``annotations.summary``,
  else ``annotations.description``.

Rejected: an alert without labels or ``startsAt``, a bad timestamp, a resolution before the start.

Large NDJSON files take a columnar path: DuckDB's JSON reader flattens the notifications in one
pass and the contract is checked in SQL (``ops_warehouse.contract_sql``); it gives the same rows as the
record-by-record path, and a file it cannot parse whole (a broken line) goes record by record so
that each bad line is quarantined with its reason.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    BulkChunk,
    BulkInput,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    raw_json,
    text,
)

SOURCE = "alertmanager"
# NDJSON files at least this big take the columnar path
BULK_MIN_BYTES = 8 * 1024 * 1024


def looks_like_notification(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and isinstance(rec.get("alerts"), list)
        and ("receiver" in rec or "groupKey" in rec)
        and ("version" in rec or "groupLabels" in rec or "status" in rec)
    )


def alert_values(
    alert: dict[str, Any], tz: str | None, *, status: str | None = None, firing_only: bool = False
) -> dict[str, Any]:
    """One firing's row from an Alertmanager alert object (webhook or API v2)."""
    labels = alert.get("labels")
    if not isinstance(labels, dict) or not labels:
        raise BadRecord("labels: required but missing")
    started = sec.when(alert.get("startsAt"), "startsAt", tz)
    if started is None:
        raise BadRecord("startsAt: required but missing")
    started = sec.to_millisecond(started)
    state = (text(alert.get("status")) if isinstance(alert.get("status"), str) else None) or status or "firing"
    state = state.lower()
    ended = None
    if state == "resolved" and not firing_only:
        ended = sec.when(alert.get("endsAt"), "endsAt", tz)
        sec.check_order(started, ("endsAt", ended))
    lj = sec.labels_text(labels)
    annotations: dict[str, Any] = alert["annotations"] if isinstance(alert.get("annotations"), dict) else {}
    return {
        "source": SOURCE,
        "fingerprint": text(alert.get("fingerprint")) or sec.labels_hash(lj),
        "started_at": started,
        "alertname": text(str(labels.get("alertname"))) if labels.get("alertname") is not None else None,
        "service": _label(labels, "service") or _label(labels, "job"),
        "severity": (_label(labels, "severity") or "").lower() or None,
        "status": state,
        "ended_at": ended,
        "summary": _label(annotations, "summary") or _label(annotations, "description"),
        "labels": lj,
        "updated_at": ended or started,
    }


def _label(labels: dict[str, Any], name: str) -> str | None:
    value = labels.get(name)
    return text(str(value)) if value is not None else None


def notification_rows(rec: dict[str, Any], locator: str, tz: str | None) -> list[Record]:
    alerts = rec.get("alerts")
    if not isinstance(alerts, list):
        raise BadRecord("alerts: expected an array")
    status = text(rec.get("status")) if isinstance(rec.get("status"), str) else None
    out: list[Record] = []
    for i, alert in enumerate(alerts):
        where = sec.child(locator, "alerts", i)
        if not isinstance(alert, dict):
            out.append(Reject(where, f"expected a JSON object, got {type(alert).__name__}", raw_json(alert)))
            continue
        try:
            out.append(Row("alerts", alert_values(alert, tz, status=status), where, raw_json(alert)))
        except BadRecord as exc:
            out.append(Reject(where, str(exc), raw_json(alert)))
    return out


# ---------------------------------------------------------------- the columnar path

_ALERT = (
    "STRUCT(status VARCHAR, labels MAP(VARCHAR, VARCHAR), annotations MAP(VARCHAR, VARCHAR), "
    '"startsAt" VARCHAR, "endsAt" VARCHAR, fingerprint VARCHAR)[]'
)


def _flatten_sql(path: Path, out: Path) -> str:
    src = str(path).replace("'", "''")
    dst = str(out).replace("'", "''")
    return f"""
COPY (
    WITH n AS (
        SELECT row_number() OVER () AS line, status AS n_status, alerts
        FROM read_json('{src}', format = 'newline_delimited', records = true,
                       columns = {{status: 'VARCHAR', alerts: '{_ALERT}'}})
    ),
    a AS (
        SELECT line, n_status, unnest(alerts) AS a, generate_subscripts(alerts, 1) - 1 AS i FROM n
    ),
    f AS (
        SELECT
            line, i,
            lower(coalesce(nullif(trim(a.status), ''), nullif(trim(n_status), ''), 'firing')) AS status,
            a.labels AS labels,
            CASE WHEN a.labels IS NULL OR cardinality(a.labels) = 0 THEN NULL
                 ELSE to_json(map_from_entries(list_sort(map_entries(a.labels)))) END AS labels_json,
            nullif(trim(a."startsAt"), '') AS starts_text,
            nullif(trim(a."endsAt"), '') AS ends_text,
            nullif(trim(a.fingerprint), '') AS fingerprint,
            coalesce(nullif(trim(a.annotations['summary']), ''), nullif(trim(a.annotations['description']), ''))
                AS summary
        FROM a
    ),
    g AS (
        SELECT *,
            regexp_replace(starts_text, '(\\.[0-9]{{3}})[0-9]+', '\\1') AS started_text,
            CASE WHEN status = 'resolved' AND NOT starts_with(ends_text, '0001-01-01') THEN ends_text END
                AS ended_text
        FROM f
    )
    SELECT
        'alertmanager' AS source,
        coalesce(fingerprint, left(md5(labels_json), 16)) AS fingerprint,
        started_text AS started_at,
        nullif(trim(labels['alertname']), '') AS alertname,
        coalesce(nullif(trim(labels['service']), ''), nullif(trim(labels['job']), '')) AS service,
        lower(nullif(trim(labels['severity']), '')) AS severity,
        status,
        ended_text AS ended_at,
        summary,
        labels_json AS labels,
        coalesce(ended_text, started_text) AS updated_at,
        'line ' || line || ' /alerts/' || i AS _locator,
        NULL::VARCHAR AS _raw,
        line * 100000 + i AS _ord,
        CASE
            WHEN labels_json IS NULL THEN 'labels: required but missing'
            WHEN starts_text IS NULL THEN 'startsAt: required but missing'
            WHEN TRY_CAST(started_text AS TIMESTAMPTZ) IS NOT NULL AND TRY_CAST(ended_text AS TIMESTAMPTZ) IS NOT NULL
                 AND TRY_CAST(ended_text AS TIMESTAMPTZ) < TRY_CAST(started_text AS TIMESTAMPTZ)
                THEN 'endsAt: ' || ended_text || ' is before the finding or alert started'
        END AS _bad
    FROM g
) TO '{dst}' (FORMAT parquet)
"""


def _bulk_chunks(flat: Path, folder: Path) -> Iterator[BulkChunk]:
    try:
        con = duckdb.connect()
        try:
            src = str(flat).replace("'", "''")
            bad = con.execute(f"SELECT _locator, _bad FROM read_parquet('{src}') WHERE _bad IS NOT NULL").fetchall()
        finally:
            con.close()
        rejects = [Reject(loc, reason) for loc, reason in bad]
        cols = (
            "source, fingerprint, started_at, alertname, service, severity, status, ended_at, summary, labels, "
            "updated_at, _locator, _raw, _ord"
        )
        yield BulkChunk(f"SELECT {cols} FROM read_parquet('{src}') WHERE _bad IS NULL", rejects)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class AlertmanagerWebhookAdapter(Adapter):
    kind = "alertmanager-webhook"
    description = "Alertmanager webhook notifications (one, a JSON array, or NDJSON)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_notification(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        for locator, rec, raw in sec.iter_records(ctx.path):
            yield from sec.mapped(lambda r, loc: notification_rows(r, loc, ctx.default_tz), rec, locator, raw)

    def bulk(self, ctx: ReadContext) -> BulkInput | None:
        """The columnar path for a large NDJSON file without blank lines (its locators are line
        numbers); None (record by record) for anything else or a file DuckDB cannot read whole."""
        path = ctx.path
        if path.stat().st_size < BULK_MIN_BYTES or not Sniff(path).is_ndjson or sec.has_blank_lines(path):
            return None
        folder = Path(tempfile.mkdtemp(prefix="ow-alertmanager-"))
        flat = folder / "alerts.parquet"
        con = duckdb.connect(config={"memory_limit": "2GB", "temp_directory": str(folder / "spill")})
        try:
            con.execute(_flatten_sql(path, flat))
        except duckdb.Error:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        finally:
            con.close()
        return BulkInput("alerts", _bulk_chunks(flat, folder))


ADAPTER = AlertmanagerWebhookAdapter()
