"""The raw tables' contract as set-based SQL: a batch of rows checked in one DuckDB pass.

Adapters that read their input in batches (``Adapter.bulk``) hand the engine relations of text or
typed columns (:class:`ops_warehouse.sources.base.BulkChunk`) instead of one row at a time. The
same contract as ``ops_warehouse.ingest.ContractChecker`` is written as SQL: every column is coerced with
``TRY_CAST`` and the first broken rule of a row, in column order, becomes its quarantine reason,
worded as the row-by-row check words it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from ops_warehouse.duck import connect, may_strip, quote_ident, quote_literal
from ops_warehouse.lake.duck_types import duckdb_type
from ops_warehouse.progress import Progress, run_query
from ops_warehouse.sources.base import BulkChunk
from ops_warehouse.tables import TS, Column, RawTable
from ops_warehouse.timeutil import zone

# an offset after a time of day: a plain date's "-25" is a day, not an offset
_OFFSET = r"[Tt ][0-9]{2}[^ ]*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_TRUE = "('true', 't', '1', 'yes', 'y')"
_TS_MIN = "TIMESTAMPTZ '0001-01-01 00:00:00+00'"
_TS_MAX = "TIMESTAMPTZ '9999-12-31 23:59:59.999999+00'"
_FALSE = "('false', 'f', '0', 'no', 'n')"


@dataclass
class BulkResult:
    read: int
    good: Path | None
    bad: Path | None
    # exact batches: the good rows as final-shaped Parquet per day partition ("" unpartitioned)
    by_day: dict[str, list[Path]] | None = None
    # ``records_at`` batches: the ``_ord`` of every row the contract refused, in order
    refused: list[int] | None = None


class NotExact(Exception):
    """An exact batch held a row the columnar reader cannot classify exactly: read record by record."""


# what Python's str.strip() removes (the row-by-row check strips with it), not only spaces
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def _text(col: str) -> str:
    # trim with a character list is slow: only values that start or end with whitespace pay it
    text, ws = f"CAST({col} AS VARCHAR)", quote_literal(_WHITESPACE)
    return f"CASE WHEN {may_strip(text)} THEN trim({text}, {ws}) ELSE {text} END"


def _alias(kind: str, name: str) -> str:
    """The name of a helper column of the layered check (``t``: trimmed text, ``a``/``n``: the text
    as an aware/naive timestamp, ``o``: has an offset, ``v``: the value before the range check)."""
    return quote_ident(f"_check_{kind}_{name}")


def _checks(c: Column, source_type: str | None, default_tz: str | None) -> tuple[list[list[str]], str, str]:
    """(helper columns of the three inner layers, value expression, reason expression) for one
    column; the reason is NULL when the value is acceptable. What several rules use (the trimmed
    text, the parsed timestamp) is a helper column worked out once in a layer below, so the
    expressions stay small: written inline, a timestamp's parse ran a dozen times per row."""
    name = c.name
    target = duckdb_type(c.type)
    layers: list[list[str]] = [[], [], []]
    if source_type is None:
        return layers, f"NULL::{target}", "NULL"
    col = quote_ident(name)
    shown = f"CAST({col} AS VARCHAR)"
    text, v = _alias("t", name), _alias("v", name)
    if source_type == "VARCHAR":
        layers[0].append(f"{_text(col)} AS {text}")
    blank = f"({text} IS NULL OR {text} = '')"
    value0: str
    reason: str
    if c.type == TS and source_type == "VARCHAR":
        aware, naive, offset = _alias("a", name), _alias("n", name), _alias("o", name)
        layers[1] += [
            f"TRY_CAST({text} AS TIMESTAMPTZ) AS {aware}",
            f"TRY_CAST({text} AS TIMESTAMP) AS {naive}",
            f"regexp_matches({text}, {quote_literal(_OFFSET)}) AS {offset}",
        ]
        if default_tz:
            value0 = (
                f"CASE WHEN {blank} THEN NULL WHEN {offset} THEN {aware} "
                f"ELSE timezone({quote_literal(default_tz)}, {naive}) END"
            )
            reason = (
                f"CASE WHEN NOT {blank} AND {v} IS NULL THEN "
                f"{quote_literal(name + ': not an ISO 8601 timestamp: ')} || '''' || {shown} || '''' END"
            )
        else:
            parses = f"({naive} IS NOT NULL OR {aware} IS NOT NULL)"
            value0 = f"CASE WHEN {blank} THEN NULL WHEN {offset} THEN {aware} END"
            reason = (
                f"CASE WHEN {blank} THEN NULL WHEN NOT {parses} THEN "
                f"{quote_literal(name + ': not an ISO 8601 timestamp: ')} || '''' || {shown} || '''' "
                f"WHEN NOT {offset} THEN {quote_literal(name + ': timestamp ')} || {text} || "
                f"{quote_literal(' has no UTC offset; add one or pass a default time zone (--tz)')} "
                f"WHEN {v} IS NULL THEN {quote_literal(name + ': not an ISO 8601 timestamp: ')} "
                f"|| '''' || {shown} || '''' END"
            )
        # past the years 1 to 9999 in UTC, which Python's datetime holds: out of range, as the row check says
        outside = f"({v} IS NOT NULL AND NOT ({v} BETWEEN {_TS_MIN} AND {_TS_MAX}))"
        reason = (
            f"coalesce({reason}, CASE WHEN {outside} THEN CASE WHEN regexp_matches({text}, '^[0-9]{{4}}-') "
            f"THEN {quote_literal(name + ': timestamp ')} || {shown} || ' is out of range' "
            f"ELSE {quote_literal(name + ': not an ISO 8601 timestamp: ')} || '''' || {shown} || '''' END END)"
        )
        value = f"CASE WHEN {outside} THEN NULL ELSE {v} END"
    else:
        value = v
        reason = "NULL"
        if c.type == TS and source_type == "TIMESTAMP":
            if default_tz:
                value0 = f"timezone({quote_literal(default_tz)}, {col})"
            else:
                value0 = "NULL::TIMESTAMPTZ"
                reason = (
                    f"CASE WHEN {col} IS NOT NULL THEN {quote_literal(name + ': timestamp ')} || "
                    f"strftime({col}, '%Y-%m-%dT%H:%M:%S') || {quote_literal(' has no UTC offset')} END"
                )
        elif pa.types.is_boolean(c.type) and source_type == "VARCHAR":
            low = f"lower({text})"
            value0 = f"CASE WHEN {low} IN {_TRUE} THEN true WHEN {low} IN {_FALSE} THEN false END"
            reason = (
                f"CASE WHEN NOT {blank} AND {v} IS NULL THEN "
                f"{quote_literal(name + ': expected true or false, got ')} || '''' || {shown} || '''' END"
            )
        elif pa.types.is_date32(c.type) and source_type == "VARCHAR":
            value0 = f"CASE WHEN {blank} THEN NULL ELSE TRY_CAST(left({text}, 10) AS DATE) END"
            reason = (
                f"CASE WHEN NOT {blank} AND {v} IS NULL THEN "
                f"{quote_literal(name + ': not a date: ')} || '''' || {shown} || '''' END"
            )
        elif target in ("BIGINT", "DOUBLE") and source_type == "VARCHAR":
            # an integer is digits, as for int() after the row check's isdigit(): not '+5', '1e3', '0x10', '1_000'
            digits = f" WHEN NOT regexp_full_match({text}, '-?[0-9]+') THEN NULL" if target == "BIGINT" else ""
            value0 = f"CASE WHEN {blank} THEN NULL{digits} ELSE TRY_CAST({text} AS {target}) END"
            what = "an integer" if target == "BIGINT" else "a number"
            reason = (
                f"CASE WHEN NOT {blank} AND {v} IS NULL THEN "
                f"{quote_literal(f'{name}: expected {what}, got ')} || '''' || {shown} || '''' END"
            )
        elif target == "VARCHAR":
            # blank text is no value, as in the row-by-row canonical reader
            if source_type != "VARCHAR":
                layers[0].append(f"{_text(col)} AS {text}")
            value0 = f"CASE WHEN {blank} THEN NULL ELSE CAST({col} AS VARCHAR) END"
        else:
            value0 = f"TRY_CAST({col} AS {target})"
            reason = (
                f"CASE WHEN {col} IS NOT NULL AND {v} IS NULL THEN "
                f"{quote_literal(f'{name}: expected {target.lower()}, got ')} || '''' || {shown} || '''' END"
            )
    layers[2].append(f"{value0} AS {v}")
    rules = [reason]
    if c.required:
        rules.append(f"CASE WHEN {value} IS NULL THEN {quote_literal(name + ': required but missing')} END")
    if c.allowed:
        listing = ", ".join(quote_literal(a) for a in c.allowed)
        rules.append(
            f"CASE WHEN {value} IS NOT NULL AND {value} NOT IN ({listing}) THEN "
            f"{quote_literal(name + ': ')} || '''' || {value} || '''' || "
            f"{quote_literal(' is not one of ' + ', '.join(c.allowed))} END"
        )
    if target == "DOUBLE" and name != "value":
        rules.append(f"CASE WHEN isnan({value}) THEN {quote_literal(name + ': NaN')} END")
    return layers, value, f"coalesce({', '.join(rules)})"


