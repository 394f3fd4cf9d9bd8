"""Schedules: the daily build (``OPS_WAREHOUSE_BUILD_CRON``, default 02:00 UTC) and the weekly
review on Monday (``OPS_WAREHOUSE_REPORT_HOUR``, default 06:00 UTC), for the week that just ended."""

from __future__ import annotations

from typing import Any

import dagster as dg

from ops_warehouse.defs.jobs import BUILD_JOB, REPORT_JOB
from ops_warehouse.defs.settings import LocationSettings


def schedules(settings: LocationSettings) -> list[Any]:
    """The daily build and the weekly report schedules (the latter resolved against its job's
    partitions when the definitions are)."""
    daily_build = dg.ScheduleDefinition(
        name="daily_build",
        job=BUILD_JOB,
        cron_schedule=settings.build_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Rebuild core tables and marts and publish the snapshot every day.",
    )
    weekly_report = dg.build_schedule_from_partitioned_job(
        REPORT_JOB,
        name="weekly_report",
        day_of_week=1,
        hour_of_day=settings.report_hour,
        minute_of_hour=0,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Publish last week's metrics review every Monday.",
    )
    return [daily_build, weekly_report]
