"""The variables every model reads are set by the runner, the same on every engine; a setting a
model reads that cannot work (an unknown DORA benchmark) stops the model before it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops_warehouse.catalog import Catalog
from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import (
    available_benchmarks,
    benchmarks_dir,
    check_settings,
    discover_models,
    model_variables,
    run_model,
)
from ops_warehouse.lake.store import derived_location, derived_read_sql


def test_the_benchmark_folder_is_set_for_every_model(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path).ensure()
    model = discover_models()["marts.dora_benchmark"]
    assert run_model(home, model, Catalog()) > 0
    table = derived_read_sql(derived_location(home.lake, "marts", "dora_benchmark"))
    con = connect()
    try:
        chosen = con.execute(f"SELECT DISTINCT benchmark FROM ({table})").fetchall()
    finally:
        con.close()
    assert chosen == [("dora-2023",)]
    assert model_variables(Catalog())["dora_benchmarks_dir"] == str(benchmarks_dir())


def test_the_shipped_benchmarks_are_listed() -> None:
    assert {"dora-2021", "dora-2023", "dora-2024"} <= set(available_benchmarks())


@pytest.mark.parametrize("name", ["marts.dora_tier", "marts.dora_benchmark"])
def test_an_unknown_benchmark_stops_the_models_that_read_it(name: str, tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path).ensure()
    catalog = Catalog()
    catalog.settings["dora_benchmark"] = "dora-1999"
    model = discover_models()[name]
    with pytest.raises(ValueError, match=r"unknown benchmark 'dora-1999' \(known: .*dora-2023"):
        run_model(home, model, catalog)
    assert not derived_location(home.lake, "marts", model.name).exists()


def test_a_model_that_does_not_read_the_benchmark_ignores_it() -> None:
    catalog = Catalog()
    catalog.settings["dora_benchmark"] = "dora-1999"
    check_settings(discover_models()["marts.dora_weekly"], catalog)
