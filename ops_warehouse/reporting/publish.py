"""Publish the weekly metrics review: ``reports/weekly/<ISO week>.html`` and ``reports/index.html``.

:func:`publish_report` reads the published ``warehouse.duckdb`` snapshot read-only, renders the
week's page and refreshes the index of every published week. Each file is written to a temporary
file in the same folder and moved into place with ``os.replace``, so a reader (or a web server)
sees the old page or the new one, never half of one. Beside each page, ``<week>.json`` keeps the
week's headline figures, which is what the index lists.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ops_warehouse.catalog import Catalog, CatalogError
from ops_warehouse.fileio import write_text
from ops_warehouse.home import DataHome
from ops_warehouse.lake.publish import connect_snapshot
from ops_warehouse.reporting.data import WeeklyData, assemble
from ops_warehouse.reporting.render import render_index, render_weekly
from ops_warehouse.timeutil import iso_week_label, iso_week_start, parse_iso_week

log = logging.getLogger(__name__)
WEEK_RE = re.compile(r"^\d{4}-W\d{2}$")
READABLE = 0o644  # pages are served by a web server running as another user


def parse_week(week: str) -> date:
    """``2026-W48`` (case-insensitive) to its Monday; anything else is a ValueError that says why."""
    text = week.strip() if isinstance(week, str) else week
    if not isinstance(text, str) or not WEEK_RE.match(text.upper()):
        raise ValueError(f"unknown week {week!r}: expected an ISO week like 2026-W48")
    try:
        return parse_iso_week(text)
    except ValueError:
        raise ValueError(f"unknown week {week!r}: {text[:4]} has no ISO week {text[6:]}") from None


def last_complete_week(now: datetime | None = None) -> date:
    """Monday of the last ISO week that ended before ``now`` (UTC)."""
    now = now or datetime.now(UTC)
    return iso_week_start(now) - timedelta(weeks=1)


def build_weekly(home: DataHome, week_start: date, now: datetime | None = None) -> WeeklyData:
    """The week's data from the published snapshot (read-only)."""
    try:
        settings = Catalog.load(home.catalog).settings
    except CatalogError as exc:
        log.warning("catalog unreadable, the report uses default targets: %s", exc)
        settings = None
    con = connect_snapshot(home)
    try:
        return assemble(con, week_start, settings, now=now)
    finally:
        con.close()


def publish_report(home: DataHome, week: str | None = None) -> Path:
    """Render the week's review (default: the last complete ISO week) and refresh the index.

    Returns the path of the week's page. Raises ``ValueError`` for a malformed week and
    ``FileNotFoundError`` when no warehouse has been published yet.
    """
    week_start = parse_week(week) if week is not None else last_complete_week()
    data = build_weekly(home, week_start)
    weekly_dir = home.reports / "weekly"
    weekly_dir.mkdir(parents=True, exist_ok=True)
    page = weekly_dir / f"{data.week}.html"
    write_text(page, render_weekly(data), mode=READABLE)
    headline = json.dumps(data.headline(), indent=2, default=str) + "\n"
    write_text(weekly_dir / f"{data.week}.json", headline, mode=READABLE)
    refresh_index(home)
    return page


def refresh_index(home: DataHome) -> Path:
    """Rewrite ``reports/index.html`` listing every published week, newest first."""
    weekly_dir = home.reports / "weekly"
    entries: list[dict[str, Any]] = []
    for page in weekly_dir.glob("*.html") if weekly_dir.exists() else []:
        label = page.stem
        if not WEEK_RE.match(label):
            continue
        entry: dict[str, Any] = {"week": label}
        sidecar = page.with_suffix(".json")
        try:
            entry.update(json.loads(sidecar.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            entry["has_data"] = None
        entry["week"] = label
        entry["href"] = f"weekly/{label}.html"
        try:
            entry["week_start"] = parse_iso_week(label)
        except ValueError:
            continue
        entries.append(entry)
    entries.sort(key=lambda e: e["week_start"], reverse=True)
    target = home.reports / "index.html"
    write_text(target, render_index(entries, generated_at=datetime.now(UTC)), mode=READABLE)
    return target


__all__ = [
    "publish_report",
    "refresh_index",
    "parse_week",
    "last_complete_week",
    "build_weekly",
    "iso_week_label",
]
