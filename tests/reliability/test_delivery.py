"""Delivery: however the same facts arrive, the warehouse ends up the same.

Exports ingested twice, split into overlapping files, ingested in a shuffled order, or with a past
week's data arriving after a build: each gives core and marts tables identical (by content digest)
to one clean ingest of the original files, and every file's report balances.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish

from .conftest import (
    Exports,
    Reference,
    assert_lake_readable,
    diff,
    ingest_all,
    lake_checksums,
    new_home,
    raw_checksums,
    snapshot_checksums,
)


def _assert_same_as_reference(home: DataHome, reference: Reference, how: str) -> None:
    raw = raw_checksums(home)
    assert raw == reference.raw, f"{how}: raw tables differ from a clean ingest: {diff(raw, reference.raw)}"
    build_models(home)
    assert_lake_readable(home)
    sums = lake_checksums(home)
    assert sums == reference.checksums, (
        f"{how}: derived tables differ from a clean ingest: {diff(sums, reference.checksums)}"
    )


# ---------------------------------------------------------------- splitting exports


def _record_list(doc: Any) -> tuple[list[Any], Any]:
    """The record list of an export document and a function to wrap a list like it."""
    if isinstance(doc, list):
        return doc, lambda items: items
    for key in ("incidents", "log_entries", "issues", "alerts"):
        if isinstance(doc, dict) and isinstance(doc.get(key), list):
            return doc[key], lambda items, key=key: {**doc, key: items}
    raise ValueError("not a record list export")


def _slices(n: int, parts: list[tuple[float, float]]) -> list[slice]:
    return [slice(int(n * a), max(int(n * b), int(n * a) + 1)) for a, b in parts]


def split_export(path: Path, out: Path, parts: list[tuple[float, float]]) -> list[Path]:
    """Cut one export into files holding the given fractions of its records (which may overlap):
    NDJSON by line, record arrays by element, Prometheus range answers by time (every series in
    every file, each file a window of its samples). Anything else is copied whole."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    name = path.name
    if name.endswith(".ndjson"):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for i, s in enumerate(_slices(len(lines), parts)):
            written.append(out / f"{path.stem}.part{i}.ndjson")
            written[-1].write_text("".join(lines[s]), encoding="utf-8")
        return written
    if name.endswith(".json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and isinstance(doc.get("data"), dict) and "result" in doc["data"]:
            for i, (a, b) in enumerate(parts):
                series = []
                for s in doc["data"]["result"]:
                    values = s["values"]
                    cut = _slices(len(values), [(a, b)])[0]
                    series.append({**s, "values": values[cut]})
                written.append(out / f"{path.stem}.part{i}.json")
                written[-1].write_text(json.dumps({**doc, "data": {**doc["data"], "result": series}}), encoding="utf-8")
            return written
        records, wrap = _record_list(doc)
        for i, s in enumerate(_slices(len(records), parts)):
            written.append(out / f"{path.stem}.part{i}.json")
            written[-1].write_text(json.dumps(wrap(records[s])), encoding="utf-8")
        return written
    target = out / name
    shutil.copyfile(path, target)
    return [target]


# ---------------------------------------------------------------- scenarios


def test_ingesting_everything_twice_adds_nothing(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home")
    shutil.copytree(reference.home.root, home.root)
    again = ingest_all(home, exports.files)
    for r in again:
        assert r.loaded == 0, f"re-ingest loaded rows again: {r.line()}"
        assert r.duplicates == r.read - r.quarantined, r.line()
    assert sum(r.duplicates for r in again) > 0
    _assert_same_as_reference(home, reference, "ingested twice")


def test_overlapping_exports_give_the_same_warehouse(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    """Every export cut into two files that share the middle third of its records (or samples)."""
    pieces: list[Path] = []
    for f in exports.files:
        pieces += split_export(f, tmp_path / "split" / f.parent.name, [(0.0, 2 / 3), (1 / 3, 1.0)])
    assert len(pieces) > len(exports.files)
    home = new_home(tmp_path / "home", exports)
    reports = ingest_all(home, pieces)
    overlapping = [r for r in reports if ".part1." in r.file]
    assert overlapping and all(r.duplicates > 0 for r in overlapping if r.read > 1), [r.line() for r in overlapping]
    _assert_same_as_reference(home, reference, "overlapping exports")


def test_out_of_order_files_give_the_same_warehouse(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    """Exports split into consecutive pieces, then every piece ingested in a shuffled order."""
    pieces: list[Path] = []
    for f in exports.files:
        pieces += split_export(
            f, tmp_path / "split" / f.parent.name, [(0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.0)]
        )
    random.Random(20261129).shuffle(pieces)
    assert pieces != sorted(pieces)
    home = new_home(tmp_path / "home", exports)
    ingest_all(home, pieces)
    _assert_same_as_reference(home, reference, "shuffled pieces")


def test_late_data_for_a_past_week_is_folded_in(reference: Reference, exports: Exports, tmp_path: Path) -> None:
    """A build and publish run before a past week's incidents, the earliest metric samples and the
    earliest deployment events arrive; after they arrive and a rebuild runs, nothing tells the
    warehouse from one that had them all along."""
    incident_weeks = sorted(f for f in exports.files if f.name.startswith("incidents-"))
    late_week = incident_weeks[0]
    on_time: list[Path] = []
    late: list[Path] = [late_week]
    for f in exports.files:
        if f == late_week:
            continue
        if f.name.startswith("http-requests") or f.name == "deployment-events.ndjson":
            early, rest = split_export(f, tmp_path / "split" / f.parent.name, [(0.0, 0.4), (0.3, 1.0)])
            on_time.append(rest)
            late.append(early)
        else:
            on_time.append(f)
    home = new_home(tmp_path / "home", exports)
    ingest_all(home, on_time)
    build_models(home)
    publish(home)
    before = lake_checksums(home)
    assert diff(before, reference.checksums), "the early build must miss something"
    ingest_all(home, late)
    _assert_same_as_reference(home, reference, "late data")
    publish(home)
    assert snapshot_checksums(home) == reference.checksums


@pytest.mark.parametrize("order", ["forward", "reverse"])
def test_an_update_wins_in_either_order(order: str, exports: Exports, tmp_path: Path) -> None:
    """The same incident exported before and after it was resolved: the later version (by the
    source's updated_at) is what core shows, whichever file is ingested first."""
    src = next(f for f in sorted(exports.files) if f.name.startswith("incidents-"))
    doc = json.loads(src.read_text(encoding="utf-8"))
    resolved = next(i for i in doc["incidents"] if i.get("status") == "resolved")
    open_version = {k: v for k, v in resolved.items() if k != "resolved_at"}
    open_version.update(
        status="triggered", updated_at=resolved["created_at"], last_status_change_at=resolved["created_at"]
    )
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    old.write_text(json.dumps({"incidents": [open_version]}), encoding="utf-8")
    new.write_text(json.dumps({"incidents": [resolved]}), encoding="utf-8")
    files = [old, new] if order == "forward" else [new, old]
    home = new_home(tmp_path / "home", exports)
    ingest_all(home, files)
    build_models(home)
    con = duckdb.connect()
    row = con.execute(
        "SELECT count(*), max(status), max(resolved_at) IS NOT NULL FROM read_parquet(?) WHERE incident_id LIKE ?",
        [str(home.lake / "core" / "incidents.parquet"), f"%{resolved['id']}"],
    ).fetchone()
    assert row == (1, "resolved", True), row
