"""Settings of the code location, each from its documented environment variable.

Settings that shape the definitions themselves (the first day partition, the schedules' times, the
sensor's interval) are read once, when the code location is assembled
(:func:`LocationSettings.from_env` in ``build_definitions``), never when a module is imported.
Settings used while a run executes reach the code through the ``warehouse`` resource
(:mod:`ops_warehouse.defs.resources`), configured from ``dg.EnvVar`` so the UI shows where each
value comes from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

START_DATE_VAR = "OPS_WAREHOUSE_START_DATE"
BUILD_CRON_VAR = "OPS_WAREHOUSE_BUILD_CRON"
REPORT_HOUR_VAR = "OPS_WAREHOUSE_REPORT_HOUR"
SENSOR_SECONDS_VAR = "OPS_WAREHOUSE_SENSOR_SECONDS"


@dataclass(frozen=True)
class LocationSettings:
    """What the schedules, sensor and partitions are built from.

    >>> LocationSettings.from_env({"OPS_WAREHOUSE_REPORT_HOUR": "7"}).report_hour
    7
    >>> LocationSettings.from_env({}).build_cron
    '0 2 * * *'
    """

    # the first day partition of the raw tables and the first weekly report (older data still
    # lands in the lake, it only has no partition of its own in the UI)
    start_date: str = "2024-01-01"
    # the daily build, UTC
    build_cron: str = "0 2 * * *"
    # the hour (UTC) of Monday's weekly report
    report_hour: int = 6
    # how often the landing sensor looks at landing/
    sensor_seconds: int = 30

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LocationSettings:
        env = os.environ if environ is None else environ
        default = cls()
        try:
            return cls(
                start_date=env.get(START_DATE_VAR) or default.start_date,
                build_cron=env.get(BUILD_CRON_VAR) or default.build_cron,
                report_hour=int(env.get(REPORT_HOUR_VAR) or default.report_hour),
                sensor_seconds=int(env.get(SENSOR_SECONDS_VAR) or default.sensor_seconds),
            )
        except ValueError as exc:
            raise ValueError(f"{REPORT_HOUR_VAR} and {SENSOR_SECONDS_VAR} must be whole numbers: {exc}") from None
