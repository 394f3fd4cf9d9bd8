"""Blocking asset checks: each core table's data contract (``assets/contracts/core.yaml``),
validated with a Great Expectations suite on the table's new data while it is still staged.

The model asset writes its result to a staging file, validates it, and only then replaces the
lake's table (write, audit, publish). A failing contract discards the staged data, leaves the lake's
table as it was, and fails the asset, so nothing downstream (marts, the published snapshot, the
report) runs on bad data.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ops_warehouse.quality.contracts import Contract, Finding, load_contracts


def contracts_by_table() -> dict[str, Contract]:
    """``core.deployments`` -> its contract."""
    return load_contracts()


def check_name(contract: Contract) -> str:
    return f"{contract.table.split('.', 1)[1]}_contract"


def contract_check_spec(contract: Contract) -> dg.AssetCheckSpec:
    layer, name = contract.table.split(".", 1)
    return dg.AssetCheckSpec(
        check_name(contract),
        asset=dg.AssetKey([layer, name]),
        blocking=True,
        description=(
            f"Keys unique and present, required columns filled, accepted values only ({contract.table}); "
            "checked on the staged data before it replaces the table."
        ),
    )


class ContractValidation:
    """Validates a table file against a contract and keeps what it found for the check result."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.evaluated = 0
        self.findings: list[Finding] = []
        self.validated: Path | None = None

    def __call__(self, path: Path) -> bool:
        from ops_warehouse.quality.gx_suites import validate_parquet

        self.validated = path
        self.evaluated, self.findings = validate_parquet(self.contract, path)
        return not self.findings

    def check_result(self) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            check_name=check_name(self.contract),
            passed=not self.findings,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "expectations": dg.MetadataValue.int(self.evaluated),
                "failures": dg.MetadataValue.json(
                    [{"rule": f.rule, "failing_rows": f.failing_rows, "sample": f.sample} for f in self.findings]
                ),
                "validated": dg.MetadataValue.text(
                    "the staged result, before it replaced the table"
                    if self.validated is not None and self.validated.name.endswith(".staged.parquet")
                    else "the table as it is (unchanged since the last build)"
                ),
            },
        )
