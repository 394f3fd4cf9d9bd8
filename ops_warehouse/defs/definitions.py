"""The Dagster code location (``dagster dev -w workspace.yaml``). It only assembles."""

from __future__ import annotations

import dagster as dg

from ops_warehouse.defs.assets import model_assets, raw_specs, snapshot_asset, weekly_report_asset
from ops_warehouse.defs.checks import contract_checks
from ops_warehouse.defs.ingest import ingest_landing_job
from ops_warehouse.defs.jobs import BUILD_JOB, REPORT_JOB
from ops_warehouse.defs.resources import WarehouseResource, default_warehouse
from ops_warehouse.defs.schedules import daily_build_schedule, weekly_report_schedule
from ops_warehouse.defs.sensors import landing_sensor


def build_definitions(warehouse: WarehouseResource | None = None) -> dg.Definitions:
    models = model_assets()
    model_keys = [k for a in models for k in a.keys]
    snapshot = snapshot_asset(model_keys)
    known = {".".join(k.path) for k in model_keys}
    return dg.Definitions(
        assets=[*raw_specs(), *models, snapshot, weekly_report_asset()],
        asset_checks=contract_checks(known),
        jobs=[BUILD_JOB, REPORT_JOB, ingest_landing_job],
        schedules=[daily_build_schedule, weekly_report_schedule],
        sensors=[landing_sensor],
        resources={"warehouse": warehouse or default_warehouse()},
    )


defs = build_definitions()
