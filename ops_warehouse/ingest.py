"""Ingestion: export files in, raw Parquet and quarantine out, every row accounted for.

For each file: detect its kind (or take the one given), let the adapter read it record by record,
check every row against its raw table's contract, stage the good rows as Parquet chunks, and only
when the whole file was read, merge them into the lake under the lake lock. A file that cannot be
read at all leaves nothing behind. For every file::

    rows read = loaded + duplicates + quarantined
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.catalog import CatalogError, catalog_file_note
from ops_warehouse.contract_sql import BulkError, NotExact, stage_bulk
from ops_warehouse.home import DataHome
from ops_warehouse.lake.duck_types import arrow_row
from ops_warehouse.lake.store import Lake
from ops_warehouse.progress import Progress
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    BulkChunk,
    BulkInput,
    FileError,
    ReadContext,
    Reject,
    Sniff,
    adapters_for,
    all_adapters,
    raw_json,
)
from ops_warehouse.tables import INGEST_LOG, RAW_TABLES, REJECTED_ROWS, TS, RawTable
from ops_warehouse.timeutil import TimestampError, parse_date, parse_timestamp

log = logging.getLogger(__name__)

CHUNK_ROWS = 100_000


@dataclass
class FileReport:
    file: str
    kind: str | None
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    error: str | None = None
    # what a file that is not an export (a service catalog) was recognized as
    note: str | None = None
    # raw table -> the day partitions this file changed ("" for an unpartitioned table)
    partitions: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def balanced(self) -> bool:
        return self.read == self.loaded + self.duplicates + self.quarantined

    def line(self) -> str:
        if self.error:
            return f"{self.file}: error: {self.error}"
        if self.note:
            return f"{self.file} [{self.kind}]: {self.note}"
        return (
            f"{self.file} [{self.kind}]: read {self.read}, loaded {self.loaded}, "
            f"duplicates {self.duplicates}, quarantined {self.quarantined}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- contract checks


_TRUE = frozenset({"true", "t", "1", "yes", "y"})
_FALSE = frozenset({"false", "f", "0", "no", "n", ""})
_UTC = UTC


def _to_ts(name: str, value: Any, default_tz: str | None) -> datetime:
    if type(value) is datetime:
        if value.tzinfo is _UTC:
            return value
        if value.tzinfo is None:
            if default_tz is None:
                raise BadRecord(f"{name}: timestamp {value.isoformat()} has no UTC offset")
            return parse_timestamp(value, default_tz=default_tz)
        return value.astimezone(_UTC)
    try:
        return parse_timestamp(value, default_tz=default_tz)
    except TimestampError as exc:
        raise BadRecord(f"{name}: {exc}") from None


def _to_str(name: str, value: Any, default_tz: str | None) -> str:
    if type(value) is str:
        if value.isascii() or _is_unicode(value):
            return value
        raise BadRecord(f"{name}: not valid Unicode text (a lone surrogate such as \\ud800, which JSON escapes allow)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadRecord(f"{name}: expected text, got {type(value).__name__}")


def _is_unicode(text: str) -> bool:
    """False for text no UTF-8 file can hold (a lone surrogate, read from a JSON escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_INT64 = range(-(2**63), 2**63)


def _to_int(name: str, value: Any, default_tz: str | None) -> int:
    if type(value) is int:
        n = value
    elif isinstance(value, bool):
        raise BadRecord(f"{name}: expected an integer, got a boolean")
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        n = int(value.strip())
    else:
        raise BadRecord(f"{name}: expected an integer, got {value!r}")
    if n not in _INT64:
        raise BadRecord(f"{name}: {value!r} is out of the 64-bit integer range")
    return n


def _to_float(name: str, value: Any, default_tz: str | None) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool):
        raise BadRecord(f"{name}: expected a number, got a boolean")
    if isinstance(value, int):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise BadRecord(f"{name}: expected a number, got {value!r}") from None
    raise BadRecord(f"{name}: expected a number, got {type(value).__name__}")


