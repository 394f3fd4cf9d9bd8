"""The build job: everything derived from the lake, checked, then published.

(The ingest job lives in ``ops_warehouse.defs.ingest``.)"""

from __future__ import annotations

import dagster as dg

BUILD_JOB = dg.define_asset_job(
    "build_warehouse",
    selection=dg.AssetSelection.groups("core", "marts") | dg.AssetSelection.assets("warehouse"),
    description="Build core tables and marts from the lake, check them, and publish the snapshot.",
)

REPORT_JOB = dg.define_asset_job(
    "weekly_report_job",
    selection=dg.AssetSelection.assets("weekly_report"),
    description="Publish one ISO week's metrics review from the published snapshot.",
)
