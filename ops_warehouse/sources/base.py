"""What every source adapter is, and the helpers they share.

An adapter reads one export format and yields, for each input record, either a :class:`Row` for
one of the raw tables (``ops_warehouse.tables``) or a :class:`Reject` with the reason it could
not be used. A file that cannot be read at all (not JSON, truncated, not UTF-8) raises
:class:`FileError` naming the place; nothing from that file is written.

Adapters register themselves by defining a module-level ``ADAPTER`` in a module of this package;
:func:`all_adapters` finds them, so adding a format is adding a module.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from ops_warehouse.progress import Progress

from ops_warehouse.timeutil import TimestampError, parse_timestamp

HEAD_BYTES = 256 * 1024
WHOLE_DOC_LIMIT = 64 * 1024 * 1024


class FileError(Exception):
    """The file as a whole cannot be read. The message names the place and the reason."""


@dataclass(slots=True)
class Row:
    table: str
    values: dict[str, Any]
    locator: str
    raw: str | None = None


@dataclass(slots=True)
class Reject:
    locator: str
    reason: str
    raw: str | None = None


Record = Row | Reject


@dataclass
class BulkChunk:
    """Rows for one raw table: an Arrow table (or a SQL SELECT) with the table's columns (text or
    typed) plus ``_locator``, ``_raw`` and ``_ord`` (the row's position in the file: on a repeated
    key, the later row wins); and the rows the adapter already rejected.

    ``exact`` batches are all or nothing: their rows carry ``_unclean`` (true where the columnar
    reader cannot tell exactly what the record-by-record reader would make of the record) instead of
    ``_locator``, ``_raw`` and ``_ord``. When any row is unclean or breaks the contract, or a key
    repeats, the engine reads the file record by record instead (:meth:`Adapter.read`), so rejects
    keep their reasons and locators. An adapter that keeps only each key's winning version says how
    many records it folded (``duplicates``), so the file's accounting is the record-by-record one.

    An exact batch's SELECT may read tables the adapter built in its own DuckDB connection
    (``con``): the batch is then checked and written in that connection, with no intermediate file
    between the adapter and the lake. The adapter closes it; the engine leaves it open."""

    rows: pa.Table | str
    rejects: list[Reject] = field(default_factory=list)
    exact: bool = False
    # records the adapter already folded into another record of the same key in this file (the
    # merge's rule: the greatest updated_at wins, then the later record): read, and duplicates
    duplicates: int = 0
    # the adapter's own records (:meth:`Adapter.read`'s) at the given ``_ord`` positions, in order.
    # A batch with it (rows carry ``_ord`` and ``_unclean``, no ``_locator`` or ``_raw``) is checked
    # in one pass straight into day partitions; the rows the contract SQL refuses are read again as
    # records and quarantined by the record-by-record check, in its words, locators and raw text.
    # Any unclean row, or a refused row that check accepts, and the file is read record by record.
    records_at: Callable[[list[int]], Iterator[Record]] | None = None
    # a ``records_at`` batch whose SELECT DuckDB scans on every thread (a CSV file, a Parquet file of
    # several row groups) is checked and written in one streaming query; one it scans on a single
    # thread (a Parquet file of one row group) is faster checked into memory first, then written
    # by every thread
    scans_in_parallel: bool = True
    con: duckdb.DuckDBPyConnection | None = None

    @classmethod
    def rejects_only(cls, rejects: list[Reject]) -> BulkChunk:
        """A batch of nothing but the records the adapter rejected (a SELECT of no rows)."""
        return cls(NO_ROWS, rejects)


# the rows of a batch that carries only rejects
NO_ROWS = "SELECT NULL::VARCHAR AS _locator, NULL::VARCHAR AS _raw, NULL::BIGINT AS _ord LIMIT 0"


@dataclass
class BulkInput:
    """A file's rows for one raw table, in chunks (read lazily, so memory stays bounded)."""

    table: str
    chunks: Iterator[BulkChunk]

    @classmethod
    def exact(cls, table: str, rows: pa.Table | str) -> BulkInput:
        """A file read in one exact batch of ``rows`` (see :class:`BulkChunk`)."""
        return cls(table, iter([BulkChunk(rows, exact=True)]))


@dataclass
class ReadContext:
    """What an adapter reads: the file, the default time zone, and for batch readers a scratch
    folder (removed after the ingest) and the file's progress to report to."""

    path: Path
    default_tz: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    scratch: Path | None = None
    progress: Progress | None = None

    @property
    def name(self) -> str:
        return str(self.path)


