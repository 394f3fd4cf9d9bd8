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
into the day partitions, with the same rows and rejects as the record-by-record path; a file it
cannot parse whole, or a row the contract check refuses, goes record by record.
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
    Sniff,
    child,
    raw_json,
    text,
)

SOURCE = "trivy"
# NDJSON files at least this big take the columnar path
BULK_MIN_BYTES = 8 * 1024 * 1024


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
        folder = Path(tempfile.mkdtemp(prefix="ow-trivy-"))
        con = duckdb.connect(config={"memory_limit": "2GB", "temp_directory": str(folder / "spill")})
        try:
            for statement in _flatten_sql(path, folder, sec.file_time(path).isoformat(), ctx.default_tz):
                con.execute(statement)
        except duckdb.Error:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        finally:
            con.close()
        return [
            BulkInput("vulnerability_scans", _chunks(folder, "scans", done=False)),
            BulkInput("vulnerability_observations", _chunks(folder, "observations", done=True)),
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


def _flatten_sql(path: Path, folder: Path, file_time: str, default_tz: str | None) -> list[str]:
    """Statements that write the file's scans and observations (with their rejects) as Parquet.
    A report's time is parsed once, for the report (a naive one only with a default time zone)."""
    naive = f"timezone({_lit(default_tz)}, TRY_CAST(created AS TIMESTAMP))" if default_tz else "NULL::TIMESTAMPTZ"
    reports = f"""
        CREATE TABLE reports AS
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
    vulns = """
        CREATE TABLE vulns AS
        WITH res AS (
            SELECT line, target, scanned_at, unnest(results) AS res, generate_subscripts(results, 1) - 1 AS ri
            FROM reports WHERE target IS NOT NULL AND scanned_at IS NOT NULL
        ),
        v AS (
            SELECT line, target, scanned_at, ri, unnest(res.Vulnerabilities) AS v,
                   generate_subscripts(res.Vulnerabilities, 1) - 1 AS vi
            FROM res
        )
        SELECT line, ri, vi, target, scanned_at,
               nullif(trim(v."VulnerabilityID"), '') AS advisory_id, nullif(trim(v."PkgName"), '') AS package,
               nullif(trim(v."InstalledVersion"), '') AS installed_version,
               nullif(trim(v."FixedVersion"), '') AS fixed_version,
               nullif(trim(v."Title"), '') AS title, v."Severity" AS severity_text
        FROM v"""
    scans = f"""
        COPY (
            SELECT 'trivy' AS source, r.target, r.scanned_at, r.artifact_type,
                   (SELECT count(*) FROM vulns AS v
                     WHERE v.line = r.line AND v.advisory_id IS NOT NULL AND v.package IS NOT NULL) AS findings,
                   'line ' || r.line AS _locator, NULL::VARCHAR AS _raw, r.line * 1000000 AS _ord,
                   CASE WHEN r.target IS NULL THEN 'ArtifactName: required but missing'
                        WHEN r.scanned_at IS NULL THEN 'CreatedAt: not an ISO 8601 timestamp with a UTC offset: '
                             || r.created END AS _bad
            FROM reports AS r
        ) TO {_lit(str(folder / "scans.parquet"))} (FORMAT parquet)"""
    observations = f"""
        COPY (
            SELECT 'trivy' AS source, target, package, advisory_id, scanned_at,
                   {_SEVERITY.format("severity_text")} AS severity, installed_version, fixed_version, title,
                   'line ' || line || ' /Results/' || ri || '/Vulnerabilities/' || vi AS _locator,
                   NULL::VARCHAR AS _raw, line * 1000000 + ri * 10000 + vi + 1 AS _ord,
                   CASE WHEN advisory_id IS NULL THEN 'VulnerabilityID: required but missing'
                        WHEN package IS NULL THEN 'PkgName: required but missing' END AS _bad
            FROM vulns
        ) TO {_lit(str(folder / "observations.parquet"))} (FORMAT parquet)"""
    return [reports, vulns, scans, observations]


_KEYS = {
    "scans": "target, scanned_at",
    "observations": "target, package, advisory_id, scanned_at",
}


def _chunks(folder: Path, name: str, *, done: bool) -> Iterator[BulkChunk]:
    """The rows of one flattened table as an exact batch, one version per key (the merge's rule:
    the later in the file; the others count as duplicates), then its rejects as a batch of their
    own; the folder goes with the last table."""
    flat = _lit(str(folder / f"{name}.parquet"))
    winners = _lit(str(folder / f"{name}-winners.parquet"))
    try:
        con = duckdb.connect()
        try:
            bad = con.execute(f"SELECT _locator, _bad FROM read_parquet({flat}) WHERE _bad IS NOT NULL").fetchall()
            cols = [d[0] for d in con.execute(f"SELECT * FROM read_parquet({flat}) LIMIT 0").description]
            keep = ", ".join(f'"{c}"' for c in cols if c not in ("_bad", "_locator", "_raw", "_ord"))
            clean = con.execute(f"SELECT count(*) FROM read_parquet({flat}) WHERE _bad IS NULL").fetchone()
            kept = con.execute(
                f"COPY (SELECT {keep} FROM read_parquet({flat}) WHERE _bad IS NULL "
                f"QUALIFY row_number() OVER (PARTITION BY {_KEYS[name]} ORDER BY _ord DESC) = 1) "
                f"TO {winners} (FORMAT parquet)"
            ).fetchone()
        finally:
            con.close()
        assert clean is not None and kept is not None  # a count and a COPY answer one row
        yield BulkChunk(
            f"SELECT {keep}, false AS _unclean FROM read_parquet({winners})",
            exact=True,
            duplicates=int(clean[0]) - int(kept[0]),
        )
        if bad:
            yield BulkChunk.rejects_only([Reject(loc, why) for loc, why in bad])
    finally:
        if done:
            shutil.rmtree(folder, ignore_errors=True)


ADAPTER = TrivyAdapter()