def _to_bool(name: str, value: Any, default_tz: str | None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    raise BadRecord(f"{name}: expected true or false, got {value!r}")


def _to_date(name: str, value: Any, default_tz: str | None) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_date(value)
    except TimestampError as exc:
        raise BadRecord(f"{name}: {exc}") from None


def _coercer(t: pa.DataType) -> Any:
    if t == TS:
        return _to_ts
    if pa.types.is_string(t):
        return _to_str
    if pa.types.is_int64(t):
        return _to_int
    if pa.types.is_float64(t):
        return _to_float
    if pa.types.is_boolean(t):
        return _to_bool
    if pa.types.is_date32(t):
        return _to_date
    raise TypeError(f"no coercion for {t}")  # pragma: no cover


class ContractChecker:
    """A raw table's contract, compiled once: types, required columns, allowed values."""

    def __init__(self, table: RawTable) -> None:
        self.table = table
        self.known = frozenset(table.column_names)
        self.columns = [
            (
                c.name,
                _coercer(c.type),
                c.required,
                frozenset(c.allowed) if c.allowed else None,
                c.allowed,
                pa.types.is_string(c.type),
                c.name != "value" and pa.types.is_float64(c.type),
            )
            for c in table.columns
            if c.name not in table.system_columns
        ]

    def check(self, values: dict[str, Any], default_tz: str | None) -> dict[str, Any]:
        """The row with its values coerced to the table's types, or BadRecord with the reason."""
        if not self.known.issuperset(values):
            unknown = next(k for k in values if k not in self.known)
            raise BadRecord(f"{unknown}: not a column of raw.{self.table.name}")
        out: dict[str, Any] = {}
        get = values.get
        for name, coerce, required, allowed, allowed_order, is_text, no_nan in self.columns:
            v = get(name)
            if v is None or (v == "" and not is_text):
                v = None
            else:
                v = coerce(name, v, default_tz)
                if required and is_text and not v.strip():
                    v = None
            if v is None:
                if required:
                    raise BadRecord(f"{name}: required but missing")
            elif allowed is not None and v not in allowed:
                raise BadRecord(f"{name}: {v!r} is not one of {', '.join(allowed_order)}")
            elif no_nan and v != v:
                raise BadRecord(f"{name}: NaN")
            out[name] = v
        return out


_CHECKERS: dict[str, ContractChecker] = {}


def checker(table: RawTable) -> ContractChecker:
    c = _CHECKERS.get(table.name)
    if c is None or c.table is not table:
        c = _CHECKERS[table.name] = ContractChecker(table)
    return c


def check_row(table: RawTable, values: dict[str, Any], default_tz: str | None) -> dict[str, Any]:
    """The row with its values coerced to the table's types, or BadRecord with the reason."""
    return checker(table).check(values, default_tz)


# ---------------------------------------------------------------- staging


class _Stager:
    """Buffers checked rows per table, column by column, and spills them to Parquet chunks in a
    staging folder. Constant columns (source file, ingest time) are filled in at spill time."""

    def __init__(self, folder: Path, source_file: str, ingested_at: datetime) -> None:
        self.folder = folder
        self.source_file = source_file
        self.ingested_at = ingested_at
        self.buffers: dict[str, dict[str, list[Any]]] = {}
        self.chunks: dict[str, list[Path]] = {}
        # exact columnar batches: table -> day -> final-shaped Parquet files (keys known unique)
        self.exact: dict[str, dict[str, list[Path]]] = {}
        self.ord = 0
        self.bulk_index = 0  # staged bulk chunks so far: their files are numbered across tables

    def add(self, table: RawTable, row: dict[str, Any]) -> None:
        self.ord += 1
        buf = self.buffers.get(table.name)
        if buf is None:
            buf = self.buffers[table.name] = {c: [] for c in _data_columns(table)}
            buf["_ord"] = []
        for name, values in buf.items():
            values.append(row.get(name))
        buf["_ord"][-1] = self.ord
        if len(buf["_ord"]) >= CHUNK_ROWS:
            self.flush(table)

    def flush(self, table: RawTable) -> None:
        buf = self.buffers.get(table.name)
        if not buf or not buf["_ord"]:
            return
        n = len(buf["_ord"])
        arrays = {
            name: pa.array(values, type=table.column(name).type) for name, values in buf.items() if name != "_ord"
        }
        arrays["_ord"] = pa.array(buf["_ord"], type=pa.int64())
        if "source_file" not in arrays:
            arrays["source_file"] = pa.array([self.source_file] * n, type=pa.string())
        if "ingested_at" not in arrays:
            arrays["ingested_at"] = pa.array([self.ingested_at] * n, type=TS)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{table.name}-{len(self.chunks.get(table.name, [])):05d}.parquet"
        pq.write_table(pa.table(arrays), path)
        self.chunks.setdefault(table.name, []).append(path)
        for values in buf.values():
            values.clear()

    def flush_all(self) -> None:
        for name in list(self.buffers):
            self.flush(RAW_TABLES[name] if name in RAW_TABLES else REJECTED_ROWS)


def _data_columns(table: RawTable) -> list[str]:
    """The columns a staged row carries itself (for the quarantine: its source file and time)."""
    return [c for c in table.column_names if c not in table.system_columns]


# ---------------------------------------------------------------- detection


def detect_kind(path: Path, adapters: dict[str, Adapter] | None = None) -> str:
    adapters = adapters or all_adapters()
    if path.stat().st_size == 0:
        raise FileError("empty file")
    sniff = Sniff(path)
    if not sniff.text.strip():
        raise FileError("empty file")
    matches = [kind for kind, a in adapters.items() if _safe_detect(a, sniff)]
    if not matches:
        raise FileError(
            f"could not tell which export this is from its content; pass --source KIND (one of: {', '.join(adapters)})"
        )
    if len(matches) > 1:
        raise FileError(f"the content fits more than one kind ({', '.join(matches)}); choose with --source KIND")
    return matches[0]


EMPTY_KIND = "empty"


def _no_records(path: Path) -> bool:
    """A JSON export holding no record: an empty array, or an object whose lists are all empty
    (and that has one at least), such as a page of an API with nothing in it.

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> def check(text):
    ...     (d / "x.json").write_text(text)
    ...     return _no_records(d / "x.json")
    >>> [check(t) for t in ('[]', '{"items": [], "total": 0}', '[{}]', '{"total": 0}', '{"a": [], "b": [1]}')]
    [True, True, False, False, False]
    """
    if path.stat().st_size == 0:
        return False
    try:
        doc = Sniff(path).doc
    except RecursionError:  # nested too deep to be an export; detection says what it is not
        return False
    if doc == []:
        return True
    lists = [v for v in doc.values() if isinstance(v, list)] if isinstance(doc, dict) else []
    return bool(lists) and not any(lists)


def _safe_detect(adapter: Adapter, sniff: Sniff) -> bool:
    try:
        return bool(adapter.detect(sniff))
    except Exception:  # a detector must never break ingestion of another kind
        log.debug("detector %s failed on %s", adapter.kind, sniff.path, exc_info=True)
        return False


# ---------------------------------------------------------------- the engine


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(path).parts):
                    yield f
        else:
            yield path


