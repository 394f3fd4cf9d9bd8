"""Canonical CSV read by DuckDB's ``read_csv`` gives exactly what the row-by-row readers give: the
same rows, rejects (locator, reason, raw text) and accounting, falling back whenever the file is
not plain enough to be sure of that."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.sources import canonical
from ops_warehouse.sources.base import ReadContext
from ops_warehouse.sources.canonical import ADAPTER
from ops_warehouse.tables import DEPLOYMENT_STATUSES, RAW_TABLES, REJECTED_ROWS

HEADER = "deploy_id,service,environment,sha,started_at,finished_at,status,is_rollback"
GOOD = "checkout,production,aaa,2026-11-23T10:00:00Z,2026-11-23T10:05:00Z,success,false"
BAD_ROWS = [
    "d2,checkout,production,bbb,2026-11-24T10:00:00+01:00,,exploded,false",
    "d3,,production,ccc,2026-11-24 10:00:00,2026-11-24T10:05:00Z,success,no",
    "d4,checkout,,ddd,2026-11-25T10:00:00Z,yesterday,failure,maybe",
    "d5,checkout,staging,eee,not a time,,success,",
    ",checkout,staging,fff,2026-11-25T10:00:00Z,,success,",
    "d6,checkout,staging,ggg,2026-11-25T10:00:00Z,2026-11-25T10:05:00-0800,pending,TRUE",
    "d7,checkout,staging,hhh,2026-11-25T10:00:00Z,2026-11-25,success,1",
    "d8,checkout,staging,iii,9999-12-31T23:59:59-01:00,0001-01-01T00:00:00+01:00,success,",
]
# files the columnar pass reads itself
PLAIN = {
    "bad rows": "\n".join([HEADER, "d1," + GOOD, *BAD_ROWS, "d1," + GOOD.replace("aaa", "zzz")]) + "\n",
    "quoted, CRLF, BOM, blank rows": "\ufeff"
    + "\r\n".join(
        [
            '"deploy_id","service","environment","sha","started_at","finished_at","status","is_rollback","note"',
            '"d1","check, out","production","a","2026-11-23T10:00:00Z","","success","false","x"',
            ",,,,,,,,",
            "  , ,,,\t,,,, ",
            '"d2","checkout","production","b","2026-11-23T11:00:00Z","","failure","","é, ü"',
            '"d3","",production,c,2026-11-23T11:00:00Z,,nope,,',
        ]
    ),
    "whitespace beyond spaces": "\n".join(
        [
            HEADER,
            "\t,checkout,production,a,2026-11-23T10:00:00Z,,success,false",
            "d2,\u00a0,\u3000production ,b,\t2026-11-23T10:00:00Z\u2029,,success,\u2003true\t",
            "d3,checkout,production,c,2026-11-23T10:00:00Z,\u00a0,\u2003,",
            # white space at the end alone, ASCII or beyond
            "d4,checkout\u3000,production\x0b,d,2026-11-23T10:00:00Z\u2029,,success ,false\t",
        ]
    )
    + "\n",
    "no final newline": HEADER + "\n" + "d1," + GOOD + "\n" + BAD_ROWS[0],
    "header only": HEADER + "\n",
    "whitespace-only row": HEADER + "\nd1," + GOOD + "\n\t,\t,\t,\t,\t,\t,\t,\t\n" + BAD_ROWS[0] + "\n",
}
# files only csv.reader reads exactly as the row-by-row reader does
ODD = {
    "wrong field counts": "\n".join([HEADER, "d1," + GOOD, "d2,checkout", "d3," + GOOD + ",extra"]) + "\n",
    "blank line": "\n".join([HEADER, "d1," + GOOD, "", "d2," + GOOD, BAD_ROWS[1]]) + "\n",
    "trailing blank lines": "\n".join([HEADER, "d1," + GOOD, BAD_ROWS[3]]) + "\n\n\n",
    "line break in a field": HEADER + '\n"d\n1",' + GOOD + "\nd2," + GOOD + "\n" + BAD_ROWS[2] + "\n",
    "space before a quote": HEADER + '\nd1, "checkout",production,a,2026-11-23T10:00:00Z,,success,false\n',
    "quote inside a field": HEADER + '\nd"1,checkout,production,a,2026-11-23T10:00:00Z,,success,false\n',
    "lone carriage return": HEADER + "\nd1," + GOOD + "\rd2," + GOOD + "\n",
    "doubled quote": HEADER + '\n"d1","a ""b""",production,a,2026-11-23T10:00:00Z,,success,false\n',
    "repeated column": HEADER + ",status\nd1," + GOOD + ",failure\n",
    "empty file": "",
    "not UTF-8": HEADER + "\nd1," + GOOD + "\nd2,caf\udce9," + GOOD.split(",", 1)[1] + "\n",
}


