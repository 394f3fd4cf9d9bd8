"""``canonical``: CSV, NDJSON, JSON or Parquet files with the core tables' own columns.

Which table a file feeds is told by its columns (see ``TABLES`` below and the README's table of
canonical columns). Columns not listed are ignored. Timestamps must carry a UTC offset unless a
default time zone is given (``ingest --tz Europe/Berlin``). Booleans are ``true``/``false``.

>>> sorted(TABLES)  # doctest: +NORMALIZE_WHITESPACE
['action_items', 'alerts', 'changes', 'deployments', 'incidents', 'metric_samples', 'postmortems',
 'slo_definitions', 'vulnerabilities']
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ops_warehouse.duck import connect, quote_ident, quote_literal
from ops_warehouse.sources._metrics import SCAN_BLOCK
from ops_warehouse.sources.base import (
    Adapter,
    BulkChunk,
    BulkInput,
    FileError,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    iter_ndjson,
    labels_json,
    load_json,
    raw_json,
)
from ops_warehouse.tables import RAW_TABLES

# table -> (columns that identify it, columns read from the file)
TABLES: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    "deployments": (
        frozenset({"deploy_id", "environment", "started_at"}),
        (
            "deploy_id",
            "service",
            "team",
            "repo",
            "environment",
            "sha",
            "ref",
            "started_at",
            "finished_at",
            "status",
            "is_rollback",
            "is_hotfix",
            "updated_at",
        ),
    ),
    "changes": (
        frozenset({"change_id", "authored_at"}),
        ("change_id", "service", "repo", "authored_at", "merged_at", "pr_number", "deploy_id", "updated_at"),
    ),
    "incidents": (
        frozenset({"incident_id", "created_at"}),
        (
            "incident_id",
            "service",
            "team",
            "severity",
            "priority",
            "urgency",
            "title",
            "status",
            "dedup_key",
            "created_at",
            "acknowledged_at",
            "resolved_at",
            "escalations",
            "caused_by_deploy_id",
            "caused_by_sha",
            "updated_at",
        ),
    ),
    "action_items": (
        frozenset({"item_id", "created_at", "status"}),
        (
            "item_id",
            "incident_id",
            "title",
            "owner",
            "team",
            "category",
            "created_at",
            "due_date",
            "completed_at",
            "status",
            "resolution",
            "updated_at",
        ),
    ),
    "postmortems": (
        frozenset({"postmortem_id", "incident_id", "created_at"}),
        ("postmortem_id", "incident_id", "title", "owner", "created_at", "published_at", "status", "updated_at"),
    ),
    "metric_samples": (
        frozenset({"metric", "ts", "value"}),
        ("metric", "labels", "ts", "value", "kind"),
    ),
    "slo_definitions": (
        frozenset({"slo_name", "target"}),
        (
            "slo_name",
            "service",
            "budgeting_method",
            "target",
            "time_window",
            "is_rolling",
            "time_zone",
            "good_query",
            "bad_query",
            "total_query",
            "time_slice_target",
            "time_slice_window",
            "description",
        ),
    ),
    "vulnerabilities": (
        frozenset({"finding_id", "opened_at"}),
        (
            "finding_id",
            "service",
            "repo",
            "severity",
            "package",
            "advisory_id",
            "title",
            "state",
            "opened_at",
            "fixed_at",
            "dismissed_at",
            "updated_at",
        ),
    ),
    "alerts": (
        frozenset({"fingerprint", "started_at"}),
        (
            "fingerprint",
            "alert_id",
            "alertname",
            "service",
            "severity",
            "urgency",
            "status",
            "started_at",
            "ended_at",
            "incident_ref",
            "summary",
            "labels",
            "updated_at",
        ),
    ),
}


def table_for(columns: set[str]) -> str | None:
    """The table whose identifying columns the file has; when several fit (an action-item file
    also carries incident_id), the one identified by more columns wins.

    >>> table_for({"item_id", "incident_id", "created_at", "status"})
    'action_items'
    >>> table_for({"incident_id", "created_at"})
    'incidents'
    """
    fits = sorted((len(ident), name) for name, (ident, _) in TABLES.items() if ident <= columns)
    if not fits or (len(fits) > 1 and fits[-1][0] == fits[-2][0]):
        return None
    return fits[-1][1]


def _header(sniff: Sniff) -> set[str] | None:
    if sniff.head[:4] == b"PAR1":
        try:
            return set(pq.read_schema(sniff.path).names)
        except Exception:
            return None
    rec = sniff.first_record
    if isinstance(rec, dict):
        return set(rec)
    if sniff.first_char in ("{", "["):
        return None
    first_line = sniff.text.splitlines()[0] if sniff.text else ""
    try:
        return {c.strip() for c in next(csv.reader(io.StringIO(first_line)))}
    except (csv.Error, StopIteration):
        return None


BULK_TABLES = ("deployments", "changes", "incidents", "action_items")
CSV_CHUNK_ROWS = 200_000


class CanonicalAdapter(Adapter):
    kind = "canonical"
    description = "CSV, NDJSON, JSON or Parquet with the core tables' columns"

    def bulk(self, ctx: ReadContext) -> BulkInput | None:
        """CSV and Parquet files of the event tables are checked in one vectorized pass
        (``ops_warehouse.contract_sql``); other shapes go row by row through :meth:`read`. A CSV
        file is read by DuckDB's ``read_csv`` straight into that pass when it is plain enough that
        its line numbers and fields are certainly the ones ``csv.reader`` would give (see
        :func:`_csv_one_pass`), otherwise parsed by ``csv.reader`` into Arrow chunks."""
        path = ctx.path
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic == b"PAR1":
            return _parquet_bulk(self, path, ctx.default_tz)
        sniff = Sniff(path)
        if sniff.is_ndjson:
            header = _header(sniff)
            table = table_for(header) if header else None
            if table not in BULK_TABLES or ctx.scratch is None or not _plain_ndjson(path):
                return None
            return BulkInput.exact(table, _ndjson_sql(path, table))
        if sniff.first_char in ("{", "["):
            return None
        header = _header(sniff)
        table = table_for(header) if header else None
        if table not in BULK_TABLES:
            return None
        if ctx.scratch is not None:
            one_pass = _csv_one_pass(self, path, TABLES[table][1], ctx.scratch)
            if one_pass is not None:
                return BulkInput(table, iter([one_pass]))
        return BulkInput(table, _csv_chunks(path, TABLES[table][1]))

    def detect(self, sniff: Sniff) -> bool:
        cols = _header(sniff)
        return bool(cols) and table_for(cols) is not None

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        path = ctx.path
        with open(path, "rb") as fh:
            magic = fh.read(4)
        if magic == b"PAR1":
            yield from self._rows(_parquet_records(path))
            return
        sniff = Sniff(path)
        if not sniff.text.strip():
            raise FileError("empty file")
        if sniff.is_ndjson:
            yield from self._rows(_ndjson_records(path))
        elif sniff.first_char in ("{", "["):
            doc = load_json(path)
            items = doc if isinstance(doc, list) else [doc]
            yield from self._rows((f"/{i}", item, None) for i, item in enumerate(items))
        else:
            yield from self._rows(_csv_records(path))

    def _rows(self, records: Iterator[tuple[str, Any, str | None]]) -> Iterator[Record]:
        table: str | None = None
        for locator, rec, raw in records:
            if isinstance(rec, ValueError):
                yield Reject(locator, str(rec), raw)
                continue
            if not isinstance(rec, dict):
                yield Reject(locator, f"expected an object with named columns, got {type(rec).__name__}", raw)
                continue
            if table is None:
                table = table_for(set(rec))
                if table is None:
                    raise FileError(
                        f"{locator}: the columns ({', '.join(sorted(rec))}) match no canonical table; "
                        "see the README's canonical format"
                    )
            yield _to_row(table, rec, locator, raw)


def _to_row(table: str, rec: dict[str, Any], locator: str, raw: str | None) -> Record:
    wanted = TABLES[table][1]
    values = {k: _blank_to_none(rec.get(k)) for k in wanted if k in rec}
    raw = raw if raw is not None else raw_json(rec)
    if table == "metric_samples":
        labels = values.get("labels")
        if isinstance(labels, str):
            try:
                labels = json.loads(labels) if labels.strip() else {}
            except ValueError:
                return Reject(locator, "labels: not a JSON object", raw)
        if labels is None:
            labels = {}
        if not isinstance(labels, dict):
            return Reject(locator, "labels: not a JSON object", raw)
        values["labels"] = labels_json(labels)
    if table == "slo_definitions":
        return _slo_row(values, locator, raw)
    values["source"] = "canonical"
    return Row(table, values, locator, raw)


def _slo_row(values: dict[str, Any], locator: str, raw: str) -> Record:
    from ops_warehouse.sources.slo_spec import SpecError, normalize_canonical

    try:
        spec = normalize_canonical(values)
    except SpecError as exc:
        return Reject(locator, str(exc), raw)
    return Row(
        "slo_definitions",
        {"slo_name": spec["name"], "service": spec.get("service"), "source": "canonical", "spec": json.dumps(spec)},
        locator,
        raw,
    )


def _blank_to_none(v: Any) -> Any:
    return None if isinstance(v, str) and v.strip() == "" else v


def _csv_rows(path: Path) -> Iterator[tuple[int, list[str], str]]:
    """(line number, fields, raw text) of every non-blank line, the header first (line 1)."""
    start = 0
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            for row in reader:
                line = start + 1
                start = reader.line_num
                if line > 1 and not any(cell.strip() for cell in row):
                    continue
                yield line, row, ",".join(row)
    except UnicodeDecodeError as exc:
        raise FileError(f"not UTF-8 text: invalid byte at offset {exc.start} (after line {start})") from exc
    except csv.Error as exc:
        raise FileError(f"malformed CSV: {exc}") from exc


def _csv_header(rows: Iterator[tuple[int, list[str], str]]) -> list[str]:
    try:
        _, header, _ = next(rows)
    except StopIteration:
        raise FileError("empty file") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise FileError("line 1: the header repeats a column name")
    return header


def _csv_records(path: Path, only: list[int] | None = None) -> Iterator[tuple[str, Any, str | None]]:
    """(locator, record, raw text) of every row, or of the rows on the lines ``only`` (ascending)."""
    rows = _csv_rows(path)
    header = _csv_header(rows)
    k = 0  # the next line of ``only`` to give
    for line, row, raw in rows:
        if only is not None:
            if k == len(only):
                return
            if line != only[k]:
                continue
            k += 1
        if len(row) != len(header):
            yield f"line {line}", ValueError(f"expected {len(header)} fields, found {len(row)}"), raw
            continue
        yield f"line {line}", dict(zip(header, row, strict=False)), raw


def _csv_chunks(path: Path, wanted: tuple[str, ...]) -> Iterator[BulkChunk]:
    """The CSV's wanted columns as Arrow text columns, in chunks, with line numbers; rows with the
    wrong number of fields are rejected here, as the row-by-row reader does."""
    rows = _csv_rows(path)
    header = _csv_header(rows)
    index = [(name, i) for i, name in enumerate(header) if name in wanted]
    columns: dict[str, list[str]] = {name: [] for name, _ in index}
    lines: list[int] = []
    raws: list[str] = []
    rejects: list[Reject] = []

    def flush() -> BulkChunk:
        arrays = {name: pa.array(values, pa.string()) for name, values in columns.items()}
        arrays["source"] = pa.array(["canonical"] * len(lines), pa.string())
        arrays["_locator"] = pa.array([f"line {n}" for n in lines], pa.string())
        arrays["_raw"] = pa.array(raws, pa.string())
        arrays["_ord"] = pa.array(lines, pa.int64())
        chunk = BulkChunk(pa.table(arrays), list(rejects))
        for values in columns.values():
            values.clear()
        lines.clear()
        raws.clear()
        rejects.clear()
        return chunk

    width = len(header)
    for line, row, raw in rows:
        if len(row) != width:
            rejects.append(Reject(f"line {line}", f"expected {width} fields, found {len(row)}", raw))
        else:
            for name, i in index:
                columns[name].append(row[i])
            lines.append(line)
            raws.append(raw)
        if len(lines) + len(rejects) >= CSV_CHUNK_ROWS:
            yield flush()
    if lines or rejects:
        yield flush()


# ---------------------------------------------------------------- the columnar CSV pass

CSV_MEMORY = "1GB"
# what str.strip() removes, as an RE2 class: a row of such cells only is a blank row
_PY_SPACE = r"[\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*"
# whitespace next to a quote, where csv.reader keeps the quote as text and DuckDB may not
_SPACED_QUOTE = re.compile(rb'(?:^|,)[ \t\f\v]+"|"[ \t\f\v]+(?:,|\r?$)', re.MULTILINE)


def _csv_one_pass(adapter: CanonicalAdapter, path: Path, wanted: tuple[str, ...], scratch: Path) -> BulkChunk | None:
    """The file as one batch for the contract SQL, straight from ``read_csv`` (text columns, the
    line number as ``_ord``, blank rows left out), the rows it refuses worded by the
    record-by-record check (``records_at``); None when the file is not plain enough to be sure its
    records and line numbers are the ones ``csv.reader`` gives: a header that is not one line or
    repeats a name, whitespace next to a quote, a lone carriage return, a NUL byte, blank lines
    (told from the bytes), or, told by a first cheap pass of ``read_csv``, a field holding a quote
    or a line break, anything ``read_csv`` refuses (wrong field counts, bytes that are not UTF-8)
    or a number of records that is not one per line. Each record is then one line of the file, so
    the n-th record read is on line n + 1."""
    header = _plain_header(path)
    lines = _plain_line_count(path) if header is not None else None
    if header is None or lines is None:
        return None
    columns = "{" + ", ".join(f"{quote_literal(name)}: 'VARCHAR'" for name in header) + "}"
    reader = (
        f"read_csv({quote_literal(str(path))}, header = true, all_varchar = true, delim = ',', quote = '\"', "
        f"escape = '\"', strict_mode = true, null_padding = false, auto_detect = false, columns = {columns})"
    )
    names = [quote_ident(name) for name in header]
    odd = " OR ".join(f"contains({n}, '\"') OR contains({n}, chr(10)) OR contains({n}, chr(13))" for n in names)
    con = connect(memory_limit=CSV_MEMORY, temp_dir=scratch / "duckdb")
    try:
        found = con.execute(f"SELECT count(*), coalesce(bool_or({odd}), false) FROM {reader}").fetchone()
    except duckdb.Error:  # csv.reader words what DuckDB refuses (or reads it)
        return None
    finally:
        con.close()
    if found is None or found[1] or found[0] + 1 != lines:
        return None
    selected = [quote_ident(name) for name in wanted if name in header]
    cells = " || ".join(f"coalesce({n}, '')" for n in names)
    # a row that starts with a printable ASCII character is not blank: only the others pay the regex
    blank = f"regexp_full_match({cells}, {quote_literal(_PY_SPACE)})"
    kept = f"unicode(coalesce({names[0]}, '')) BETWEEN 33 AND 126 OR NOT {blank}"
    select = (
        f"SELECT {', '.join(selected)}, 'canonical' AS source, false AS _unclean, _line AS _ord "
        f"FROM (SELECT *, row_number() OVER () + 1 AS _line FROM {reader}) WHERE {kept}"
    )

    def records_at(ords: list[int]) -> Iterator[Record]:
        return adapter._rows(_csv_records(path, ords))

    return BulkChunk(select, records_at=records_at)


def _plain_header(path: Path) -> list[str] | None:
    """The header's column names when it is one line of distinct, non-empty names."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            names = [h.strip() for h in next(reader)]
            if reader.line_num != 1:
                return None
    except (csv.Error, UnicodeDecodeError, StopIteration):
        return None
    if not all(names) or len(set(names)) != len(names):
        return None
    return names


