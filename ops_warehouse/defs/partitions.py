"""Partitions: raw tables by UTC day of their event time; the weekly report by ISO week (Monday).

The first day is ``OPS_WAREHOUSE_START_DATE`` (default 2024-01-01, see
:mod:`ops_warehouse.defs.settings`): data before it still lands in the lake and the warehouse, it
only has no partition of its own in the Dagster UI.
"""

from __future__ import annotations

import dagster as dg


def daily_partitions(start_date: str) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start_date, timezone="UTC", end_offset=1)


def weekly_partitions(start_date: str) -> dg.WeeklyPartitionsDefinition:
    """ISO weeks start on Monday (day_offset=1); a week's partition exists once the week is over."""
    return dg.WeeklyPartitionsDefinition(start_date=start_date, day_offset=1, timezone="UTC")
