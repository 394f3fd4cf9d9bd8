"""What the vulnerability and alert adapters share: reading records with their locators, and the
field rules of METRICS.md's "Vulnerability management" and "Alert quality".

Records come from a JSON array, a JSON object (alone or wrapping a list under a known key) or
NDJSON; their locators are JSON pointers (``/3``, ``/alerts/3``) or ``line 7`` (``line 7
/alerts/2`` for a record inside an NDJSON line). A record a mapper refuses (:class:`BadRecord`) is
quarantined with the mapper's message.

Severity of a finding is normalized to critical, high, medium, low, or unknown (no SLA):
``moderate`` is medium, Grype's ``negligible`` is low, anything else is unknown.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from ops_warehouse.sources.base import (
    Adapter,
    BadRecord,
    FileError,
    ReadContext,
    Record,
    Reject,
    Row,
    Sniff,
    iter_ndjson,
    load_json,
    raw_json,
    text,
    timestamp_field,
)

Values = dict[str, Any]
Mapper = Callable[[dict[str, Any], str], Sequence[Record]]

_SEVERITIES = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "low",
}
_REPO_IN_API_URL = re.compile(r"/repos/([^/\s]+)/([^/\s?#]+)/")
_REPO_IN_WEB_URL = re.compile(r"^https?://[^/]+/([^/\s]+)/([^/\s?#]+)/")
# Alertmanager writes the zero time for a firing alert's endsAt
_ZERO_TIME = re.compile(r"^0001-01-01")


def finding_severity(value: Any) -> str:
    """critical, high, medium, low or unknown.

    >>> finding_severity("HIGH"), finding_severity("moderate"), finding_severity("Negligible")
    ('high', 'medium', 'low')
    >>> finding_severity(None), finding_severity("note")
    ('unknown', 'unknown')
    """
    got = text(value)
    return _SEVERITIES.get(got.lower(), "unknown") if got else "unknown"


def repo_of(rec: dict[str, Any]) -> str | None:
    """``owner/name`` from ``repository.full_name``, else from the record's API or web URL.

    >>> repo_of({"html_url": "https://github.com/acme/api/security/dependabot/1"})
    'acme/api'
    >>> repo_of({"url": "https://api.github.com/repos/acme/api/code-scanning/alerts/3"})
    'acme/api'
    """
    repository = rec.get("repository")
    if isinstance(repository, dict) and text(repository.get("full_name")):
        return text(repository.get("full_name"))
    for key in ("url", "html_url"):
        url = text(rec.get(key))
        if url:
            m = _REPO_IN_API_URL.search(url) or _REPO_IN_WEB_URL.search(url)
            if m:
                return f"{m.group(1)}/{m.group(2)}"
    return None


def nested(rec: Any, *path: str) -> Any:
    """``rec[path[0]][path[1]]...``, or None when any step is missing or not an object."""
    for key in path:
        if not isinstance(rec, dict):
            return None
        rec = rec.get(key)
    return rec


def when(value: Any, name: str, tz: str | None) -> datetime | None:
    """A UTC timestamp or None; Alertmanager's zero time counts as none."""
    if isinstance(value, str) and _ZERO_TIME.match(value.strip()):
        return None
    return timestamp_field(value, name, tz)


def to_millisecond(t: datetime) -> datetime:
    """Alertmanager webhooks write nanoseconds, its API milliseconds: one firing, one key."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def check_order(opened: datetime | None, *later: tuple[str, datetime | None]) -> None:
    """A closing time before the opening time would make a negative duration: a bad record."""
    for name, t in later:
        if opened is not None and t is not None and t < opened:
            raise BadRecord(f"{name}: {t.isoformat()} is before the finding or alert started")


def labels_text(labels: dict[str, Any]) -> str:
    """Labels as the lake stores alert labels: a JSON object with sorted keys, UTF-8 as written."""
    return json.dumps(
        {str(k): str(v) for k, v in labels.items()}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def labels_hash(labels_json: str) -> str:
    """The fingerprint of an alert that has none: the first 16 hex digits of the labels' MD5."""
    return hashlib.md5(labels_json.encode("utf-8")).hexdigest()[:16]