def _plain_line_count(path: Path) -> int | None:
    """The file's number of lines as ``csv.reader`` counts them, or None when its bytes hold what
    the columnar pass must not meet (see :func:`_csv_one_pass`)."""
    lines = 0
    tail = b""  # the end of the previous block, so what spans two blocks is seen
    with open(path, "rb") as fh:
        while block := fh.read(SCAN_BLOCK):
            if block.endswith(b"\r"):
                block += fh.read(1)
            window = tail + block
            carriage = b"\r" in window
            if (
                b"\x00" in block
                or (carriage and block.count(b"\r") != block.count(b"\r\n"))
                or b"\n\n" in window
                or (carriage and b"\n\r\n" in window)
                or window.startswith((b"\n", b"\r\n"))
            ):
                return None
            if (
                any(space in window for space in (b" ", b"\t", b"\f", b"\v"))  # one byte: a quick scan
                and any(p in window for p in (b' "', b'" ', b'"\t', b'\t"'))
                and _SPACED_QUOTE.search(window)
            ):
                return None
            lines += block.count(b"\n")
            tail = block[-256:]
    return lines + (0 if tail.endswith(b"\n") else 1)


# ---------------------------------------------------------------- the columnar NDJSON pass

# bytes json.loads refuses inside a string (or reads as whitespace where read_json splits lines)
_NDJSON_ODD = re.compile(rb"[\x00-\x09\x0b\x0c\x0e-\x1f]|\r(?!\n)")


