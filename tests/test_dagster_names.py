"""A snapshot of every name the Dagster code location exposes: asset keys, asset check keys,
jobs, schedules and sensors. A renamed or vanished table fails here, in review, instead of
silently breaking an operator's bookmarks, alerts and run history.

After an intended change (a new model, a new contract), rewrite the snapshot and review its diff:

    OPS_WAREHOUSE_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_dagster_names.py
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from ops_warehouse.defs.definitions import build_definitions

SNAPSHOT = Path(__file__).parent / "fixtures" / "dagster_names.txt"
HEADER = (
    "# Every name the Dagster code location exposes; tests/test_dagster_names.py compares it.\n"
    "# Rewrite after an intended change: OPS_WAREHOUSE_UPDATE_SNAPSHOT=1 pytest tests/test_dagster_names.py\n"
)


def current_names(defs: dg.Definitions) -> list[str]:
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    lines = [f"asset {k.to_user_string()}" for k in graph.get_all_asset_keys()]
    lines += [f"check {c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys]
    lines += [f"job {j.name}" for j in repo.get_all_jobs() if not j.name.startswith("__")]
    lines += [f"schedule {s.name}" for s in repo.schedule_defs]
    lines += [f"sensor {s.name}" for s in repo.sensor_defs]
    return sorted(lines)


def test_names_match_the_snapshot() -> None:
    names = current_names(build_definitions())
    if os.environ.get("OPS_WAREHOUSE_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(HEADER + "\n".join(names) + "\n", encoding="utf-8")
    recorded = [ln for ln in SNAPSHOT.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    missing, added = sorted(set(recorded) - set(names)), sorted(set(names) - set(recorded))
    assert not missing and not added, (
        f"names gone: {missing}; names new: {added}. If intended, rewrite {SNAPSHOT.name} with "
        "OPS_WAREHOUSE_UPDATE_SNAPSHOT=1 and review the diff."
    )
    assert recorded == names, "the snapshot is not sorted or lists a name twice"


def test_every_core_table_with_a_contract_has_a_blocking_check() -> None:
    from ops_warehouse.quality.contracts import load_contracts

    graph = build_definitions().resolve_asset_graph()
    checks = {f"{c.asset_key.to_user_string()}:{c.name}": c for c in graph.asset_check_keys}
    expected = {f"{t.replace('.', '/')}:{t.split('.', 1)[1]}_contract" for t in load_contracts()}
    assert set(checks) == expected
    for key in checks.values():
        assert graph.get_check_spec(key).blocking
