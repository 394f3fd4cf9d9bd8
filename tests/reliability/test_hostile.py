"""Hostile input: malformed exports of every kind, fuzzed samples, SQL-looking values, escaping
file names and writing SQL. Nothing may raise, every report must balance against what was really
stored (or be a clean one-line file error that stored nothing), values round-trip exactly, nothing
is written outside the data home, and the published warehouse cannot be changed through ``sql``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import FileReport, ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish
from ops_warehouse.sources.base import all_adapters

from .conftest import Reference, assert_lake_readable
from .hostile_corpus import (
    HOSTILE_STRINGS,
    INJECTION,
    SAMPLES_BY_KIND,
    corpus,
    dump,
    parse,
    sample_text,
)

KINDS = sorted(SAMPLES_BY_KIND)

# Cases that are also ingested without --source (content detection on malformed input).
DETECT_CASES = {
    "truncated_half",
    "not_utf8",
    "nul_bytes",
    "json_empty_object",
    "ndjson_garbage_lines",
    "unknown_enum_values.0",
    "missing_required.0",
    "sql_in_every_string.0",
    "nan_timestamps.0",
    "strings_to_ints.0",
}

INT64_OVERFLOW = (
    "ingest.check_row/_coerce accepts a Python int outside int64 for an int64 column; "
    "pyarrow raises OverflowError in _Stager.flush (called by flush_all outside the read loop's "
    "try), so the exception escapes ingest_file (and aborts the rest of an `ingest` batch)"
)
YAML_TWO_LINES = (
    "the YAML adapters put PyYAML's multi-line problem text into FileError "
    "('invalid YAML at an unknown place: ...\\n  in \"<unicode string>\", position N'), so "
    "`ingest` prints a two-line error"
)
# (kind, case) -> the product bug it once showed; each stays checked on its own property.
FORMER_BUGS: dict[tuple[str, str], str] = {
    ("canonical", "ndjson_int_overflow"): INT64_OVERFLOW,
    ("github-pulls", "huge_ints.0"): INT64_OVERFLOW,
    ("github-pulls", "bigger_than_any_float.0"): INT64_OVERFLOW,
    ("openslo", "nul_bytes"): YAML_TWO_LINES,
    ("sloth", "nul_bytes"): YAML_TWO_LINES,
}


# ---------------------------------------------------------------- what a report must satisfy


def _lake_state(home: DataHome) -> dict[str, tuple[int, int]]:
    """Each data file of the lake (raw and quarantine) with its size and modification time."""
    out = {}
    for sub in ("raw", "quarantine"):
        root = home.lake / sub
        if root.exists():
            for f in root.rglob("*.parquet"):
                st_ = f.stat()
                out[str(f.relative_to(home.lake))] = (st_.st_size, st_.st_mtime_ns)
    return out


def _raw_rows(home: DataHome) -> int:
    return (
        sum(pq.read_metadata(f).num_rows for f in (home.lake / "raw").rglob("*.parquet"))
        if (home.lake / "raw").exists()
        else 0
    )


def _rejected_for(home: DataHome, source_file: str) -> list[tuple[str, str]]:
    f = home.lake / "quarantine" / "rejected_rows" / "part-0.parquet"
    if not f.exists():
        return []
    t = pq.read_table(f, columns=["source_file", "locator", "reason"]).to_pylist()
    return [(r["locator"], r["reason"]) for r in t if r["source_file"] == source_file]


def ingest_and_check(home: DataHome, path: Path, kind: str | None) -> FileReport:
    """Ingest ``path`` and check the report against what the lake really holds afterwards."""
    before_files = _lake_state(home)
    before_rows = _raw_rows(home)
    try:
        report = ingest_file(home, path, kind=kind)
    except Exception as exc:  # noqa: BLE001 - the finding
        pytest.fail(f"{path.name} (--source {kind}): {type(exc).__name__} escaped ingest_file: {exc}")
    where = f"{path.name} (--source {kind}): {report.line()}"
    if report.error is not None:
        assert report.error.strip(), where
        assert "\n" not in report.error and "Traceback" not in report.error, f"not a one-line error: {where}"
        assert (report.loaded, report.duplicates, report.quarantined) == (0, 0, 0), where
        assert _lake_state(home) == before_files, f"a failed file changed the lake: {where}"
    else:
        assert report.read == report.loaded + report.duplicates + report.quarantined, f"unbalanced: {where}"
        rejected = _rejected_for(home, str(path.resolve()))
        assert len(rejected) == report.quarantined, f"{len(rejected)} rows in quarantine: {where}"
        assert all(loc and reason for loc, reason in rejected), f"a quarantined row lacks its place or reason: {where}"
        added = _raw_rows(home) - before_rows
        assert 0 <= added <= report.loaded, f"{added} raw rows added: {where}"
        if report.loaded == 0:
            assert {k: v for k, v in _lake_state(home).items() if k.startswith("raw")} == {
                k: v for k, v in before_files.items() if k.startswith("raw")
            }, f"nothing loaded but raw files changed: {where}"
    assert not list(home.tmp.glob("ingest-*")), f"staging left behind: {where}"
    return report


# ---------------------------------------------------------------- the corpus, every kind


@pytest.mark.parametrize("kind", KINDS)
def test_malformed_files_of_every_kind(kind: str, tmp_path: Path) -> None:
    assert set(KINDS) == set(all_adapters()), "the corpus must cover every registered source kind"
    home = DataHome.resolve(tmp_path / "home").ensure()
    inbox = tmp_path / "in"
    inbox.mkdir()
    results = []
    for name, data, suffix in corpus(kind):
        for source in (kind, None) if name in DETECT_CASES else (kind,):
            f = inbox / f"{name}.{'given' if source else 'detected'}{suffix}"
            f.write_bytes(data)
            results.append((name, source, ingest_and_check(home, f, source)))
    # the corpus is worth something only if it reached past the parsers and the detector
    assert any(r.ok and r.read for _, _, r in results), f"no {kind} case got past the parser"
    assert any(not r.ok for _, _, r in results)
    assert_lake_readable(home)


@pytest.mark.parametrize(
    ("kind", "case"),
    list(FORMER_BUGS),
)
def test_former_bugs_stay_fixed(kind: str, case: str, tmp_path: Path) -> None:
    """Each bug the corpus found, checked on its own property (FORMER_BUGS says what it was)."""
    home = DataHome.resolve(tmp_path / "home").ensure()
    name, data, suffix = next(c for c in corpus(kind) if c[0] == case)
    f = tmp_path / f"{name}{suffix}"
    f.write_bytes(data)
    try:
        report = ingest_file(home, f, kind=kind)
    except Exception as exc:  # noqa: BLE001 - the finding
        pytest.fail(f"{type(exc).__name__} escaped ingest_file: {exc}")
    assert report.balanced if report.ok else (report.error and "\n" not in report.error), report.line()


def test_one_bad_timestamp_value_quarantines_its_row_not_the_file(tmp_path: Path) -> None:
    """A well-formed file with one out-of-range timestamp keeps its good rows."""
    home = DataHome.resolve(tmp_path / "home").ensure()
    f = tmp_path / "incidents.ndjson"
    f.write_text(
        '{"incident_id": "i1", "service": "checkout", "created_at": "2026-11-23T10:00:00Z"}\n'
        '{"incident_id": "i2", "service": "checkout", "created_at": "9999-12-31T23:59:59-01:00"}\n'
        '{"incident_id": "i3", "service": "checkout", "created_at": "2026-11-24T10:00:00Z"}\n',
        encoding="utf-8",
    )
    r = ingest_file(home, f, kind="canonical")
    assert (r.error, r.read, r.loaded, r.quarantined) == (None, 3, 2, 1), r.line()


def test_cli_shows_no_traceback_when_an_adapter_fails(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_bytes(b"[" * 20_000 + b"]" * 20_000)
    r = _cli(tmp_path / "home", "ingest", "--source", "canonical", str(f))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr, r.stderr[-500:]
    assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) == 1, r.stderr


DEEP = textwrap.dedent(
    """
    import json, logging, resource, sys, tempfile
    from pathlib import Path
    logging.disable(logging.CRITICAL)
    # a hard ceiling so a runaway parser fails here instead of taking the machine down
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    from ops_warehouse.home import DataHome
    from ops_warehouse.ingest import ingest_file
    depth, kinds = int(sys.argv[1]), sys.argv[2:]
    d = Path(tempfile.mkdtemp())
    home = DataHome.resolve(d / "home").ensure()
    f = d / "deep.json"
    f.write_bytes(b"[" * depth + b"]" * depth)
    for kind in kinds:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            r = ingest_file(home, f, kind=None if kind == "-" else kind)
            out = {"kind": kind, "error": r.error, "balanced": r.balanced}
        except BaseException as exc:
            out = {"kind": kind, "escaped": f"{type(exc).__name__}: {exc}"}
        out["grew_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024
        print(json.dumps(out), flush=True)
    """
)


def _deep(kinds: list[str], depth: int = 20_000) -> list[dict[str, Any]]:
    r = subprocess.run([sys.executable, "-c", DEEP, str(depth), *kinds], capture_output=True, text=True, timeout=300)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == len(kinds), f"the child died ({r.returncode}): {r.stderr[-2000:]}"
    return lines


def _assert_deep_ok(results: list[dict[str, Any]]) -> None:
    for res in results:
        assert "escaped" not in res, res
        assert res["error"] is None or "\n" not in res["error"], res
        assert "MemoryError" not in (res["error"] or ""), res
        assert res["grew_mb"] < 300, f"{res['kind']}: 40 KB of nested JSON took {res['grew_mb']} MB"


def test_deeply_nested_json_in_bounded_memory() -> None:
    """40 KB of nested arrays, given to every adapter and to detection: a clean refusal or
    accounting, never a runaway parser (the streamed metric adapters once took ~1 GB here)."""
    _assert_deep_ok(_deep([*KINDS, "-"]))


# ---------------------------------------------------------------- the CLI on hostile files


def _cli(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops_warehouse.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_cli_ingest_of_hostile_files_never_shows_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    chosen = [
        "truncated_half",
        "not_utf8",
        "binary",
        "json_null",
        "unknown_enum_values.0",
        "nan_timestamps.0",
        "missing_required.0",
        "empty",
    ]
    names = []
    for kind in ("pagerduty-incidents", "github-deployment-statuses", "prometheus-range", "jira-issues"):
        for name, data, suffix in corpus(kind):
            if name in chosen:
                f = folder / f"{kind}.{name}{suffix}"
                f.write_bytes(data)
                names.append(f)
    home = tmp_path / "home"
    # with the kind given, then detected from content
    for args in (
        ("--source", "pagerduty-incidents", *[str(p) for p in names if p.name.startswith("pagerduty")]),
        (str(folder),),
    ):
        r = _cli(home, "ingest", *args)
        assert r.returncode == 1, r.stdout + r.stderr  # some files cannot be read at all
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr
        err_lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert err_lines and all(": error: " in ln for ln in err_lines), r.stderr
        ok_lines = [ln for ln in r.stdout.splitlines() if "]: read " in ln]
        for ln in ok_lines:
            m = re.search(r"\]: read (\d+), loaded (\d+), duplicates (\d+), quarantined (\d+)$", ln)
            assert m, ln
            read, *parts = map(int, m.groups())
            assert read == sum(parts), ln
        summary = r.stdout.splitlines()[-1]
        assert summary.split(" files")[0].isdigit() and "failed" in summary, summary
        n_files = int(summary.split(" files")[0])
        assert n_files == len(err_lines) + len(ok_lines)


# ---------------------------------------------------------------- property-based fuzzing


FUZZ_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:5]):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(doc: Any, path: tuple, op: str, value: Any) -> Any:
    if not path:
        return value if op != "drop" else {}
    parent = doc
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if op == "drop":
        if isinstance(parent, dict):
            parent.pop(last, None)
        elif isinstance(parent, list) and last < len(parent):
            parent.pop(last)
    elif op == "set":
        parent[last] = value
    elif op == "stringify":
        parent[last] = json.dumps(parent[last], allow_nan=True)
    elif op == "wrap":
        parent[last] = [parent[last]]
    return doc


def _fuzzed_bytes(data: st.DataObject, kind: str) -> tuple[bytes, str]:
    n = max(1, len(SAMPLES_BY_KIND[kind]))
    text, suffix = sample_text(kind, data.draw(st.integers(0, n - 1 if kind != "canonical" else 1)))
    parsed = parse(text, suffix)
    if parsed is None:  # line formats: swap tokens for hostile ones
        lines = text.splitlines()
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(lines) - 1))
            tokens = lines[i].replace(",", " , ").split(" ")
            j = data.draw(st.integers(0, len(tokens) - 1))
            tokens[j] = data.draw(
                st.sampled_from(HOSTILE_STRINGS).map(lambda s: s.replace("\x00", "")) | st.text(max_size=8)
            )
            lines[i] = " ".join(tokens).replace(" , ", ",")
        return "\n".join(lines).encode("utf-8", errors="surrogatepass"), suffix
    fmt, doc = parsed
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(doc)[1:]  # never the root: a file of one scalar is a byte-level case
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        op = data.draw(st.sampled_from(["drop", "set", "set", "stringify", "wrap"]))
        doc = _mutate(doc, path, op, data.draw(FUZZ_VALUES) if op == "set" else None)
    try:
        return dump(fmt, doc), suffix
    except (ValueError, UnicodeEncodeError):  # e.g. a lone surrogate: not a file anyone can write
        return b"", suffix


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_samples_never_escape_and_balance(kind: str, data: st.DataObject, tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / f"home-{kind}").ensure()
    content, suffix = _fuzzed_bytes(data, kind)
    source = data.draw(st.sampled_from([kind, kind, None]))
    f = tmp_path / f"fuzz-{hashlib.sha1(content).hexdigest()[:12]}-{source or 'detected'}{suffix}"
    f.write_bytes(content)
    ingest_and_check(home, f, source)


# ---------------------------------------------------------------- values never reach SQL unquoted


NASTY = [
    INJECTION,
    "O'Brien's \"quoted\" service",
    "semi;colon;--comment",
    "ünïcödé-☃-🚀-👩‍💻",
    "back\\slash and \"double\" and 'single'",
    "$$dollar$$ and %percent% and {brace}",
]


def test_hostile_values_round_trip_through_build_and_publish(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home").ensure()
    home.catalog.write_text(
        yaml.safe_dump(
            {"services": {s: {"team": "team " + s, "production_environments": ["production"]} for s in NASTY}},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["deploy_id", "service", "environment", "sha", "started_at", "finished_at", "status"])
    for i, s in enumerate(NASTY):
        w.writerow(
            [
                f"d{i}-{s}",
                s,
                "production",
                f"sha{i}",
                f"2026-11-2{i % 5}T10:00:00Z",
                f"2026-11-2{i % 5}T10:05:00Z",
                "success",
            ]
        )
    deploys = tmp_path / "deploys.csv"
    deploys.write_text(buf.getvalue(), encoding="utf-8")
    incidents = tmp_path / "incidents.ndjson"
    incidents.write_text(
        "".join(
            json.dumps(
                {
                    "incident_id": f"i{i}",
                    "service": s,
                    "severity": "sev2",
                    "title": f"title {s}",
                    "created_at": f"2026-11-2{i % 5}T11:00:00Z",
                    "resolved_at": f"2026-11-2{i % 5}T12:00:00Z",
                }
            )
            + "\n"
            for i, s in enumerate(NASTY)
        ),
        encoding="utf-8",
    )
    metrics = tmp_path / "metrics.ndjson"
    metrics.write_text(
        "".join(
            json.dumps(
                {
                    "metric": "http_requests_total",
                    "labels": json.dumps({"service": s, "path": f"/{s}"}),
                    "ts": "2026-11-23T10:00:00Z",
                    "value": float(i),
                }
            )
            + "\n"
            for i, s in enumerate(NASTY)
        ),
        encoding="utf-8",
    )
    for f in (deploys, incidents, metrics):
        r = ingest_and_check(home, f, None)
        assert r.ok and r.loaded == len(NASTY) and r.quarantined == 0, r.line()
    build_models(home)
    publish(home)

    con = duckdb.connect(str(home.warehouse), read_only=True)
    try:
        tables = {
            f"{s}.{n}"
            for s, n in con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        }
        assert {
            "core.deployments",
            "core.incidents",
            "raw.deployments",
            "raw.metric_samples",
            "marts.dora_weekly",
        } <= tables
        services = {r[0] for r in con.execute("SELECT service FROM core.deployments").fetchall()}
        assert services == set(NASTY)
        ids = {r[0] for r in con.execute("SELECT deploy_id FROM core.deployments").fetchall()}
        assert ids == {f"d{i}-{s}" for i, s in enumerate(NASTY)}
        teams = {r[0] for r in con.execute("SELECT team FROM core.deployments").fetchall()}
        assert teams == {"team " + s for s in NASTY}
        titles = {r[0] for r in con.execute("SELECT title FROM core.incidents").fetchall()}
        assert titles == {f"title {s}" for s in NASTY}
        labels = [json.loads(r[0]) for r in con.execute("SELECT labels FROM raw.metric_samples").fetchall()]
        assert {lab["service"] for lab in labels} == set(NASTY) and {lab["path"] for lab in labels} == {
            f"/{s}" for s in NASTY
        }
        assert con.execute("SELECT count(*) FROM core.deployments").fetchone()[0] == len(NASTY)
        mart_services = {
            r[0] for r in con.execute("SELECT service FROM marts.dora_weekly WHERE scope = 'service'").fetchall()
        }
        assert mart_services == set(NASTY)
    finally:
        con.close()


# ---------------------------------------------------------------- file names cannot escape


def _tree(root: Path, skip: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == skip or skip in Path(dirpath).parents:
            continue
        for n in filenames + dirnames:
            p = Path(dirpath) / n
            st_ = p.lstat()
            out[str(p.relative_to(root))] = (st_.st_size, st_.st_mtime_ns)
    return out


def test_file_names_cannot_write_outside_the_data_home(tmp_path: Path) -> None:
    home = DataHome.resolve(tmp_path / "home").ensure()
    inbox = tmp_path / "inbox" / "deep" / "er"
    inbox.mkdir(parents=True)
    body = (
        "deploy_id,service,environment,started_at\n"
        "d1,checkout,production,2026-11-23T10:00:00Z\n"
        "d2,checkout,production,not-a-time\n"
    )
    names = [
        "..",  # not a file: the directory
        "..deploys.csv",
        "deploys..csv",
        "..%2F..%2Fescape.csv",
        'it\'s "quoted"; DROP TABLE core.deployments; --.csv',
        "ünï ☃ 🚀.csv",
        "-rf --home.csv",
    ]
    paths = []
    for n in names[1:]:
        (inbox / n).write_text(body, encoding="utf-8")
        paths.append(inbox / n)
    # a path that walks up with .. and back down
    paths.append(tmp_path / "inbox" / "deep" / "er" / ".." / ".." / "deep" / "er" / "deploys..csv")
    paths.append(inbox / "..")
    before = _tree(tmp_path, home.root)
    reports = [ingest_file(home, p, kind="canonical") for p in paths]
    after = _tree(tmp_path, home.root)
    assert after == before, f"written outside the data home: {sorted(set(after) ^ set(before))}"
    for r in reports[:-1]:
        assert r.ok and r.balanced and r.quarantined == 1, r.line()
    assert reports[-1].error == "not a regular file"
    stored = {
        r[0]
        for r in duckdb.connect()
        .execute(
            "SELECT DISTINCT source_file FROM read_parquet(?)",
            [str(home.lake / "quarantine" / "rejected_rows" / "part-0.parquet")],
        )
        .fetchall()
    }
    assert stored == {str(p.resolve()) for p in paths[:-1]}
    assert_lake_readable(home)
    # the CLI too, with the home given relative to a working directory
    r = _cli(Path("home"), "ingest", "--source", "canonical", str(paths[3]), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _tree(tmp_path, home.root) == before


# ---------------------------------------------------------------- sql cannot write


WRITES = [
    "INSERT INTO core.deployments SELECT * FROM core.deployments LIMIT 1",
    "UPDATE core.deployments SET service = 'x'",
    "DELETE FROM core.deployments",
    "CREATE TABLE core.x AS SELECT 1",
    "CREATE VIEW core.v AS SELECT 1",
    "CREATE SCHEMA evil",
    "CREATE MACRO m(x) AS x",
    "DROP TABLE core.deployments",
    "ALTER TABLE core.deployments RENAME TO gone",
    "COMMENT ON TABLE core.deployments IS 'x'",
    "TRUNCATE core.deployments",
    "COPY core.deployments TO 'stolen.csv'",
    "COPY (SELECT 1) TO 'stolen.parquet' (FORMAT parquet)",
    "EXPORT DATABASE 'dumped'",
    "ATTACH 'other.duckdb' AS other",
    "DETACH warehouse",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET threads = 1",
    "RESET lock_configuration",
    "PRAGMA enable_checkpoint_on_shutdown",
    "BEGIN TRANSACTION; DROP TABLE core.deployments; COMMIT",
    "SELECT 1; DROP TABLE core.deployments",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('catalog.yaml')",
]


@pytest.fixture(scope="module")
def published(reference: Reference, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a copy of the reference snapshot (and nothing else)."""
    root = tmp_path_factory.mktemp("sql") / "home"
    root.mkdir()
    (root / "warehouse.duckdb").write_bytes(reference.home.warehouse.read_bytes())
    return root


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("statement", WRITES)
def test_sql_cannot_change_anything(
    statement: str, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ops_warehouse.cli import main

    monkeypatch.chdir(tmp_path)
    before = _sha(published / "warehouse.duckdb")
    code = main(["--home", str(published), "sql", statement])
    out, err = capsys.readouterr()
    assert code == 1, f"{statement!r} was allowed: {out}"
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("ops-warehouse: "), err
    assert _sha(published / "warehouse.duckdb") == before
    assert sorted(p.name for p in published.iterdir()) == ["warehouse.duckdb"]
    assert list(tmp_path.iterdir()) == []
    # and the snapshot still answers
    assert main(["--home", str(published), "sql", "SELECT count(*) AS n FROM core.deployments", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1] != "0"


def test_sql_write_through_the_real_command(published: Path, tmp_path: Path) -> None:
    before = _sha(published / "warehouse.duckdb")
    for statement in (
        "DROP TABLE core.deployments",
        "COPY core.incidents TO 'x.csv'",
        "SELECT 1; DELETE FROM core.incidents",
    ):
        r = _cli(published, "sql", statement, cwd=tmp_path)
        assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert _sha(published / "warehouse.duckdb") == before
    assert list(tmp_path.iterdir()) == []
