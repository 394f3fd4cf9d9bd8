"""The build job: everything derived from the lake, checked, then published.

(The ingest job lives in ``ops_warehouse.defs.ingest``.)"""

from __future__ import annotations

import dagster as dg

BUILD_JOB = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.groups("core", "marts") | dg.AssetSelection.assets("warehouse"),
    description="Build core tables and marts from the lake, check them, and publish the snapshot.",
)
