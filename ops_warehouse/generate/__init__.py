"""Synthetic exports for the demo, the tests and the benchmarks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from ops_warehouse.generate.security import with_time_zones, write_security, write_security_canonical
from ops_warehouse.generate.synthetic import Organisation, generate
from ops_warehouse.generate.writers_canonical import write_canonical
from ops_warehouse.generate.writers_real import catalog_for, write_real

FORMATS = ("real", "canonical")


def generate_exports(
    out: Path,
    *,
    services: int = 12,
    weeks: int = 12,
    seed: int = 7,
    end: date | None = None,
    fmt: str = "real",
    slo_services: int = 4,
    metric_days: int | None = 35,
) -> tuple[Organisation, list[Path]]:
    """Generate an organisation; write its exports under ``out/exports`` and its service catalog
    as ``out/catalog.yaml``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    org = generate(
        services=services, weeks=weeks, seed=seed, end=end, slo_services=slo_services, metric_days=metric_days
    )
    writer = write_real if fmt == "real" else write_canonical
    out.mkdir(parents=True, exist_ok=True)
    paths = writer(org, out / "exports")
    if fmt == "real":
        paths += write_security(org, out / "exports", seed=seed)
    else:
        paths += write_security_canonical(org, out / "exports", seed=seed)
    catalog = with_time_zones(catalog_for(org))
    (out / "catalog.yaml").write_text(yaml.safe_dump(catalog, sort_keys=False), encoding="utf-8")
    return org, paths


__all__ = ["FORMATS", "Organisation", "generate", "generate_exports"]
