"""The generator's security exports ingest cleanly and reach the vulnerability and alert models:
Grype reports among the scanner exports, and the canonical format's findings, firings and security
incidents."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

from ops_warehouse.generate import generate_exports
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models, open_lake

END = date(2026, 11, 30)


def _ingest_all(home: DataHome, files: list[Path]) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for f in files:
        report = ingest_file(home, f)
        assert report.ok and report.balanced and not report.quarantined, report.line()
        kinds[str(report.kind)] = kinds.get(str(report.kind), 0) + report.loaded
    return kinds


def _home(tmp_path: Path, out: Path) -> DataHome:
    home = DataHome.resolve(tmp_path / "home").ensure()
    shutil.copyfile(out / "catalog.yaml", home.catalog)
    return home


def test_real_exports_include_grype_reports_that_reach_core_vulnerabilities(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    _, paths = generate_exports(out, services=6, weeks=3, seed=3, end=END, slo_services=0, metric_days=0)
    grype = sorted(p for p in paths if p.parent.name == "grype")
    trivy = sorted(p for p in paths if p.parent.name == "trivy")
    assert grype and trivy
    assert {p.name for p in grype}.isdisjoint(p.name for p in trivy)  # a service's image, one scanner
    home = _home(tmp_path, out)
    kinds = _ingest_all(home, grype + trivy)
    assert kinds["grype"] > 0 and kinds["trivy"] > 0
    build_models(home)
    con = open_lake(home)
    by_source = dict(con.execute("SELECT source, count(*) FROM core.vulnerabilities GROUP BY 1").fetchall())
    services = {r[0] for r in con.execute("SELECT service FROM core.vulnerabilities WHERE source = 'grype'").fetchall()}
    assert by_source.get("grype", 0) > 0 and by_source.get("trivy", 0) > 0
    assert services == {p.stem for p in grype}  # the image name maps to the service


def test_canonical_exports_carry_findings_alerts_and_security_incidents(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    _, paths = generate_exports(
        out, services=5, weeks=3, seed=5, end=END, fmt="canonical", slo_services=0, metric_days=0
    )
    names = {p.name for p in paths}
    assert {"vulnerabilities.csv", "alerts.ndjson", "security-incidents.ndjson"} <= names
    home = _home(tmp_path, out)
    _ingest_all(home, sorted(paths))
    build_models(home)
    con = open_lake(home)
    with open(out / "exports" / "vulnerabilities.csv", encoding="utf-8") as fh:
        written = list(csv.DictReader(fh))
    found = dict(con.execute("SELECT finding_id, state FROM core.vulnerabilities").fetchall())
    assert found == {r["finding_id"]: r["state"] for r in written}
    alerts = [json.loads(line) for line in (out / "exports" / "alerts.ndjson").read_text().splitlines()]
    episodes = con.execute("SELECT count(*) FROM core.alert_episodes").fetchone()[0]
    assert alerts and episodes == len({(a["fingerprint"], a["started_at"]) for a in alerts})
    security = con.execute("SELECT sum(incidents) FROM marts.security_incident_weekly").fetchone()[0]
    assert security and security > 0
