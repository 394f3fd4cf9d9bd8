"""What Trivy and Grype reports share (``sources._security.observation`` and ``scan_rows``): each
finding is an observation of the scan or a reject naming the report's own field, and the scan row
counts only the findings kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.sources import grype, trivy
from ops_warehouse.sources.base import ReadContext, Record, Reject, Row


def _trivy(entries: list[Any]) -> dict[str, Any]:
    return {
        "SchemaVersion": 2,
        "ArtifactName": "registry/api:1.2",
        "ArtifactType": "container_image",
        "CreatedAt": "2026-11-20T08:00:00+01:00",
        "Results": [{"Target": "os", "Vulnerabilities": entries}],
    }


def _trivy_entry(advisory: str | None, package: str | None) -> dict[str, Any]:
    return {"VulnerabilityID": advisory, "PkgName": package, "Severity": "MODERATE", "FixedVersion": "1.1"}


def _grype(entries: list[Any]) -> dict[str, Any]:
    return {
        "descriptor": {"name": "grype", "timestamp": "2026-11-20T08:00:00+01:00"},
        "source": {"type": "image", "target": {"userInput": "registry/api:1.2"}},
        "matches": entries,
    }


def _grype_entry(advisory: str | None, package: str | None) -> dict[str, Any]:
    fix = {"state": "fixed", "versions": ["1.1"]}
    return {"vulnerability": {"id": advisory, "severity": "Medium", "fix": fix}, "artifact": {"name": package}}


Rows = Callable[[dict[str, Any], str, ReadContext], list[Record]]
SCANNERS: dict[str, tuple[Rows, Callable[[list[Any]], dict[str, Any]], Callable[..., Any], str, tuple[str, str]]] = {
    "trivy": (trivy.report_rows, _trivy, _trivy_entry, "/Results/0/Vulnerabilities", ("VulnerabilityID", "PkgName")),
    "grype": (grype.report_rows, _grype, _grype_entry, "/matches", ("vulnerability.id", "artifact.name")),
}


@pytest.mark.parametrize("scanner", sorted(SCANNERS))
def test_findings_are_observations_or_rejects_naming_the_reports_field(tmp_path: Path, scanner: str) -> None:
    report_rows, report, entry, where, (advisory_field, package_field) = SCANNERS[scanner]
    entries = [entry("CVE-2026-1", "openssl"), "not an object", entry(None, "zlib"), entry("CVE-2026-2", " ")]
    ctx = ReadContext(tmp_path / "report.json")
    rows = report_rows(report(entries), "line 3", ctx)

    scan, *findings = rows
    assert isinstance(scan, Row) and scan.table == "vulnerability_scans"
    assert scan.values["findings"] == 1
    assert scan.values["scanned_at"] == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert [f.locator for f in findings] == [f"line 3 {where}/{i}" for i in range(4)]
    kept = findings[0]
    assert isinstance(kept, Row) and kept.table == "vulnerability_observations"
    assert {k: kept.values[k] for k in ("source", "target", "package", "advisory_id", "severity", "fixed_version")} == {
        "source": scanner,
        "target": "registry/api:1.2",
        "package": "openssl",
        "advisory_id": "CVE-2026-1",
        "severity": "medium",
        "fixed_version": "1.1",
    }
    assert kept.values["scanned_at"] == scan.values["scanned_at"]
    assert all(isinstance(f, Reject) for f in findings[1:])
    assert [f.reason for f in findings[1:]] == [
        "expected a JSON object, got str",
        f"{advisory_field}: required but missing",
        f"{package_field}: required but missing",
    ]


@pytest.mark.parametrize("scanner", sorted(SCANNERS))
def test_a_scan_listing_nothing_is_still_a_scan(tmp_path: Path, scanner: str) -> None:
    report_rows, report, _, _, _ = SCANNERS[scanner]
    rows = report_rows(report([]), "/", ReadContext(tmp_path / "report.json"))
    assert len(rows) == 1 and isinstance(rows[0], Row)
    assert rows[0].table == "vulnerability_scans" and rows[0].values["findings"] == 0