def _plain_ndjson(path: Path) -> bool:
    """No byte where ``read_json`` and ``json.loads`` might part ways (control bytes, a lone
    carriage return, a byte order mark)."""
    with open(path, "rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            return False
        fh.seek(0)
        while block := fh.read(SCAN_BLOCK):
            if block.endswith(b"\r"):
                block += fh.read(1)
            if _NDJSON_ODD.search(block):
                return False
    return True


def _ndjson_sql(path: Path, table: str) -> str:
    """An exact batch (see ``BulkChunk.exact``) of an NDJSON file's records: text values as read,
    ``true``/``false`` for boolean columns and integers for integer columns as their text, which the
    contract reads as the record-by-record check reads the JSON values. Any other value (a number
    for a text column, an object...) is unclean: the file is read record by record then, as it is
    when ``read_json`` refuses a line or the contract rejects a record."""
    raw_table = RAW_TABLES[table]
    wanted = TABLES[table][1]
    values, clean = [], []
    for name in wanted:
        col = quote_ident(name)
        kind = raw_table.column(name).type
        allowed = ["'VARCHAR'", "'NULL'"]
        if pa.types.is_boolean(kind):
            allowed.append("'BOOLEAN'")
        elif pa.types.is_integer(kind):
            allowed += ["'BIGINT'", "'UBIGINT'"]
        values.append(f"CASE WHEN json_type({col}) <> 'NULL' THEN {col} ->> '$' END AS {col}")
        clean.append(f"({col} IS NULL OR json_type({col}) IN ({', '.join(allowed)}))")
    columns = "{" + ", ".join(f"{quote_literal(name)}: 'JSON'" for name in wanted) + "}"
    return (
        f"SELECT {', '.join(values)}, 'canonical' AS source, NOT ({' AND '.join(clean)}) AS _unclean "
        f"FROM read_json({quote_literal(str(path))}, format = 'newline_delimited', records = true, "
        f"columns = {columns})"
    )


def _ndjson_records(path: Path) -> Iterator[tuple[str, Any, str | None]]:
    for lineno, value, raw in iter_ndjson(path):
        yield f"line {lineno}", value, raw


# ---------------------------------------------------------------- the columnar Parquet pass

# the instants Python's datetime holds in any time zone: a typed value past them is unclean
_PY_TS_RANGE = "TIMESTAMPTZ '0001-01-02 00:00:00+00' AND TIMESTAMPTZ '9999-12-30 00:00:00+00'"


def _parquet_bulk(adapter: CanonicalAdapter, path: Path, default_tz: str | None) -> BulkInput | None:
    """The file's rows for the contract SQL, straight from ``read_parquet``, when every column
    read has a type the SQL judges as the record-by-record check judges its Python value (see
    :func:`_judged_by_sql`); the rows it refuses are worded by that check (``records_at``)."""
    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except Exception as exc:
        raise FileError(f"not a readable Parquet file: {exc}") from exc
    names = schema.names
    table = table_for(set(names))
    if table not in BULK_TABLES or len(set(names)) != len(names):
        return None
    raw_table = RAW_TABLES[table]
    wanted = [c for c in TABLES[table][1] if c in names]
    kinds = {c: schema.field(c).type for c in wanted}
    if not all(_judged_by_sql(kinds[c], raw_table.column(c).type, default_tz) for c in wanted):
        return None
    # typed times and dates past what Python holds: the record-by-record reader fails on them
    unclean = [
        f"{quote_ident(c)} NOT BETWEEN {_PY_TS_RANGE}"
        if pa.types.is_timestamp(kinds[c])
        else f"{quote_ident(c)} NOT BETWEEN DATE '0001-01-01' AND DATE '9999-12-31'"
        for c in wanted
        if pa.types.is_timestamp(kinds[c]) or pa.types.is_date32(kinds[c])
    ]
    select = (
        f"SELECT {', '.join(quote_ident(c) for c in wanted)}, 'canonical' AS source, "
        f"coalesce({' OR '.join(unclean) or 'false'}, false) AS _unclean, file_row_number AS _ord "
        f"FROM read_parquet({quote_literal(str(path))}, file_row_number = true)"
    )

    def records_at(ords: list[int]) -> Iterator[Record]:
        return adapter._rows(_parquet_records(path, ords))

    chunk = BulkChunk(select, records_at=records_at, scans_in_parallel=meta.num_row_groups > 1)
    return BulkInput(table, iter([chunk]))


def _judged_by_sql(kind: pa.DataType, contract: pa.DataType, default_tz: str | None) -> bool:
    """Whether the contract SQL reads a Parquet column of type ``kind`` into a column of type
    ``contract`` as the record-by-record check reads the Python values pyarrow gives: text (as
    text is read from CSV), and the types that map one to one. Not so, for example: numbers for
    text (``str`` and a cast word floats differently), integers for booleans (only 0 and 1 are),
    nanosecond or naive timestamps given a time zone, timestamps for dates.

    >>> _judged_by_sql(pa.int32(), pa.string(), None), _judged_by_sql(pa.float64(), pa.string(), None)
    (True, False)
    >>> utc = pa.timestamp("us", tz="UTC")
    >>> _judged_by_sql(pa.timestamp("us"), utc, None), _judged_by_sql(pa.timestamp("us"), utc, "Europe/Berlin")
    (True, False)
    """
    if pa.types.is_dictionary(kind):  # a categorical column: its values are what counts
        kind = kind.value_type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return True
    if pa.types.is_timestamp(contract):
        return pa.types.is_timestamp(kind) and kind.unit != "ns" and (kind.tz is not None or default_tz is None)
    if pa.types.is_boolean(contract):
        return pa.types.is_boolean(kind)
    if pa.types.is_int64(contract) or pa.types.is_string(contract):
        return pa.types.is_integer(kind) and kind != pa.uint64()
    if pa.types.is_date32(contract):
        return pa.types.is_date32(kind)
    return False


def _parquet_records(path: Path, only: list[int] | None = None) -> Iterator[tuple[str, Any, str | None]]:
    """(locator, record) of every row, or of the rows at the positions ``only`` (ascending)."""
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise FileError(f"not a readable Parquet file: {exc}") from exc
    n = 0
    k = 0  # the next position of ``only`` to give
    for batch in pf.iter_batches(batch_size=50_000):
        if only is None:
            for rec in batch.to_pylist():
                yield f"row {n}", rec, None
                n += 1
            continue
        end = bisect.bisect_left(only, n + batch.num_rows, k)
        if end > k:
            picked = only[k:end]
            recs = batch.take(pa.array([i - n for i in picked], pa.int64())).to_pylist()
            for i, rec in zip(picked, recs, strict=True):
                yield f"row {i}", rec, None
        k = end
        n += batch.num_rows
        if k == len(only):
            return


ADAPTER = CanonicalAdapter()