def file_time(path: Path) -> datetime:
    """The file's modification time, for a scan report that states no time of its own."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


# ---------------------------------------------------------------- reading


def iter_records(path: Path, *wrappers: str) -> Iterator[tuple[str, Any, str | None]]:
    """(locator, record, raw line) for each record of a JSON array, object or NDJSON file; a bad
    NDJSON line comes as a ValueError record."""
    if Sniff(path).is_ndjson:
        for lineno, value, raw in iter_ndjson(path):
            yield f"line {lineno}", value, raw
        return
    doc = load_json(path)
    if isinstance(doc, list):
        for i, rec in enumerate(doc):
            yield f"/{i}", rec, None
        return
    if isinstance(doc, dict):
        for key in wrappers:
            if key in doc:
                if not isinstance(doc[key], list):
                    raise FileError(f"/{key}: expected an array, got {type(doc[key]).__name__}")
                for i, rec in enumerate(doc[key]):
                    yield f"/{key}/{i}", rec, None
                return
        yield "/", doc, None
        return
    raise FileError(f"expected a JSON array or object, got {type(doc).__name__}")


def mapped(mapper: Mapper, rec: Any, locator: str, raw: str | None) -> list[Record]:
    """The mapper's rows for one record, or one Reject with its reason."""
    shown = raw if raw is not None else raw_json(rec)
    if isinstance(rec, ValueError):
        return [Reject(locator, str(rec), shown)]
    if not isinstance(rec, dict):
        return [Reject(locator, f"expected a JSON object, got {type(rec).__name__}", shown)]
    try:
        rows = mapper(rec, locator)
    except BadRecord as exc:
        return [Reject(locator, str(exc), shown)]
    out: list[Record] = []
    for row in rows:
        if row.raw is None:
            row.raw = shown
        out.append(row)
    return out or [Reject(locator, "nothing to load from this record", shown)]


def read_mapped(path: Path, mapper: Mapper, *wrappers: str) -> Iterator[Record]:
    for locator, rec, raw in iter_records(path, *wrappers):
        yield from mapped(mapper, rec, locator, raw)


def required_text(value: Any, name: str) -> str:
    got = (
        text(value)
        if isinstance(value, str)
        else (str(value) if isinstance(value, int) and not isinstance(value, bool) else None)
    )
    if got is None:
        raise BadRecord(f"{name}: required but missing")
    return got


_BLANK_OR_INDENTED = r"\n[\n\r \t]"


def has_blank_lines(path: Path) -> bool:
    """Whether an NDJSON file has blank lines, or lines starting with white space (the columnar
    readers number records, not lines, so such a file goes record by record to keep its locators
    right). One literal-led pattern over the mapped file, run by RE2 through Arrow without a copy:
    it skips from newline to newline with memchr (0.22 s a GB; Python's re 0.49 s)."""
    if path.stat().st_size == 0:
        return False
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        if mm[:1] in (b"\n", b"\r", b" ", b"\t"):
            return True
        end = len(mm) - 1 if mm[-1:] == b"\n" else len(mm)  # a blank last line numbers nothing
        return _matches(mm, end, _BLANK_OR_INDENTED)


