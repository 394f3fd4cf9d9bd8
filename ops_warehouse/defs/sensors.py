"""The landing sensor: one ingest run per tick for every new or changed file in landing/.

Files are known by their content: a file counts as new when its SHA-256 is neither in the lake's
ingest log nor in a run this sensor already requested, so touching a file changes nothing and a
rewritten file is ingested again. The files found in one tick go into one run, keyed by the hashes
of their contents (the same batch is never requested twice). The cursor remembers each file's
size, modification time and hash, so a tick reads only the files that changed since the last one.
"""

import hashlib
import json
from typing import Any

import dagster as dg

from ops_warehouse.defs.ingest import ingest_landing_job, ingested_contents, landing_contents
from ops_warehouse.defs.resources import WarehouseResource
from ops_warehouse.defs.settings import LocationSettings


def batch_run_key(batch: dict[str, str]) -> str:
    """The run key of a batch of ``relative path -> sha256``: the same files with the same contents
    give the same key.

    >>> batch_run_key({"b.json": "22", "a.csv": "11"}) == batch_run_key({"a.csv": "11", "b.json": "22"})
    True
    >>> batch_run_key({"a.csv": "11"}) == batch_run_key({"a.csv": "12"})
    False
    """
    text = "\n".join(f"{rel}\t{sha}" for rel, sha in sorted(batch.items()))
    return "landing-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def landing_sensor(settings: LocationSettings) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_sensor",
        job=ingest_landing_job,
        minimum_interval_seconds=settings.sensor_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Ingest files dropped into landing/: one run per tick for all new or changed files.",
    )
    def _landing_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
        home = warehouse.data_home
        cursor: dict[str, Any] = json.loads(context.cursor) if context.cursor else {}
        files = landing_contents(home, cursor.get("files"))
        requested: dict[str, str] = {k: v for k, v in (cursor.get("requested") or {}).items() if k in files}
        ingested = ingested_contents(home)
        batch = {
            rel: str(sha)
            for rel, (_, _, sha) in files.items()
            if requested.get(rel) != sha and (str(home.landing / rel), sha) not in ingested
        }
        requested.update(batch)
        new_cursor = json.dumps({"files": files, "requested": requested}, sort_keys=True)
        if not batch:
            return dg.SensorResult(skip_reason="no new or changed files in landing/", cursor=new_cursor)
        paths = [str(home.landing / rel) for rel in sorted(batch)]
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=batch_run_key(batch),
                    run_config=dg.RunConfig(ops={"ingest_landing": {"config": {"paths": paths}}}),
                    tags={"ops_warehouse/files": str(len(paths))},
                )
            ],
            cursor=new_cursor,
        )

    return _landing_sensor
