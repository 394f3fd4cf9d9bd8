"""The resources the assets use: the data home (and through it the catalog and the lake), and the
engine that runs the models."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg
from pydantic import Field

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import ENV_VAR, DataHome
from ops_warehouse.lake.engines import ENGINE_ENV, SPARK_REMOTE_ENV, Engine, get_engine


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


class EngineResource(dg.ConfigurableResource):
    """The engine that runs the models: ``duckdb`` (in process, the default) or ``spark`` (Spark
    Connect at ``spark_remote``, e.g. ``sc://host:15002``; a ``local[*]`` session when empty)."""

    engine: str = Field(default="duckdb", description="duckdb or spark (OPS_WAREHOUSE_ENGINE).")
    spark_remote: str = Field(
        default="", description="Spark Connect address, sc://host:15002 (OPS_WAREHOUSE_SPARK_REMOTE); empty: local[*]."
    )

    def get(self) -> Engine:
        return get_engine(self.engine, spark_remote=self.spark_remote or None)


def default_engine(environ: Mapping[str, str] | None = None) -> EngineResource:
    """The engine as the code location configures it: from ``EnvVar`` for each variable that is set."""
    env = os.environ if environ is None else environ
    config: dict[str, object] = {}
    if env.get(ENGINE_ENV):
        config["engine"] = dg.EnvVar(ENGINE_ENV)
    if env.get(SPARK_REMOTE_ENV):
        config["spark_remote"] = dg.EnvVar(SPARK_REMOTE_ENV)
    return EngineResource(**config)  # type: ignore[arg-type]  # EnvVar stands in for str until resolved
