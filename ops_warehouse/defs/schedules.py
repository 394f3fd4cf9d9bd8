"""Schedules: the daily build (time from OPS_WAREHOUSE_BUILD_CRON, default 02:00 UTC)."""

from __future__ import annotations

import os

import dagster as dg

from ops_warehouse.defs.jobs import BUILD_JOB

daily_build_schedule = dg.ScheduleDefinition(
    name="daily_build",
    job=BUILD_JOB,
    cron_schedule=os.environ.get("OPS_WAREHOUSE_BUILD_CRON", "0 2 * * *"),
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Rebuild core tables and marts and publish the snapshot every day.",
)