def checked_select(table: RawTable, source_types: dict[str, str], default_tz: str | None, extra: str) -> str:
    """A SELECT over the view ``src``: the table's data columns coerced, ``_reason`` (NULL for a
    good row) and the columns ``extra`` of ``src`` passed through."""
    layers: list[list[str]] = [[], [], []]
    values, reasons = [], []
    for c in table.columns:
        if c.name in table.system_columns:
            continue
        helpers, value, reason = _checks(c, _normalize_type(source_types.get(c.name)), default_tz)
        for layer, more in zip(layers, helpers, strict=True):
            layer += more
        values.append(f"{value} AS {quote_ident(c.name)}")
        reasons.append(reason)
    sql = "SELECT * FROM src"
    for layer in layers:
        if layer:
            sql = f"SELECT *, {', '.join(layer)} FROM ({sql})"
    return f"SELECT {', '.join(values)}, coalesce({', '.join(reasons)}) AS _reason, {extra} FROM ({sql})"


def stage_bulk(
    bulk: BulkChunk,
    table: RawTable,
    *,
    kind: str,
    default_tz: str | None,
    folder: Path,
    source_file: str,
    ingested_at: datetime,
    index: int = 0,
    progress: Progress | None = None,
) -> BulkResult:
    """Check the rows in one pass; write the good ones and the quarantined ones as staging Parquet
    (the same shapes the row-by-row stager writes)."""
    if default_tz:
        zone(default_tz)  # an unknown zone is a clear error, not a SQL one
    folder.mkdir(parents=True, exist_ok=True)
    if bulk.records_at is not None:
        one_pass = folder / f"one-pass-{index:05d}"
        staged = None
        if bulk.scans_in_parallel:  # else checking into memory first, then writing, is faster
            staged = _stage_one_pass(
                bulk,
                table,
                default_tz=default_tz,
                folder=one_pass,
                source_file=source_file,
                ingested_at=ingested_at,
                progress=progress,
            )
        if staged is not None:
            return staged
        shutil.rmtree(one_pass, ignore_errors=True)
        return _stage_partitioned(
            bulk,
            table,
            default_tz=default_tz,
            folder=folder / f"partitioned-{index:05d}",
            source_file=source_file,
            ingested_at=ingested_at,
            progress=progress,
        )
    if bulk.exact:
        return _stage_exact(
            bulk,
            table,
            default_tz=default_tz,
            folder=folder / f"exact-{index:05d}",
            source_file=source_file,
            ingested_at=ingested_at,
            progress=progress,
        )
    con = connect(memory_limit="1GB", temp_dir=folder / "duckdb")
    try:
        if isinstance(bulk.rows, pa.Table):
            con.register("bulk_rows", bulk.rows)
            con.execute("CREATE TEMP VIEW src AS SELECT * FROM bulk_rows")
        else:
            con.execute(f"CREATE TEMP VIEW src AS {bulk.rows}")
        source_types = {r[0]: r[1] for r in con.execute("DESCRIBE src").fetchall()}
        # a view over a SELECT, so each COPY streams the batch in bounded memory; an Arrow batch is
        # in memory already (and bounded): its checks are worked out once for both COPYs
        kind_of = "TABLE" if isinstance(bulk.rows, pa.Table) else "VIEW"
        checked = checked_select(table, source_types, default_tz, "_locator, _raw, _ord")
        con.execute(f"CREATE TEMP {kind_of} checked AS {checked}")
        stamp = (
            f"{quote_literal(source_file)} AS source_file, "
            f"{quote_literal(ingested_at.isoformat())}::TIMESTAMPTZ AS ingested_at"
        )
        data_cols = ", ".join(quote_ident(c.name) for c in table.columns if c.name not in table.system_columns)
        good = folder / f"{table.name}-bulk-{index:05d}.parquet"
        n_good = con.execute(
            f"COPY (SELECT {data_cols}, {stamp}, _ord FROM checked WHERE _reason IS NULL) "
            f"TO {quote_literal(str(good))} (FORMAT parquet)"
        ).fetchone()[0]
        bad = folder / f"rejected_rows-bulk-{index:05d}.parquet"
        rejects = pa.table(
            {
                "_locator": [r.locator for r in bulk.rejects],
                "_reason": [r.reason for r in bulk.rejects],
                "_raw": [r.raw for r in bulk.rejects],
            },
            schema=pa.schema([("_locator", pa.string()), ("_reason", pa.string()), ("_raw", pa.string())]),
        )
        con.register("adapter_rejects", rejects)
        n_bad = con.execute(
            f"COPY (SELECT source_file, {quote_literal(kind)} AS source_kind, _locator AS locator, _reason AS reason, "
            f"_raw AS raw, ingested_at, _ord FROM ("
            f"SELECT _locator, _reason, _raw, {stamp}, _ord FROM checked WHERE _reason IS NOT NULL "
            f"UNION ALL SELECT _locator, _reason, _raw, {stamp}, -row_number() OVER () AS _ord FROM adapter_rejects)) "
            f"TO {quote_literal(str(bad))} (FORMAT parquet)"
        ).fetchone()[0]
        return BulkResult(read=n_good + n_bad, good=good if n_good else None, bad=bad if n_bad else None)
    except duckdb.Error as exc:
        raise BulkError(str(exc).splitlines()[0]) from exc
    finally:
        con.close()


