"""The service catalog (``catalog.yaml`` in the data home) and the warehouse settings.

Example::

    services:
      checkout:
        team: payments
        repositories: [acme/checkout]
        incident_services: [PXYZ123, "Checkout API"]   # incident-tool service ids or names
        production_environments: [production, prod-eu]
        deploy_pattern: deploy                          # workflow runs whose name or path match
        severity: {P1: sev1, critical: sev1}            # optional extra severity mapping
    settings:
      attribution_window_hours: 24
      dora_benchmark: dora-2023

Without an entry, a service is named after its repository's short name (``acme/checkout`` ->
``checkout``) or its incident-tool service name; environments named ``production`` or ``prod``
(any case) count as production; workflow runs count as deployments when their name or path
contains ``deploy``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SETTINGS: dict[str, Any] = {
    # METRICS.md: incidents without an explicit cause are attributed to the latest production
    # deployment of their service that finished within this many hours before; 0 disables.
    "attribution_window_hours": 24,
    "dora_benchmark": "dora-2023",
    "deploy_pattern": "deploy",
    "repeat_window_days": 7,
    # targets shown in the report
    "mtta_target_minutes": 5,
    "mttr_target_minutes": 30,
    "action_item_target": 0.9,
    "deploy_success_target": 0.999,
    "rollback_rate_target": 0.001,
    "deploy_duration_target_minutes": 20,
    "escalation_rate_target": 0.10,
    "repeat_rate_target": 0.05,
    "mtbf_target_hours": 720,
    # METRICS.md, "Vulnerability management": patch SLA by severity (seed policy), in hours
    "vulnerability_sla_critical_hours": 24,
    "vulnerability_sla_high_hours": 168,
    "vulnerability_sla_medium_hours": 720,
    "vulnerability_sla_low_hours": 2160,
    # security incidents' time to acknowledge: < 1 h
    "security_ack_target_minutes": 60,
    # METRICS.md, "Alert quality": noise rule, its target, and the working day for after-hours pages
    "alert_noise_target": 0.05,
    "alert_short_episode_minutes": 5,
    "alert_flap_window_minutes": 60,
    "alert_incident_lead_minutes": 5,
    "business_hours_start": 9,
    "business_hours_end": 18,
    "default_time_zone": "UTC",
    # METRICS.md, Postmortems: a draft within 5 days, published within 14 days of the resolution
    "postmortem_draft_days": 5,
    "postmortem_publish_days": 14,
    # METRICS.md, Deploy impact on SLOs: suspect when the hour after burns >= 6x and >= 2x the hour before
    "deploy_suspect_burn_rate": 6,
    "deploy_suspect_ratio": 2,
}


class CatalogError(ValueError):
    pass


@dataclass
class ServiceEntry:
    name: str
    team: str | None = None
    repositories: list[str] = field(default_factory=list)
    incident_services: list[str] = field(default_factory=list)
    production_environments: list[str] = field(default_factory=list)
    deploy_pattern: str | None = None
    severity: dict[str, str] = field(default_factory=dict)
    time_zone: str | None = None  # the owning team's time zone (after-hours pages)


@dataclass
class Catalog:
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))

    @classmethod
    def load(cls, path: Path) -> Catalog:
        if not path.exists():
            return cls()
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
        return cls.from_dict(doc, where=str(path))

    @classmethod
    def from_dict(cls, doc: dict[str, Any], *, where: str = "catalog") -> Catalog:
        if not isinstance(doc, dict):
            raise CatalogError(f"{where}: expected a mapping with 'services' and 'settings'")
        services: dict[str, ServiceEntry] = {}
        for name, entry in (doc.get("services") or {}).items():
            entry = entry or {}
            if not isinstance(entry, dict):
                raise CatalogError(f"{where}: services.{name}: expected a mapping")
            services[str(name)] = ServiceEntry(
                name=str(name),
                team=entry.get("team"),
                repositories=[str(r) for r in _as_list(entry.get("repositories"), where, name)],
                incident_services=[str(r) for r in _as_list(entry.get("incident_services"), where, name)],
                production_environments=[str(r) for r in _as_list(entry.get("production_environments"), where, name)],
                deploy_pattern=entry.get("deploy_pattern"),
                severity={str(k): str(v) for k, v in (entry.get("severity") or {}).items()},
                time_zone=_time_zone(entry.get("time_zone"), where, name),
            )
        settings = dict(DEFAULT_SETTINGS)
        for key, value in (doc.get("settings") or {}).items():
            if key not in DEFAULT_SETTINGS:
                raise CatalogError(f"{where}: settings.{key}: unknown setting (known: {', '.join(DEFAULT_SETTINGS)})")
            settings[key] = value
        return cls(services=services, settings=settings)

    def tables(self) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
        """The catalog as small relations the SQL models join: name -> (columns, rows)."""
        return {
            "services": (["service", "team"], [(s.name, s.team) for s in self.services.values()]),
            "repos": (["repo", "service"], [(r, s.name) for s in self.services.values() for r in s.repositories]),
            "incident_services": (
                ["ref", "service"],
                [(r, s.name) for s in self.services.values() for r in s.incident_services],
            ),
            "production_environments": (
                ["service", "environment"],
                [(s.name, e.lower()) for s in self.services.values() for e in s.production_environments],
            ),
            "deploy_patterns": (
                ["service", "pattern"],
                [(s.name, s.deploy_pattern) for s in self.services.values() if s.deploy_pattern],
            ),
            "severity_map": (
                ["service", "raw", "severity"],
                [(s.name, k.lower(), v) for s in self.services.values() for k, v in s.severity.items()],
            ),
            "time_zones": (
                ["service", "time_zone"],
                [(s.name, s.time_zone) for s in self.services.values() if s.time_zone],
            ),
        }


def read_catalog_file(path: Path) -> Catalog | None:
    """The catalog in ``path`` when the file is a service catalog (a YAML mapping of ``services``
    and optionally ``settings``, nothing else), else None. A file that looks like one but breaks
    its rules raises CatalogError, so a typo is reported rather than read as an unknown export."""
    if path.suffix.lower() not in (".yaml", ".yml") or path.stat().st_size > _MAX_CATALOG_BYTES:
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or "services" not in doc or not set(doc) <= {"services", "settings"}:
        return None
    if not isinstance(doc["services"], dict):
        return None
    return Catalog.from_dict(doc, where=path.name)


_MAX_CATALOG_BYTES = 16 << 20


def catalog_file_note(path: Path, installed: Path) -> str | None:
    """What ingesting ``path`` should report when it is a service catalog (None when it is not):
    a catalog is configuration, not an export, so it is recognized and pointed to where it
    belongs (``installed``, the data home's ``catalog.yaml``) instead of being read as data."""
    catalog = read_catalog_file(path)
    if catalog is None:
        return None
    n = len(catalog.services)
    what = f"service catalog ({n} service{'' if n == 1 else 's'}), not an export"
    if installed.exists() and installed.resolve() == path.resolve():
        return f"{what}: this is the data home's catalog"
    if installed.exists() and installed.read_bytes() == path.read_bytes():
        return f"{what}: the same as the data home's {installed.name}"
    verb = "replace" if installed.exists() else "create"
    return f"{what}: copy it to {installed} ({verb}) for builds to use it"


def _time_zone(value: Any, where: str, name: str) -> str | None:
    """A service's IANA time zone name, checked so a typo is an error here, not a wrong hour later."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise CatalogError(f"{where}: services.{name}.time_zone: unknown time zone {value!r}") from None
    return str(value)


def _as_list(value: Any, where: str, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [value]
    if isinstance(value, list):
        return value
    raise CatalogError(f"{where}: services.{name}: expected a list")
