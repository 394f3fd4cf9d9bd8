"""Blocking asset checks: each core table's data contract, validated with a Great Expectations
suite right after the table is built.

A failing check stops everything downstream (marts, the published snapshot, the report), so bad
data never reaches analysts or leaders.
"""


import dagster as dg

from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.quality.contracts import Contract, load_contracts
from ops_warehouse.quality.gx_suites import validate_parquet


def contract_check(contract: Contract) -> dg.AssetChecksDefinition:
    layer, name = contract.table.split(".", 1)

    @dg.asset_check(
        asset=dg.AssetKey([layer, name]),
        name=f"{name}_contract",
        blocking=True,
        description=f"Keys unique and present, required columns filled, accepted values only ({contract.table}).",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        path = warehouse.data_home.lake / layer / f"{name}.parquet"
        evaluated, findings = validate_parquet(contract, path)
        return dg.AssetCheckResult(
            passed=not findings,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "expectations": dg.MetadataValue.int(evaluated),
                "failures": dg.MetadataValue.json(
                    [{"rule": f.rule, "failing_rows": f.failing_rows, "sample": f.sample} for f in findings]
                ),
            },
        )

    return _check


def contract_checks(known_tables: set[str]) -> list[dg.AssetChecksDefinition]:
    return [contract_check(c) for c in load_contracts().values() if c.table in known_tables]
