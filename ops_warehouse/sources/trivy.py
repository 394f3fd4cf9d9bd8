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
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import Adapter, BadRecord, ReadContext, Record, Reject, Row, Sniff, raw_json, text

SOURCE = "trivy"


def looks_like_report(rec: Any) -> bool:
    return isinstance(rec, dict) and "SchemaVersion" in rec and ("ArtifactName" in rec or "Results" in rec)


def report_rows(rec: dict[str, Any], locator: str, ctx: ReadContext) -> list[Record]:
    target = text(rec.get("ArtifactName"))
    if target is None:
        raise BadRecord("ArtifactName: required but missing")
    scanned = sec.when(rec.get("CreatedAt"), "CreatedAt", ctx.default_tz) or sec.file_time(ctx.path)
    results = rec.get("Results") or []
    if not isinstance(results, list):
        raise BadRecord(f"Results: expected an array, got {type(results).__name__}")
    out: list[Record] = []
    for i, result in enumerate(results):
        vulns = result.get("Vulnerabilities") if isinstance(result, dict) else None
        if vulns is None:
            continue
        if not isinstance(vulns, list):
            where = sec.child(locator, "Results", i, "Vulnerabilities")
            out.append(Reject(where, "expected an array", raw_json(vulns)))
            continue
        for j, v in enumerate(vulns):
            where = sec.child(locator, "Results", i, "Vulnerabilities", j)
            if not isinstance(v, dict):
                out.append(Reject(where, f"expected a JSON object, got {type(v).__name__}", raw_json(v)))
                continue
            vid, pkg = text(v.get("VulnerabilityID")), text(v.get("PkgName"))
            if vid is None or pkg is None:
                missing = "VulnerabilityID" if vid is None else "PkgName"
                out.append(Reject(where, f"{missing}: required but missing", raw_json(v)))
                continue
            out.append(Row("vulnerability_observations", {
                "source": SOURCE,
                "target": target,
                "package": pkg,
                "advisory_id": vid,
                "scanned_at": scanned,
                "severity": sec.finding_severity(v.get("Severity")),
                "installed_version": text(v.get("InstalledVersion")),
                "fixed_version": text(v.get("FixedVersion")),
                "title": text(v.get("Title")),
            }, where, raw_json(v)))
    scan = Row("vulnerability_scans", {
        "source": SOURCE,
        "target": target,
        "scanned_at": scanned,
        "artifact_type": text(rec.get("ArtifactType")),
        "findings": sum(1 for r in out if isinstance(r, Row)),
    }, locator, raw_json({k: v for k, v in rec.items() if k != "Results"}))
    return [scan, *out]


class TrivyAdapter(Adapter):
    kind = "trivy"
    description = "Trivy JSON reports (trivy image --format json), one per file or one per NDJSON line"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_report(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        for locator, rec, raw in sec.iter_records(ctx.path):
            yield from sec.mapped(lambda r, loc: report_rows(r, loc, ctx), rec, locator, raw)


ADAPTER = TrivyAdapter()
