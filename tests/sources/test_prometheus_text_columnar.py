"""prometheus-text's plain-line pass gives exactly the rows, rejects and accounting of the
line-by-line reader, falling back to it whenever a file holds a line it cannot read exactly: the
real samples, and hostile variants of the 0.0.4 text format."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ops_warehouse.duck import connect
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.store import Lake
from ops_warehouse.sources.prometheus_text import ADAPTER
from ops_warehouse.tables import RAW_TABLES
from tests.sources.lake_rows import bulk_and_read_agree

MS = 1_700_000_000_000
CLEAN = f"""# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{{code="200",method="get"}} 1027 {MS}
http_requests_total{{code="500",method="get"}} 3 {MS}
http_requests_total{{code="200",method="get"}} 1030 {MS + 15_000}

# TYPE latency_seconds histogram
latency_seconds_bucket{{le="0.1"}} 1 {MS}
latency_seconds_bucket{{le="1"}} 2 {MS}
latency_seconds_bucket{{le="+Inf"}} 3 {MS}
latency_seconds_sum 1.5e-1 {MS}
latency_seconds_count 3 {MS}
latency_seconds_created 1.7e9 {MS}
# TYPE rpc_seconds summary
rpc_seconds{{quantile="0.5"}} NaN
rpc_seconds{{quantile="0.99"}} +Inf
rpc_seconds_sum -Inf
rpc_seconds_count 0
# TYPE temperature gauge
temperature{{room="küche \\"1\\"",path="C:\\\\temp\\n",tab="a\\tb",odd="a,b}} c=d"}} -3.5e+2 {MS}
temperature{{room="日本"}} 1e308 {MS}
temperature{{}} 12 -{MS}
# a plain comment
untyped_thing 42
info_metric{{version="1.0"}} 1.0 {MS}
"""
CASES: dict[str, str] = {
    "clean": CLEAN,
    "CRLF and indented lines": CLEAN.replace("\n", "\r\n").replace("untyped_thing", "   untyped_thing"),
    "type declared after its samples": (
        "x_total 1 1000\n# TYPE x counter\nx_total 2 2000\n# TYPE x gauge\nx_total 3 3000\n"
    ),
    "value spellings": "a -0 1000\nb +5 1000\nc 1. 1000\nd .5 1000\ne 1E5 1000\nf 00012 1000\ng -0.0 1000\n"
    "h Inf 1000\ni -inf 1000\nj nan 1000\nk +Inf 1000\nl -00 1000\nm 1e-320 1000\nn 5 -0\n",
    "bad numbers": "a 1\nb abc\nc 1_0\nd 0x10\ne 1.2.3\n",
    "missing value": 'a 1\nb\nc{x="1"}\n',
    "huge values": "a 1e400\nb -1e400\nc 123456789012345678901234567890\n",
    "huge integer": "a 1\nb " + "9" * 400 + "\n",
    "huge timestamp": "a 1 " + "9" * 30 + "\n",
    "float timestamp": "a 1 1700000000000.5\n",
    "unicode names": 'a 1\n{"ünï.côdé"} 1\nb{"ключ"="v"} 2\n',
    "unicode digits": "a ٣\n",
    "duplicate label names": 'a{x="1",x="2"} 1\n',
    "reserved label name": 'a{__name__="b"} 1\nc{__x="1"} 2\n',
    "bad le": 'x_bucket{le="abc"} 1\n',
    "trailing comma": 'a{x="1",} 1\n',
    "spaces": 'a{x="1"}  1\nb {x="1"} 1\nc{ x="1" } 1\n',
    "tabs": 'a\t1\nb{x="1"}\t1\t1000\n',
    "three tokens": "a 1 1000 extra\n",
    "unknown escape": 'a{x="\\q"} 1\n',
    "repeated sample": "a 1 1000\na 2 1000\n",
    "content after EOF": "a 1\n# EOF\nb 2\n",
    "EOF then comment": "a 1\n# EOF\n# TYPE b gauge\n",
    "not UTF-8": "a 1\n",  # rewritten as bytes below
    "byte order mark": "\ufeffa 1 1000\nb 2 1000\n",
    "only comments": "# TYPE a counter\n# HELP a help\n",
}
# OpenMetrics: timestamps in seconds, every file ends with # EOF
S = 1_700_000_000
OM_CLEAN = CLEAN.replace(str(MS + 15_000), f"{S + 15}.5").replace(str(MS), f"{S}.25") + "# EOF\n"
CASES |= {
    "OpenMetrics clean": OM_CLEAN,
    "OpenMetrics timestamp spellings": "a 1 1700000000\nb 1 1700000000.5\nc 1 1700000000.123456789\n"
    "d 1 -1.5\ne 1 1.5e9\nf 1 .5\ng 1 +5\nh 1 01\ni 1 1.\nj 1 1700000000.1234567891234\nk 1 1E9\n# EOF\n",
    "OpenMetrics value spellings": CASES["value spellings"] + "# EOF\n",
    "OpenMetrics timestamp NaN": "a 1 1700000000\nb 1 nan\n# EOF\n",
    "OpenMetrics trailing comma": 'a{x="1"} 1\nb{x="1",} 1\n# EOF\n',
    "OpenMetrics exemplar": 'x_bucket{le="0.1",a="b # c"} 3 # {trace="7"} 0.05 1.5e9\n# EOF\n',
    "OpenMetrics label hash": 'x_bucket{le="0.1",a="b # c"} 3 1700000000\n# EOF\n',
} | {f"OpenMetrics, {case}": text + "# EOF\n" for case, text in CASES.items() if "EOF" not in text}
PLAIN = (
    "OpenMetrics clean",
    "OpenMetrics timestamp spellings",
    "OpenMetrics value spellings",
    "OpenMetrics label hash",
    "clean",
    "value spellings",
    "CRLF and indented lines",
    "type declared after its samples",
    "huge values",
    "real text sample",
)


@pytest.mark.parametrize("case", [*CASES, "real text sample", "real OpenMetrics sample"])
def test_plain_line_and_line_by_line_readers_agree(
    tmp_path: Path, case: str, samples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "metrics.prom"
    if case == "real text sample":
        shutil.copy(samples / "prometheus_text_exposition_0.0.4.prom", path)
    elif case == "real OpenMetrics sample":
        shutil.copy(samples / "openmetrics_alltypes_5mfs.om.txt", path)
    elif case == "not UTF-8":
        path.write_bytes(b'a 1\nb{x="caf\xe9"} 2\n')
    else:
        path.write_text(CASES[case], encoding="utf-8")
    os.utime(path, (1_700_000_000.25, 1_700_000_000.25))  # the scrape time of samples without one
    bulk_and_read_agree(tmp_path, path, ADAPTER, monkeypatch, bulk_alone=case in PLAIN, kind=ADAPTER.kind)


def test_plain_line_pass_follows_type_lines_in_file_order(tmp_path: Path) -> None:
    """The plain-line pass alone: a sample takes the type its family was declared with before it."""
    path = tmp_path / "metrics.prom"
    path.write_text(CASES["type declared after its samples"] + CLEAN)
    os.utime(path, (1_700_000_000.25, 1_700_000_000.25))
    home = DataHome.resolve(tmp_path / "home").ensure()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(type(ADAPTER), "read", lambda self, ctx: iter([1 / 0]))
        report = ingest_file(home, path)
    assert report.error is None and report.quarantined == 0
    kinds = dict(
        connect()
        .execute(
            "SELECT CAST(epoch_ms(ts) AS VARCHAR) || ' ' || metric, kind "
            f"FROM ({Lake(home).scan_sql(RAW_TABLES['metric_samples'])})"
        )
        .fetchall()
    )
    assert [kinds[f"{ms} x_total"] for ms in (1000, 2000, 3000)] == ["unknown", "counter", "gauge"]
    assert kinds[f"{MS} latency_seconds_bucket"] == "histogram"
    assert kinds[f"{MS} latency_seconds_created"] == "gauge"
    assert kinds["1700000000250 untyped_thing"] == "unknown"
    assert kinds["1700000000250 rpc_seconds_count"] == "summary"


@pytest.mark.parametrize("case", ["clean", "type declared after its samples", "byte order mark", "content after EOF"])
def test_plain_line_pass_reads_blocks_like_whole_files(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of a few bytes (lines split across reads, comments and # EOF in other blocks) read as
    the line-by-line reader reads the file."""
    import ops_warehouse.sources.prometheus_text as module

    path = tmp_path / "metrics.prom"
    path.write_text(CASES[case], encoding="utf-8")
    os.utime(path, (1_700_000_000.25, 1_700_000_000.25))
    monkeypatch.setattr(module, "_BLOCK", 7)
    bulk_and_read_agree(tmp_path, path, ADAPTER, monkeypatch, bulk_alone=case != "content after EOF", kind=ADAPTER.kind)
