"""``ops-warehouse build``: run the Dagster build job in process.

The same job the daily schedule runs: every core and mart asset, their blocking contract checks,
then the published snapshot. The run is recorded in the data home's Dagster instance
(``<data home>/dagster``, or ``DAGSTER_HOME`` when set; see :mod:`ops_warehouse.defs.instance`),
so it shows in ``dagster dev`` with its materializations, check results and metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ops_warehouse.home import DataHome


@dataclass
class BuildResult:
    success: bool
    materialized: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    engine: str = "duckdb"
    # models the engine did not run (on Spark: those not yet carried over), with the reason
    not_rebuilt: dict[str, str] = field(default_factory=dict)


def run_build(home: DataHome, *, job_name: str = "build_warehouse", engine: str | None = None) -> BuildResult:
    """Run the build job; ``engine`` (duckdb or spark) overrides ``OPS_WAREHOUSE_ENGINE``."""
    import dagster as dg

    from ops_warehouse.defs.definitions import build_definitions
    from ops_warehouse.defs.instance import open_instance
    from ops_warehouse.defs.resources import EngineResource, WarehouseResource
    from ops_warehouse.lake.engines import ENGINE_ENV, SPARK_REMOTE_ENV

    home.ensure()
    engine_resource = EngineResource(
        engine=engine or os.environ.get(ENGINE_ENV) or "duckdb", spark_remote=os.environ.get(SPARK_REMOTE_ENV) or ""
    )
    engine_resource.get()  # an unknown engine name fails here, before the run starts
    defs = build_definitions(WarehouseResource(home=str(home.root)), engine=engine_resource)
    job = defs.resolve_job_def(job_name)
    log_level = os.environ.get("OPS_WAREHOUSE_LOG_LEVEL", "WARNING")
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    with open_instance(home) as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)
    out = BuildResult(success=result.success, engine=engine_resource.engine)
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key is not None:
            key = event.asset_key.to_user_string()
            materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
            if "skipped" in materialization.metadata:
                out.not_rebuilt[key.replace("/", ".")] = str(materialization.metadata["skipped"].value)
                continue
            out.materialized.append(key)
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
                out.failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
        elif event.event_type_value == "STEP_FAILURE":
            out.failed_steps.append(event.step_key or "?")
        elif event.event_type_value == "STEP_SKIPPED":
            out.skipped.append(event.step_key or "?")
    return out
