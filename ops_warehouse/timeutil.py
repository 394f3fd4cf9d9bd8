"""Timestamp parsing shared by every adapter.

Every timestamp in the warehouse is an aware UTC ``datetime``. Sources disagree on how they write
time, so each shape has one parser here:

>>> parse_timestamp("2013-06-10T23:32:41.000-0800").isoformat()
'2013-06-11T07:32:41+00:00'
>>> parse_timestamp("2026-11-23 10:00", default_tz="Europe/Berlin").isoformat()
'2026-11-23T09:00:00+00:00'
>>> from_epoch(1435781430.781).isoformat()
'2015-07-01T20:10:30.781000+00:00'
>>> from_epoch_ms(1435781430781).isoformat()
'2015-07-01T20:10:30.781000+00:00'
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = UTC
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class TimestampError(ValueError):
    """A value that is not a usable timestamp; the message says why."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimestampError(f"unknown time zone {name!r}") from exc


def parse_timestamp(value: object, *, default_tz: str | None = None) -> datetime:
    """Parse an ISO 8601 timestamp (``Z``, ``+00:00`` or ``-0800`` offsets) into UTC.

    A timestamp without an offset is rejected unless ``default_tz`` names the zone it is in.
    A plain date is a timestamp at midnight of that day, under the same rule.
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise TimestampError("empty timestamp")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise TimestampError(f"not an ISO 8601 timestamp: {value!r}") from exc
    else:
        raise TimestampError(f"expected a timestamp string, got {type(value).__name__}")
    if dt.tzinfo is None:
        if default_tz is None:
            raise TimestampError(f"timestamp {value!s} has no UTC offset; add one or pass a default time zone (--tz)")
        dt = dt.replace(tzinfo=zone(default_tz))
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise TimestampError(f"timestamp {value!s} is out of range") from exc


def from_epoch(seconds: object) -> datetime:
    """Epoch seconds (int, float or numeric string) to UTC."""
    s = _number(seconds)
    return _shift(round(s * 1_000_000), seconds)


def from_epoch_ms(millis: object) -> datetime:
    """Epoch milliseconds (int, float or numeric string) to UTC."""
    ms = _number(millis)
    return _shift(round(ms * 1_000), millis)


def from_epoch_ns(nanos: object) -> datetime:
    """Epoch nanoseconds (OTLP writes them as strings) to UTC."""
    if isinstance(nanos, str):
        nanos = nanos.strip()
        if not nanos.lstrip("-").isdigit():
            raise TimestampError(f"not an integer nanosecond timestamp: {nanos!r}")
        n = int(nanos)
    elif isinstance(nanos, int) and not isinstance(nanos, bool):
        n = nanos
    else:
        raise TimestampError(f"not an integer nanosecond timestamp: {nanos!r}")
    return _shift(n // 1000, nanos)


def _shift(microseconds: int, shown: object) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=microseconds)
    except OverflowError as exc:
        raise TimestampError(f"time {shown!r} is out of range") from exc


def parse_date(value: object) -> date:
    """A plain calendar date (``2026-11-30``); a timestamp keeps only its date part as written."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value.strip():
        raise TimestampError(f"expected a date like 2026-11-30, got {value!r}")
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise TimestampError(f"not a date: {value!r}") from exc


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise TimestampError(f"not a number: {value!r}")
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value)
        except ValueError as exc:
            raise TimestampError(f"not a number: {value!r}") from exc
    else:
        raise TimestampError(f"not a number: {value!r}")
    if not math.isfinite(f):
        raise TimestampError(f"not a finite time: {value!r}")
    return f


def iso_week_start(d: date | datetime) -> date:
    """Monday of the ISO week holding ``d``."""
    if isinstance(d, datetime):
        d = d.astimezone(UTC).date()
    return d - timedelta(days=d.weekday())


def parse_iso_week(text: str) -> date:
    """``2026-W48`` to the Monday that starts it."""
    try:
        year_s, week_s = text.upper().split("-W")
        return date.fromisocalendar(int(year_s), int(week_s), 1)
    except ValueError as exc:
        raise ValueError(f"not an ISO week like 2026-W48: {text!r}") from exc


def iso_week_label(week_start: date) -> str:
    y, w, _ = week_start.isocalendar()
    return f"{y}-W{w:02d}"