def _matches(mm: mmap.mmap, end: int, pattern: str) -> bool:
    """Whether RE2 finds ``pattern`` in the first ``end`` bytes of ``mm``, read in place as one
    binary value (the map cannot close while Arrow holds it: its references go first)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    data = pa.py_buffer(mm).slice(0, end)
    value = None
    try:
        offsets = pa.array([0, end], pa.int64()).buffers()[1]
        value = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, data])
        return bool(pc.match_substring_regex(value, pattern)[0].as_py())
    finally:
        del value, data


# ---------------------------------------------------------------- scanners' reports


def observation(
    scan: Values, where: str, entry: Any, finding: Callable[[dict[str, Any]], Values], required: dict[str, str]
) -> Record:
    """One ``vulnerability_observations`` row of a scan report: the scan's ``source``, ``target``
    and ``scanned_at`` (``scan``) with what ``finding`` reads from the report's ``entry`` (package,
    advisory_id, severity, installed_version, fixed_version, title). A Reject when the entry is not
    an object or lacks a column of ``required`` (column -> the report's name for it, checked in
    order)."""
    if not isinstance(entry, dict):
        return Reject(where, f"expected a JSON object, got {type(entry).__name__}", raw_json(entry))
    values = {column: text(value) for column, value in finding(entry).items()}
    for column, name in required.items():
        if values[column] is None:
            return Reject(where, f"{name}: required but missing", raw_json(entry))
    values["severity"] = finding_severity(values["severity"])
    return Row("vulnerability_observations", {**scan, **values}, where, raw_json(entry))


def scan_rows(scan: Values, artifact_type: Any, locator: str, raw: str, observations: list[Record]) -> list[Record]:
    """The report's ``vulnerability_scans`` row (``scan`` with the number of findings it lists),
    then its observations: the scan is kept even when it lists nothing."""
    findings = sum(1 for r in observations if isinstance(r, Row))
    row = Row("vulnerability_scans", {**scan, "artifact_type": text(artifact_type), "findings": findings}, locator, raw)
    return [row, *observations]


# ---------------------------------------------------------------- GitHub's security alert lists


class GithubAlertsAdapter(Adapter):
    """GitHub's security alert lists (Dependabot, code scanning): each alert has a ``number``, its
    repository, a ``state`` and the times it was created, fixed and dismissed in the same fields;
    a subclass says how to recognize its alerts and where the finding (severity, package, advisory,
    title) sits. Rejected: an alert without number, repository or ``created_at``, a bad timestamp,
    a fix or dismissal before the alert was created."""

    source: ClassVar[str] = ""
    # the states in which the alert is dismissed, and the fields that say when (first set wins)
    dismissed_states: ClassVar[tuple[str, ...]] = ("dismissed",)
    dismissed_fields: ClassVar[tuple[str, ...]] = ("dismissed_at",)

    def looks_like(self, rec: dict[str, Any]) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, rec: dict[str, Any]) -> Values:  # pragma: no cover - interface
        raise NotImplementedError

    def detect(self, sniff: Sniff) -> bool:
        rec = sniff.first_record
        return isinstance(rec, dict) and "number" in rec and self.looks_like(rec)

    def values(self, rec: dict[str, Any], tz: str | None) -> Values:
        number = required_text(rec.get("number"), "number")
        repo = repo_of(rec)
        if repo is None:
            raise BadRecord("repository: required but missing (no repository, url or html_url)")
        state = (text(rec.get("state")) or "").lower() or None
        opened = when(rec.get("created_at"), "created_at", tz)
        if opened is None:
            raise BadRecord("created_at: required but missing")
        fixed = when(rec.get("fixed_at"), "fixed_at", tz) if state == "fixed" else None
        dismissed = None
        if state in self.dismissed_states:
            for field in self.dismissed_fields:
                dismissed = dismissed or when(rec.get(field), field, tz)
        check_order(opened, ("fixed_at", fixed), ("dismissed_at", dismissed))
        return {
            "finding_id": f"{self.source}:{repo}#{number}",
            "source": self.source,
            "repo": repo,
            **self.finding(rec),
            "state": state,
            "opened_at": opened,
            "fixed_at": fixed,
            "dismissed_at": dismissed,
            "updated_at": when(rec.get("updated_at"), "updated_at", tz),
        }

    def read(self, ctx: ReadContext) -> Iterator[Record]:
        def rows(rec: dict[str, Any], locator: str) -> list[Row]:
            return [Row("vulnerabilities", self.values(rec, ctx.default_tz), locator)]

        return read_mapped(ctx.path, rows)