class Sniff:
    """The first bytes of a file, and its parsed JSON when small, for content detection."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            self.head = fh.read(HEAD_BYTES)
        self.size = path.stat().st_size

    @cached_property
    def text(self) -> str:
        return self.head.decode("utf-8", errors="replace").lstrip("\ufeff")

    @cached_property
    def first_char(self) -> str:
        stripped = self.text.lstrip()
        return stripped[:1]

    @cached_property
    def doc(self) -> Any:
        """The whole file parsed as one JSON document, or None (too big, or not one document).
        NDJSON is not one document (its first line is a whole value with more after it): that is
        told from the head, without reading and parsing the whole file."""
        if self.size > WHOLE_DOC_LIMIT or self.first_char not in ("{", "[") or self.is_ndjson:
            return None
        try:
            return json.loads(self.path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            return None

    @cached_property
    def first_record(self) -> Any:
        """The first JSON value: the document, its first array element, or the first NDJSON line."""
        doc = self.doc
        if doc is not None:
            if isinstance(doc, list):
                return doc[0] if doc else None
            return doc
        for line in self.text.splitlines():
            if line.strip():
                try:
                    return json.loads(line)
                except ValueError:
                    return None
        return None

    @cached_property
    def is_ndjson(self) -> bool:
        """A first line that is a whole JSON object by itself, followed by more lines (a later
        line may be broken: that is a bad record, not another format)."""
        lines = [ln for ln in self.text.splitlines()[:5] if ln.strip()]
        if len(lines) < 2:
            return False
        try:
            return isinstance(json.loads(lines[0]), dict)
        except ValueError:
            return False


class Adapter:
    """Base of every adapter. Subclasses set ``kind`` and implement ``detect`` and ``read``."""

    kind: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def detect(self, sniff: Sniff) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, ctx: ReadContext) -> Iterator[Record]:  # pragma: no cover - interface
        raise NotImplementedError


def all_adapters() -> dict[str, Adapter]:
    """Every adapter in this package, by kind."""
    import ops_warehouse.sources as pkg

    found: dict[str, Adapter] = {}
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        adapters = getattr(module, "ADAPTERS", None) or [getattr(module, "ADAPTER", None)]
        for adapter in adapters:
            if adapter is not None:
                found[adapter.kind] = adapter
    return dict(sorted(found.items()))


def adapters_for(kind: str | None) -> dict[str, Adapter]:
    """The adapter of ``kind`` alone when its module is named after it (``pagerduty-incidents`` in
    ``pagerduty_incidents``), without importing the others; every adapter otherwise (a file to
    detect, or a kind to refuse with the list of known ones)."""
    if kind is not None and kind.replace("-", "").isalnum():
        try:
            module = importlib.import_module(f"{__package__}.{kind.replace('-', '_')}")
        except ImportError:
            module = None
        adapter = getattr(module, "ADAPTER", None)
        if adapter is not None and adapter.kind == kind:
            return {kind: adapter}
    return all_adapters()


# ---------------------------------------------------------------- helpers shared by adapters


def read_text(path: Path) -> str:
    """The file as UTF-8 text; invalid bytes are a file error naming their offset."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text: invalid byte at offset {exc.start}") from exc


def load_json(path: Path) -> Any:
    """The whole file as one JSON document, or a FileError naming line and column."""
    text = read_text(path)
    if not text.strip():
        raise FileError("empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


def iter_ndjson(path: Path) -> Iterator[tuple[int, Any, str]]:
    """Each line of an NDJSON file as (line number, value, raw line); a bad line is a Reject-able
    ``ValueError`` value in place of the parsed value."""
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield (
                    lineno,
                    ValueError(f"not UTF-8: invalid byte at offset {exc.start} of the line"),
                    raw.decode("utf-8", errors="replace"),
                )
                continue
            try:
                yield lineno, json.loads(text), text.rstrip("\n")
            except json.JSONDecodeError as exc:
                yield lineno, ValueError(f"invalid JSON at column {exc.colno}: {exc.msg}"), text.rstrip("\n")


def records_of(doc: Any, *wrappers: str) -> tuple[list[Any], str]:
    """The list of records in a document that is a bare array or an object wrapping one under any of
    ``wrappers`` (e.g. ``incidents``). Returns the list and its JSON pointer prefix."""
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, dict):
        for key in wrappers:
            if isinstance(doc.get(key), list):
                return doc[key], f"/{key}"
        return [doc], None  # type: ignore[return-value]
    raise FileError(f"expected a JSON array or object, got {type(doc).__name__}")