def _outcome(tmp_path: Path, path: Path, label: str) -> tuple[Any, ...]:
    home = DataHome.resolve(tmp_path / f"home-{label}").ensure()
    report = ingest_file(home, path)
    lake = Lake(home)
    loaded = (
        connect()
        .execute(
            "SELECT deploy_id, service, environment, sha, started_at, finished_at, status, is_rollback, source "
            f"FROM ({lake.scan_sql(RAW_TABLES['deployments'])}) ORDER BY ALL"
        )
        .fetchall()
        if (home.lake / "raw" / "deployments").exists() or report.loaded
        else []
    )
    rejected = (
        connect().execute(f"SELECT locator, reason, raw FROM ({lake.scan_sql(REJECTED_ROWS)}) ORDER BY ALL").fetchall()
        if report.quarantined
        else []
    )
    return (report.error, report.read, report.loaded, report.duplicates, report.quarantined), loaded, rejected


Patch = tuple[Any, str, Any]
# the record-by-record reader may not be used (it fails if called)
ONLY_BULK: Patch = (type(ADAPTER), "read", lambda self, ctx: iter([1 / 0]))
NO_BULK: Patch = (type(ADAPTER), "bulk", lambda self, ctx: None)


def _outcomes(tmp_path: Path, path: Path, monkeypatch: pytest.MonkeyPatch, ways: dict[str, list[Patch]]) -> list[Any]:
    """The outcome of ingesting ``path`` once per way, each with its own patches in place."""
    outcomes = []
    for label, patches in ways.items():
        with monkeypatch.context() as m:
            for target, name, value in patches:
                m.setattr(target, name, value)
            outcomes.append(_outcome(tmp_path, path, label))
    return outcomes


def _three_ways(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch, *, columnar: bool) -> list[Any]:
    path = tmp_path / "deploys.csv"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
    ways: dict[str, list[Patch]] = {
        # columnar: neither csv.reader path may be used
        "bulk": [(canonical, "_csv_chunks", lambda *a: iter([1 / 0])), ONLY_BULK] if columnar else [],
        "csv-chunks": [(canonical, "_csv_one_pass", lambda *a: None)],  # csv.reader into Arrow chunks
        "row-by-row": [NO_BULK],
    }
    return _outcomes(tmp_path, path, monkeypatch, ways)


