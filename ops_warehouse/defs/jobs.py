"""Jobs: ingest new landing files; build everything derived and publish."""

from __future__ import annotations

import dagster as dg

INGEST_JOB = dg.define_asset_job(
    "ingest_landing_job",
    selection=dg.AssetSelection.groups("ingest"),
    description="Ingest new files from landing/ into the raw lake.",
)

BUILD_JOB = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingest"),
    description="Build core tables and marts from the lake, check them, and publish the snapshot.",
)
