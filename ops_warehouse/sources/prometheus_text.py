"""``prometheus-text``: Prometheus text exposition 0.0.4 and OpenMetrics 1.0 text.

Format::

    # HELP http_requests_total Requests served.
    # TYPE http_requests_total counter
    http_requests_total{code="200"} 1027 1395066363000      <- 0.0.4: integer milliseconds
    http_requests_total{code="200"} 1027 1395066363.000     <- OpenMetrics: float seconds
    # EOF                                                   <- OpenMetrics only, required

A file is OpenMetrics when its last line is ``# EOF`` (``source`` = ``openmetrics``), otherwise
0.0.4 (``source`` = ``prometheus``). Each sample line is parsed by ``prometheus_client``'s parser
for that format (its public API), line by line, so files of any size stream and a bad line is one reject
(``line N``) rather than a failed file.

Mapping to ``raw.metric_samples`` (one row per sample line):

- ``metric`` is the sample name as written (``x_total``, ``x_bucket``, ``x_created``...); labels as
  written, ``le`` and ``quantile`` normalized (see ``_metrics``). Exemplars are not stored.
- ``kind`` is the family's ``# TYPE`` (``untyped``/``unknown`` -> ``unknown``; OpenMetrics
  ``gaugehistogram``, ``info`` and ``stateset`` -> ``gauge``). ``<name>_created`` samples hold a
  creation time, not a count: they are stored as their own ``gauge`` series. A sample without a
  ``# TYPE`` for its family is ``unknown``.
- ``ts`` is the sample's timestamp. Timestamps are optional in both formats (a scrape has the time
  it was taken): a sample without one takes the scrape time, which is ``ReadContext.options
  ["scrape_time"]`` (an aware datetime) when given, otherwise the file's modification time.

A file whose sample lines are all written the plain way (``name{label="value",...} value
[timestamp]``, single spaces, label names that need no checking), in either format, is first read
in blocks by Arrow's vectorized string functions (one regular expression over all lines) into
Parquet, one exact batch (``BulkChunk.exact``): names, labels, values and timestamps come out of the
same conversions the library's parser makes (label sets, timestamps and unusual values worked out
once per distinct text in Python; for OpenMetrics, by the library's own parser once per distinct
text), and ``# TYPE`` lines are followed in file order as above. The first line it cannot read that
way (a line the parser would reject or might read differently, an exemplar, content after
``# EOF``...) ends that pass, and the file is read line by line instead, so rejects keep their
reasons and line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from prometheus_client.openmetrics.parser import text_string_to_metric_families as _openmetrics_families
from prometheus_client.parser import text_string_to_metric_families as _text_families
from prometheus_client.samples import Sample, Timestamp

from ops_warehouse.duck import quote_literal
from ops_warehouse.sources._metrics import (
    TABLE,
    file_mtime,
    iter_lines,
    last_line,
    normalize_labels,
    parse_value,
    reject,
    require_content,
    sample,
)
from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    BulkInput,
    FileError,
    ReadContext,
    Record,
    Sniff,
)
from ops_warehouse.timeutil import TimestampError, from_epoch, from_epoch_ns

SOURCE_TEXT: Final = "prometheus"
SOURCE_OPENMETRICS: Final = "openmetrics"
EOF_LINE: Final = "# EOF"
_TYPES: Final = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "untyped": "unknown",
    "unknown": "unknown",
    "gaugehistogram": "gauge",
    "info": "gauge",
    "stateset": "gauge",
}
_SUFFIXES: Final = ("_total", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info")
_DETECT_LINES: Final = 20
_COMMENT = re.compile(r"#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s+(.*))?$")

Parser = Callable[[str], Any]


def _only_sample(families: Iterable[Any]) -> Sample:
    samples = [s for family in families for s in family.samples]
    if len(samples) != 1:
        raise ValueError(f"expected one sample, found {len(samples)}")
    return samples[0]


def _parse_text_sample(line: str) -> Sample:
    """One 0.0.4 sample line, through the library's public parser."""
    return _only_sample(_text_families(line + "\n"))


def _parse_openmetrics_sample(line: str) -> Sample:
    """One OpenMetrics sample line through the library's public parser, read as a family of its
    own (the family's type rules belong to the whole family, not one line), without its exemplar
    (which is not stored), before the ``# EOF`` the parser requires.

    >>> s = _parse_openmetrics_sample('x_bucket{le="0.1",a="b # c"} 3 # {trace="7"} 0.05 1.5e9')
    >>> (s.name, s.labels, s.value)
    ('x_bucket', {'le': '0.1', 'a': 'b # c'}, 3)
    """
    return _only_sample(_openmetrics_families(_without_exemplar(line) + "\n# EOF\n"))


