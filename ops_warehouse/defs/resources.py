"""The resource every asset uses: the data home, and through it the catalog and the lake."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg
from pydantic import Field

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import ENV_VAR, DataHome


class WarehouseResource(dg.ConfigurableResource):
    """The data home: ``home`` when given (the code location passes ``EnvVar("OPS_WAREHOUSE_HOME")``
    when that variable is set), else ``OPS_WAREHOUSE_HOME`` or ``./data`` resolved when a run uses
    it."""

    home: str | None = Field(default=None, description="The data home folder (OPS_WAREHOUSE_HOME; default ./data).")

    @property
    def data_home(self) -> DataHome:
        return DataHome.resolve(self.home).ensure()

    def catalog(self) -> Catalog:
        return Catalog.load(self.data_home.catalog)


def default_warehouse(environ: Mapping[str, str] | None = None) -> WarehouseResource:
    """The resource as the code location configures it: from ``EnvVar`` when the variable is set."""
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return WarehouseResource(home=dg.EnvVar(ENV_VAR))
    return WarehouseResource()