def pointer(prefix: str | None, index: int) -> str:
    """JSON pointer of a record: ``/incidents/3``, ``/3``, or ``/`` for a lone object."""
    if prefix is None:
        return "/"
    return f"{prefix}/{index}"


def pointed_records(doc: Any, *wrappers: str) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, record) for each record of a document that is a bare array, an object wrapping
    one under any of ``wrappers``, or a lone object (see :func:`records_of`).

    >>> list(pointed_records({"issues": [{"key": "A-1"}, {"key": "A-2"}]}, "issues"))
    [('/issues/0', {'key': 'A-1'}), ('/issues/1', {'key': 'A-2'})]
    >>> list(pointed_records({"key": "A-1"}, "issues"))
    [('/', {'key': 'A-1'})]
    """
    records, prefix = records_of(doc, *wrappers)
    for i, rec in enumerate(records):
        yield pointer(prefix, i), rec


def child(locator: str, *parts: str | int) -> str:
    """The locator of a part of a record: ``/0`` + (alerts, 2) -> ``/0/alerts/2``;
    ``line 3`` -> ``line 3 /alerts/2``; ``/`` -> ``/alerts/2``."""
    suffix = "/" + "/".join(str(p) for p in parts)
    if locator == "/":
        return suffix
    if locator.startswith("line "):
        return f"{locator} {suffix}"
    return locator + suffix


def raw_json(value: Any, limit: int = 20_000) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def labels_json(labels: dict[str, Any]) -> str:
    """Series labels as the lake stores them: a JSON object with sorted keys and text values."""
    return json.dumps({str(k): str(v) for k, v in labels.items()}, sort_keys=True, separators=(",", ":"))


_PRIORITY_SEVERITY = {"p1": "sev1", "p2": "sev2", "p3": "sev3", "p4": "sev4", "p5": "sev4"}
_URGENCY_SEVERITY = {"high": "sev2", "low": "sev3"}


def normalize_severity(
    *, priority: str | None = None, urgency: str | None = None, labels: Iterable[str] = ()
) -> str | None:
    """Severity as sev1..sev4 (METRICS.md): priority P1..P5 first, then a ``sev1``.. label, then
    urgency (high -> sev2, low -> sev3).

    >>> normalize_severity(priority="P2", urgency="low")
    'sev2'
    >>> normalize_severity(urgency="high")
    'sev2'
    >>> normalize_severity(labels=["bug", "SEV1"])
    'sev1'
    >>> normalize_severity() is None
    True
    """
    if priority:
        p = str(priority).strip().lower()
        if p in _PRIORITY_SEVERITY:
            return _PRIORITY_SEVERITY[p]
    for label in labels:
        lab = str(label).strip().lower().replace("-", "").replace(" ", "")
        if lab in ("sev1", "sev2", "sev3", "sev4"):
            return lab
        if lab.startswith("severity:") and lab[9:] in ("sev1", "sev2", "sev3", "sev4"):
            return lab[9:]
    if urgency:
        u = str(urgency).strip().lower()
        if u in _URGENCY_SEVERITY:
            return _URGENCY_SEVERITY[u]
    return None


# ---------------------------------------------------------------- field helpers for adapters


class BadRecord(ValueError):
    """A record (or one value, sample or point of it) that cannot be used; the message is its
    quarantine reason. Adapters, their mappers and the ingestion contract all raise this one type."""


def text(value: Any) -> str | None:
    """A non-empty string (stripped), else None: a number, boolean or object is not text.

    >>> text("  api "), text("   "), text(42), text({"a": 1})
    ('api', None, None, None)
    """
    return (value.strip() or None) if isinstance(value, str) else None


def timestamp_field(value: Any, name: str, tz: str | None) -> datetime | None:
    """A UTC timestamp, None when absent; naive ones are read in ``tz``; a bad one is a
    :class:`BadRecord` naming the field."""
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value, default_tz=tz)
    except TimestampError as exc:
        raise BadRecord(f"{name}: {exc}") from None


def one_of(value: Any, name: str, allowed: tuple[str, ...], *, upper: bool = False) -> str:
    """A required enum value, case-normalized; anything else is a :class:`BadRecord`."""
    got = text(value)
    if got is None:
        raise BadRecord(f"{name}: required but missing")
    norm = got.upper() if upper else got.lower()
    if norm not in allowed:
        raise BadRecord(f"{name}: {got!r} is not one of {', '.join(allowed)}")
    return norm
