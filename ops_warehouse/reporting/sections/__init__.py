"""Extra sections of the weekly review, one module per topic, found by name.

A section is a module ``ops_warehouse/reporting/sections/<topic>.py`` plus a template
``reports/sections/<topic>.html.j2``. Adding both files is all it takes: :func:`discover` finds the
module, :func:`ops_warehouse.reporting.data.assemble` calls its ``build``, and the weekly page
includes its template. The module defines:

- ``TITLE: str``: the section's heading (and its table-of-contents entry when it stands alone);
- ``PLACE: str | None`` (optional, default None): None gives the section its own ``<section>`` at the
  end of the page; ``"summary"``, ``"slos"``, ``"dora"``, ``"deployments"``, ``"incidents"`` or
  ``"action-items"`` renders it at the end of that core section instead;
- ``ORDER: int`` (optional, default 100): sections are shown by (ORDER, topic);
- ``build(con, week_start, settings) -> dict``: reads the marts (and lists rows from core tables)
  of the published snapshot for the ISO week starting ``week_start``; ``settings`` are the
  catalog's. The dict must hold ``has_data`` (bool) and may hold ``cards`` (a list of
  :class:`ops_warehouse.reporting.data.Metric`, shown in the executive summary) and ``figures``
  (name -> Plotly figure; drawn with ``{{ m.chart(section.figure_ids[name]) }}``). Everything else
  is the template's.

The template sees ``section`` (that dict), ``extra`` (its :class:`Section`: topic, title, anchor),
``d`` (the whole week), ``figs`` and the shared macros
(``{% import "macros.html.j2" as m with context %}``: ``m.chart``, ``m.chg``, ``m.tier``,
``m.stage``). A query that fails turns the section into "no data"; it never fails the report.
Figures come from the marts, never computed here (one definition per figure).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import Any

import duckdb

log = logging.getLogger(__name__)

PLACES = (None, "summary", "slos", "dora", "deployments", "incidents", "action-items")


@dataclass
class Section:
    """One extra section of one week's page."""

    topic: str
    title: str
    place: str | None
    order: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def anchor(self) -> str:
        return self.topic.replace("_", "-")

    @property
    def template(self) -> str:
        return f"sections/{self.topic}.html.j2"

    @property
    def has_data(self) -> bool:
        return bool(self.data.get("has_data"))


def discover() -> list[ModuleType]:
    """Every section module of this package, in (ORDER, topic) order."""
    modules = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        modules.append(importlib.import_module(f"{__name__}.{info.name}"))
    return sorted(modules, key=lambda m: (int(getattr(m, "ORDER", 100)), _topic(m)))


def _topic(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def build_sections(
    con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any], modules: list[ModuleType] | None = None
) -> list[Section]:
    """Each section's data for the week; a section whose queries fail shows "no data"."""
    out = []
    for module in discover() if modules is None else modules:
        topic = _topic(module)
        place = getattr(module, "PLACE", None)
        if place not in PLACES:
            log.warning("report section %s: unknown PLACE %r, shown at the end", topic, place)
            place = None
        try:
            data = module.build(con, week_start, settings)
        except duckdb.Error as exc:
            log.warning("report section %s shows no data: %s", topic, str(exc).splitlines()[0])
            data = {"has_data": False}
        out.append(
            Section(topic, str(getattr(module, "TITLE", topic)), place, int(getattr(module, "ORDER", 100)), data)
        )
    return out
