"""The Great Expectations suites built from the contracts catch what they promise to."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.quality.contracts import Contract, load_contracts
from ops_warehouse.quality.gx_suites import validate_parquet


def test_every_core_contract_is_loaded() -> None:
    contracts = load_contracts()
    assert {"core.deployments", "core.changes", "core.incidents", "core.action_items", "core.slos"} <= set(contracts)
    assert contracts["core.deployments"].key == ["deploy_id"]


def test_suite_reports_each_broken_rule(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "deploy_id": ["a", "a", None, "c"],
                "status": ["success", "exploded", "failure", "success"],
                "lead": [1.0, -2.0, 3.0, None],
            }
        ),
        path,
    )
    contract = Contract(
        "core.t", key=["deploy_id"], accepted_values={"status": ["success", "failure"]}, between={"lead": [0, None]}
    )
    evaluated, findings = validate_parquet(contract, path)
    rules = {f.rule.split("(")[0]: f.failing_rows for f in findings}
    assert evaluated == 7  # 3 columns exist, not null, unique, in set, between
    assert rules == {
        "expect_column_values_to_not_be_null": 1,
        "expect_column_values_to_be_unique": 2,
        "expect_column_values_to_be_in_set": 1,
        "expect_column_values_to_be_between": 1,
    }


def test_clean_table_passes(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"deploy_id": ["a", "b"], "status": ["success", "failure"]}), path)
    contract = Contract("core.t", key=["deploy_id"], accepted_values={"status": ["success", "failure"]})
    assert validate_parquet(contract, path)[1] == []


def test_a_missing_column_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"other": [1]}), path)
    _, findings = validate_parquet(Contract("core.t", not_null=["deploy_id"]), path)
    assert any(f.rule.startswith("expect_column_to_exist") for f in findings)
