"""The landing sensor: a run of the ingest job for every new or changed file in landing/."""


import os

import dagster as dg

from ops_warehouse.defs.ingest import ingest_landing_job
from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.ingest import iter_files


@dg.sensor(
    job=ingest_landing_job,
    minimum_interval_seconds=int(os.environ.get("OPS_WAREHOUSE_SENSOR_SECONDS", "30")),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingest files dropped into landing/ (one run per new or changed file).",
)
def landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    landing = warehouse.data_home.landing
    for f in iter_files([landing]):
        st = f.stat()
        key = f"{f.relative_to(landing)}:{st.st_size}:{st.st_mtime_ns}"
        yield dg.RunRequest(
            run_key=key,
            run_config=dg.RunConfig(ops={"ingest_landing": {"config": {"paths": [str(f)]}}}),
        )
