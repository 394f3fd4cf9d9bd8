"""Crash safety: ingest, build and publish killed with SIGKILL at many points.

Each operation runs in its own process, which imports everything, says it is ready and then waits
for a go. The process counts markers of its progress as it works: the start of each step (each file
of an ingest, the build, the publish), each model the build starts (the product's own progress
events) and each file it renames, links or removes and each lock it takes or releases on disk.
A run to completion records when each marker came; the kill points are spread over that run and
each is placed as "``d`` seconds after marker ``k``". To kill, the process is told to stop at
marker ``k``; the test lets it go on from there and kills it ``d`` seconds later, or at marker
``k + 1`` if that comes first. On a loaded machine the run is slower, but it still dies between the
same two markers (every kill point lies before the run's last marker), never after the operation
has ended because its clock ran ahead of the work. After every kill:

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

import bisect
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
    import json
    import os
    import sys
    import threading
    import time
    from pathlib import Path
    from ops_warehouse import progress
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
    stop_at = int(sys.stdin.readline().split()[1])  # "go K": stop at markers K and K + 1 (none if K < 0)
    marks = []
    lock = threading.RLock()
    t0 = time.perf_counter()

    def mark(label):
        with lock:
            n = len(marks)
            marks.append((time.perf_counter() - t0, label))
            if stop_at >= 0 and n in (stop_at, stop_at + 1):
                sys.stdout.write(f"at {n} {label}\\n")
                sys.stdout.flush()
                sys.stdin.readline()

    # the operation's own steps on disk, seen through the interpreter's audit events
    ON_DISK = {"os.rename", "os.link", "os.remove", "os.rmdir", "shutil.rmtree", "fcntl.flock"}

    def audit(event, args):
        if event in ON_DISK:
            path = args[1] if event in ("os.rename", "os.link") else args[0]
            mark(f"{event} {os.path.basename(str(path))}" if event != "fcntl.flock" else event)

    note = progress.note

    def noted(message, stream=None):  # the product's progress events: each model of a build
        mark(message)
        note(message, stream)

    progress.note = noted
    sys.addaudithook(audit)
    steps = {"ingest": ["ingest"], "models": ["models"], "build": ["models", "publish"], "publish": ["publish"]}
    for step in steps[phase]:
        mark(f"start {step}")
        if step == "ingest":
            for f in files:
                mark(f"ingest {Path(f).name}")
                r = ingest_file(home, f)
                assert r.ok and r.balanced, r.line()
        elif step == "models":
            build_models(home)
        else:
            publish(home)
    seconds = time.perf_counter() - t0
    print("done", json.dumps({"seconds": seconds, "marks": marks}), flush=True)
    """
)

KILLS = {"ingest": 3, "build": 4, "publish": 4}


@dataclass
class Timeline:
    """When each progress marker of a run came (seconds after the go), and what it was."""

    marks: list[tuple[float, str]]
    seconds: float

    def then(self, other: Timeline) -> Timeline:
        """This run followed by ``other`` in the same process."""
        shifted = [(self.seconds + t, label) for t, label in other.marks]
        return Timeline(self.marks + shifted, self.seconds + other.seconds)


@dataclass
class States:
    """Homes to copy from, one per phase, and what they look like."""

    ingest_start: DataHome  # stale: part ingested, built, published
    build_start: DataHome  # every export ingested; derived tables and snapshot still stale
    publish_start: DataHome  # built from every export; snapshot still stale
    stale_snapshot: dict[str, str]
    stale_raw_counts: dict[str, int]
    timelines: dict[str, Timeline]


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
    # the recorded markers (which place the kill points) are those of the real operation.
    timelines: dict[str, Timeline] = {}
    build_start = DataHome.resolve(base / "build-start")
    shutil.copytree(stale.root, build_start.root)
    timelines["ingest"] = _run_to_completion("ingest", build_start, exports.files)

    publish_start = DataHome.resolve(base / "publish-start")
    shutil.copytree(build_start.root, publish_start.root)
    models = _run_to_completion("models", publish_start, [])
    assert lake_checksums(publish_start) == reference.checksums

    scratch = DataHome.resolve(base / "scratch")
    shutil.copytree(publish_start.root, scratch.root)
    timelines["publish"] = _run_to_completion("publish", scratch, [])
    assert snapshot_checksums(scratch) == reference.checksums
    shutil.rmtree(scratch.root)
    timelines["build"] = models.then(timelines["publish"])  # the build child runs both, one after the other

    return States(
        ingest_start=stale,
        build_start=build_start,
        publish_start=publish_start,
        stale_snapshot=stale_snapshot,
        stale_raw_counts=raw_counts(stale),
        timelines=timelines,
    )


