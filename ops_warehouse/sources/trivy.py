"""``trivy``: ``trivy image|fs|repo --format json`` reports (SchemaVersion 2) into
``raw.vulnerability_scans`` and ``raw.vulnerability_observations``.

A file holds one report, or NDJSON with one report per line (reports collected with ``jq -c``).
Each report is one scan of one target; METRICS.md ("Vulnerability management") opens a finding
at the first scan that reports it and fixes it at the first later scan of the same target that
does not, so the scan itself is kept even when it lists nothing:

- scan: source ``trivy``, target ``ArtifactName``, scanned_at ``CreatedAt`` (older Trivy versions
  write none: the file's modification time stands in), artifact_type ``ArtifactType``, findings =
  the vulnerabilities listed
- one observation per ``Results[].Vulnerabilities[]``: package ``PkgName``, advisory_id
  ``VulnerabilityID``, severity ``Severity`` (CRITICAL..LOW; UNKNOWN is unknown),
  installed_version ``InstalledVersion``, fixed_version ``FixedVersion`` (absent when unfixed),
  title ``Title``; locator ``/Results/0/Vulnerabilities/3``

Rejected: a report without ``ArtifactName`` (nothing to track the finding on), a vulnerability
without ``VulnerabilityID`` or ``PkgName``, a bad timestamp.

Large NDJSON files (a day's or a month's reports of many images) take a columnar path: DuckDB's
JSON reader flattens every report in one pass, one version of each scan and observation is kept
(the later in the file, as the merge keeps it; the others count as duplicates) and goes straight
into the day partitions, with the same rows and rejects as the record-by-record path. All of it
runs in one DuckDB connection: the flattened tables are checked and written from there, nothing is
written to disk and read back in between. A file it cannot parse whole, or a row the contract
check refuses, goes record by record.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ops_warehouse.duck import connect
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
    Sniff,
    child,
    raw_json,
    text,
)

SOURCE = "trivy"
# NDJSON files at least this big take the columnar path
BULK_MIN_BYTES = 8 * 1024 * 1024
COLUMNAR_MEMORY = "2GB"


def looks_like_report(rec: Any) -> bool:
    return isinstance(rec, dict) and "SchemaVersion" in rec and ("ArtifactName" in rec or "Results" in rec)


def _vulnerability(v: dict[str, Any]) -> sec.Values:
    return {
        "package": v.get("PkgName"),
        "advisory_id": v.get("VulnerabilityID"),
        "severity": v.get("Severity"),
        "installed_version": v.get("InstalledVersion"),
        "fixed_version": v.get("FixedVersion"),
        "title": v.get("Title"),
    }


_VULNERABILITY_REQUIRED = {"advisory_id": "VulnerabilityID", "package": "PkgName"}


def report_rows(rec: dict[str, Any], locator: str, ctx: ReadContext) -> list[Record]:
    target = text(rec.get("ArtifactName"))
    if target is None:
        raise BadRecord("ArtifactName: required but missing")
    scanned = sec.when(rec.get("CreatedAt"), "CreatedAt", ctx.default_tz) or sec.file_time(ctx.path)
    scan = {"source": SOURCE, "target": target, "scanned_at": scanned}
    results = rec.get("Results") or []
    if not isinstance(results, list):
        raise BadRecord(f"Results: expected an array, got {type(results).__name__}")
    out: list[Record] = []
    for i, result in enumerate(results):
        vulns = result.get("Vulnerabilities") if isinstance(result, dict) else None
        if vulns is None:
            continue
        if not isinstance(vulns, list):
            out.append(Reject(child(locator, "Results", i, "Vulnerabilities"), "expected an array", raw_json(vulns)))
            continue
        for j, v in enumerate(vulns):
            where = child(locator, "Results", i, "Vulnerabilities", j)
            out.append(sec.observation(scan, where, v, _vulnerability, _VULNERABILITY_REQUIRED))
    raw = raw_json({k: v for k, v in rec.items() if k != "Results"})
    return sec.scan_rows(scan, rec.get("ArtifactType"), locator, raw, out)


class TrivyAdapter(Adapter):
    kind = "trivy"
    description = "Trivy JSON reports (trivy image --format json), one per file or one per NDJSON line"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_report(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return sec.read_mapped(ctx.path, lambda rec, locator: report_rows(rec, locator, ctx))

    def bulk(self, ctx: ReadContext) -> list[BulkInput] | None:
        """The columnar path for a large NDJSON file without blank lines (its locators are line
        numbers); None (record by record) for anything else or a file DuckDB cannot read whole."""
        path = ctx.path
        if path.stat().st_size < BULK_MIN_BYTES or not Sniff(path).is_ndjson or sec.has_blank_lines(path):
            return None
        own = ctx.scratch is None  # a scratch folder of the adapter's own goes with the last table
        folder = Path(tempfile.mkdtemp(prefix="ow-trivy-")) if own else ctx.scratch
        assert folder is not None
        con = connect(memory_limit=COLUMNAR_MEMORY, temp_dir=folder / "duckdb")
        try:
            for statement in _flatten_sql(path, sec.file_time(path).isoformat(), ctx.default_tz):
                con.execute(statement)
            scans = _prepare(con, "scans")
            observations = _prepare(con, "observations")
        except duckdb.Error:
            col.release(con, folder if own else None)
            return None
        done = col.Done(con, folder if own else None)
        return [
            BulkInput("vulnerability_scans", _chunks(scans, done)),
            BulkInput("vulnerability_observations", _chunks(observations, done)),
        ]


_VULNS = (
    'STRUCT(Vulnerabilities STRUCT("VulnerabilityID" VARCHAR, "PkgName" VARCHAR, "InstalledVersion" VARCHAR, '
    '"FixedVersion" VARCHAR, "Severity" VARCHAR, "Title" VARCHAR)[])[]'
)
_SEVERITY = (
    "CASE lower(trim({0})) WHEN 'critical' THEN 'critical' WHEN 'high' THEN 'high' WHEN 'medium' THEN 'medium' "
    "WHEN 'moderate' THEN 'medium' WHEN 'low' THEN 'low' WHEN 'negligible' THEN 'low' ELSE 'unknown' END"
)


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_OFFSET = r"([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"


def _flatten_sql(path: Path, file_time: str, default_tz: str | None) -> list[str]:
    """Statements that build the file's scans and observations, with their rejects, as tables of
    the connection (``scans``, ``observations``): the file is read once. A report's time is parsed
    once, for the report (a naive one only with a default time zone)."""
    naive = f"timezone({_lit(default_tz)}, TRY_CAST(created AS TIMESTAMP))" if default_tz else "NULL::TIMESTAMPTZ"
    reports = f"""
        CREATE TEMP TABLE reports AS
        WITH r AS (
            SELECT row_number() OVER () AS line, nullif(trim("ArtifactName"), '') AS target,
                   coalesce(nullif(trim("CreatedAt"), ''), {_lit(file_time)}) AS created,
                   nullif(trim("ArtifactType"), '') AS artifact_type, "Results" AS results
            FROM read_json({_lit(str(path))}, format = 'newline_delimited', records = true,
                           columns = {{"ArtifactName": 'VARCHAR', "CreatedAt": 'VARCHAR', "ArtifactType": 'VARCHAR',
                                       "Results": '{_VULNS}'}})
        )
        SELECT *, CASE WHEN regexp_matches(created, {_lit(_OFFSET)}) THEN TRY_CAST(created AS TIMESTAMPTZ)
                       ELSE {naive} END AS scanned_at
        FROM r"""
    observations = f"""
        CREATE TEMP TABLE observations AS
        WITH res AS (
            SELECT line, target, scanned_at, unnest(results) AS res, generate_subscripts(results, 1) - 1 AS ri
            FROM reports WHERE target IS NOT NULL AND scanned_at IS NOT NULL
        ),
        v AS (
            SELECT line, target, scanned_at, ri, unnest(res.Vulnerabilities) AS v,
                   generate_subscripts(res.Vulnerabilities, 1) - 1 AS vi
            FROM res
        ),
        f AS (
            SELECT line, ri, vi, target, scanned_at,
                   nullif(trim(v."VulnerabilityID"), '') AS advisory_id, nullif(trim(v."PkgName"), '') AS package,
                   nullif(trim(v."InstalledVersion"), '') AS installed_version,
                   nullif(trim(v."FixedVersion"), '') AS fixed_version,
                   nullif(trim(v."Title"), '') AS title, v."Severity" AS severity_text
            FROM v
        )
        SELECT 'trivy' AS source, target, package, advisory_id, scanned_at,
               {_SEVERITY.format("severity_text")} AS severity, installed_version, fixed_version, title,
               line, ri, vi,
               CASE WHEN advisory_id IS NULL THEN 'VulnerabilityID: required but missing'
                    WHEN package IS NULL THEN 'PkgName: required but missing' END AS _bad
        FROM f"""
    scans = """
        CREATE TEMP TABLE scans AS
        SELECT 'trivy' AS source, r.target, r.scanned_at, r.artifact_type, coalesce(f.n, 0) AS findings,
               r.line,
               CASE WHEN r.target IS NULL THEN 'ArtifactName: required but missing'
                    WHEN r.scanned_at IS NULL THEN 'CreatedAt: not an ISO 8601 timestamp with a UTC offset: '
                         || r.created END AS _bad
        FROM reports AS r
        LEFT JOIN (SELECT line, count(*) AS n FROM observations WHERE _bad IS NULL GROUP BY line) AS f
               ON f.line = r.line"""
    return [reports, observations, scans, "DROP TABLE reports"]


_KEYS = {
    "scans": "target, scanned_at",
    "observations": "target, package, advisory_id, scanned_at",
}
_COLUMNS = {
    "scans": "source, target, scanned_at, artifact_type, findings",
    "observations": (
        "source, target, package, advisory_id, scanned_at, severity, installed_version, fixed_version, title"
    ),
}
# a row's place in the file (the later version of a key wins) and its locator
_ORDER = {"scans": "line", "observations": "line, ri, vi"}
_LOCATOR = {
    "scans": "'line ' || line",
    "observations": "'line ' || line || ' /Results/' || ri || '/Vulnerabilities/' || vi",
}


@dataclass
class _Prepared:
    """One flattened table's winning rows (a SELECT on the connection), how many versions they
    folded and the rejects."""

    select: str
    duplicates: int
    rejects: list[Reject]


def _prepare(con: duckdb.DuckDBPyConnection, name: str) -> _Prepared:
    """The rejects, in file order, and one version per key (the merge's rule: the later in the
    file; the others count as duplicates). A file whose keys do not repeat (the usual case: one
    scan of each image a day) keeps its clean rows as they are."""
    bad = con.execute(
        f"SELECT {_LOCATOR[name]}, _bad FROM {name} WHERE _bad IS NOT NULL ORDER BY {_ORDER[name]}"
    ).fetchall()
    rejects = [Reject(loc, why) for loc, why in bad]
    clean, distinct = col.one(
        con, f"SELECT count(*), count(DISTINCT hash({_KEYS[name]})) FROM {name} WHERE _bad IS NULL"
    )
    if clean == distinct:  # distinct hashes: distinct keys (a clean row's key has no NULL)
        return _Prepared(f"SELECT {_COLUMNS[name]}, false AS _unclean FROM {name} WHERE _bad IS NULL", 0, rejects)
    order = ", ".join(f"{c} DESC" for c in _ORDER[name].split(", "))
    con.execute(
        f"CREATE TEMP TABLE {name}_kept AS SELECT {_COLUMNS[name]} FROM {name} WHERE _bad IS NULL "
        f"QUALIFY row_number() OVER (PARTITION BY {_KEYS[name]} ORDER BY {order}) = 1"
    )
    (kept,) = col.one(con, f"SELECT count(*) FROM {name}_kept")
    return _Prepared(f"SELECT {_COLUMNS[name]}, false AS _unclean FROM {name}_kept", int(clean) - int(kept), rejects)


def _chunks(table: _Prepared, done: col.Done) -> Iterator[BulkChunk]:
    """The table's rows as one exact batch written from the adapter's connection, then its rejects
    as a batch of their own."""
    try:
        yield BulkChunk(table.select, exact=True, duplicates=table.duplicates, con=done.con)
        if table.rejects:
            yield BulkChunk.rejects_only(table.rejects)
    finally:
        done.one()


ADAPTER = TrivyAdapter()
