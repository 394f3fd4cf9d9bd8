"""Incremental rebuilds of the vulnerability and alert models give the same tables as a full rebuild.

A small organisation's security exports arrive in three steps: the first weeks of alert
notifications, scan reports and incidents; then the rest with the GitHub alert lists; then late
data for an old week (a rescan that no longer lists a finding, an incident that makes an old alert
episode actionable). After each step the warehouse is built incrementally and every core and mart
table is compared with a full rebuild of the same raw data.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from ops_warehouse.generate.security import write_security
from ops_warehouse.generate.synthetic import generate
from ops_warehouse.generate.writers_real import _write_pagerduty
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake import models
from tests.lake.test_incremental import _assert_same, _full_rebuild

MODELS = (
    "core.vulnerabilities",
    "marts.vulnerability_weekly",
    "core.alert_episodes",
    "marts.alert_weekly",
    "marts.alert_names_weekly",
    "marts.security_incident_weekly",
)


def _ingest(home: DataHome, paths: list[Path]) -> None:
    for p in paths:
        rep = ingest_file(home, p)
        assert rep.ok and not rep.quarantined, rep.line()


def test_security_models_incremental_equal_full_rebuild(tmp_path: Path) -> None:
    org = generate(services=3, weeks=4, seed=3, end=date(2026, 11, 30))
    out = tmp_path / "exports"
    files = write_security(org, out, seed=3)
    files += _write_pagerduty(org, {s.name: s for s in org.services}, out / "pagerduty")
    notes = sorted(p for p in files if p.name.startswith("notifications-"))
    trivy = sorted(p for p in files if p.parent.name == "trivy")
    cut = org.start + timedelta(weeks=2)
    first, rest = tmp_path / "first", tmp_path / "rest"
    first.mkdir()
    rest.mkdir()
    split = []
    for p in trivy:  # each report line goes to the step it was scanned in
        lines = p.read_text().splitlines()
        early = [ln for ln in lines if json.loads(ln)["CreatedAt"] < cut.isoformat()[:19]]
        (first / p.name).write_text("\n".join(early) + "\n")
        (rest / p.name).write_text("\n".join(lines[len(early) :]) + "\n")
        split.append((first / p.name, rest / p.name))
    incidents = sorted(p for p in files if p.name.startswith(("incidents-", "security-incidents", "log-entries")))
    pd_alerts = sorted(p for p in files if p.name.startswith("alerts-"))

    home = DataHome.resolve(tmp_path / "home").ensure()
    _ingest(home, notes[: len(notes) // 2] + [a for a, _ in split] + incidents[: len(incidents) // 2])
    models.build_models(home)
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    rest_files = notes[len(notes) // 2 :] + [b for _, b in split] + incidents[len(incidents) // 2 :] + pd_alerts
    rest_files += [
        p for p in files if p.name in ("dependabot-alerts.json", "code-scanning-alerts.json", "api-alerts.json")
    ]
    _ingest(home, rest_files)
    models.build_models(home)
    decisions = {k: models.LAST_DECISIONS[k] for k in MODELS}
    assert any(d.startswith("incremental") for d in decisions.values()), decisions
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))

    # late data: a rescan of every image on the third day that lists nothing (fixing what was open),
    # and an incident of the first service created inside an old alert episode
    late = tmp_path / "late"
    late.mkdir()
    day3 = (org.start + timedelta(days=2, hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for p in trivy:
        report = json.loads(p.read_text().splitlines()[0])
        report.update(CreatedAt=day3, Results=[])
        (late / p.name).write_text(json.dumps(report) + "\n")
    svc = org.services[0].name
    episode_start = org.start + timedelta(days=3)
    (late / "incidents.csv").write_text(
        "incident_id,service,severity,title,created_at,resolved_at\n"
        f"late-1,{svc},sev2,Late incident,{(episode_start + timedelta(hours=1)).isoformat()},\n"
    )
    _ingest(home, sorted(late.iterdir()))
    models.build_models(home)
    _assert_same(home, _full_rebuild(home, tmp_path / "ref"))