@pytest.mark.parametrize("case", sorted(PLAIN))
def test_columnar_csv_agrees_with_the_row_by_row_readers(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    columnar, chunks, rows = _three_ways(tmp_path, PLAIN[case], monkeypatch, columnar=True)
    assert columnar == chunks == rows
    assert columnar[0][0] is None


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_csv_falls_back_to_csv_reader(tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bulk, chunks, rows = _three_ways(tmp_path, ODD[case], monkeypatch, columnar=False)
    assert bulk == chunks == rows


def test_plain_csv_is_one_sql_batch_whose_refused_rows_are_read_again(tmp_path: Path) -> None:
    """The rows the contract SQL refuses are read again by line number (blank rows and all)."""
    path = tmp_path / "deploys.csv"
    path.write_bytes(PLAIN["quoted, CRLF, BOM, blank rows"].encode("utf-8"))
    chunk = canonical._csv_one_pass(ADAPTER, path, canonical.TABLES["deployments"][1], tmp_path / "scratch")
    assert chunk is not None and isinstance(chunk.rows, str) and chunk.records_at is not None
    ords = [r[0] for r in connect().execute(f"SELECT _ord FROM ({chunk.rows}) ORDER BY _ord").fetchall()]
    assert ords == [2, 5, 6]  # lines 3 and 4 are blank rows
    records = list(chunk.records_at([2, 6]))
    assert [r.locator for r in records] == ["line 2", "line 6"]
    assert records[1].raw == "d3,,production,c,2026-11-23T11:00:00Z,,nope,,"


@pytest.mark.parametrize("case", sorted(ODD))
def test_odd_csv_is_not_read_in_one_pass(tmp_path: Path, case: str) -> None:
    path = tmp_path / "deploys.csv"
    path.write_bytes(ODD[case].encode("utf-8", errors="surrogateescape"))
    assert canonical._csv_one_pass(ADAPTER, path, canonical.TABLES["deployments"][1], tmp_path / "scratch") is None


def test_bad_rows_keep_their_line_reason_and_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only the same as the row path: the figures themselves, so a shared mistake shows."""
    columnar, _, _ = _three_ways(tmp_path, PLAIN["bad rows"], monkeypatch, columnar=True)
    (error, read, loaded, duplicates, quarantined), rows, rejected = columnar
    assert (error, read, loaded, duplicates, quarantined) == (None, 10, 2, 1, 7)
    assert [r[0] for r in rows] == ["d1", "d6"]
    assert rows[0][3] == "zzz"  # the later row of a repeated key wins
    assert rows[1][5].hour == 18 and rows[1][7] is True
    reasons = {locator: (reason, raw) for locator, reason, raw in rejected}
    assert sorted(reasons, key=lambda loc: int(loc.split()[1])) == [f"line {n}" for n in (3, 4, 5, 6, 7, 9, 10)]
    assert reasons["line 3"] == (
        "status: 'exploded' is not one of success, failure, error, cancelled, pending, in_progress, queued, inactive",
        BAD_ROWS[0],
    )
    # a plain date has no offset (its "-25" is the day)
    assert reasons["line 9"][0].startswith("finished_at: timestamp 2026-11-25 has no UTC offset")
    # past year 9999 (or before year 1) once in UTC
    assert reasons["line 10"][0] == "started_at: timestamp 9999-12-31T23:59:59-01:00 is out of range"


COLUMNS = HEADER.split(",")
NDJSON_PLAIN: dict[str, list[Any]] = {
    "text and typed values": [
        dict(zip(COLUMNS, ["d1", *GOOD.split(",")], strict=True)),
        {**dict(zip(COLUMNS, ["d2", *GOOD.split(",")], strict=True)), "is_rollback": True, "extra": {"x": [1]}},
        {"deploy_id": "d3", "environment": "staging", "started_at": "2026-11-24T10:00:00+01:00", "sha": None},
    ],
}
NDJSON_ODD: dict[str, list[Any]] = {
    "bad rows": [dict(zip(COLUMNS, row.split(","), strict=True)) for row in ["d1," + GOOD, *BAD_ROWS]],
    "number for text": [{**dict(zip(COLUMNS, ["d1", *GOOD.split(",")], strict=True)), "sha": 12}],
    "repeated key": [dict(zip(COLUMNS, ["d1", *GOOD.split(",")], strict=True))] * 2,
    "not an object": [dict(zip(COLUMNS, ["d1", *GOOD.split(",")], strict=True)), [1, 2], "x"],
}


def _ndjson_two_ways(tmp_path: Path, lines: list[str], monkeypatch: pytest.MonkeyPatch, *, columnar: bool) -> list[Any]:
    path = tmp_path / "deploys.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return _outcomes(tmp_path, path, monkeypatch, {"bulk": [ONLY_BULK] if columnar else [], "row-by-row": [NO_BULK]})


@pytest.mark.parametrize("case", sorted(NDJSON_PLAIN))
def test_columnar_ndjson_agrees_with_the_row_by_row_reader(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [json.dumps(r) for r in NDJSON_PLAIN[case]]
    columnar, rows = _ndjson_two_ways(tmp_path, [lines[0], "", "  ", *lines[1:]], monkeypatch, columnar=True)
    assert columnar == rows
    assert columnar[0] == (None, 3, 3, 0, 0)
    assert [r[7] for r in columnar[1]] == [False, True, None]


@pytest.mark.parametrize("case", [*sorted(NDJSON_ODD), "broken line", "control byte", "NaN"])
def test_odd_ndjson_falls_back_to_the_row_by_row_reader(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = json.dumps(dict(zip(COLUMNS, ["d1", *GOOD.split(",")], strict=True)))
    if case == "broken line":
        lines = [good, '{"deploy_id": "d2"', good.replace("d1", "d3")]
    elif case == "control byte":
        lines = [good, good.replace("d1", "d\t2")]
    elif case == "NaN":
        lines = [good, good.replace('"false"', "NaN")]
    else:
        lines = [json.dumps(r) for r in NDJSON_ODD[case]]
    bulk, rows = _ndjson_two_ways(tmp_path, lines, monkeypatch, columnar=False)
    assert bulk == rows


def _text_columns(rows: list[str]) -> dict[str, list[str | None]]:
    cells = [row.split(",") for row in rows]
    return {name: [r[i] or None if i % 2 else r[i] for r in cells] for i, name in enumerate(COLUMNS)}


UTC_TS = pa.timestamp("us", tz="UTC")
AT = "2026-11-23T10:00:00Z"
PARQUET_PLAIN: dict[str, pa.Table] = {
    # text, as a CSV file's cells (blank ones as nulls too), a repeated key, a column not read
    "text columns": pa.table(
        {
            **_text_columns(["d1," + GOOD, *BAD_ROWS, "d1," + GOOD.replace("aaa", "zzz")]),
            "note": [f"n{i}" for i in range(len(BAD_ROWS) + 2)],
        }
    ),
    # typed columns: an aware and a naive timestamp, booleans, integers for text, odd text for the
    # reasons' quoting
    "typed columns": pa.table(
        {
            "deploy_id": pa.array([1, 2, 3, 4, None], pa.int64()),
            "environment": ["production", "staging", "it's", "a\\b\n", "production"],
            "started_at": pa.array(
                [datetime(2026, 11, 23, 10, tzinfo=UTC), *[datetime(2026, 11, 24, 23, 30, tzinfo=UTC)] * 4],
                pa.timestamp("ms", tz="Europe/Berlin"),
            ),
            "finished_at": pa.array([None, datetime(2026, 11, 24, 23, 35, 1, 5), None, None, None], pa.timestamp("us")),
            "status": ["success", None, "it's", "a\\b\n", "failure"],
            "is_rollback": pa.array([True, None, False, True, None], pa.bool_()),
        }
    ),
    "categorical text": pa.table(
        {
            "deploy_id": ["d1", "d2", "d3"],
            "environment": pa.array(["production", "staging", "production"]).dictionary_encode(),
            "started_at": [AT, AT, "yesterday"],
            "status": pa.array(["success", "exploded", None]).dictionary_encode(),
        }
    ),
    "no rows": pa.table({"deploy_id": pa.array([], pa.string()), "environment": [], "started_at": []}),
}
# files only the record-by-record reader reads as it does: types the contract SQL reads otherwise
PARQUET_ODD: dict[str, pa.Table] = {
    "a number for text": pa.table({"deploy_id": [1.5, 2.0], "environment": ["x", "y"], "started_at": [AT] * 2}),
    "integers for booleans": pa.table(
        {"deploy_id": ["d1", "d2"], "environment": ["x", "y"], "started_at": [AT] * 2, "is_rollback": [1, 2]}
    ),
    "a date for a timestamp": pa.table(
        {"deploy_id": ["d1"], "environment": ["x"], "started_at": pa.array([date(2026, 11, 23)], pa.date32())}
    ),
}


def _parquet_ways(
    tmp_path: Path, table: pa.Table, monkeypatch: pytest.MonkeyPatch, *, columnar: bool, row_group: int | None = None
) -> list[Any]:
    path = tmp_path / "deploys.parquet"
    pq.write_table(table, path, row_group_size=row_group)
    return _outcomes(tmp_path, path, monkeypatch, {"bulk": [ONLY_BULK] if columnar else [], "row-by-row": [NO_BULK]})


@pytest.mark.parametrize("row_group", [None, 2], ids=["one row group", "row groups of two rows"])
@pytest.mark.parametrize("case", sorted(PARQUET_PLAIN))
def test_columnar_parquet_agrees_with_the_row_by_row_reader(
    tmp_path: Path, case: str, row_group: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Good rows, bad rows (their locators, reasons and raw records) and the accounting, whether
    the file is checked in one streaming pass (several row groups) or into memory first (one)."""
    columnar, rows = _parquet_ways(tmp_path, PARQUET_PLAIN[case], monkeypatch, columnar=True, row_group=row_group)
    assert columnar == rows
    assert columnar[0][0] is None


def test_parquet_bad_rows_keep_their_row_reason_and_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures themselves, so a mistake both paths share shows."""
    columnar, _ = _parquet_ways(tmp_path, PARQUET_PLAIN["text columns"], monkeypatch, columnar=True)
    (error, read, loaded, duplicates, quarantined), rows, rejected = columnar
    assert (error, read, loaded, duplicates, quarantined) == (None, 10, 2, 1, 7)
    assert [(r[0], r[3]) for r in rows] == [("d1", "zzz"), ("d6", "ggg")]
    reasons = {locator: (reason, json.loads(raw)) for locator, reason, raw in rejected}
    assert sorted(reasons) == [f"row {n}" for n in (1, 2, 3, 4, 5, 7, 8)]
    assert reasons["row 1"][0].startswith("status: 'exploded' is not one of")
    assert reasons["row 1"][1]["note"] == "n1" and reasons["row 1"][1]["finished_at"] is None
    (tmp_path / "typed").mkdir()
    typed, _ = _parquet_ways(tmp_path / "typed", PARQUET_PLAIN["typed columns"], monkeypatch, columnar=True)
    assert typed[0] == (None, 5, 1, 0, 4)
    assert (typed[1][0][0], typed[1][0][2], typed[1][0][4].hour, typed[1][0][7]) == ("1", "production", 10, True)
    not_one_of = " is not one of " + ", ".join(DEPLOYMENT_STATUSES)
    assert [reason for _, reason, _ in sorted(typed[2])] == [
        "finished_at: timestamp 2026-11-24T23:35:01.000005 has no UTC offset",
        'status: "it\'s"' + not_one_of,  # worded as Python words it, as the row-by-row check does
        "status: 'a\\\\b\\n'" + not_one_of,
        "deploy_id: required but missing",
    ]


@pytest.mark.parametrize("case", sorted(PARQUET_ODD))
def test_parquet_of_other_types_is_read_record_by_record(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "odd.parquet"
    pq.write_table(PARQUET_ODD[case], path)
    assert ADAPTER.bulk(ReadContext(path=path, scratch=tmp_path / "scratch")) is None
    bulk, rows = _parquet_ways(tmp_path, PARQUET_ODD[case], monkeypatch, columnar=False)
    assert bulk == rows


def test_parquet_times_python_cannot_hold_are_read_record_by_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the year 9999 the record-by-record reader fails the file; so does the columnar one."""
    far = pa.array([0, 9_000 * 365 * 86400 * 10**6], pa.int64()).cast(UTC_TS)
    table = pa.table({"deploy_id": ["d1", "d2"], "environment": ["x", "y"], "started_at": far})
    bulk, rows = _parquet_ways(tmp_path, table, monkeypatch, columnar=False)
    assert bulk == rows
    assert bulk[0][0] is not None


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_integers_are_digits_in_both_paths(tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """pr_number as text: what int() reads after isdigit() is an integer, '+5' or '1e3' is not."""
    numbers = ["12", " -7 ", "+5", "1e3", "0x10", "1_000", "5.0", ""]
    commits = pa.table(
        {
            "change_id": [f"c{i}" for i in range(len(numbers))],
            "authored_at": [AT] * len(numbers),
            "pr_number": numbers,
        }
    )
    path = tmp_path / f"commits{suffix}"
    if suffix == ".csv":
        path.write_text(
            "change_id,authored_at,pr_number\n" + "".join(f"c{i},{AT},{n}\n" for i, n in enumerate(numbers))
        )
    else:
        pq.write_table(commits, path)
    outcomes = []
    for label, patches in {"bulk": [ONLY_BULK], "row-by-row": [NO_BULK]}.items():
        with monkeypatch.context() as m:
            for target, name, value in patches:
                m.setattr(target, name, value)
            home = DataHome.resolve(tmp_path / f"home-{label}").ensure()
            report = ingest_file(home, path)
            lake = Lake(home)
            loaded = connect().execute(f"SELECT change_id, pr_number FROM ({lake.scan_sql(RAW_TABLES['changes'])})")
            rejected = connect().execute(f"SELECT locator, reason FROM ({lake.scan_sql(REJECTED_ROWS)})")
            outcomes.append((report.error, sorted(loaded.fetchall()), sorted(rejected.fetchall())))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1] == [("c0", 12), ("c1", -7), ("c7", None)]


@pytest.mark.parametrize(
    ("case", "route"),
    [
        ("whitespace beyond spaces", "one pass"),
        ("quoted, CRLF, BOM, blank rows", "one pass"),
        ("bad rows", "ranked"),
        ("parquet in row groups of two rows", "one pass"),
        ("parquet in one row group", "in memory"),
        ("parquet with a repeated key", "ranked"),
    ],
)
def test_checked_and_written_in_one_pass_unless_a_key_repeats(
    tmp_path: Path, case: str, route: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose keys are unique is checked and written into day partitions by one query (its
    refused rows listed, none of them written); a repeated key keeps every version, ranked by
    ``_ord``, for the general merge."""
    import ops_warehouse.contract_sql as contract_sql

    taken: list[str] = []
    for name in ("_stage_one_pass", "_stage_partitioned"):
        real = getattr(contract_sql, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            result = _real(*args, **kwargs)
            taken.append(_name if result is not None else f"{_name}: none")
            if result is not None and result.by_day:
                written = [f for files in result.by_day.values() for f in files]
                assert all(f.exists() and "=refused" not in str(f) for f in written)
            return result

        monkeypatch.setattr(contract_sql, name, spy)
    if case.startswith("parquet"):
        path = tmp_path / "deploys.parquet"
        table = PARQUET_PLAIN["typed columns" if "repeated" not in case else "text columns"]
        pq.write_table(table, path, row_group_size=None if "one row group" in case else 2)
    else:
        path = tmp_path / "deploys.csv"
        path.write_bytes(PLAIN[case].encode("utf-8"))
    columnar = _outcome(tmp_path, path, "bulk")
    if route == "one pass":
        assert taken == ["_stage_one_pass"]
    elif route == "in memory":
        assert taken == ["_stage_partitioned"]
    else:
        assert taken == ["_stage_one_pass: none", "_stage_partitioned"]
    with monkeypatch.context() as m:
        m.setattr(type(ADAPTER), "bulk", lambda self, ctx: None)
        assert columnar == _outcome(tmp_path, path, "row-by-row")