def _lake_columns(table: RawTable, source_file: str, ingested_at: datetime) -> str:
    """The SELECT list of ``table``'s lake columns over checked rows, with the file and the ingest
    time stamped in."""
    stamp = {
        "source_file": quote_literal(source_file),
        "ingested_at": f"{quote_literal(ingested_at.isoformat())}::TIMESTAMPTZ",
    }
    return ", ".join(
        stamp[c.name] + f" AS {quote_ident(c.name)}" if c.name in stamp else quote_ident(c.name) for c in table.columns
    )


def _partition_day(table: RawTable) -> str:
    """SQL for a row's partition: the UTC day (``YYYY-MM-DD``) of ``table``'s partition column, or
    ``''`` for an unpartitioned table."""
    if table.partition_by is None:
        return "''"
    return f"strftime(CAST(timezone('UTC', {quote_ident(table.partition_by)}) AS DATE), '%Y-%m-%d')"


def _days_written(folder: Path) -> dict[str, list[Path]]:
    """The files a ``PARTITION_BY (_part)`` COPY wrote under ``folder``, by partition value."""
    return {d.name.split("=", 1)[1]: sorted(d.glob("*.parquet")) for d in sorted(folder.glob("_part=*")) if d.is_dir()}


def _rows_and_unique_keys(
    con: duckdb.DuckDBPyConnection, table: RawTable, by_day: dict[str, list[Path]]
) -> tuple[int, bool]:
    """How many rows the written files hold, and whether no key repeats among them (a hash
    collision reads as a repeat: the general merge is right either way)."""
    files = [f for fs in by_day.values() for f in fs]
    if not files:
        return 0, True
    key = ", ".join(quote_ident(k) for k in table.key)
    listing = ", ".join(quote_literal(str(f)) for f in files)
    rows, distinct = con.execute(
        f"SELECT count(*), count(DISTINCT hash({key})) FROM read_parquet([{listing}])"
    ).fetchone()
    return rows, rows == distinct