def _without_exemplar(line: str) -> str:
    """The sample line up to its exemplar (`` # {...}``), outside quoted label values."""
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = quoted
        elif ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted and line[i - 1 : i] == " ":
            return line[: i - 1].rstrip()
    return line


@dataclass
class _Dialect:
    source: str
    parse: Parser


TEXT: Final = _Dialect(SOURCE_TEXT, _parse_text_sample)
OPENMETRICS: Final = _Dialect(SOURCE_OPENMETRICS, _parse_openmetrics_sample)


@dataclass
class _State:
    """What the lines read so far declared: family types, the scrape time, whether # EOF passed."""

    dialect: _Dialect
    scrape_time: datetime
    types: dict[str, str] = field(default_factory=dict)
    ended: bool = False


class PrometheusTextAdapter(Adapter):
    kind = "prometheus-text"
    description = "Prometheus text exposition 0.0.4 or OpenMetrics text (scrape output, promtool dumps)"

    def detect(self, sniff: Sniff) -> bool:
        if sniff.first_char in ("{", "[", ""):
            return False
        lines = sniff.text.splitlines()
        if len(sniff.head) < sniff.size:
            lines = lines[:-1]  # the head may end mid-line
        samples = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")][:_DETECT_LINES]
        typed = any(_COMMENT.match(ln.strip()) for ln in lines[:_DETECT_LINES])
        return (bool(samples) or typed) and all(_parses(ln) for ln in samples)

    def bulk(self, ctx: ReadContext) -> BulkInput | None:
        """The plain-line pass (see the module docs), or None to read the file line by line."""
        if ctx.scratch is None:
            return None
        try:
            require_content(ctx.path)
            dialect = OPENMETRICS if last_line(ctx.path) == EOF_LINE else TEXT
            state = _State(dialect, _scrape_time(ctx))
        except (FileError, TimestampError, OSError):
            return None
        ctx.scratch.mkdir(parents=True, exist_ok=True)
        target = ctx.scratch / "prometheus-text.parquet"
        if not _plain_pass(ctx.path, state, target):
            return None
        rows = f"SELECT *, false AS _unclean FROM read_parquet({quote_literal(str(target))})"
        return BulkInput.exact(TABLE, rows)

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        require_content(ctx.path)
        dialect = OPENMETRICS if last_line(ctx.path) == EOF_LINE else TEXT
        state = _State(dialect, _scrape_time(ctx))
        for lineno, text in iter_lines(ctx.path):
            line = text.strip()
            if not line:
                continue
            if state.ended:
                yield reject(f"line {lineno}", "content after # EOF", text)
            elif line.startswith("#"):
                _comment(state, line)
            else:
                yield _sample_line(state, f"line {lineno}", text)


def _parses(line: str) -> bool:
    try:
        parsed = _parse_text_sample(line.strip())
        return isinstance(parsed.value, (int, float))
    except Exception:  # the library raises assorted errors on text that is not a sample
        return False


def _scrape_time(ctx: ReadContext) -> datetime:
    given = ctx.options.get("scrape_time")
    if isinstance(given, datetime):
        if given.tzinfo is None:
            raise FileError("scrape_time must carry a UTC offset")
        return given.astimezone(UTC)
    return from_epoch(file_mtime(ctx.path))


def _comment(state: _State, line: str) -> None:
    if line == EOF_LINE:
        state.ended = True
        return
    match = _COMMENT.match(line)
    if match and match.group(1) == "TYPE":
        state.types[match.group(2)] = _TYPES.get((match.group(3) or "").strip().lower(), "unknown")


def _sample_line(state: _State, locator: str, text: str) -> Record:
    try:
        parsed = state.dialect.parse(text.strip())
        value = parse_value(parsed.value)
        ts = _timestamp(parsed.timestamp, state.scrape_time)
    except TimestampError as exc:
        return reject(locator, f"time: {exc}", text)
    except BadRecord as exc:
        return reject(locator, str(exc), text)
    except Exception as exc:  # the library's parse errors: ValueError, IndexError, ...
        return reject(locator, f"not a sample line: {exc or type(exc).__name__}", text)
    try:
        return sample(parsed.name, parsed.labels, ts, value, _kind(state, parsed.name), state.dialect.source, locator)
    except BadRecord as exc:
        return reject(locator, str(exc), text)


def _timestamp(value: Any, scrape_time: datetime) -> datetime:
    if value is None:
        return scrape_time
    if isinstance(value, Timestamp):
        return from_epoch_ns(value.sec * 1_000_000_000 + value.nsec)
    return from_epoch(value)


def _kind(state: _State, name: str) -> str:
    if name in state.types:
        return state.types[name]
    if name.endswith("_created"):
        return "gauge"
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in state.types:
            return state.types[name[: -len(suffix)]]
    return "unknown"


