"""The vulnerability and alert tables in the Dagster graph: built, contract-checked (blocking), and a
broken contract keeps them out of the published snapshot."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ops_warehouse.build import run_build
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file

SCENARIOS = Path(__file__).parent / "metrics" / "scenarios"
NEW_ASSETS = {
    "core/vulnerabilities",
    "marts/vulnerability_weekly",
    "core/alert_episodes",
    "marts/alert_weekly",
    "marts/alert_names_weekly",
    "marts/security_incident_weekly",
}


def test_graph_has_the_tables_and_their_blocking_checks() -> None:
    from ops_warehouse.defs.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert NEW_ASSETS <= keys
    assert {"raw/vulnerabilities", "raw/vulnerability_scans", "raw/vulnerability_observations", "raw/alerts"} <= keys
    checks = {f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys}
    assert {"core/vulnerabilities:vulnerabilities_contract", "core/alert_episodes:alert_episodes_contract"} <= checks


def _load(home: DataHome) -> None:
    for f in sorted((SCENARIOS / "vuln_sla_edges").glob("*.json")):
        assert ingest_file(home, f).ok
    for f in sorted((SCENARIOS / "alert_noise_flapping").glob("*.ndjson")):
        assert ingest_file(home, f).ok


def test_build_checks_and_publishes(home: DataHome) -> None:
    _load(home)
    result = run_build(home)
    assert result.success, result
    assert NEW_ASSETS <= set(result.materialized)
    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM core.vulnerabilities").fetchone()[0] == 5
        assert con.execute("SELECT sum(episodes) FROM marts.alert_weekly WHERE scope = 'service'").fetchone()[0] == 7
    finally:
        con.close()


def test_a_broken_vulnerability_contract_blocks_the_snapshot(home: DataHome, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(home)
    assert run_build(home).success
    before = home.warehouse.stat().st_mtime_ns

    import ops_warehouse.defs.checks as checks
    from ops_warehouse.quality.contracts import Contract

    # every finding here has a repository, none a target: a contract demanding a target must fail
    strict = {"core.vulnerabilities": Contract("core.vulnerabilities", key=["finding_id"], not_null=["target"])}
    monkeypatch.setattr(checks, "load_contracts", lambda: strict)
    result = run_build(home)
    assert not result.success
    assert result.failed_checks == ["core/vulnerabilities:vulnerabilities_contract"]
    assert "marts/vulnerability_weekly" not in result.materialized
    assert home.warehouse.stat().st_mtime_ns == before
