"""The service catalog: a catalog among ingested files is recognized, not read as an export."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ops_warehouse.catalog import CatalogError, catalog_file_note, read_catalog_file
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file

CATALOG = """\
services:
  checkout:
    team: payments
    repositories: [acme/checkout]
settings:
  attribution_window_hours: 12
"""


def test_a_catalog_is_recognized_by_its_content(tmp_path: Path) -> None:
    f = tmp_path / "services.yml"
    f.write_text(CATALOG, encoding="utf-8")
    catalog = read_catalog_file(f)
    assert catalog is not None
    assert catalog.services["checkout"].team == "payments"
    assert catalog.settings["attribution_window_hours"] == 12


@pytest.mark.parametrize(
    "name, text",
    [
        ("slo.yaml", "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x}\n"),
        ("sloth.yaml", "version: prometheus/v1\nservice: checkout\nslos: []\n"),
        ("other.yaml", "services: [a, b]\n"),
        ("catalog.json", '{"services": {}}'),
        ("broken.yaml", "services: {a: [\n"),
    ],
)
def test_other_files_are_not_catalogs(tmp_path: Path, name: str, text: str) -> None:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    assert read_catalog_file(f) is None


def test_a_broken_catalog_says_what_is_wrong(tmp_path: Path) -> None:
    f = tmp_path / "catalog.yaml"
    f.write_text("services:\n  checkout: [not, a, mapping]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="services.checkout: expected a mapping"):
        read_catalog_file(f)


def test_the_note_says_where_the_catalog_belongs(home: DataHome, tmp_path: Path) -> None:
    f = tmp_path / "catalog.yaml"
    f.write_text(CATALOG, encoding="utf-8")
    assert catalog_file_note(f, home.catalog) == (
        f"service catalog (1 service), not an export: copy it to {home.catalog} (create) for builds to use it"
    )
    shutil.copyfile(f, home.catalog)
    assert catalog_file_note(f, home.catalog) == (
        "service catalog (1 service), not an export: the same as the data home's catalog.yaml"
    )
    assert catalog_file_note(home.catalog, home.catalog) == (
        "service catalog (1 service), not an export: this is the data home's catalog"
    )
    home.catalog.write_text(CATALOG.replace("12", "6"), encoding="utf-8")
    assert catalog_file_note(f, home.catalog) == (
        f"service catalog (1 service), not an export: copy it to {home.catalog} (replace) for builds to use it"
    )


def test_ingesting_a_catalog_reports_it_and_loads_nothing(home: DataHome, tmp_path: Path) -> None:
    f = tmp_path / "catalog.yaml"
    f.write_text(CATALOG, encoding="utf-8")
    report = ingest_file(home, f)
    assert report.ok and report.kind == "catalog"
    assert (report.read, report.loaded, report.duplicates, report.quarantined) == (0, 0, 0, 0)
    assert report.line().startswith(f"{f} [catalog]: service catalog (1 service), not an export")
    assert not home.catalog.exists()  # reported, never installed behind the user's back


def test_ingesting_a_broken_catalog_is_an_error_naming_it(home: DataHome, tmp_path: Path) -> None:
    f = tmp_path / "catalog.yaml"
    f.write_text("services:\n  checkout: {team: payments}\nsettings:\n  no_such_setting: 1\n", encoding="utf-8")
    report = ingest_file(home, f)
    assert report.error is not None and "no_such_setting" in report.error
    assert report.line().startswith(f"{f}: error: a service catalog that cannot be used")
