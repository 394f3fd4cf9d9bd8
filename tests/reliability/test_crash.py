"""Crash safety: ingest, build and publish killed with SIGKILL at many points.

Each operation runs in its own process, which imports everything, says it is ready and then waits
for a go; the test starts the clock at the go and kills the process after a delay spread over the
operation's measured duration. After every kill:

- every Parquet file in the lake reads whole, and no temporary file sits inside the lake;
- rows that were committed before the interrupted run are all still there;
- the published ``warehouse.duckdb`` opens read-only, has every table, and is exactly either the
  snapshot from before or the one after (never a mix);
- re-running the interrupted operation to completion (with the dead run's temporary files still
  lying around) gives core and marts tables identical to a clean, uninterrupted run.

The starting state is a "stale" warehouse: part of the exports ingested, built and published (the
deployment webhooks only half delivered), so the interrupted runs rewrite existing partitions,
existing derived tables and an existing snapshot, which is where a crash can do harm.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish

from .conftest import (
    Exports,
    Reference,
    assert_lake_readable,
    assert_snapshot_complete,
    diff,
    ingest_all,
    lake_checksums,
    new_home,
    raw_checksums,
    raw_counts,
    snapshot_checksums,
)

DRIVER = textwrap.dedent(
    """
    import sys
    import time
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file
    from ops_warehouse.lake.models import build_models, discover_models
    from ops_warehouse.lake.publish import publish
    from ops_warehouse.sources.base import all_adapters

    phase, root, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    home = DataHome.resolve(root)
    all_adapters()
    discover_models()
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    if phase == "ingest":
        for f in files:
            r = ingest_file(home, f)
            assert r.ok and r.balanced, r.line()
    elif phase == "models":
        build_models(home)
    elif phase == "build":
        build_models(home)
        publish(home)
    elif phase == "publish":
        publish(home)
    else:
        raise SystemExit(f"unknown phase {phase}")
    print("done", time.perf_counter() - t0, flush=True)
    """
)

KILLS = {"ingest": 3, "build": 4, "publish": 4}


@dataclass
class States:
    """Homes to copy from, one per phase, and what they look like."""

    ingest_start: DataHome  # stale: part ingested, built, published
    build_start: DataHome  # every export ingested; derived tables and snapshot still stale
    publish_start: DataHome  # built from every export; snapshot still stale
    stale_snapshot: dict[str, str]
    stale_raw_counts: dict[str, int]
    durations: dict[str, float]


def _half_file(src: Path, dst: Path) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    dst.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory, exports: Exports, reference: Reference) -> States:
    base = tmp_path_factory.mktemp("crash-states")
    deploy_events = next(f for f in exports.files if f.name == "deployment-events.ndjson")
    incident_weeks = sorted(f.name for f in exports.files if f.name.startswith("incidents-"))
    held_back = {"deployment-events.ndjson", "postmortem-actions.json", *incident_weeks[1:]}
    early = [f for f in exports.files if f.name not in held_back]
    half = _half_file(deploy_events, base / "deployment-events-first-half.ndjson")

    stale = new_home(base / "stale", exports)
    ingest_all(stale, [half, *early])
    build_models(stale)
    publish(stale)
    stale_snapshot = snapshot_checksums(stale)
    assert diff(stale_snapshot, reference.checksums), "the stale state must differ from the full one"

    # The next states are made by the same child process the kills use, run to completion, so
    # the measured durations (which place the kill points) are those of the real operation.
    durations: dict[str, float] = {}
    build_start = DataHome.resolve(base / "build-start")
    shutil.copytree(stale.root, build_start.root)
    durations["ingest"] = _run_to_completion("ingest", build_start, exports.files)

    publish_start = DataHome.resolve(base / "publish-start")
    shutil.copytree(build_start.root, publish_start.root)
    durations["models"] = _run_to_completion("models", publish_start, [])
    assert lake_checksums(publish_start) == reference.checksums

    scratch = DataHome.resolve(base / "scratch")
    shutil.copytree(publish_start.root, scratch.root)
    durations["publish"] = _run_to_completion("publish", scratch, [])
    assert snapshot_checksums(scratch) == reference.checksums
    shutil.rmtree(scratch.root)
    durations["build"] = durations["models"] + durations["publish"]

    return States(
        ingest_start=stale,
        build_start=build_start,
        publish_start=publish_start,
        stale_snapshot=stale_snapshot,
        stale_raw_counts=raw_counts(stale),
        durations=durations,
    )


def _kill_points(phase: str, duration: float) -> list[tuple[int, float]]:
    """Delays spread evenly over the operation, each jittered inside its slot (seeded)."""
    n = KILLS[phase]
    rng = random.Random(f"crash-{phase}")
    # 0.9: the last slot ends a little before the measured end, so the kill lands inside
    return [(i, 0.9 * duration * (i + rng.uniform(0.05, 0.95)) / n) for i in range(n)]


def _start(phase: str, home: DataHome, files: list[Path]) -> subprocess.Popen[str]:
    """A child process ready to run the phase; the clock starts when :func:`_go` is called."""
    child = subprocess.Popen(
        [sys.executable, "-c", DRIVER, phase, str(home.root), *map(str, files)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    ready = child.stdout.readline().strip()
    if ready != "ready":
        child.kill()
        _, err = child.communicate()
        pytest.fail(f"the {phase} child did not start: {err}")
    return child


def _go(child: subprocess.Popen[str]) -> None:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.flush()


def _run_to_completion(phase: str, home: DataHome, files: list[Path]) -> float:
    """Run the phase in the child to the end; returns how long the operation itself took."""
    child = _start(phase, home, files)
    _go(child)
    out, err = child.communicate(timeout=600)
    assert child.returncode == 0, f"{phase} failed: {err}"
    return float(out.split()[-1])


def _run_and_kill(phase: str, home: DataHome, files: list[Path], delay: float) -> bool:
    """Run the phase in a child process and SIGKILL it ``delay`` seconds after it starts working.
    Returns True when the kill landed before the operation finished."""
    child = _start(phase, home, files)
    try:
        _go(child)
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            return True
        err = child.stderr.read() if child.stderr else ""
        assert child.returncode == 0, f"{phase} failed on its own: {err}"
        return False
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()  # reaps it and closes its pipes


def _check_after_kill(home: DataHome, states: States, reference: Reference, phase: str) -> None:
    assert_lake_readable(home)
    assert_snapshot_complete(home, reference.snapshot_tables)
    snap = snapshot_checksums(home)
    allowed = [states.stale_snapshot] + ([] if phase == "ingest" else [reference.checksums])
    assert snap in allowed, (
        f"after a kill during {phase} the snapshot is neither the old nor the new one; "
        f"tables differing from the old: {diff(snap, states.stale_snapshot)}"
    )
    if phase == "ingest":
        # nothing committed before the run may be lost by killing it
        counts = raw_counts(home)
        lost = {t: (n, counts[t]) for t, n in states.stale_raw_counts.items() if counts[t] < n}
        assert not lost, f"rows committed before the interrupted ingest are gone: {lost}"


@pytest.mark.parametrize("phase", ["ingest", "build", "publish"])
def test_sigkill_at_many_points_leaves_a_recoverable_warehouse(
    phase: str, states: States, reference: Reference, exports: Exports, tmp_path: Path
) -> None:
    start = {"ingest": states.ingest_start, "build": states.build_start, "publish": states.publish_start}[phase]
    interrupted = 0
    for i, delay in _kill_points(phase, states.durations[phase]):
        home = DataHome.resolve(tmp_path / f"{phase}-{i}")
        shutil.copytree(start.root, home.root)
        files = exports.files if phase == "ingest" else []
        interrupted += _run_and_kill(phase, home, files, delay)
        where = f"{phase} killed after {delay:.2f}s"

        _check_after_kill(home, states, reference, phase)

        # Re-run the interrupted operation (and what follows it) over whatever the dead run left.
        if phase == "ingest":
            ingest_all(home, exports.files)
            assert raw_checksums(home) == reference.raw, (
                f"{where}: raw differs in {diff(raw_checksums(home), reference.raw)}"
            )
        if phase in ("ingest", "build"):
            build_models(home)
        if phase in ("build", "publish"):
            publish(home)

        assert_lake_readable(home)
        sums = lake_checksums(home)
        assert sums == reference.checksums, (
            f"{where}: derived tables differ from a clean run: {diff(sums, reference.checksums)}"
        )
        if phase in ("build", "publish"):
            snap = snapshot_checksums(home)
            assert snap == reference.checksums, (
                f"{where}: snapshot differs from a clean run: {diff(snap, reference.checksums)}"
            )
            assert_snapshot_complete(home, reference.snapshot_tables)
        shutil.rmtree(home.root)
    # The kill points are only worth something if most of them hit a running operation.
    assert interrupted >= KILLS[phase] // 2 + 1, f"only {interrupted} of {KILLS[phase]} kills interrupted the {phase}"
