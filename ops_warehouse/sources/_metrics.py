"""What the metric-sample adapters share: the row they build, value and label normalization, and
streaming readers that turn unreadable input into a :class:`FileError` naming the place.

Every metric adapter writes ``raw.metric_samples`` rows with the same conventions:

- ``metric``: the series name as the source writes it. Histograms become ``<name>_bucket`` series
  with an ``le`` label, plus ``<name>_sum`` and ``<name>_count``; summaries become ``<name>`` with a
  ``quantile`` label, plus ``<name>_sum`` and ``<name>_count``.
- ``labels``: :func:`ops_warehouse.sources.base.labels_json` of the series labels (sorted keys, text
  values). ``le`` and ``quantile`` values are written as Prometheus writes them
  (:func:`format_bound`), so ``"1"``, ``"1.0"`` and ``1`` are the same bucket ``"1.0"``.
- ``ts``: aware UTC datetime; ``value``: float, NaN and +/-Inf kept.
- ``kind``: ``counter`` (cumulative, take its reset-aware increase), ``gauge`` (use by value),
  ``histogram`` / ``summary`` (the family type as declared: ``_bucket``, ``_sum`` and ``_count`` are
  cumulative, summary quantiles are values), ``unknown`` (type not stated, or per-interval deltas:
  use by value, never take an increase).
- ``source``: ``prometheus``, ``openmetrics``, ``otlp`` or ``datadog``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Final

import duckdb
import ijson

from ops_warehouse.duck import connect
from ops_warehouse.sources.base import BadRecord, FileError, Reject, Row, labels_json, raw_json

TABLE: Final = "metric_samples"
KINDS: Final = ("counter", "gauge", "histogram", "summary", "unknown")
BOUND_LABELS: Final = ("le", "quantile")
COUNTER_SUFFIXES: Final = ("_total", "_count", "_bucket", "_sum")
MAX_JSON_DEPTH: Final = 64
JSON_BUFFER: Final = 4096


_STARTS: Final = frozenset(("start_map", "start_array"))
_ENDS: Final = frozenset(("end_map", "end_array"))


# ---------------------------------------------------------------- values and labels


def parse_value(value: Any) -> float:
    """A sample value: a JSON number or a Prometheus value string (``"1"``, ``"NaN"``, ``"+Inf"``).

    >>> parse_value("+Inf"), parse_value("-Inf"), parse_value(3)
    (inf, -inf, 3.0)
    >>> math.isnan(parse_value("NaN"))
    True
    """
    if isinstance(value, bool) or value is None:
        raise BadRecord(f"value is not a number: {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value and "_" not in value and value == value.strip():
        try:
            return float(value)
        except ValueError:
            pass
    raise BadRecord(f"value is not a number: {value!r}")


def format_bound(value: Any) -> str:
    """An ``le`` or ``quantile`` value as Prometheus writes it (Go's shortest ``%g``, with ``.0``
    added to whole numbers), so equal bounds spelled differently are one bucket.

    >>> [format_bound(v) for v in ("1", "1.0", 1, "+Inf", "0.25", "1e6", "100000", "-8.99e-05")]
    ['1.0', '1.0', '1.0', '+Inf', '0.25', '1e+06', '100000.0', '-8.99e-05']
    """
    f = parse_value(value)
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0.0" if math.copysign(1.0, f) < 0 else "0.0"
    dec = Decimal(repr(f)).normalize()
    digits = dec.as_tuple().digits
    exp = dec.adjusted()
    if exp < -4 or exp >= 6:
        mantissa = f"{abs(f):.{len(digits) - 1}e}"
        coeff, _, power = mantissa.partition("e")
        sign = "-" if f < 0 else ""
        return f"{sign}{coeff}e{power[0]}{int(power[1:]):02d}"
    text = format(dec, "f")
    return text if "." in text else text + ".0"


def normalize_labels(labels: dict[str, Any]) -> str:
    """The stored labels JSON, with bound labels normalized (see :func:`format_bound`)."""
    fixed = dict(labels)
    for key in BOUND_LABELS:
        if key in fixed:
            try:
                fixed[key] = format_bound(fixed[key])
            except BadRecord as exc:
                raise BadRecord(f"label {key}: {exc}") from None
    return labels_json(fixed)


def infer_kind(metric: str) -> str:
    """The kind of a series whose format states none: ``counter`` by suffix, else ``unknown``
    (read by value; inside an SLO query's ``rate()``/``increase()`` as a counter, as PromQL does).

    >>> infer_kind("http_requests_total"), infer_kind("latency_bucket"), infer_kind("up")
    ('counter', 'counter', 'unknown')
    """
    return "counter" if metric.endswith(COUNTER_SUFFIXES) else "unknown"


def sample(
    metric: str,
    labels: dict[str, Any] | str,
    ts: datetime,
    value: float,
    kind: str,
    source: str,
    locator: str,
) -> Row:
    """One ``metric_samples`` row. ``labels`` may already be the stored JSON."""
    text = labels if isinstance(labels, str) else normalize_labels(labels)
    return Row(
        TABLE,
        {"metric": metric, "labels": text, "ts": ts, "value": value, "kind": kind, "source": source},
        locator,
    )


def reject(locator: str, reason: str, raw: Any = None) -> Reject:
    """A reject whose raw text is the offending JSON value (or the line as written)."""
    text = raw if isinstance(raw, str) or raw is None else raw_json(raw, limit=2_000)
    return Reject(locator, reason, text)


# ---------------------------------------------------------------- reading files


def require_content(path: Path) -> None:
    """FileError("empty file") when the file holds nothing but whitespace."""
    with open(path, "rb") as fh:
        while block := fh.read(1 << 16):
            if block.strip():
                return
    raise FileError("empty file")


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline) for each line; bytes that are not UTF-8 are a
    FileError naming the line and the byte offset in the file."""
    offset = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise FileError(f"line {lineno}: not UTF-8 text: invalid byte at offset {offset + exc.start}") from None
            if lineno == 1:
                text = text.lstrip("\ufeff")
            offset += len(raw)
            yield lineno, text.rstrip("\r\n")


def last_line(path: Path, window: int = 4096) -> str:
    """The last non-blank line of the file (read from its tail only)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - window))
        tail = fh.read()
    lines = [ln for ln in tail.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def json_events(fh: IO[bytes], where: list[str]) -> Iterator[tuple[str, str, Any]]:
    """ijson's (prefix, event, value) stream over an open binary file. Broken, truncated or
    non-UTF-8 JSON is a FileError naming ``where[0]`` (the caller keeps it at the JSON pointer it
    is reading) and the byte offset reached.

    ijson keeps one prefix string per open nesting level, each as long as its depth, so memory
    grows with the square of the depth: nesting deeper than ``MAX_JSON_DEPTH`` is a FileError, and
    the small read buffer bounds what one buffer of pathological nesting can cost before that.
    """
    depth = 0
    try:
        for prefix, event, value in ijson.parse(fh, buf_size=JSON_BUFFER, use_float=True):
            if event in _STARTS:
                depth += 1
                if depth > MAX_JSON_DEPTH:
                    raise FileError(
                        f"JSON nested deeper than {MAX_JSON_DEPTH} levels at {where[0]} (byte {_offset(fh)})"
                    )
            elif event in _ENDS:
                depth -= 1
            yield prefix, event, value
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0].strip() if str(exc) else type(exc).__name__
        reason = reason.removeprefix("b'").removeprefix('b"')
        raise FileError(
            f"truncated or invalid JSON at {where[0] or 'the start'} (byte {_offset(fh)}): {reason}"
        ) from None


def _offset(fh: IO[bytes]) -> int:
    try:
        return fh.tell()
    except (OSError, ValueError):
        return -1


def build_value(event: str, value: Any, events: Iterator[tuple[str, str, Any]]) -> Any:
    """The JSON value that starts with (event, value), consuming its remaining events."""
    if event not in _STARTS:
        return value
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    depth = 1
    while depth:
        _, ev, val = next(events)
        builder.event(ev, val)
        if ev in _STARTS:
            depth += 1
        elif ev in _ENDS:
            depth -= 1
    return builder.value


def file_mtime(path: Path) -> float:
    return os.stat(path).st_mtime


# ---------------------------------------------------------------- the columnar path

# A number as Python's float() and DuckDB's CAST(... AS DOUBLE) both read it, to the same double.
NUMBER_SQL: Final = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
# epoch seconds whose microseconds Python's datetime can hold and a double carries exactly
_EPOCH_MIN: Final = -62_135_596_800
_EPOCH_MAX: Final = 253_402_300_799
SCAN_BLOCK: Final = 16 << 20


def sql_value(text: str) -> str:
    """SQL for :func:`parse_value` of a text column: the double, or NULL where Python would reject
    the text (or might read it differently)."""
    low = f"lower({text})"
    return (
        f"CASE WHEN regexp_full_match({text}, '{NUMBER_SQL}') THEN CAST({text} AS DOUBLE) "
        f"WHEN {low} IN ('nan', '+nan', '-nan') THEN 'NaN'::DOUBLE "
        f"WHEN {low} IN ('inf', '+inf', 'infinity', '+infinity') THEN 'inf'::DOUBLE "
        f"WHEN {low} IN ('-inf', '-infinity') THEN '-inf'::DOUBLE END"
    )


def sql_epoch_seconds(text: str) -> str:
    """SQL for :func:`ops_warehouse.timeutil.from_epoch` of a text column (the same double product
    rounded half to even), NULL where Python would reject it or the column is not a plain number."""
    seconds = f"CAST({text} AS DOUBLE)"
    return (
        f"CASE WHEN regexp_full_match({text}, '{NUMBER_SQL}') AND {seconds} BETWEEN {_EPOCH_MIN} AND {_EPOCH_MAX} "
        f"THEN make_timestamp(CAST(round_even({seconds} * 1000000.0, 0) AS BIGINT))::TIMESTAMPTZ END"
    )


def sql_epoch_nanos(text: str) -> str:
    """SQL for :func:`ops_warehouse.timeutil.from_epoch_ns` of a text column of decimal digits
    (non-negative, so truncating to microseconds is Python's floor division), NULL otherwise."""
    return (
        f"CASE WHEN regexp_full_match({text}, '[0-9]{{1,18}}') "
        f"THEN make_timestamp(CAST({text} AS BIGINT) // 1000)::TIMESTAMPTZ END"
    )


def bytes_match(path: Path, pattern: re.Pattern[bytes], start: int = 0, end: int | None = None) -> bool:
    """Whether ``pattern`` (which must match within 4 KiB) occurs in the file's bytes, read in
    blocks so memory stays small whatever the file's size."""
    end = path.stat().st_size if end is None else end
    overlap = 4096
    with open(path, "rb") as fh:
        fh.seek(start)
        pos = start
        tail = b""
        while pos < end:
            block = fh.read(min(SCAN_BLOCK, end - pos))
            if not block:
                break
            pos += len(block)
            if pattern.search(tail + block):
                return True
            tail = block[-overlap:]
    return False


def copy_range(source: Path, target: Path, start: int, end: int) -> None:
    """Copy bytes ``[start, end)`` of a file to a new file, in the kernel where it can."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        offset, left = start, end - start
        while left > 0:
            try:
                n = os.copy_file_range(src.fileno(), dst.fileno(), left, offset)
            except OSError:
                src.seek(offset)
                n = dst.write(src.read(min(left, SCAN_BLOCK)))
            if n <= 0:
                break
            offset += n
            left -= n


def array_span(
    path: Path, head: re.Pattern[bytes], tail: re.Pattern[bytes], *, edge_bytes: int = 4096
) -> tuple[int, int] | None:
    """Byte range ``[start, stop)`` of the JSON array a file holds between ``head`` (matched at the
    start of its first ``edge_bytes``, ending just before the ``[``) and ``tail`` (searched in its
    last ``edge_bytes``, starting at the ``]``); None when either does not match or the range is
    empty."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        first = fh.read(edge_bytes)
        fh.seek(max(0, size - edge_bytes))
        last = fh.read()
    start = head.match(first)
    end = tail.search(last)
    if start is None or end is None:
        return None
    stop = size - len(last) + end.start() + 1
    return (start.end(), stop) if stop > start.end() else None


# what an adapter's columnar pass may hold in memory before DuckDB spills to its scratch folder
COLUMNAR_MEMORY: Final = "1GB"


def columnar_connection(scratch: Path) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection of an adapter's columnar pass, spilling into ``scratch``."""
    return connect(memory_limit=COLUMNAR_MEMORY, temp_dir=scratch / "duckdb")