def _kill_points(phase: str, timeline: Timeline) -> list[tuple[int, float]]:
    """(marker, seconds after it): moments spread evenly over the recorded run up to its last
    marker, each jittered inside its slot (seeded), each placed after the last marker the run had
    passed by then."""
    n = KILLS[phase]
    rng = random.Random(f"crash-{phase}")
    times = [t for t, _ in timeline.marks]
    points = []
    for i in range(n):
        moment = times[-1] * (i + rng.uniform(0.05, 0.95)) / n
        k = max(0, bisect.bisect_right(times, moment) - 1)
        points.append((k, moment - times[k]))
    return points


@dataclass
class Child:
    process: subprocess.Popen[str]
    lines: Lines
    stderr: IO[str]

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()


@contextmanager
def _child(phase: str, home: DataHome, files: list[Path]) -> Iterator[Child]:
    """A child process ready to run the phase (it waits for a go), killed if still alive at the end."""
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, phase, str(home.root), *map(str, files)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        child = Child(process, Lines(process), stderr)
        try:
            if child.lines.next(timeout=300) != "ready":
                process.kill()
                process.wait()
                pytest.fail(f"the {phase} child did not start: {child.errors()}")
            yield child
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            child.lines.rest()
            if process.stdin is not None:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass


class Lines:
    """The child's stdout, line by line, read by a thread so the test can wait with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        assert process.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next(self, timeout: float) -> str | None:
        """The next line; None at the end of the output; raises queue.Empty after ``timeout``."""
        return self._queue.get(timeout=timeout)

    def rest(self) -> list[str]:
        """Every line still to come (the child has exited)."""
        self._thread.join(timeout=60)
        out = []
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                out.append(line)
        return out


def _run_to_completion(phase: str, home: DataHome, files: list[Path]) -> Timeline:
    """Run the phase in the child to the end; returns its markers."""
    with _child(phase, home, files) as child:
        child.send("go -1")
        child.process.wait(timeout=600)
        assert child.process.returncode == 0, f"{phase} failed: {child.errors()}"
        done = [line for line in child.lines.rest() if line.startswith("done ")]
    assert done, f"the {phase} child ended without its markers"
    recorded = json.loads(done[0].removeprefix("done "))
    timeline = Timeline([(t, label) for t, label in recorded["marks"]], recorded["seconds"])
    assert len(timeline.marks) > 1, f"the {phase} child reported no progress: {timeline.marks}"
    return timeline


def _run_and_kill(phase: str, home: DataHome, files: list[Path], marker: int, delay: float) -> tuple[bool, str]:
    """Run the phase in a child process, stopped at progress marker ``marker``; let it go on and
    SIGKILL it ``delay`` seconds later, or at the next marker if that comes first. Returns whether
    the kill landed before the operation finished, and where it landed."""
    with _child(phase, home, files) as child:
        child.send(f"go {marker}")
        line = child.lines.next(timeout=600)
        seen = [line or ""]
        if line is not None and line.startswith("at "):
            where = f"{delay:.3f}s after marker {line.removeprefix('at ')}"
            child.send("on")
            try:
                line = child.lines.next(timeout=delay)
                seen.append(line or "")
                if line is not None and line.startswith("at "):
                    where = f"at marker {line.removeprefix('at ')}, before {delay:.3f}s had passed"
            except queue.Empty:
                pass
        else:
            where = f"never: the run ended before marker {marker}"
        if child.process.poll() is None:
            os.kill(child.process.pid, signal.SIGKILL)
        child.process.wait(timeout=600)
        seen += child.lines.rest()
        if child.process.returncode != -signal.SIGKILL:
            assert child.process.returncode == 0, f"{phase} failed on its own: {child.errors()}"
        finished = any(line.startswith("done ") for line in seen)
        return child.process.returncode == -signal.SIGKILL and not finished, where


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
    landings: list[str] = []
    for i, (marker, delay) in enumerate(_kill_points(phase, states.timelines[phase])):
        home = DataHome.resolve(tmp_path / f"{phase}-{i}")
        shutil.copytree(start.root, home.root)
        files = exports.files if phase == "ingest" else []
        hit, landed = _run_and_kill(phase, home, files, marker, delay)
        interrupted += hit
        where = f"{phase} killed {landed}"
        landings.append(where)

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
    assert interrupted >= KILLS[phase] // 2 + 1, (
        f"only {interrupted} of {KILLS[phase]} kills interrupted the {phase}: {landings}"
    )
