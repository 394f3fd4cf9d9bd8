"""A model's connection loads the catalog relations that the model and its rules read, and only
those (each costs a table load in every model's connection)."""

from __future__ import annotations

from ops_warehouse.catalog import Catalog
from ops_warehouse.home import DataHome
from ops_warehouse.lake.models import Model, discover_models, open_lake


def _catalog_relations(home: DataHome, wanted: set[str] | None) -> set[str]:
    con = open_lake(home, Catalog(), raw=set(), derived=set(), catalog_tables=wanted)
    try:
        rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'catalog'")
        return {r[0] for r in rows.fetchall()}
    finally:
        con.close()


def test_only_the_catalog_relations_asked_for_are_loaded(home: DataHome) -> None:
    every = _catalog_relations(home, None)
    assert {"services", "repos", "slo_alert_windows", "slo_policy_stages"} <= every
    assert _catalog_relations(home, {"repos", "slo_alert_windows"}) == {"repos", "slo_alert_windows"}
    assert _catalog_relations(home, set()) == set()


def test_a_model_reads_the_catalog_relations_of_its_sql_and_its_rules() -> None:
    model = Model(
        "core",
        "x",
        sql="SELECT * FROM catalog.services JOIN raw.alerts ON true",
        since_sql="SELECT min(t) FROM touched.alerts JOIN Catalog.Repos ON true",
        span_sql="SELECT since FROM catalog.slo_policy_stages",
    )
    assert model.catalog_reads == {"services", "repos", "slo_policy_stages"}


def test_every_shipped_model_is_given_what_it_reads() -> None:
    models = discover_models()
    assert models["core.alert_episodes"].catalog_reads == {"incident_services", "services", "time_zones"}
    assert models["marts.slo_alerts"].catalog_reads == {"slo_alert_windows"}
    assert models["marts.alert_weekly"].catalog_reads == set()
