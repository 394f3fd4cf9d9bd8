"""``_security.has_blank_lines``: the test that sends an NDJSON file with blank or indented lines
record by record (the columnar readers number records, not lines)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops_warehouse.sources._security import has_blank_lines

CASES = [
    (b"", False),
    (b'{"a":1}\n{"a":2}\n', False),
    (b'{"a":1}\n{"a":2}', False),  # no newline at the end
    (b'{"a":1}\n{"a":2}\n\n', False),  # an empty last line numbers nothing
    (b'{"a":1}\n{"a":2}\n\n\n', True),
    (b'{"a":1}\n', False),
    (b"\n", True),
    (b'\n{"a":1}\n', True),
    (b' {"a":1}\n', True),
    (b'{"a":1}\n\n{"a":2}\n', True),
    (b'{"a":1}\n {"a":2}\n', True),
    (b'{"a":1}\n\t{"a":2}\n', True),
    (b'{"a":1}\n\r\n{"a":2}\n', True),
    (b'{"a":1}\r\n{"a":2}\r\n', False),  # CRLF line ends are not blank lines
    (b'{"a":" \\n "}\n{"a":"x \t y"}\n', False),  # white space inside a line
    (b'{"a":"caf\xc3\xa9"}\n{"b":"\xe2\x80\xa8"}\n', False),
    (b'{"a":1}\n\x0b{"a":2}\n', False),  # only newline, carriage return, space and tab count
]


def _by_python(data: bytes) -> bool:
    """The rule as Python's re spells it (the first byte, then every newline but a last one)."""
    if not data:
        return False
    if data[:1] in (b"\n", b"\r", b" ", b"\t"):
        return True
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    return re.compile(rb"\n[\n\r \t]").search(data, 0, end) is not None


@pytest.mark.parametrize(("data", "expected"), CASES)
def test_has_blank_lines(tmp_path: Path, data: bytes, expected: bool) -> None:
    path = tmp_path / "f.ndjson"
    path.write_bytes(data)
    assert _by_python(data) == expected
    assert has_blank_lines(path) == expected


def test_has_blank_lines_far_into_a_large_file(tmp_path: Path) -> None:
    line = b'{"alerts":[{"labels":{"a":"b"}}]}\n'
    body = line * 200_000
    path = tmp_path / "f.ndjson"
    path.write_bytes(body)
    assert not has_blank_lines(path)
    path.write_bytes(body + b"  " + line)
    assert has_blank_lines(path)
    path.write_bytes(body + b"\n" + line)
    assert has_blank_lines(path)
