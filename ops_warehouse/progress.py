"""Progress of long work on stderr: ingest of a large file, each model of a build.

Lines go to stderr only when it is a terminal (or ``OPS_WAREHOUSE_PROGRESS=1``), so scripts, pipes
and logs stay quiet; ``OPS_WAREHOUSE_PROGRESS=0`` silences a terminal too. A running count is
redrawn in place (carriage return) at most a few times a second; one-off events are whole lines.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

import duckdb

ENV_VAR = "OPS_WAREHOUSE_PROGRESS"
INTERVAL = 0.5


def enabled(stream: TextIO | None = None) -> bool:
    """Whether progress is shown: forced by the environment, else only on a terminal."""
    forced = os.environ.get(ENV_VAR)
    if forced is not None and forced.strip() != "":
        return forced.strip() not in ("0", "false", "no")
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


class Progress:
    """The running progress of one task (``ingest big.json``): bytes of a known total, and rows."""

    def __init__(self, label: str, total_bytes: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total_bytes
        self.stream = stream or sys.stderr
        self.on = enabled(self.stream)
        self.bytes = 0
        self.rows = 0
        self._last = 0.0
        self._drawn = False
        self._lock = threading.Lock()

    def update(self, *, done_bytes: int | None = None, rows: int | None = None, force: bool = False) -> None:
        if done_bytes is not None:
            self.bytes = done_bytes
        if rows is not None:
            self.rows = rows
        if not self.on:
            return
        now = time.monotonic()
        if not force and now - self._last < INTERVAL:
            return
        self._last = now
        self._draw()

    def add_rows(self, n: int) -> None:
        self.rows += n
        if self.on and time.monotonic() - self._last >= INTERVAL:
            self.update()

    def _draw(self) -> None:
        parts = []
        if self.total and self.bytes:
            pct = min(100.0, 100.0 * self.bytes / self.total)
            parts.append(f"{_mb(self.bytes)} of {_mb(self.total)} ({pct:.0f}%)")
        if self.rows:
            parts.append(f"{self.rows:,} rows")
        if not parts:
            return
        with self._lock:
            self.stream.write(f"\r{self.label}: {', '.join(parts)}\x1b[K")
            self.stream.flush()
            self._drawn = True

    def done(self) -> None:
        """End the redrawn line (the caller prints its own summary after it)."""
        if self.on and self._drawn:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
            self._drawn = False


def note(message: str, stream: TextIO | None = None) -> None:
    """One progress event as a whole line (``model core.deployments: started``)."""
    stream = stream or sys.stderr
    if enabled(stream):
        stream.write(message + "\n")
        stream.flush()


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None, *, share: tuple[float, float] = (0.0, 1.0)
) -> Any:
    """``con.execute(sql).fetchall()`` while a thread turns DuckDB's own progress estimate of the
    query into bytes of the file (``share``: the part of the file's bytes this query stands for,
    as (start, length) fractions of the total)."""
    if progress is None or not progress.on or not progress.total:
        return con.execute(sql).fetchall()
    # DuckDB tracks a query's progress only with its progress bar on; it must not draw it
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    stop = threading.Event()
    total = progress.total
    start, length = share

    def poll() -> None:
        while not stop.wait(INTERVAL):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                continue
            if pct is not None and pct >= 0:
                progress.update(done_bytes=int(total * (start + length * min(pct, 100.0) / 100.0)))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        return con.execute(sql).fetchall()
    finally:
        stop.set()
        watcher.join()
        progress.update(done_bytes=int(total * (start + length)))
