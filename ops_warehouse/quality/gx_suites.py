"""Great Expectations suites built from the core tables' data contracts.

Each contract in ``assets/contracts/core.yaml`` becomes an expectation suite (columns exist, keys
unique and not null, required columns not null, accepted values, ranges) validated against the
freshly built table as a pandas DataFrame. Great Expectations takes seconds to import, so it is
imported here, inside the function that validates, and only when a check runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ops_warehouse.duck import connect
from ops_warehouse.lake.store import derived_read_sql
from ops_warehouse.quality.contracts import Contract, Finding


def build_suite(contract: Contract, gx: Any) -> Any:
    E = gx.expectations
    suite = gx.ExpectationSuite(name=contract.table)
    columns = list(
        dict.fromkeys(contract.key + contract.not_null + list(contract.accepted_values) + list(contract.between))
    )
    for col in columns:
        suite.add_expectation(E.ExpectColumnToExist(column=col))
    for col in dict.fromkeys(contract.key + contract.not_null):
        suite.add_expectation(E.ExpectColumnValuesToNotBeNull(column=col))
    if len(contract.key) == 1:
        suite.add_expectation(E.ExpectColumnValuesToBeUnique(column=contract.key[0]))
    elif len(contract.key) > 1:
        suite.add_expectation(E.ExpectCompoundColumnsToBeUnique(column_list=contract.key))
    for col, values in contract.accepted_values.items():
        suite.add_expectation(E.ExpectColumnValuesToBeInSet(column=col, value_set=list(values)))
    for col, (lo, hi) in contract.between.items():
        suite.add_expectation(E.ExpectColumnValuesToBeBetween(column=col, min_value=lo, max_value=hi))
    return suite


def validate_parquet(contract: Contract, parquet: Path) -> tuple[int, list[Finding]]:
    """Validate the table against its suite; returns (expectations evaluated, failures).

    An expectation that raised inside Great Expectations counts as a failure with its message,
    never as a silent pass.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)

    con = connect()
    try:
        df = con.execute(derived_read_sql(parquet)).fetchdf()
    finally:
        con.close()
    # in memory only: no temporary data-docs folders left behind
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("warehouse")
    asset = source.add_dataframe_asset(name=contract.table)
    batch = asset.add_batch_definition_whole_dataframe("table").get_batch(batch_parameters={"dataframe": df})
    suite = build_suite(contract, gx)
    result = batch.validate(suite, result_format="SUMMARY")
    findings = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
        raised = (r.exception_info or {}).get("raised_exception")
        sample = [{"value": str(v)} for v in (r.result or {}).get("partial_unexpected_list", [])[:5]]
        if raised:
            sample = [{"error": str((r.exception_info or {}).get("exception_message"))}]
        findings.append(
            Finding(
                rule=f"{cfg.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())})",
                failing_rows=int((r.result or {}).get("unexpected_count") or 0),
                sample=sample,
            )
        )
    return len(result.results), findings
