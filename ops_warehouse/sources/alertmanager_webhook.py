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
pass and keeps one version of each firing (the merge's rule; the others count as duplicates), which
goes straight into the day partitions. It gives the same rows, rejects and counts as the
record-by-record path: alerts it cannot classify exactly are handed to the record-by-record mapper
(see "the columnar path" below), and a file it cannot parse whole (a broken line) goes record by
record so that each bad line is quarantined with its reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.duck import connect, quote_literal
from ops_warehouse.sources import _columnar as col
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
    child,
    iter_ndjson,
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
        where = child(locator, "alerts", i)
        if not isinstance(alert, dict):
            out.append(Reject(where, f"expected a JSON object, got {type(alert).__name__}", raw_json(alert)))
            continue
        try:
            out.append(Row("alerts", alert_values(alert, tz, status=status), where, raw_json(alert)))
        except BadRecord as exc:
            out.append(Reject(where, str(exc), raw_json(alert)))
    return out


# ---------------------------------------------------------------- the columnar path
#
# One pass of DuckDB's JSON reader flattens every alert with the fields it needs as JSON values, so
# their types are known (a number where the record-by-record reader expects text is not "clean").
# Each distinct label set is normalized once in Python with the very functions above. Alerts the
# pass cannot classify exactly ("unclean": a missing or odd timestamp, labels that are not an object
# of text, a resolution before the start...) are read again from their line by the record-by-record
# mapper: its rejects (reason, locator, raw) join the batch; when it would load one of them instead,
# the whole file goes record by record. The clean alerts keep one version per key, chosen by the
# merge's rule (the greatest updated_at, then the later in the file); the others count as duplicates.

_TIME = (
    r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def _alert_type(annotations: str) -> str:
    return (
        f'STRUCT(status JSON, labels JSON, annotations {annotations}, "startsAt" JSON, "endsAt" JSON, '
        "fingerprint JSON)[]"
    )


# annotations read as an object of their two fields: the reader refuses a file where one is not an
# object (or repeats a key); the pass then reads them as JSON and picks the fields itself
_TYPED_ANNOTATIONS = "STRUCT(summary JSON, description JSON)"


_TEXTS = ("a_status", "n_status", "fingerprint", "starts", "ends", "summary", "description")


def _unescaped(name: str) -> str:
    """The value of a JSON string (none for other JSON), under its own name."""
    return f"{col.json_string(name)} AS {name}"


def _stripped(name: str) -> str:
    """Python's ``text()``: stripped as str.strip() strips, '' is none; under its own name."""
    return f"{col.stripped(name)} AS {name}"


def _odd(col: str) -> str:
    """A JSON value present but neither text nor null (the record-by-record mapper would str() it)."""
    return f"coalesce(NOT starts_with({col}, '\"') AND {col} <> 'null', false)"


def _flatten_sql(path: Path, *, typed_annotations: bool = True) -> str:
    """The table ``flat``: each alert's fields as the record-by-record mapper reads them, with
    ``clean`` false where it cannot be sure; a notification without alerts is one unclean row with
    alert index -1. Each step is a projection of its own, so no expression is computed twice.

    ``typed_annotations``: the reader takes the annotations' summary and description out of each
    object itself (it refuses a file where one is not an object or repeats a key: about a tenth of
    the pass's time). Else the annotations are JSON: one that is not an object has neither (the
    mapper reads them as none), and one that repeats summary or description is not clean (the
    mapper keeps the last, the JSON functions the first).

    The rows keep the file's order (a single table function and projections, with insertion order
    preserved), so ``rowid`` is an alert's place in the file and each line starts at a row with
    index 0 or -1 (see ``_LINES_SQL``). No line number is read: numbering the notifications as they
    are read would keep the reader to one thread."""
    src = quote_literal(str(path))
    time_re = quote_literal(_TIME)
    if typed_annotations:
        alert_type = _alert_type(_TYPED_ANNOTATIONS)
        annotations = (
            "SELECT *, CAST(a.annotations.summary AS VARCHAR) AS summary, "
            "CAST(a.annotations.description AS VARCHAR) AS description, false AS repeated FROM a"
        )
    else:
        alert_type = _alert_type("JSON")
        keys = "json_keys(a.annotations)"
        annotations = (
            "SELECT * EXCLUDE (ann), ann[1] AS summary, ann[2] AS description FROM (SELECT *, "
            "CAST(json_extract(a.annotations, ['$.summary', '$.description']) AS VARCHAR[]) AS ann, "
            f"coalesce(len(list_filter({keys}, lambda k: k = 'summary')) > 1 "
            f"OR len(list_filter({keys}, lambda k: k = 'description')) > 1, false) AS repeated FROM a)"
        )
    return f"""
CREATE TEMP TABLE flat AS
    WITH n AS (
        SELECT CAST(status AS VARCHAR) AS n_status, alerts
        FROM read_json({src}, format = 'newline_delimited', records = true,
                       columns = {{status: 'JSON', alerts: '{alert_type}'}})
    ),
    a AS (  -- a notification without alerts keeps one empty row, index -1 (the file is read once)
        SELECT n_status, unnest(CASE WHEN len(alerts) > 0 THEN alerts ELSE [NULL] END) AS a,
               CASE WHEN len(alerts) > 0 THEN generate_subscripts(alerts, 1) - 1 ELSE -1 END AS i
        FROM n
    ),
    x AS ({annotations}),
    j AS (  -- the JSON values as written
        SELECT i, CAST(a.labels AS VARCHAR) AS labels_raw, CAST(a.status AS VARCHAR) AS a_status, n_status,
               CAST(a.fingerprint AS VARCHAR) AS fingerprint, CAST(a."startsAt" AS VARCHAR) AS starts,
               CAST(a."endsAt" AS VARCHAR) AS ends, summary, description, repeated
        FROM x
    ),
    u AS (
        SELECT i, labels_raw, {", ".join(_unescaped(c) for c in _TEXTS)},
               coalesce(ends IN ('null', '""'), true) AS no_end, {_odd("ends")} AS odd_end,
               {_odd("summary")} OR {_odd("description")} OR repeated AS odd_annotation
        FROM j
    ),
    t AS (
        SELECT i, labels_raw, {", ".join(_stripped(c) for c in _TEXTS)}, no_end, odd_end, odd_annotation
        FROM u
    ),
    f AS (  -- the lower case of text beyond ASCII might differ between Python and DuckDB: not clean
        SELECT i, labels_raw, fingerprint, starts, ends, no_end, odd_end,
               coalesce(summary, description) AS summary,
               lower(coalesce(a_status, n_status, 'firing')) AS status,
               odd_annotation OR strlen(coalesce(a_status, n_status, '')) <> length(coalesce(a_status, n_status, ''))
                   AS odd
        FROM t
    ),
    g AS (
        SELECT *,
            CASE WHEN regexp_matches(starts, {time_re}) THEN TRY_CAST(starts AS TIMESTAMPTZ) END AS started,
            CASE WHEN status <> 'resolved' OR no_end THEN 'none'
                 WHEN odd_end THEN 'odd'
                 WHEN starts_with(ends, '0001-01-01') THEN 'none'
                 WHEN regexp_matches(ends, {time_re}) THEN 'time'
                 ELSE 'odd' END AS ends_kind
        FROM f
    ),
    h AS (  -- the start cut to the millisecond, down (before 1970 too): date_trunc takes ICU's calendar
        SELECT *,
            started - to_microseconds((epoch_us(started) % 1000 + 1000) % 1000) AS started_at,
            CASE WHEN ends_kind = 'time'
                 THEN TRY_CAST(ends AS TIMESTAMPTZ) END
                AS ended_at
        FROM g
    )
    SELECT i, labels_raw, status, fingerprint, started_at, ended_at, summary,
           i >= 0 AND NOT odd AND started_at IS NOT NULL AND ends_kind <> 'odd'
               AND (ends_kind = 'none' OR (ended_at IS NOT NULL AND ended_at >= started_at)) AS clean
    FROM h
"""


# the table ``label_sets``: its columns and their types
_LABEL_COLUMNS = (
    ("labels_raw", "VARCHAR"),
    ("ok", "BOOLEAN"),
    ("labels", "VARCHAR"),
    ("hash", "VARCHAR"),
    ("alertname", "VARCHAR"),
    ("service", "VARCHAR"),
    ("severity", "VARCHAR"),
)


def _label_sets(raws: list[str | None]) -> list[list[Any]]:
    """Each distinct label set as the record-by-record mapper stores it, column by column (see
    ``_LABEL_COLUMNS``); ``ok`` false when that mapper would reject the alert or read the set
    differently (values that are not text)."""
    cols: list[list[Any]] = [[] for _ in _LABEL_COLUMNS]
    for raw in raws:
        labels = json.loads(raw) if raw is not None else None
        ok = isinstance(labels, dict) and bool(labels) and all(isinstance(v, str) for v in labels.values())
        lj = sec.labels_text(labels) if ok else None  # type: ignore[arg-type]
        values = (
            (
                lj,
                sec.labels_hash(lj),  # type: ignore[arg-type]
                _label(labels, "alertname"),  # type: ignore[arg-type]
                _label(labels, "service") or _label(labels, "job"),  # type: ignore[arg-type]
                (_label(labels, "severity") or "").lower() or None,  # type: ignore[arg-type]
            )
            if ok
            else (None,) * 5
        )
        for column, value in zip(cols, (raw, ok, *values), strict=True):
            column.append(value)
    return cols


# the label sets go in as one list per column, zipped by unnest (no Arrow table: building one
# imports pandas, which costs more than the whole label step)
_LABEL_SETS_SQL = "CREATE TEMP TABLE label_sets AS SELECT " + ", ".join(
    f"unnest(${n}::{t}[]) AS {name}" for n, (name, t) in enumerate(_LABEL_COLUMNS, start=1)
)

# the clean alerts, one per key, as raw.alerts rows: the merge's rule picks the version with the
# greatest updated_at, then the later in the file (the greater rowid). Both are one number per
# version (updated_at's microseconds, then the rowid in the low 40 bits), so the grouping keeps a
# fixed-size winner per key and only the winning versions' columns are read and joined, after it
_WINNERS_SQL = """
CREATE TEMP TABLE winners AS
    WITH c AS (
        SELECT coalesce(f.fingerprint, l.hash) AS fingerprint, f.started_at, f.rowid AS pos,
               epoch_us(coalesce(f.ended_at, f.started_at))::HUGEINT * 1099511627776 + f.rowid AS rank
        FROM flat AS f JOIN label_sets AS l ON f.labels_raw = l.labels_raw
        WHERE f.clean AND l.ok
    ),
    w AS (
        SELECT fingerprint, arg_max(pos, rank) AS pos FROM c GROUP BY fingerprint, started_at
    )
    SELECT 'alertmanager' AS source, w.fingerprint, f.started_at, l.alertname, l.service, l.severity, f.status,
           f.ended_at, f.summary, l.labels, coalesce(f.ended_at, f.started_at) AS updated_at
    FROM w JOIN flat AS f ON f.rowid = w.pos JOIN label_sets AS l ON f.labels_raw = l.labels_raw
"""

# how many alerts the pass can classify exactly, and how many it cannot
_COUNTS_SQL = (
    "SELECT count(*) FILTER (WHERE f.clean AND l.ok), count(*) FILTER (WHERE NOT (f.clean AND coalesce(l.ok, false))) "
    "FROM flat AS f LEFT JOIN label_sets AS l ON f.labels_raw = l.labels_raw"
)

# the line and alert index of each alert the pass cannot classify: a line's first row is the one
# with index 0 (or -1, a notification without alerts), so a row's line is how many such rows there
# are up to it in the file's order
_LINES_SQL = """
WITH p AS (
    SELECT i, labels_raw, clean,
           sum(CAST(i <= 0 AS INTEGER)) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS line
    FROM flat
)
SELECT p.line, p.i FROM p LEFT JOIN label_sets AS l ON p.labels_raw = l.labels_raw
WHERE NOT (p.clean AND coalesce(l.ok, false))
"""


def _reread(path: Path, wanted: dict[int, set[int]], tz: str | None) -> list[Record] | None:
    """The record-by-record mapper's records for the given alerts (line -> alert indexes; -1: the
    whole line); None when it reads a line other than the columnar pass did."""
    out: list[Record] = []
    for lineno, rec, raw in iter_ndjson(path):
        picks = wanted.get(lineno)
        if picks is None:
            continue
        locator = f"line {lineno}"
        records = sec.mapped(lambda r, loc: notification_rows(r, loc, tz), rec, locator, raw)
        if -1 in picks:
            out += records
            continue
        if any(r.locator == locator for r in records):  # the whole line refused: not what the pass saw
            return None
        keep = {child(locator, "alerts", i) for i in picks}
        out += [r for r in records if r.locator in keep]
    return out


def _columnar(path: Path, con: duckdb.DuckDBPyConnection, tz: str | None) -> BulkChunk | None:
    """The file's exact batch, built in ``con`` (its tables stay there for the engine to write from
    them: no intermediate file); None when the file must go record by record."""
    try:
        if col.lenient_lines(con, path, _MAX_LINE):  # JSON only DuckDB's reader takes
            return None
        con.execute("SET preserve_insertion_order = true")  # rowid is the file's order
        try:
            con.execute(_flatten_sql(path))
        except duckdb.Error:  # an annotation that is not an object, or a broken line
            con.execute("DROP TABLE IF EXISTS flat")
            con.execute(_flatten_sql(path, typed_annotations=False))
        raws = [r[0] for r in con.execute("SELECT DISTINCT labels_raw FROM flat").fetchall()]
        con.execute(_LABEL_SETS_SQL, _label_sets(raws))
        clean, n_unclean = col.one(con, _COUNTS_SQL)
        unclean = con.execute(_LINES_SQL).fetchall() if n_unclean else []
        con.execute("SET preserve_insertion_order = false")  # the winners' order is free
        con.execute(_WINNERS_SQL)
        con.execute("DROP TABLE flat")  # its memory goes before the engine writes the winners
        (kept,) = col.one(con, "SELECT count(*) FROM winners")
    except duckdb.Error:  # JSON the columnar reader refuses (a broken line): read record by record
        return None
    rejects: list[Reject] = []
    if unclean:
        wanted: dict[int, set[int]] = {}
        for line, i in unclean:
            wanted.setdefault(int(line), set()).add(int(i))
        records = _reread(path, wanted, tz)
        if records is None:
            return None
        for rec in records:
            if not isinstance(rec, Reject):  # the mapper loads what the pass could not classify
                return None
            rejects.append(rec)
    cols = (
        "source, fingerprint, started_at, alertname, service, severity, status, ended_at, summary, labels, updated_at"
    )
    return BulkChunk(
        f"SELECT {cols}, false AS _unclean FROM winners",
        rejects,
        exact=True,
        duplicates=int(clean) - int(kept),
        con=con,
    )


COLUMNAR_MEMORY = "2GB"


# the longest line the columnar pass reads (DuckDB's default largest JSON object); a longer one
# makes it give way to the record-by-record reader
_MAX_LINE = 16 * 1024 * 1024


def _then_release(chunk: BulkChunk, done: col.Done) -> Iterator[BulkChunk]:
    """The batch; then the adapter's connection (and its own scratch folder) go."""
    try:
        yield chunk
    finally:
        done.one()


class AlertmanagerWebhookAdapter(Adapter):
    kind = "alertmanager-webhook"
    description = "Alertmanager webhook notifications (one, a JSON array, or NDJSON)"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_notification(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return sec.read_mapped(ctx.path, lambda rec, locator: notification_rows(rec, locator, ctx.default_tz))

    def bulk(self, ctx: ReadContext) -> list[BulkInput] | None:
        """The columnar path for a large NDJSON file without blank lines (its locators are line
        numbers); None (record by record) for anything else (see the notes above)."""
        path = ctx.path
        if path.stat().st_size < BULK_MIN_BYTES or not Sniff(path).is_ndjson or sec.has_blank_lines(path):
            return None
        own = ctx.scratch is None  # a scratch folder of the adapter's own goes with the connection
        folder = Path(tempfile.mkdtemp(prefix="ow-alertmanager-")) if own else ctx.scratch
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        con = connect(memory_limit=COLUMNAR_MEMORY, temp_dir=folder / "duckdb")
        chunk = _columnar(path, con, ctx.default_tz)
        if chunk is None:
            col.release(con, folder if own else None)
            return None
        rejects, chunk.rejects = chunk.rejects, []
        out = [BulkInput("alerts", _then_release(chunk, col.Done(con, folder if own else None, tables=1)))]
        if rejects:
            out.append(BulkInput("alerts", iter([BulkChunk.rejects_only(rejects)])))
        return out


ADAPTER = AlertmanagerWebhookAdapter()
