"""Data contracts of the core tables (``assets/contracts/core.yaml``) checked with SQL.

A contract lists a table's key (unique, not null), columns that must never be null, accepted
values and value ranges. The Dagster asset checks evaluate them against each freshly built table,
blocking the marts and the published snapshot when one fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops_warehouse.lake.models import assets_dir
from ops_warehouse.lake.store import connect, quote_ident, quote_literal


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


def check_contract(contract: Contract, parquet: Path) -> list[Finding]:
    """Every rule of the contract that the table breaks, with up to 5 offending rows each."""
    con = connect()
    try:
        con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({quote_literal(str(parquet))})")
        findings: list[Finding] = []

        def rule(name: str, where: str) -> None:
            n = con.execute(f"SELECT count(*) FROM t WHERE {where}").fetchone()[0]
            if n:
                rows = con.execute(f"SELECT * FROM t WHERE {where} LIMIT 5").fetchdf().astype(str)
                findings.append(Finding(name, n, rows.to_dict("records")))

        for col in dict.fromkeys(contract.key + contract.not_null):
            rule(f"{col} is not null", f"{quote_ident(col)} IS NULL")
        if contract.key:
            cols = ", ".join(quote_ident(c) for c in contract.key)
            dup = con.execute(
                f"SELECT count(*) FROM (SELECT {cols} FROM t GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()[0]
            if dup:
                sample = con.execute(
                    f"SELECT {cols}, count(*) AS n FROM t GROUP BY ALL HAVING count(*) > 1 LIMIT 5"
                ).fetchdf().astype(str)
                findings.append(Finding(f"({', '.join(contract.key)}) is unique", dup, sample.to_dict("records")))
        for col, values in contract.accepted_values.items():
            listing = ", ".join(quote_literal(str(v)) for v in values)
            rule(f"{col} in ({', '.join(map(str, values))})", f"{quote_ident(col)} IS NOT NULL AND {quote_ident(col)}::VARCHAR NOT IN ({listing})")
        for col, (lo, hi) in contract.between.items():
            conds = []
            if lo is not None:
                conds.append(f"{quote_ident(col)} < {float(lo)}")
            if hi is not None:
                conds.append(f"{quote_ident(col)} > {float(hi)}")
            if conds:
                rule(f"{col} between {lo} and {hi}", " OR ".join(conds))
        return findings
    finally:
        con.close()
