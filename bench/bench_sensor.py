"""Time from a file landing in ``landing/`` to the sensor's ingest run finishing.

    .venv/bin/python bench/bench_sensor.py [--interval 5] [--files 3]

Starts ``dagster dev -w workspace.yaml`` on a loopback port with a fresh DAGSTER_HOME and data home
(sensor interval ``--interval`` seconds), drops export files into ``landing/`` one at a time, and
polls the webserver's GraphQL API until the run for each file has succeeded. Prints each latency;
the sensor interval bounds how long a file waits before its run starts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = '{ runsOrError(filter: {pipelineName: "ingest_landing_job"}) { ... on Runs { results { runId status } } } }'


def graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def runs(port: int) -> list[dict]:
    return graphql(port, RUNS)["data"]["runsOrError"]["results"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--files", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from ops_warehouse.generate import generate_exports

    work = Path(tempfile.mkdtemp(prefix="bench-sensor-"))
    exports = work / "gen"
    generate_exports(exports, services=3, weeks=2, slo_services=0)
    files = sorted((exports / "exports" / "pagerduty").glob("incidents-*.json"))[: args.files]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (work / "dagster").mkdir()
    env = dict(
        os.environ,
        DAGSTER_HOME=str(work / "dagster"),
        OPS_WAREHOUSE_HOME=str(work / "home"),
        OPS_WAREHOUSE_SENSOR_SECONDS=str(args.interval),
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster")),
            "dev",
            "-w",
            "workspace.yaml",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                runs(port)
                break
            except OSError:
                time.sleep(1)
        landing = work / "home" / "landing"
        landing.mkdir(parents=True, exist_ok=True)
        time.sleep(args.interval * 2)  # let the daemon settle into its tick rhythm
        latencies = []
        for f in files:
            done_before = sum(1 for r in runs(port) if r["status"] == "SUCCESS")
            t0 = time.monotonic()
            shutil.copy(f, landing / f.name)
            while time.monotonic() - t0 < 300:
                if sum(1 for r in runs(port) if r["status"] == "SUCCESS") > done_before:
                    break
                time.sleep(0.5)
            else:
                raise SystemExit(f"no successful run for {f.name} within 300 s")
            latencies.append(time.monotonic() - t0)
            print(f"{f.name}: landed -> ingest run succeeded in {latencies[-1]:.1f} s", flush=True)
        print(
            f"sensor interval {args.interval} s: median {sorted(latencies)[len(latencies) // 2]:.1f} s, "
            f"max {max(latencies):.1f} s over {len(latencies)} files"
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