# ---------------------------------------------------------------- the plain-line pass

_NAME: Final = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
# label names as the pattern takes them; reserved ones ("__...") are refused with the label set
_LABEL: Final = r"[a-zA-Z_][a-zA-Z0-9_]*"
_VALUE: Final = r'"(?:[^"\\]|\\.)*"'
# a value or timestamp in ASCII (int() and float() also read other digits, not always alike)
_TOKEN: Final = r"[0-9A-Za-z.+-]+"
# a sample line written the plain way (RE2 syntax: Arrow's regular expressions)
_PLAIN: Final = (
    rf"^(?P<name>{_NAME})(?:\{{(?P<labels>(?:{_LABEL}={_VALUE})(?:,{_LABEL}={_VALUE})*)?\}})?"
    rf" (?P<value>{_TOKEN})(?: (?P<ts>{_TOKEN}))?$"
)
_PAIR: Final = re.compile(rf"({_LABEL})=({_VALUE})")
# the parser's unescaping of label values (prometheus_client.parser._replace_escaping)
_ESCAPES: Final = re.compile(r'\\[\\n"]')
_UNESCAPED: Final = {"\\\\": "\\", "\\n": "\n", '\\"': '"'}
_INTEGER: Final = re.compile(r"[+-]?[0-9]+")
# values Arrow's cast reads to the double Python's int()/float() give (not -0: int() makes it 0)
_DECIMAL: Final = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NEGATIVE_ZERO: Final = r"^-0+$"
_LONGEST_DECIMAL: Final = 300
# what str.strip() strips
_WHITESPACE: Final = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_BLOCK: Final = 32 << 20
_CACHE_LIMIT: Final = 200_000
_SCHEMA: Final = pa.schema(
    [
        ("metric", pa.string()),
        ("labels", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("kind", pa.string()),
        ("source", pa.string()),
    ]
)


class _NotPlain(Exception):
    """A line the plain-line pass cannot read exactly as the line-by-line reader does."""


def _plain_pass(path: Path, state: _State, target: Path) -> bool:
    """Read every line as the line-by-line reader would, into ``target``; False at the first line
    it cannot read that way (nothing of the file is kept then)."""
    reader = _PlainReader(state)
    writer = pq.ParquetWriter(target, _SCHEMA)
    try:
        for text in _blocks(path):
            table = reader.block(text)
            if table.num_rows:
                writer.write_table(table)
        return True
    except (_NotPlain, UnicodeDecodeError, pa.ArrowException):
        return False
    finally:
        writer.close()
        # the blocks' buffers go back to the system, not to Arrow's pool: the contract check and
        # the write into day partitions that follow have up to 1 GB of their own
        pa.default_memory_pool().release_unused()


def _blocks(path: Path) -> Iterator[str]:
    """The file's text in blocks of whole lines (lines end at ``\n`` only, as in ``iter_lines``),
    the first without its leading byte order marks."""
    first = True
    rest = b""
    with open(path, "rb") as fh:
        while True:
            data = fh.read(_BLOCK)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if not cut:
                rest = data
                continue
            rest = data[cut:]
            text = data[:cut].decode("utf-8")
            yield text.lstrip("\ufeff") if first else text
            first = False
    if rest:
        text = rest.decode("utf-8")
        yield text.lstrip("\ufeff") if first else text


class _PlainReader:
    """The line-by-line reader's state across blocks, and its caches of what repeats."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.openmetrics = state.dialect is OPENMETRICS
        self.scrape = _micros(state.scrape_time)
        self.labels: dict[str, str] = {}
        self.micros: dict[str, int] = {}

    def block(self, text: str) -> pa.Table:
        lines = pc.utf8_trim(pc.list_flatten(pc.split_pattern(pa.array([text], pa.large_string()), "\n")), _WHITESPACE)
        comments = pc.indices_nonzero(pc.starts_with(lines, "#")).to_pylist()
        parts = []
        start = 0
        for stop in [*comments, len(lines)]:
            if stop > start:
                part = self._samples(lines.slice(start, stop - start))
                if part is not None:
                    parts.append(part)
            if stop < len(lines):
                if self.state.ended:
                    raise _NotPlain("content after # EOF")
                _comment(self.state, lines[stop].as_py())
            start = stop + 1
        return pa.concat_tables(parts) if parts else _SCHEMA.empty_table()

    def _samples(self, lines: pa.Array) -> pa.Table | None:
        lines = lines.filter(pc.not_equal(pc.utf8_length(lines), 0))
        if not len(lines):
            return None
        if self.state.ended:
            raise _NotPlain("content after # EOF")
        parsed = pc.extract_regex(lines, _PLAIN)
        if parsed.null_count:
            raise _NotPlain("a line not written the plain way")
        names = parsed.field("name")
        kinds = _mapped(names, self._kind)
        labels = _mapped(parsed.field("labels"), self._labels)
        micros = _mapped(parsed.field("ts"), self._micros, pa.int64())
        arrays = [
            names.cast(pa.string()),
            labels,
            micros.cast(pa.timestamp("us", tz="UTC")),
            _values(parsed.field("value"), self._value),
            kinds,
            pa.array([self.state.dialect.source], pa.string()).take(pa.array([0] * len(lines), pa.int32())),
        ]
        return pa.Table.from_arrays(arrays, schema=_SCHEMA)

    def _labels(self, block: str) -> str:
        found = self.labels.get(block)
        if found is None:
            if len(self.labels) > _CACHE_LIMIT:
                self.labels.clear()
            found = self.labels[block] = self._parsed_labels(block)
        return found

    # what the two formats' parsers read differently is worked out per distinct text: for 0.0.4 by
    # the same conversions its parser makes, for OpenMetrics by its parser itself (a line of one
    # sample with the text in its place: names, label blocks, values and timestamps are read
    # independently of each other); the caller turns an exception into _NotPlain

    def _kind(self, name: str) -> str:
        if self.openmetrics and _parse_openmetrics_sample(f"{name} 0").name != name:
            raise ValueError(f"the OpenMetrics parser reads the name {name!r} differently")
        return _kind(self.state, name)

    def _parsed_labels(self, block: str) -> str:
        if self.openmetrics:
            return normalize_labels(_parse_openmetrics_sample(f"x{{{block}}} 0").labels)
        return _labels(block)

    def _value(self, token: str) -> float:
        if self.openmetrics:
            return parse_value(_parse_openmetrics_sample(f"x {token}").value)
        return parse_value(_number(token))

    def _stamp(self, token: str) -> datetime:
        if self.openmetrics:
            return _timestamp(_parse_openmetrics_sample(f"x 0 {token}").timestamp, self.state.scrape_time)
        return from_epoch(_number(token) / 1000)

    def _micros(self, stamp: str) -> int:
        if not stamp:
            return self.scrape
        found = self.micros.get(stamp)
        if found is None:
            if len(self.micros) > _CACHE_LIMIT:
                self.micros.clear()
            found = self.micros[stamp] = _micros(self._stamp(stamp))
        return found


def _mapped(texts: pa.Array, fn: Callable[[str], Any], type_: pa.DataType | None = None) -> pa.Array:
    """``fn`` of each text, worked out once per distinct text (a NotPlain where it fails)."""
    encoded = texts.dictionary_encode()
    try:
        values = [fn(t) for t in encoded.dictionary.to_pylist()]
    except Exception as exc:  # noqa: BLE001 - the line-by-line reader words what goes wrong here
        raise _NotPlain(str(exc)) from exc
    return pa.array(values, type_ or pa.string()).take(encoded.indices)


def _values(tokens: pa.Array, other: Callable[[str], float]) -> pa.Array:
    """:func:`parse_value` of the parser's reading of each value token: Arrow's cast where it gives
    the same double (a decimal number both parsers read with int() or float()), ``other`` once per
    distinct token elsewhere (NaN, Inf, -0, very long numbers)."""
    decimal = pc.match_substring_regex(tokens, _DECIMAL)
    short = pc.less_equal(pc.utf8_length(tokens), _LONGEST_DECIMAL)
    plain = pc.and_(pc.and_(decimal, short), pc.invert(pc.match_substring_regex(tokens, _NEGATIVE_ZERO)))
    cast = pc.cast(pc.if_else(plain, tokens, "0"), pa.float64())
    if pc.all(plain).as_py():
        return cast
    others = _mapped(pc.if_else(plain, "0", tokens), other, pa.float64())
    return pc.if_else(plain, cast, others)


def _labels(block: str) -> str:
    """The stored labels of a label block the pattern matched, as the parser and
    :func:`sample` make them; a ValueError where the parser would refuse them."""
    labels: dict[str, str] = {}
    for key, quoted in _PAIR.findall(block):
        if key in labels or key.startswith("__"):
            raise ValueError(f"duplicate or reserved label name {key}")
        inner = quoted[1:-1]
        labels[key] = _ESCAPES.sub(lambda m: _UNESCAPED[m.group(0)], inner) if "\\" in inner else inner
    return normalize_labels(labels)


def _number(text: str) -> int | float:
    """A value or timestamp token as the parser reads it (an int when it is one, else a float)."""
    return int(text) if _INTEGER.fullmatch(text) else float(text)


def _micros(ts: datetime) -> int:
    delta = ts - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


ADAPTER = PrometheusTextAdapter()
