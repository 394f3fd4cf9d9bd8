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


def _fixed_version(m: dict[str, Any]) -> str | None:
    """The first of ``fix.versions`` when the fix state is ``fixed`` (``unknown`` with an empty
    list means no fix)."""
    fix = sec.nested(m, "vulnerability", "fix")
    if not isinstance(fix, dict) or fix.get("state") != "fixed":
        return None
    versions = fix.get("versions")
    return versions[0] if isinstance(versions, list) and versions else None


def _match(m: dict[str, Any]) -> sec.Values:
    return {
        "package": sec.nested(m, "artifact", "name"),
        "advisory_id": sec.nested(m, "vulnerability", "id"),
        "severity": sec.nested(m, "vulnerability", "severity"),
        "installed_version": sec.nested(m, "artifact", "version"),
        "fixed_version": _fixed_version(m),
        "title": sec.nested(m, "vulnerability", "description"),
    }


_MATCH_REQUIRED = {"advisory_id": "vulnerability.id", "package": "artifact.name"}


def report_rows(rec: dict[str, Any], locator: str, ctx: ReadContext) -> list[Record]:
    target = _target(rec)
    if target is None:
        raise BadRecord("source.target: required but missing")
    scanned = sec.when(sec.nested(rec, "descriptor", "timestamp"), "descriptor.timestamp", ctx.default_tz)
    scan = {"source": SOURCE, "target": target, "scanned_at": scanned or sec.file_time(ctx.path)}
    matches = [
        sec.observation(scan, child(locator, "matches", i), m, _match, _MATCH_REQUIRED)
        for i, m in enumerate(rec.get("matches") or [])
    ]
    raw = raw_json({"source": rec.get("source"), "descriptor": rec.get("descriptor")}, limit=2000)
    return sec.scan_rows(scan, sec.nested(rec, "source", "type"), locator, raw, matches)


class GrypeAdapter(Adapter):
    kind = "grype"
    description = "Grype JSON reports (grype -o json), one per file or one per NDJSON line"

    def detect(self, sniff: Sniff) -> bool:
        return looks_like_report(sniff.first_record)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        return sec.read_mapped(ctx.path, lambda rec, locator: report_rows(rec, locator, ctx))


ADAPTER = GrypeAdapter()
