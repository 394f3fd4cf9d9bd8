"""Data contracts of the core tables (``assets/contracts/core.yaml``).

A contract lists a table's key (unique, not null), columns that must never be null, accepted
values and value ranges. ``ops_warehouse.quality.gx_suites`` turns each into a Great Expectations
suite; the Dagster asset checks validate every freshly built table against it, blocking the marts
and the published snapshot when one fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops_warehouse.lake.models import assets_dir


@dataclass
class Contract:
    table: str
    key: list[str] = field(default_factory=list)
    not_null: list[str] = field(default_factory=list)
    accepted_values: dict[str, list[Any]] = field(default_factory=dict)
    between: dict[str, list[float | None]] = field(default_factory=dict)


@dataclass
class Finding:
    rule: str
    failing_rows: int
    sample: list[dict[str, Any]]


def load_contracts(path: Path | None = None) -> dict[str, Contract]:
    path = path or assets_dir() / "contracts" / "core.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        name: Contract(
            table=name,
            key=list(spec.get("key") or []),
            not_null=list(spec.get("not_null") or []),
            accepted_values=dict(spec.get("accepted_values") or {}),
            between=dict(spec.get("between") or {}),
        )
        for name, spec in doc.items()
    }