def _stage_exact(
    bulk: BulkChunk,
    table: RawTable,
    *,
    default_tz: str | None,
    folder: Path,
    source_file: str,
    ingested_at: datetime,
    progress: Progress | None,
) -> BulkResult:
    """One pass: check every row and write the batch straight into day partitions with the lake's
    columns, ready to be moved into the lake. Raises NotExact when a row is unclean, breaks the
    contract or repeats a key (nothing of the batch is kept then). A batch over the adapter's own
    connection (``BulkChunk.con``) runs in it, and the connection stays open."""
    staged = _stream_into_days(
        bulk,
        table,
        default_tz=default_tz,
        folder=folder,
        source_file=source_file,
        ingested_at=ingested_at,
        progress=progress,
        refused_apart=False,
    )
    if staged is None:  # the general merge ranks the versions
        raise NotExact("a key repeats within the file")
    return staged


def _stage_one_pass(
    bulk: BulkChunk,
    table: RawTable,
    *,
    default_tz: str | None,
    folder: Path,
    source_file: str,
    ingested_at: datetime,
    progress: Progress | None,
) -> BulkResult | None:
    """The contract checked and the good rows written into day partitions in one streaming pass, as
    an exact batch's are; the refused rows go to a partition of their own, which is dropped, and
    only then (a file with refused rows) is the check run again for their ``_ord``. None when a key
    repeats among the good rows: :func:`_stage_partitioned` keeps every version for the general
    merge then. Raises NotExact when a row is unclean."""
    return _stream_into_days(
        bulk,
        table,
        default_tz=default_tz,
        folder=folder,
        source_file=source_file,
        ingested_at=ingested_at,
        progress=progress,
        refused_apart=True,
    )


