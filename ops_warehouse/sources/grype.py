"""``grype``: ``grype -o json`` reports into ``raw.vulnerability_scans`` and
``raw.vulnerability_observations``.

A file holds one report, or NDJSON with one report per line. Each report is one scan of one
target (METRICS.md, "Vulnerability management": a finding opens at the first scan that reports it
and is fixed at the first later scan of the same target that does not):

- scan: source ``grype``, target ``source.target.userInput`` (an image reference) or
  ``source.target`` when it is text (a directory), scanned_at ``descriptor.timestamp`` (written in
  the scanning host's offset, stored in UTC; without one, the file's modification time),
  artifact_type ``source.type``, findings = the matches listed
- one observation per ``matches[]``: package ``artifact.name``, advisory_id ``vulnerability.id``,
  severity ``vulnerability.severity`` (Negligible is low, Unknown is unknown), installed_version
  ``artifact.version``, fixed_version the first of ``vulnerability.fix.versions`` when
  ``fix.state`` is ``fixed`` (``unknown`` with an empty list means no fix), title
  ``vulnerability.description``. One vulnerability matching several artifacts is one finding per
  artifact (package).

Rejected: a report without a target, a match without vulnerability id or artifact name, a bad
timestamp.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources import _security as sec
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    child,
    raw_json,
    text,
)

SOURCE = "grype"


def looks_like_report(rec: Any) -> bool:
    return (
        isinstance(rec, dict)
        and isinstance(rec.get("matches"), list)
        and isinstance(rec.get("descriptor"), dict)
        and str(rec["descriptor"].get("name", "")).lower() == "grype"
    )


def _target(rec: dict[str, Any]) -> str | None:
    target = sec.nested(rec, "source", "target")
    if isinstance(target, dict):
        return text(target.get("userInput")) or text((target.get("tags") or [None])[0])
    return text(target)


def report_rows(rec: dict[str, Any], locator: str, ctx: ReadContext) -> list[Record]:
    target = _target(rec)
    if target is None:
        raise BadRecord("source.target: required but missing")
    scanned = sec.when(sec.nested(rec, "descriptor", "timestamp"), "descriptor.timestamp", ctx.default_tz)
    scanned = scanned or sec.file_time(ctx.path)
    out: list[Record] = []
    for i, m in enumerate(rec.get("matches") or []):
        where = child(locator, "matches", i)
        if not isinstance(m, dict):
            out.append(Reject(where, f"expected a JSON object, got {type(m).__name__}", raw_json(m)))
            continue
        vid = text(sec.nested(m, "vulnerability", "id"))
        pkg = text(sec.nested(m, "artifact", "name"))
        if vid is None or pkg is None:
            missing = "vulnerability.id" if vid is None else "artifact.name"
            out.append(Reject(where, f"{missing}: required but missing", raw_json(m)))
            continue
        fix = sec.nested(m, "vulnerability", "fix") or {}
        versions = fix.get("versions") if isinstance(fix, dict) else None
        fixed = None
        if isinstance(fix, dict) and fix.get("state") == "fixed" and isinstance(versions, list) and versions:
            fixed = text(versions[0])
        out.append(
            Row(
                "vulnerability_observations",
                {
                    "source": SOURCE,
                    "target": target,
                    "package": pkg,
                    "advisory_id": vid,
                    "scanned_at": scanned,
                    "severity": sec.finding_severity(sec.nested(m, "vulnerability", "severity")),
                    "installed_version": text(sec.nested(m, "artifact", "version")),
                    "fixed_version": fixed,
                    "title": text(sec.nested(m, "vulnerability", "description")),
                },
                where,
                raw_json(m),
            )
        )
    scan = Row(
        "vulnerability_scans",
        {
            "source": SOURCE,
            "target": target,
            "scanned_at": scanned,
            "artifact_type": text(sec.nested(rec, "source", "type")),
            "findings": sum(1 for r in out if isinstance(r, Row)),
        },
        locator,
        raw_json({"source": rec.get("source"), "descriptor": rec.get("descriptor")}, limit=2000),
    )
    return [scan, *out]


class GrypeAdapter(Adapter):
    kind = "grype"
    description = "Grype JSON reports (grype -o json), one per file or one per NDJSON line"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_report(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        for locator, rec, raw in sec.iter_records(ctx.path):
            yield from sec.mapped(lambda r, loc: report_rows(r, loc, ctx), rec, locator, raw)


ADAPTER = GrypeAdapter()
