"""`dagster dev -w workspace.yaml` serves the code location, on the instance the command line records
into: after a build from the command line, the webserver shows its materializations and checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUERY = """{ assetNodes { assetKey { path } groupName assetMaterializations(limit: 1) { runId }
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_dagster_dev_shows_what_the_command_line_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a user runs it: no DAGSTER_HOME, no OPS_WAREHOUSE_HOME, the default data home ``./data``
    and the project's ``dagster.yaml`` in the folder ``dagster dev`` starts in."""
    from ops_warehouse.build import run_build
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("OPS_WAREHOUSE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    shutil.copyfile(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    home = DataHome.resolve()
    assert home.root == tmp_path / "data"
    deploys = tmp_path / "d.csv"
    deploys.write_text(
        "deploy_id,service,environment,sha,started_at,finished_at,status\n"
        "d1,checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success\n",
        encoding="utf-8",
    )
    ingest_file(home, deploys)
    assert run_build(home).success

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "OPS_WAREHOUSE_HOME")}
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.Popen(
        [str(dagster), "dev", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 150
        nodes = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"dagster dev exited early: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            try:
                data = _graphql(port, QUERY)
                nodes = (data.get("data") or {}).get("assetNodes")
                if nodes:
                    break
            except OSError:
                pass
            time.sleep(2)
        assert nodes, "the webserver never answered with the asset graph"
        groups: dict[str, set[str]] = {}
        for n in nodes:
            groups.setdefault(n["groupName"], set()).add("/".join(n["assetKey"]["path"]))
        assert "raw/deployments" in groups["ingest"]
        assert {"core/deployments", "core/incidents"} <= groups["core"]
        assert "marts/dora_weekly" in groups["marts"]
        assert {"warehouse", "weekly_report"} <= groups["reports"]
        by_key = {"/".join(n["assetKey"]["path"]): n for n in nodes}
        built = {k for k, n in by_key.items() if n["assetMaterializations"]}
        assert built == groups["core"] | groups["marts"] | {"warehouse"}, "the UI shows the build's materializations"
        checks = by_key["core/deployments"]["assetChecksOrError"]["checks"]
        assert [(c["name"], c["executionForLatestMaterialization"]["status"]) for c in checks] == [
            ("deployments_contract", "SUCCEEDED")
        ]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