def _stream_into_days(
    bulk: BulkChunk,
    table: RawTable,
    *,
    default_tz: str | None,
    folder: Path,
    source_file: str,
    ingested_at: datetime,
    progress: Progress | None,
    refused_apart: bool,
) -> BulkResult | None:
    """One streaming query checks the batch and writes its good rows into day partitions. A row the
    contract refuses counts as unclean (NotExact), or, ``refused_apart``, goes to a partition that
    is dropped, the check then run again for the refused rows' ``_ord``. None when a key repeats
    among the good rows. Runs in the adapter's connection when the batch has one (left open)."""
    con = bulk.con if bulk.con is not None else connect(memory_limit=EXACT_MEMORY, temp_dir=folder.parent / "duckdb")
    con.execute("SET preserve_insertion_order = false")  # keys are checked unique below: order is free
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW src AS {bulk.rows}")
        source_types = {r[0]: r[1] for r in con.execute("DESCRIBE src").fetchall()}
        extra = "_unclean, _ord" if refused_apart else "_unclean"
        con.execute(f"CREATE OR REPLACE TEMP VIEW checked AS {checked_select(table, source_types, default_tz, extra)}")
        columns = _lake_columns(table, source_file, ingested_at)
        day = _partition_day(table)
        refused_part = "'refused'" if refused_apart else "'unclean'"
        run_query(
            con,
            f"COPY (SELECT {columns}, CASE WHEN coalesce(_unclean, true) THEN 'unclean' "
            f"WHEN _reason IS NOT NULL THEN {refused_part} ELSE {day} END AS _part FROM checked) "
            f"TO {quote_literal(str(folder))} "
            "(FORMAT parquet, PARTITION_BY (_part), COMPRESSION zstd, WRITE_PARTITION_COLUMNS false)",
            progress,
        )
        if (folder / "_part=unclean").exists():
            raise NotExact("a record the columnar reader cannot classify exactly")
        refused: list[int] = []
        if (folder / "_part=refused").exists():
            shutil.rmtree(folder / "_part=refused")
            refused = [
                r[0] for r in con.execute("SELECT _ord FROM checked WHERE _reason IS NOT NULL ORDER BY _ord").fetchall()
            ]
        by_day = _days_written(folder)
        rows, unique = _rows_and_unique_keys(con, table, by_day)
        if not unique:  # a repeated key (or a hash collision)
            return None
        return BulkResult(
            read=rows + len(refused), good=None, bad=None, by_day=by_day, refused=refused if refused_apart else None
        )
    except duckdb.Error as exc:
        raise NotExact(str(exc).splitlines()[0]) from exc
    finally:
        if bulk.con is None:
            con.close()


