"""The Dagster instance every command records into, so the UI tells the whole story.

``DAGSTER_HOME`` when it is set; otherwise ``<data home>/dagster``, created with a ``dagster.yaml``
on first use. ``dagster dev -w workspace.yaml`` started in the project folder uses the same folder
for the default data home (the project's ``dagster.yaml`` points there), so after ``ops-warehouse
demo`` the UI shows every build's materializations, check results and metadata, and when each raw
table last changed (``ops-warehouse ingest`` records its files as runless materializations).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ops_warehouse.fileio import write_text
from ops_warehouse.home import DataHome

if TYPE_CHECKING:
    import dagster as dg

    from ops_warehouse.ingest import FileReport

log = logging.getLogger(__name__)

DAGSTER_HOME_VAR = "DAGSTER_HOME"

INSTANCE_YAML = """\
# The Dagster instance of this data home: runs, materializations and asset check results of every
# `ops-warehouse` command (unless DAGSTER_HOME names another instance). Open it with
#   dagster dev -w workspace.yaml            (from the project folder, default data home), or
#   DAGSTER_HOME={folder} dagster dev -w workspace.yaml
telemetry:
  enabled: false
"""


def dagster_home(home: DataHome, environ: dict[str, str] | None = None) -> Path:
    """The instance folder: ``DAGSTER_HOME`` if set, else ``<data home>/dagster``.

    >>> dagster_home(DataHome(Path("/srv/ops")), environ={})
    PosixPath('/srv/ops/dagster')
    >>> dagster_home(DataHome(Path("/srv/ops")), environ={"DAGSTER_HOME": "/var/dagster"})
    PosixPath('/var/dagster')
    """
    env = os.environ if environ is None else environ
    chosen = env.get(DAGSTER_HOME_VAR)
    return Path(chosen) if chosen else home.root / "dagster"


def open_instance(home: DataHome) -> dg.DagsterInstance:
    """The persistent instance for ``home`` (close it with ``dispose()`` or use it in ``with``)."""
    import dagster as dg

    folder = dagster_home(home)
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "dagster.yaml"
    if not config.exists():
        write_text(config, INSTANCE_YAML.format(folder=folder))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dagster's beta and preview notices are not the user's concern
        return dg.DagsterInstance.from_config(str(folder))


def record_ingest(home: DataHome, reports: Iterable[FileReport], *, source: str = "ops-warehouse ingest") -> int:
    """Record files ingested outside a Dagster run as runless materializations of the raw tables
    and day partitions they changed, so the UI shows when each raw table last changed.

    Recording is best effort: the data is already safely in the lake, so a failure here is logged
    as a warning and never fails the ingest. Returns how many events were recorded."""
    from ops_warehouse.defs.ingest import materializations

    events = materializations(list(reports), source=source)
    if not events:
        return 0
    try:
        with open_instance(home) as instance:
            for event in events:
                instance.report_runless_asset_event(event)
    except Exception as exc:  # the lake has the data; the UI's history is secondary
        log.warning("could not record the ingest in the Dagster instance at %s: %s", dagster_home(home), exc)
        return 0
    return len(events)
