"""The normalized SLO definition every SLO source is turned into.

OpenSLO, Sloth and canonical files all become one JSON object (stored in
``raw.slo_definitions.spec``)::

    {
      "name": "checkout-availability",
      "service": "checkout",
      "description": "...",
      "budgeting_method": "Occurrences" | "Timeslices" | "RatioTimeslices",
      "target": 0.999,                       # a fraction, never a percentage
      "time_window": {"duration": "28d", "is_rolling": true, "time_zone": "UTC", "start_time": null},
      "indicator": {
        "kind": "ratio" | "threshold",
        "good": "<query>" | null,            # ratio: good and total, or bad and total
        "bad": "<query>" | null,
        "total": "<query>" | null,
        "threshold": {"query": "<query>", "op": "lte", "value": 0.5} | null
      },
      "time_slice_target": 0.95 | null,      # Timeslices: a slice is good when its ratio >= this
      "time_slice_window": "1m" | null,
      "source_spec": "openslo" | "sloth" | "canonical"
    }

Queries are Prometheus series selectors, bare or wrapped in ``sum(rate(...[w]))`` /
``sum(increase(...[w]))``; the SLO engine evaluates them against ``raw.metric_samples``.
"""

from __future__ import annotations

import re
from typing import Any

BUDGETING_METHODS = ("Occurrences", "Timeslices", "RatioTimeslices")
_DURATION = re.compile(r"^(\d+)(m|h|d|w|M|Q|Y)$")


class SpecError(ValueError):
    """An invalid SLO definition; the message names the field."""


def check_duration(text: Any, field: str) -> str:
    if not isinstance(text, str) or not _DURATION.match(text.strip()):
        raise SpecError(f"{field}: {text!r} is not a duration like 28d, 1h or 1M")
    return text.strip()


def check_target(value: Any, field: str, *, percent: bool = False) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{field}: {value!r} is not a number") from None
    if percent:
        t = t / 100.0
    if not 0.0 < t < 1.0:
        shown = f"{value}%" if percent else str(value)
        raise SpecError(f"{field}: {shown} is not a target between 0 and 1 (exclusive)")
    return t


def normalize_canonical(values: dict[str, Any]) -> dict[str, Any]:
    """A canonical SLO row (columns slo_name, service, budgeting_method, target, time_window,
    is_rolling, time_zone, good_query, bad_query, total_query, time_slice_target,
    time_slice_window, description) as a normalized spec."""
    name = values.get("slo_name")
    if not name or not str(name).strip():
        raise SpecError("slo_name: required but missing")
    method = values.get("budgeting_method") or "Occurrences"
    if method not in BUDGETING_METHODS:
        raise SpecError(f"budgeting_method: {method!r} is not one of {', '.join(BUDGETING_METHODS)}")
    target = check_target(values.get("target"), "target")
    duration = check_duration(values.get("time_window") or "28d", "time_window")
    rolling_raw = values.get("is_rolling", True)
    is_rolling = rolling_raw if isinstance(rolling_raw, bool) else str(rolling_raw).strip().lower() not in (
        "false", "0", "no", "calendar")
    good, bad, total = values.get("good_query"), values.get("bad_query"), values.get("total_query")
    if not total:
        raise SpecError("total_query: required")
    if bool(good) == bool(bad):
        raise SpecError("good_query / bad_query: give exactly one of them")
    slice_target = values.get("time_slice_target")
    spec = {
        "name": str(name).strip(),
        "service": values.get("service") or None,
        "description": values.get("description") or None,
        "budgeting_method": method,
        "target": target,
        "time_window": {
            "duration": duration,
            "is_rolling": is_rolling,
            "time_zone": values.get("time_zone") or "UTC",
            "start_time": None,
        },
        "indicator": {"kind": "ratio", "good": good or None, "bad": bad or None, "total": total, "threshold": None},
        "time_slice_target": check_target(slice_target, "time_slice_target") if slice_target not in (None, "") else None,
        "time_slice_window": check_duration(values["time_slice_window"], "time_slice_window")
        if values.get("time_slice_window") else None,
        "source_spec": "canonical",
    }
    if method == "Timeslices" and spec["time_slice_target"] is None:
        raise SpecError("time_slice_target: required for Timeslices")
    return spec
