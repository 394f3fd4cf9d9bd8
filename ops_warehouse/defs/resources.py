"""The one resource every asset uses: where the data home is."""

from __future__ import annotations

import os

import dagster as dg

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import ENV_VAR, DataHome


class WarehouseResource(dg.ConfigurableResource):
    """The data home (``OPS_WAREHOUSE_HOME``, default ``./data``)."""

    home: str = "data"

    @property
    def data_home(self) -> DataHome:
        return DataHome.resolve(self.home).ensure()

    def catalog(self) -> Catalog:
        return Catalog.load(self.data_home.catalog)


def default_warehouse() -> WarehouseResource:
    return WarehouseResource(home=os.environ.get(ENV_VAR) or "data")
