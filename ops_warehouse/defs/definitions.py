"""The Dagster code location (``dagster dev -w workspace.yaml``). It only assembles."""

from __future__ import annotations

import dagster as dg

from ops_warehouse.defs.assets import model_assets, raw_specs, snapshot_asset, weekly_report_asset
from ops_warehouse.defs.checks import contracts_by_table
from ops_warehouse.defs.ingest import ingest_landing_job
from ops_warehouse.defs.jobs import BUILD_JOB, REPORT_JOB
from ops_warehouse.defs.partitions import daily_partitions, weekly_partitions
from ops_warehouse.defs.resources import EngineResource, WarehouseResource, default_engine, default_warehouse
from ops_warehouse.defs.schedules import schedules
from ops_warehouse.defs.sensors import landing_sensor
from ops_warehouse.defs.settings import LocationSettings


def build_definitions(
    warehouse: WarehouseResource | None = None,
    settings: LocationSettings | None = None,
    engine: EngineResource | None = None,
) -> dg.Definitions:
    settings = settings or LocationSettings.from_env()
    models = model_assets(contracts_by_table())
    model_keys = [k for a in models for k in a.keys]
    return dg.Definitions(
        assets=[
            *raw_specs(daily_partitions(settings.start_date)),
            *models,
            snapshot_asset(model_keys),
            weekly_report_asset(weekly_partitions(settings.start_date)),
        ],
        jobs=[BUILD_JOB, REPORT_JOB, ingest_landing_job],
        schedules=schedules(settings),
        sensors=[landing_sensor(settings)],
        resources={"warehouse": warehouse or default_warehouse(), "engine": engine or default_engine()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """What ``dagster dev`` loads: the definitions, assembled when the code location loads."""
    return build_definitions()
