"""``sloth``: Sloth ``prometheus/v1`` SLO specs.

``service`` and ``slos[]``: each SLO has ``name``, ``objective`` in percent (99.9 -> target 0.999),
and ``sli.events.error_query`` / ``total_query`` (``{{.window}}`` accepted): bad events of total, so
good = total - bad. The SLO is named ``<service>-<name>``, as Sloth names its ``sloth_id``. Sloth's
period is 30 days unless the spec says otherwise (choice: the optional ``time_window`` or top-level
``time_window`` field, e.g. ``28d``; rolling). ``sli.raw`` (a precomputed error ratio) and
``sli.plugin`` cannot be evaluated against event counts and are rejected.

OpenSLO ``v1alpha`` files that Sloth also accepts are read by the ``openslo`` adapter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ops_warehouse.sources.base import Adapter, FileError, ReadContext, Record, Reject, Row, Sniff, raw_json, read_text
from ops_warehouse.sources.openslo import load_documents
from ops_warehouse.sources.slo_spec import SpecError, check_duration, check_query, check_target, validate_spec

_VERSION = re.compile(r"(?m)^version:\s*[\"']?prometheus/v1[\"']?\s*(#.*)?$")
DEFAULT_WINDOW = "30d"


def _spec_of(doc: dict[str, Any], slo: Any, i: int) -> dict[str, Any]:
    field = f"slos[{i}]"
    if not isinstance(slo, dict):
        raise SpecError(f"{field}: not a mapping")
    name = slo.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"{field}.name: required")
    if slo.get("objective") is None:
        raise SpecError(f"{field}.objective: required (percent, e.g. 99.9)")
    target = check_target(slo.get("objective"), f"{field}.objective", percent=True)
    sli = slo.get("sli")
    if not isinstance(sli, dict):
        raise SpecError(f"{field}.sli: required")
    if "events" not in sli:
        other = next((k for k in ("raw", "plugin") if k in sli), None)
        if other:
            raise SpecError(f"{field}.sli.{other}: not supported; only sli.events (error_query/total_query)")
        raise SpecError(f"{field}.sli.events: required")
    events = sli["events"]
    if not isinstance(events, dict):
        raise SpecError(f"{field}.sli.events: not a mapping")
    if not events.get("error_query"):
        raise SpecError(f"{field}.sli.events.error_query: required")
    if not events.get("total_query"):
        raise SpecError(f"{field}.sli.events.total_query: required")
    bad = check_query(events["error_query"], f"{field}.sli.events.error_query")
    total = check_query(events["total_query"], f"{field}.sli.events.total_query")
    window = slo.get("time_window") or doc.get("time_window") or DEFAULT_WINDOW
    window = check_duration(str(window), f"{field}.time_window")
    service = doc.get("service")
    spec = {
        "name": f"{service}-{name.strip()}" if service else name.strip(),
        "service": str(service) if service else None,
        "description": slo.get("description") or None,
        "budgeting_method": "Occurrences",
        "target": target,
        "time_window": {"duration": window, "is_rolling": True, "time_zone": "UTC", "start_time": None},
        "indicator": {"kind": "ratio", "good": None, "bad": bad, "total": total, "threshold": None},
        "time_slice_target": None,
        "time_slice_window": None,
        "source_spec": "sloth",
        "objective": None,
    }
    return validate_spec(spec)


class SlothAdapter(Adapter):
    kind = "sloth"
    description = "Sloth prometheus/v1 SLO specs (YAML)"

    def detect(self, sniff: Sniff) -> bool:
        return bool(_VERSION.search(sniff.text)) and re.search(r"(?m)^slos:", sniff.text) is not None

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        text = read_text(ctx.path)
        if not text.strip():
            raise FileError("empty file")
        for index, (line, doc) in enumerate(load_documents(text), start=1):
            where = f"document {index} (line {line})"
            if not isinstance(doc, dict):
                yield Reject(where, f"expected a mapping, got {type(doc).__name__}", raw_json(doc))
                continue
            if str(doc.get("version", "")) != "prometheus/v1":
                yield Reject(where, f"version: {doc.get('version')!r} is not prometheus/v1", raw_json(doc))
                continue
            slos = doc.get("slos")
            if not isinstance(slos, list) or not slos:
                yield Reject(where, "slos: required list with at least one SLO", raw_json(doc))
                continue
            for i, slo in enumerate(slos):
                locator = f"{where} slos[{i}]"
                try:
                    spec = _spec_of(doc, slo, i)
                except SpecError as exc:
                    yield Reject(locator, str(exc), raw_json(slo))
                    continue
                yield Row(
                    "slo_definitions",
                    {
                        "slo_name": spec["name"],
                        "service": spec["service"],
                        "source": "sloth",
                        "spec": json.dumps(spec, sort_keys=True),
                    },
                    locator,
                    raw_json(slo),
                )


ADAPTER = SlothAdapter()