def _stage_partitioned(
    bulk: BulkChunk,
    table: RawTable,
    *,
    default_tz: str | None,
    folder: Path,
    source_file: str,
    ingested_at: datetime,
    progress: Progress | None,
) -> BulkResult:
    """One pass of the contract over the batch (kept in memory, spilling past ``EXACT_MEMORY``), then
    its good rows written straight into day partitions with the lake's columns, as an exact batch's
    are; when a key repeats among them, as one staged chunk with ``_ord`` for the general merge
    instead. The refused rows are only counted and listed (``refused``): the engine words them with
    the record-by-record check. Raises NotExact when a row is unclean."""
    con = connect(memory_limit=EXACT_MEMORY, temp_dir=folder.parent / "duckdb")
    con.execute("SET preserve_insertion_order = false")  # order is _ord's, or free when keys are unique
    try:
        con.execute(f"CREATE TEMP VIEW src AS {bulk.rows}")
        source_types = {r[0]: r[1] for r in con.execute("DESCRIBE src").fetchall()}
        checked = checked_select(table, source_types, default_tz, "_unclean, _ord")
        run_query(
            con,
            f"CREATE TEMP TABLE checked AS SELECT * EXCLUDE (_reason, _unclean), _reason IS NULL AS _ok, "
            f"coalesce(_unclean, true) AS _unclean FROM ({checked})",
            progress,
        )
        if con.execute("SELECT bool_or(_unclean) FROM checked").fetchone()[0]:
            raise NotExact("a record the columnar reader cannot classify exactly")
        refused = [r[0] for r in con.execute("SELECT _ord FROM checked WHERE NOT _ok ORDER BY _ord").fetchall()]
        key = ", ".join(quote_ident(k) for k in table.key)
        rows, distinct = con.execute(f"SELECT count(*), count(DISTINCT hash({key})) FROM checked WHERE _ok").fetchone()
        columns = _lake_columns(table, source_file, ingested_at)
        read = rows + len(refused)
        if rows != distinct:  # a repeated key (or a hash collision): the general merge ranks versions by _ord
            folder.mkdir(parents=True, exist_ok=True)
            good = folder / f"{table.name}-bulk.parquet"
            con.execute(
                f"COPY (SELECT {columns}, _ord FROM checked WHERE _ok) TO {quote_literal(str(good))} (FORMAT parquet)"
            )
            return BulkResult(read=read, good=good, bad=None, refused=refused)
        if not rows:
            return BulkResult(read=read, good=None, bad=None, by_day={}, refused=refused)
        day = _partition_day(table)
        con.execute(
            f"COPY (SELECT {columns}, {day} AS _part FROM checked WHERE _ok) TO {quote_literal(str(folder))} "
            "(FORMAT parquet, PARTITION_BY (_part), COMPRESSION zstd, WRITE_PARTITION_COLUMNS false)"
        )
        by_day = _days_written(folder)
        return BulkResult(read=read, good=None, bad=None, by_day=by_day, refused=refused)
    except duckdb.Error as exc:
        raise NotExact(str(exc).splitlines()[0]) from exc
    finally:
        con.close()


EXACT_MEMORY = "1GB"


class BulkError(ValueError):
    """The relation could not be read or checked (a malformed Parquet file, say)."""


def _normalize_type(t: str | None) -> str | None:
    if t is None:
        return None
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return "TIMESTAMPTZ"
    if t.startswith("TIMESTAMP"):
        return "TIMESTAMP"
    return t
