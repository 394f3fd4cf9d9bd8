"""Partitions: raw tables by UTC day of their event time; the weekly report by ISO week (Monday).

The first day is ``OPS_WAREHOUSE_START_DATE`` (default 2024-01-01): data before it still lands in
the lake and the warehouse, it only has no partition of its own in the Dagster UI.
"""

import os

import dagster as dg

START_DATE = os.environ.get("OPS_WAREHOUSE_START_DATE", "2024-01-01")

DAILY = dg.DailyPartitionsDefinition(start_date=START_DATE, timezone="UTC", end_offset=1)

# ISO weeks start on Monday (day_offset=1); a week's partition exists once the week is over.
WEEKLY = dg.WeeklyPartitionsDefinition(start_date=START_DATE, day_offset=1, timezone="UTC")