def ingest_paths(
    home: DataHome,
    paths: Iterable[str | Path],
    *,
    kind: str | None = None,
    default_tz: str | None = None,
) -> list[FileReport]:
    return [ingest_file(home, f, kind=kind, default_tz=default_tz) for f in iter_files(paths)]


def ingest_file(
    home: DataHome,
    path: str | Path,
    *,
    kind: str | None = None,
    default_tz: str | None = None,
) -> FileReport:
    """Ingest one file. Never raises for bad input: problems are in the report."""
    home.ensure()
    path = Path(path)
    name = str(path)
    report = FileReport(file=name, kind=kind)
    sha256: Future[str | None] | None = None
    progress = Progress(f"ingest {path.name}")
    adapters = adapters_for(kind)  # a named kind imports its own adapter alone
    ingested_at = datetime.now(UTC)
    staging = home.tmp / f"ingest-{uuid.uuid4().hex}"
    try:
        if not path.is_file():
            raise FileError("no such file" if not path.exists() else "not a regular file")
        if kind is None and (note := _catalog_note(home, path)) is not None:
            report.kind, report.note = CATALOG_KIND, note
            _log_error(home, report, path, ingested_at)
            return report
        if kind is None:
            try:
                kind = detect_kind(path, adapters)
            except FileError:
                if not _no_records(path):
                    raise
                # a quiet period's export (`[]`, `{"items": []}`) that no adapter recognises has
                # nothing to load: not an error
                report.kind, report.note = EMPTY_KIND, "an export with no records: nothing to load"
                _log_error(home, report, path, ingested_at)
                return report
            report.kind = kind
        if kind not in adapters:
            raise FileError(f"unknown source kind {kind!r}; one of: {', '.join(adapters)}")
        adapter = adapters[kind]
        # the log's checksum is worked out while the file is read (hashing lets go of the
        # interpreter lock), not in another read of the whole file at the end
        sha256 = _HASHING.submit(file_sha256, path)
        stager = _Stager(staging, str(path.resolve()), ingested_at)
        progress = Progress(f"ingest {path.name}", path.stat().st_size)
        ctx = ReadContext(path=path, default_tz=default_tz, scratch=staging / "adapter", progress=progress)
        last_locator = "the start"
        try:
            bulk = adapter.bulk(ctx) if hasattr(adapter, "bulk") else None
            # an adapter may hand over several tables' rows (a scan report: scans and findings)
            bulks = [] if bulk is None else bulk if isinstance(bulk, list) else [bulk]
            if bulks and not all(
                _stage_bulk(one, stager, report, kind=kind, default_tz=default_tz, progress=progress) for one in bulks
            ):
                bulk = None  # the columnar pass met something only the record-by-record reader can word
                report.read = report.duplicates = 0
                stager.chunks.clear()
                stager.exact.clear()
                stager.buffers.clear()
                shutil.rmtree(staging, ignore_errors=True)
            for rec in adapter.read(ctx) if bulk is None else ():
                report.read += 1
                if not report.read % 10_000:
                    progress.update(rows=report.read)
                last_locator = rec.locator
                if isinstance(rec, Reject):
                    _quarantine(stager, kind, rec.locator, rec.reason, rec.raw)
                    continue
                table = RAW_TABLES.get(rec.table)
                if table is None:
                    raise RuntimeError(f"adapter {kind} emitted a row for unknown table {rec.table!r}")
                try:
                    checked = check_row(table, rec.values, default_tz)
                except BadRecord as exc:
                    _quarantine(stager, kind, rec.locator, str(exc), rec.raw or raw_json(rec.values))
                    continue
                stager.add(table, checked)
        except FileError:
            raise
        except BulkError as exc:
            raise FileError(f"could not read the file: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise FileError(f"could not read past {last_locator}: {exc}") from exc
        except Exception as exc:  # an adapter bug must not lose the user's run
            # the report carries the message; the traceback is for debugging only
            log.debug("adapter %s failed on %s", kind, name, exc_info=True)
            raise FileError(f"could not read past {last_locator}: {type(exc).__name__}: {exc}") from exc
        stager.flush_all()
        progress.done()
        lake = Lake(home)
        quarantined_rows = 0
        with lake.lock():
            for table_name, by_day in stager.exact.items():
                result = lake.merge_exact(RAW_TABLES[table_name], by_day)
                if result.partitions_written:
                    report.partitions[table_name] = result.partitions_written
                report.loaded += result.loaded
                report.duplicates += result.duplicates
            for table_name, chunks in stager.chunks.items():
                if table_name == REJECTED_ROWS.name:
                    continue
                result = lake.merge(RAW_TABLES[table_name], chunks)
                if result.partitions_written:
                    report.partitions[table_name] = result.partitions_written
                report.loaded += result.loaded
                report.duplicates += result.duplicates
            q_chunks = stager.chunks.get(REJECTED_ROWS.name, [])
            if q_chunks:
                quarantined_rows = sum(pq.read_metadata(c).num_rows for c in q_chunks)
                lake.merge(REJECTED_ROWS, q_chunks)
            report.quarantined = quarantined_rows
            _log(lake, report, path, ingested_at, sha256)
    except FileError as exc:
        report.error = str(exc)
        report.loaded = report.duplicates = report.quarantined = 0
        report.partitions = {}
        _log_error(home, report, path, ingested_at, sha256)
    finally:
        progress.done()
        shutil.rmtree(staging, ignore_errors=True)
    return report


CATALOG_KIND = "catalog"


def _catalog_note(home: DataHome, path: Path) -> str | None:
    try:
        return catalog_file_note(path, home.catalog)
    except CatalogError as exc:
        raise FileError(f"a service catalog that cannot be used: {exc}") from None


def _stage_bulk(
    bulk: BulkInput, stager: _Stager, report: FileReport, *, kind: str, default_tz: str | None, progress: Progress
) -> bool:
    """Check a file in vectorized chunks; the staged files join the row-by-row ones. False when an
    exact chunk needs the record-by-record reader (see ``BulkChunk.exact``)."""
    table = RAW_TABLES[bulk.table]
    for chunk in bulk.chunks:
        try:
            result = stage_bulk(
                chunk,
                table,
                kind=kind,
                default_tz=default_tz,
                folder=stager.folder,
                source_file=stager.source_file,
                ingested_at=stager.ingested_at,
                index=stager.bulk_index,
                progress=progress,
            )
        except NotExact as exc:
            log.debug("columnar pass of %s gave way to the record-by-record reader: %s", stager.source_file, exc)
            return False
        stager.bulk_index += 1
        report.read += result.read + chunk.duplicates
        report.duplicates += chunk.duplicates
        progress.update(rows=report.read)
        if result.refused and not _quarantine_refused(chunk, result.refused, stager, kind=kind, default_tz=default_tz):
            return False
        if result.by_day is not None:
            for day, files in result.by_day.items():
                stager.exact.setdefault(table.name, {}).setdefault(day, []).extend(files)
        if result.good is not None:
            stager.chunks.setdefault(table.name, []).append(result.good)
        if result.bad is not None:
            stager.chunks.setdefault(REJECTED_ROWS.name, []).append(result.bad)
    return True


def _quarantine_refused(
    chunk: BulkChunk, refused: list[int], stager: _Stager, *, kind: str, default_tz: str | None
) -> bool:
    """Quarantine the rows the contract SQL refused as the record-by-record reader does: the
    adapter's own records of them, checked row by row. False when that check accepts one of them
    or the records cannot be had (the file is read record by record then)."""
    assert chunk.records_at is not None
    seen = 0
    try:
        for rec in chunk.records_at(refused):
            seen += 1
            if isinstance(rec, Reject):
                _quarantine(stager, kind, rec.locator, rec.reason, rec.raw)
                continue
            try:
                check_row(RAW_TABLES[rec.table], rec.values, default_tz)
            except BadRecord as exc:
                _quarantine(stager, kind, rec.locator, str(exc), rec.raw or raw_json(rec.values))
                continue
            log.debug("the contract SQL refused %s, which the row check accepts", rec.locator)
            return False
    except Exception:  # the record-by-record reader reports it in its own words
        log.debug("records of %s could not be re-read", stager.source_file, exc_info=True)
        return False
    return seen == len(refused)


def _quarantine(stager: _Stager, kind: str, locator: str, reason: str, raw: str | None) -> None:
    stager.add(
        REJECTED_ROWS,
        {
            "source_file": stager.source_file,
            "source_kind": kind,
            "locator": _storable(locator),
            "reason": _storable(reason),
            "raw": _storable(raw),
            "ingested_at": stager.ingested_at,
        },
    )


def _storable(text: str | None) -> str | None:
    """Quarantined text as it came, but a lone surrogate (no UTF-8 file can hold one) written as
    its escape, ``\\ud800``, so the bad record is kept instead of failing the file."""
    if text is None or text.isascii() or _is_unicode(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


# checksums of the files being ingested, each on a thread of its own
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ingest-sha256")


def file_sha256(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _log(
    lake: Lake, report: FileReport, path: Path, ingested_at: datetime, sha256: Future[str | None] | None = None
) -> None:
    """Record the ingest of ``path``; ``sha256``: its checksum under way, if it was started."""
    row = {
        "source_file": report.file,
        "source_kind": report.kind,
        "sha256": sha256.result() if sha256 is not None else file_sha256(path),
        "rows_read": report.read,
        "rows_loaded": report.loaded,
        "rows_duplicate": report.duplicates,
        "rows_quarantined": report.quarantined,
        "error": report.error,
        "ingested_at": ingested_at,
    }
    lake.append(INGEST_LOG, arrow_row(INGEST_LOG.schema, row))


def _log_error(
    home: DataHome, report: FileReport, path: Path, ingested_at: datetime, sha256: Future[str | None] | None = None
) -> None:
    lake = Lake(home)
    try:
        with lake.lock():
            _log(lake, report, path, ingested_at, sha256)
    except OSError:  # the log is best effort when the file itself failed
        log.warning("could not record the failed ingest of %s", path, exc_info=True)


def reports_json(reports: list[FileReport]) -> str:
    return json.dumps([r.as_dict() for r in reports], indent=2)
