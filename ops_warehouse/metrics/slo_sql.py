"""The SLO engine's SQL: per-minute SLIs, attainment, error budgets, burn rates, alerts, burn-down.

Python here only compiles SLO specs and queries into DuckDB SQL; every computation over minutes is
set-based SQL (joins, window functions, ASOF joins). The rules are METRICS.md's "SLOs and error
budgets"; each function quotes the rule it implements.

Building blocks
- ``_slo_params``: one row per SLO with its compiled spec (target, period, window, slices).
- ``_slo_ids``: an integer id per SLO in name order, the key of the large joins and aggregates.
- Window sums use prefix sums: ``C(x)`` = the SLO's cumulative sums over minutes before instant
  ``x`` (running sums ASOF-joined: hourly plus the minutes of x's hour before x for Occurrences
  SLOs, per minute for time-slice SLOs), so a sum over ``[a, b)`` is ``C(b) - C(a)``, exact for
  any boundary and linear in the data.
- Additive per-minute quantities: good, total (Occurrences), and for time-slice SLOs one slice
  counted on the first minute with data of its slice (slices, good slices, slice ratio), so a
  window's attainment is a ratio of sums for every budgeting method.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from ops_warehouse.lake.store import quote_literal
from ops_warehouse.metrics.slo_query import parse_query, selector_sql
from ops_warehouse.sources.slo_spec import duration_parts, duration_seconds

EPS = 1e-9  # "Floating point: 100 - 99.9 is not 0.1; compare with a tolerance"

# Sloth / SRE workbook multi-window, multi-burn-rate alerts:
# (alert, long window, short window, budget share spent over the long window)
ALERT_WINDOWS = (
    ("page", "1h", "5m", 0.02),
    ("page", "6h", "30m", 0.05),
    ("ticket", "1d", "2h", 0.10),
    ("ticket", "3d", "6h", 0.10),
)
BURN_LOOKBACKS = ("1h", "6h", "1d", "3d")

POLICY_STAGES = ((1.0, "feature_freeze"), (0.75, "all_hands"), (0.50, "freeze_consideration"), (0.25, "notify"))


def alert_factor(share: float, period_s: int, long_window: str) -> float:
    """factor = budget share x SLO period / long window (METRICS.md).

    >>> [round(alert_factor(s, 30 * 86400, w), 4) for _, w, _, s in ALERT_WINDOWS]
    [14.4, 6.0, 3.0, 1.0]
    >>> [round(alert_factor(s, 28 * 86400, w), 4) for _, w, _, s in ALERT_WINDOWS]
    [13.44, 5.6, 2.8, 0.9333]
    """
    return share * period_s / duration_seconds(long_window)


# ---------------------------------------------------------------- SLO parameters

PARAMS_COLUMNS = (
    ("slo_name", "VARCHAR"),
    ("service", "VARCHAR"),
    ("method", "VARCHAR"),
    ("target", "DOUBLE"),
    ("duration", "VARCHAR"),
    ("period_s", "BIGINT"),
    ("is_rolling", "BOOLEAN"),
    ("tz", "VARCHAR"),
    ("cal_unit", "VARCHAR"),
    ("cal_n", "INTEGER"),
    ("start_local", "TIMESTAMP"),
    ("slice_s", "BIGINT"),
    ("slice_target", "DOUBLE"),
    ("ind_kind", "VARCHAR"),
    ("has_good", "BOOLEAN"),
    ("th_op", "VARCHAR"),
    ("th_value", "DOUBLE"),
)


def spec_params(name: str, service: str | None, spec: dict[str, Any]) -> tuple[Any, ...]:
    """The ``_slo_params`` row of one normalized spec."""
    tw = spec["time_window"]
    n, unit = duration_parts(tw["duration"])
    ind = spec["indicator"]
    th = ind.get("threshold") or {}
    method = spec["budgeting_method"]
    slice_window = spec.get("time_slice_window") or ("1m" if method != "Occurrences" else None)
    start = tw.get("start_time")
    return (
        name,
        service if service is not None else spec.get("service"),
        method,
        float(spec["target"]),
        tw["duration"],
        duration_seconds(tw["duration"]),
        bool(tw.get("is_rolling", True)),
        tw.get("time_zone") or "UTC",
        unit,
        n,
        str(start).replace("T", " ").rstrip("Z")[:19] if start else None,
        duration_seconds(slice_window) if slice_window and method != "Occurrences" else None,
        spec.get("time_slice_target"),
        ind["kind"],
        bool(ind.get("good")),
        th.get("op"),
        th.get("value"),
    )


def create_params(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dict[str, Any]]]:
    """Create temp table ``_slo_params`` from ``core.slos``; returns (slo_name, spec) pairs."""
    cols = ", ".join(f"{n} {t}" for n, t in PARAMS_COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _slo_params ({cols})")
    specs = [(r[0], r[1], json.loads(r[2])) for r in con.execute(
        "SELECT slo_name, service, spec FROM core.slos ORDER BY slo_name").fetchall()]
    rows = [spec_params(name, service, spec) for name, service, spec in specs]
    if rows:
        marks = ", ".join("?" for _ in PARAMS_COLUMNS)
        con.executemany(f"INSERT INTO _slo_params VALUES ({marks})", rows)
    return [(name, spec) for name, _, spec in specs]


def create_ids(con: duckdb.DuckDBPyConnection) -> None:
    """``_slo_ids``: an integer id per SLO, in slo_name order (ordering by id orders by name), so
    the large joins, aggregates and windows key on an integer rather than text."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _slo_ids AS "
        "SELECT slo_name, CAST(row_number() OVER (ORDER BY slo_name) AS INTEGER) AS slo_id FROM _slo_params"
    )


# ---------------------------------------------------------------- core.sli_minutes


def _is_counter_sql(as_counter: bool) -> str:
    """Counters are read by their reset-aware increase: a query wrapped in rate()/increase(), or a
    series whose samples say counter (or histogram/summary _bucket/_count/_sum series)."""
    if as_counter:
        return "true"
    return ("(kind = 'counter' OR (kind IN ('histogram', 'summary') "
            "AND regexp_matches(metric, '_(bucket|count|sum)$')))")


def prepare_sli_minutes(con: duckdb.DuckDBPyConnection) -> str:
    """Temp tables for ``core.sli_minutes`` and its final SELECT.

    METRICS.md: *Matching series are summed per minute: counters by their reset-aware increase (a
    drop is a reset), other series by their values.*

    - Per series, a counter's increase at a sample is the delta to the previous sample; a drop is a
      reset and the new value is the increase; the first sample of a series has no baseline and adds
      0. The increase belongs to the minute of the later sample, so a gap loses no events.
    - Other series contribute the sum of their sample values in the minute. NaN and infinite
      samples (staleness markers, broken exports) are skipped.
    - A ratio SLO's minute: total = the total query's sum; good = the good query's sum, or
      total - bad; good is clamped to [0, total] (bad and total scraped at different instants).
    - A threshold SLO's minute: every sample of its series is one event, good when ``value op
      threshold`` holds; ``value`` is the mean sample value.
    - Time-slice SLOs: slices of ``time_slice_window`` aligned to the UTC epoch; each minute row
      carries its slice's start, ratio (good / total events of the slice, NULL without events) and
      verdict; ``slice_first`` marks the one row that represents the slice in window counts.
      Timeslices: a slice is good when its ratio >= time_slice_target (a threshold SLO without
      one: when every sample in the slice satisfies the threshold).
    """
    specs = create_params(con)
    con.execute("SET preserve_insertion_order = false")  # the final SELECT orders its rows
    create_ids(con)
    selectors: list[tuple[str, str, Any]] = []
    for name, spec in specs:
        ind = spec["indicator"]
        if ind["kind"] == "threshold":
            selectors.append((name, "threshold", parse_query(ind["threshold"]["query"])))
        else:
            for role in ("good", "bad", "total"):
                if ind.get(role):
                    selectors.append((name, role, parse_query(ind[role])))
    metrics = sorted({sel.metric for _, _, sel in selectors})
    metric_list = ", ".join(quote_literal(m) for m in metrics) or "NULL"
    # the distinct series of the queried metrics, numbered: selectors are matched on these only, and
    # the samples are joined to them once (by metric and labels) and carried on by series id
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _slo_series AS "
        "SELECT CAST(row_number() OVER (ORDER BY metric, labels) AS INTEGER) AS sid, metric, labels, kind "
        "FROM (SELECT metric, labels, any_value(kind) AS kind "
        f"      FROM raw.metric_samples WHERE metric IN ({metric_list}) GROUP BY metric, labels)"
    )
    roles = {"good": 0, "bad": 1, "total": 2, "threshold": 3}
    matches = [
        f"SELECT {quote_literal(name)} AS slo_name, {roles[role]} AS role, sid, "
        f"{'false' if role == 'threshold' else _is_counter_sql(sel.as_counter)} AS is_counter "
        f"FROM _slo_series WHERE {selector_sql(sel)}"
        for name, role, sel in selectors
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _slo_match AS "
        "SELECT i.slo_id, x.role, x.sid, x.is_counter FROM ("
        + ("\nUNION ALL\n".join(matches) if matches else
           "SELECT NULL::VARCHAR AS slo_name, NULL::INTEGER AS role, NULL::INTEGER AS sid, "
           "NULL::BOOLEAN AS is_counter WHERE false")
        + ") AS x JOIN _slo_ids AS i USING (slo_name)"
    )
    # which series are read as counters (increase), which by value; a series may be both
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _slo_keys AS
        SELECT s.sid, s.metric, s.labels,
               bool_or(k.is_counter) FILTER (WHERE k.role < 3) AS need_inc,
               bool_or(NOT k.is_counter) FILTER (WHERE k.role < 3) AS need_val,
               bool_or(k.role = 3) AS need_thr
        FROM _slo_series AS s JOIN _slo_match AS k USING (sid)
        GROUP BY ALL
        """
    )

    def samples(flag: str) -> str:
        """Finite samples of the series flagged ``flag``: (sid, ts, value), one scan of the lake."""
        names = [r[0] for r in con.execute(
            f"SELECT DISTINCT metric FROM _slo_keys WHERE {flag} ORDER BY 1").fetchall()]
        listing = ", ".join(quote_literal(m) for m in names) or "NULL"
        return f"""
            SELECT k.sid, m.ts, m.value
            FROM raw.metric_samples AS m
            JOIN (SELECT sid, metric, labels FROM _slo_keys WHERE {flag}) AS k
              ON m.metric = k.metric AND m.labels = k.labels
            WHERE m.metric IN ({listing}) AND isfinite(m.value)"""

    # per sample: a counter's reset-aware increase (lag by integer series id), a gauge's value;
    # joined to the SLO roles reading it and summed per SLO and minute in one aggregate
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_minutes AS
        WITH inc AS (
            SELECT sid, true AS is_counter, date_trunc('minute', ts) AS minute,
                   CASE WHEN prev IS NULL THEN 0.0            -- first sample: no baseline
                        WHEN value < prev THEN value          -- a drop is a reset
                        ELSE value - prev END AS v
            FROM (SELECT sid, ts, value, lag(value) OVER (PARTITION BY sid ORDER BY ts) AS prev
                  FROM ({samples('need_inc')}))
        ),
        val AS (
            SELECT sid, false AS is_counter, date_trunc('minute', ts) AS minute, value AS v
            FROM ({samples('need_val')})
        ),
        piv AS (
            SELECT k.slo_id, c.minute,
                   sum(c.v) FILTER (WHERE k.role = 0) AS g,
                   sum(c.v) FILTER (WHERE k.role = 1) AS b,
                   coalesce(sum(c.v) FILTER (WHERE k.role = 2), 0.0) AS t
            FROM (SELECT * FROM inc UNION ALL SELECT * FROM val) AS c
            JOIN _slo_match AS k ON k.sid = c.sid AND k.is_counter = c.is_counter AND k.role < 3
            GROUP BY k.slo_id, c.minute
        )
        SELECT piv.slo_id, piv.minute,
               least(greatest(CASE WHEN p.has_good THEN coalesce(g, 0.0) ELSE t - coalesce(b, 0.0) END,
                              0.0), greatest(t, 0.0)) AS good,
               greatest(t, 0.0) AS total,
               NULL::DOUBLE AS value
        FROM piv JOIN _slo_ids AS i USING (slo_id) JOIN _slo_params AS p USING (slo_name)
        """
    )
    if any(role == "threshold" for _, role, _ in selectors):
        con.execute(
            f"""
            INSERT INTO _slo_minutes
            SELECT t.slo_id, date_trunc('minute', m.ts) AS minute,
                   count(*) FILTER (WHERE CASE p.th_op WHEN 'lt' THEN m.value < p.th_value
                                                        WHEN 'lte' THEN m.value <= p.th_value
                                                        WHEN 'gt' THEN m.value > p.th_value
                                                        WHEN 'gte' THEN m.value >= p.th_value END)::DOUBLE AS good,
                   count(*)::DOUBLE AS total,
                   avg(m.value) AS value
            FROM ({samples('need_thr')}) AS m
            JOIN _slo_match AS t ON t.role = 3 AND t.sid = m.sid
            JOIN _slo_ids AS i ON i.slo_id = t.slo_id
            JOIN _slo_params AS p ON p.slo_name = i.slo_name
            GROUP BY ALL
            """
        )
    return f"""
    WITH m AS (
        SELECT m.*, p.method, p.slice_target,
               to_timestamp(floor(epoch(m.minute) / p.slice_s) * p.slice_s) AS slice_start
        FROM _slo_minutes AS m JOIN _slo_ids AS i USING (slo_id) JOIN _slo_params AS p USING (slo_name)
        WHERE p.slice_s IS NOT NULL
    ),
    sl AS (
        SELECT slo_id, slice_start, sum(good) AS slice_good_events, sum(total) AS slice_total_events,
               min(minute) AS first_minute
        FROM m GROUP BY ALL
    ),
    sliced AS (
        SELECT m.slo_id, m.minute, m.good, m.total, m.value, m.slice_start,
               CASE WHEN slice_total_events > 0 THEN slice_good_events / slice_total_events END AS slice_ratio,
               CASE WHEN method <> 'Timeslices' OR slice_total_events <= 0 THEN NULL
                    ELSE slice_good_events / slice_total_events
                         >= coalesce(slice_target, 1.0) - {EPS} END AS slice_is_good,
               m.minute = sl.first_minute AS slice_first
        FROM m JOIN sl USING (slo_id, slice_start)
    ),
    whole AS (
        SELECT * FROM sliced
        UNION ALL
        SELECT m.slo_id, m.minute, m.good, m.total, m.value, NULL::TIMESTAMPTZ, NULL::DOUBLE, NULL::BOOLEAN,
               NULL::BOOLEAN
        FROM _slo_minutes AS m JOIN _slo_ids AS i USING (slo_id) JOIN _slo_params AS p USING (slo_name)
        WHERE p.slice_s IS NULL
    )
    SELECT i.slo_name, w.minute, w.good, w.total, w.value, w.slice_start, w.slice_ratio, w.slice_is_good,
           w.slice_first
    FROM whole AS w JOIN _slo_ids AS i USING (slo_id)
    """  # no ORDER BY: sorting 50M wide rows is what exhausted memory; readers order as they need


# ---------------------------------------------------------------- windows


_ADDITIVE = """
    SELECT slo_name, minute, date_trunc('hour', minute) AS hour, good, total,
           CASE WHEN slice_first AND slice_ratio IS NOT NULL THEN 1 ELSE 0 END AS n_slices,
           CASE WHEN slice_first AND slice_is_good THEN 1 ELSE 0 END AS n_good_slices,
           CASE WHEN slice_first AND slice_ratio IS NOT NULL THEN slice_ratio ELSE 0.0 END AS ratio_sum
    FROM core.sli_minutes"""


def create_lookup(con: duckdb.DuckDBPyConnection, boundaries: str) -> None:
    """``_slo_lookup``: the boundary rows of ``boundaries`` (slo_name, k, tag, x) with ``C(x)``, the
    SLO's sums of the additive per-minute quantities over minutes strictly before x (0 before the
    first minute): good, total (Occurrences); slices with data, good slices, sum of slice ratios
    (time slices). METRICS.md: *Minutes and slices with no events count neither way.*

    Occurrences SLOs (event counts only): ``C(x)`` = running sums of hourly sums over the hours
    before x's hour (an ASOF join on a small per-hour table) + the minutes of x's own hour before x
    (a hash join keyed by SLO and hour), so their per-minute rows are aggregated and probed, never
    sorted. Time-slice SLOs keep a per-minute running sum (ASOF-joined), so the fractional slice
    ratios are added up minute by minute in time order."""
    sums = ("good", "total", "n_slices", "n_good_slices", "ratio_sum")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_bounds AS
        SELECT row_number() OVER () AS bid, b.*, date_trunc('hour', b.x) AS hour, p.slice_s IS NOT NULL AS sliced
        FROM ({boundaries}) AS b JOIN _slo_params AS p USING (slo_name)
        """
    )
    occurrences = f"""
        SELECT a.* FROM ({_ADDITIVE}) AS a
        SEMI JOIN _slo_params AS p ON p.slo_name = a.slo_name AND p.slice_s IS NULL"""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_cum AS
        WITH h AS (SELECT slo_name, hour AS minute, {", ".join(f"sum({c}) AS {c}" for c in sums)}
                   FROM ({occurrences}) GROUP BY slo_name, hour),
        a AS (
            SELECT a.slo_name, a.minute, {", ".join(f"a.{c}" for c in sums)} FROM ({_ADDITIVE}) AS a
            SEMI JOIN _slo_params AS p ON p.slo_name = a.slo_name AND p.slice_s IS NOT NULL
        )
        SELECT slo_name, minute, {", ".join(f"sum({c}) OVER w AS {c}" for c in sums)}
        FROM (SELECT * FROM h UNION ALL SELECT * FROM a)
        WINDOW w AS (PARTITION BY slo_name ORDER BY minute ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_hour_rest AS
        SELECT b.bid, {", ".join(f"sum(m.{c}) AS {c}" for c in sums)}
        FROM ({occurrences}) AS m
        JOIN _slo_bounds AS b ON m.slo_name = b.slo_name AND m.hour = b.hour AND m.minute < b.x
        GROUP BY b.bid
        """
    )

    def c(col: str, out: str, zero: str) -> str:
        return f"coalesce(h.{col}, {zero}) + coalesce(r.{col}, {zero}) AS {out}"

    # _slo_cum holds hourly running sums (Occurrences: before x's hour, plus the rest of the hour)
    # or per-minute running sums (time slices: before x, nothing to add)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_lookup AS
        SELECT b.slo_name, b.k, b.tag, b.x,
               {c("good", "c_good", "0.0")}, {c("total", "c_total", "0.0")},
               {c("n_slices", "c_slices", "0")}, {c("n_good_slices", "c_good_slices", "0")},
               {c("ratio_sum", "c_ratio", "0.0")}
        FROM (SELECT *, CASE WHEN sliced THEN x ELSE hour END AS before FROM _slo_bounds) AS b
        ASOF LEFT JOIN _slo_cum AS h ON h.slo_name = b.slo_name AND b.before > h.minute
        LEFT JOIN _slo_hour_rest AS r ON r.bid = b.bid
        """
    )


def attainment_sql(method: str, g: str, t: str, s: str, sg: str, sr: str) -> str:
    """Budgeting methods over a set of minutes (METRICS.md): *Occurrences = sum(good) / sum(total);
    Timeslices = good slices / slices with data; RatioTimeslices = mean of slice ratios.* NULL with
    nothing to measure."""
    return f"""CASE {method}
        WHEN 'Occurrences' THEN CASE WHEN {t} > 0 THEN {g} / {t} END
        WHEN 'Timeslices' THEN CASE WHEN {s} > 0 THEN {sg} / {s} END
        WHEN 'RatioTimeslices' THEN CASE WHEN {s} > 0 THEN {sr} / {s} END END"""


def _local_period_start(local: str) -> str:
    """Start (local time) of the calendar period containing local timestamp ``local``: month,
    quarter, year, ISO week, or an N-unit period anchored at ``start_local`` (default the epoch)."""
    anchor = ("coalesce(p.start_local, CASE p.cal_unit WHEN 'w' THEN TIMESTAMP '1970-01-05' "
              "ELSE TIMESTAMP '1970-01-01' END)")
    return f"""CASE
        WHEN p.cal_unit = 'Y' THEN date_trunc('year', {local})
        WHEN p.cal_unit = 'Q' THEN date_trunc('year', {local})
             + to_months(((month({local}) - 1) // (3 * p.cal_n)) * 3 * p.cal_n)
        WHEN p.cal_unit = 'M' THEN date_trunc('year', {local})
             + to_months(((month({local}) - 1) // p.cal_n) * p.cal_n)
        ELSE {anchor} + to_seconds(floor((epoch({local}) - epoch({anchor})) / p.period_s) * p.period_s)
    END"""


def _local_period_next(start: str) -> str:
    return f"""CASE p.cal_unit
        WHEN 'Y' THEN {start} + INTERVAL 1 year
        WHEN 'Q' THEN {start} + to_months(3 * p.cal_n)
        WHEN 'M' THEN {start} + to_months(p.cal_n)
        ELSE {start} + to_seconds(p.period_s) END"""


def window_bounds_sql(end: str) -> tuple[str, str]:
    """(window_start, period_end) SQL for a window ending at instant ``end`` (needs alias ``p``).

    METRICS.md: *window over the SLO's own window ending at the week's end (rolling: the last
    duration; calendar: the calendar period to date, in the SLO's time zone)*. The calendar period
    is the one holding the last instant before ``end``; period_end is when that period ends (for a
    rolling window, ``end`` itself)."""
    local = f"timezone(p.tz, {end} - INTERVAL 1 microsecond)"
    start_local = _local_period_start(local)
    start = f"CASE WHEN p.is_rolling THEN {end} - to_seconds(p.period_s) ELSE timezone(p.tz, {start_local}) END"
    period_end = f"CASE WHEN p.is_rolling THEN {end} ELSE timezone(p.tz, {_local_period_next(start_local)}) END"
    return start, period_end


def policy_stage_sql(consumed: str) -> str:
    """METRICS.md: *by budget consumed: < 25% ok, >= 25% notify, >= 50% freeze_consideration,
    >= 75% all_hands, >= 100% feature_freeze* (with a tolerance)."""
    whens = " ".join(f"WHEN {consumed} >= {limit} - {EPS} THEN '{stage}'" for limit, stage in POLICY_STAGES)
    return f"CASE WHEN {consumed} IS NULL THEN NULL {whens} ELSE 'ok' END"


def _burn(g: str, t: str, target: str) -> str:
    """Burn rate = (1 - Occurrences attainment over L) / (1 - target); NULL without events."""
    return f"CASE WHEN {t} > 0 THEN (1.0 - {g} / {t}) / (1.0 - {target}) END"


# ---------------------------------------------------------------- marts.slo_weekly


def prepare_slo_weekly(con: duckdb.DuckDBPyConnection) -> str:
    """``marts.slo_weekly``: one row per SLO and ISO week, from the week of its first minute to the
    week of its last (empty weeks included, attainment NULL).

    - ``attainment`` over the ISO week [Monday, next Monday) UTC, by the SLO's budgeting method.
    - ``window_attainment`` over [window_start, window_end): window_end = the week's end; rolling:
      window_start = window_end - duration; calendar: the start of the calendar period holding the
      week's last instant, in the SLO's time zone.
    - ``budget_consumed = (1 - window_attainment) / (1 - target)``, ``budget_remaining = 1 -
      budget_consumed`` (may go negative).
    - ``burn_rate_<L> = (1 - Occurrences attainment over [week_end - L, week_end)) / (1 - target)``.
    - ``policy_stage`` from budget_consumed (see :func:`policy_stage_sql`).
    - ``exhausted_at = week end + budget_remaining x period / burn_rate_1d``, when both are
      positive (the forecast); ``period_days`` is the SLO period (a month counts 30 days).
    """
    create_params(con)
    con.execute("SET preserve_insertion_order = false")  # the final SELECT orders its rows
    ws, _ = window_bounds_sql("w.week_end")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_weeks AS
        WITH r AS (SELECT slo_name, min(minute) AS lo, max(minute) AS hi FROM core.sli_minutes GROUP BY 1),
        w0 AS (
            SELECT r.slo_name, unnest(generate_series(date_trunc('week', r.lo), date_trunc('week', r.hi),
                                                      INTERVAL 7 day)) AS week_start_ts
            FROM r
        ),
        w AS (SELECT slo_name, week_start_ts, week_start_ts + INTERVAL 7 day AS week_end FROM w0)
        SELECT w.slo_name, w.week_start_ts, w.week_end, {ws} AS window_start
        FROM w JOIN _slo_params AS p USING (slo_name)
        """
    )
    lookbacks = "\n".join(
        f"UNION ALL SELECT slo_name, week_start_ts, 'l{lb}', week_end - to_seconds({duration_seconds(lb)}) "
        f"FROM _slo_weeks" for lb in BURN_LOOKBACKS
    )
    boundaries = f"""
        SELECT slo_name, week_start_ts AS k, 'end' AS tag, week_end AS x FROM _slo_weeks
        UNION ALL SELECT slo_name, week_start_ts, 'week', week_start_ts FROM _slo_weeks
        UNION ALL SELECT slo_name, week_start_ts, 'window', window_start FROM _slo_weeks
        {lookbacks}
    """
    create_lookup(con, boundaries)

    def diff(tag: str, col: str) -> str:
        return f"(e.{col} - {tag}.{col})"

    burn_joins = "\n".join(
        f"JOIN _slo_lookup AS l{lb} ON l{lb}.slo_name = w.slo_name AND l{lb}.k = w.week_start_ts "
        f"AND l{lb}.tag = 'l{lb}'" for lb in BURN_LOOKBACKS
    )
    burns = ",\n".join(
        f"{_burn(diff('l' + lb, 'c_good'), diff('l' + lb, 'c_total'), 'p.target')} AS burn_rate_{lb}"
        for lb in BURN_LOOKBACKS
    )
    week_att = attainment_sql("p.method", *(diff("wk", c) for c in
                                            ("c_good", "c_total", "c_slices", "c_good_slices", "c_ratio")))
    win_att = attainment_sql("p.method", *(diff("wn", c) for c in
                                           ("c_good", "c_total", "c_slices", "c_good_slices", "c_ratio")))
    return f"""
    WITH base AS (
        SELECT w.slo_name, p.service, CAST(w.week_start_ts AS DATE) AS week_start,
               {diff('wk', 'c_good')} AS good, {diff('wk', 'c_total')} AS total,
               {week_att} AS attainment,
               p.target, p.method AS budgeting_method, p.duration AS time_window, p.is_rolling,
               w.window_start, w.week_end AS window_end,
               {diff('wn', 'c_good')} AS window_good, {diff('wn', 'c_total')} AS window_total,
               {win_att} AS window_attainment,
               {burns},
               p.period_s
        FROM _slo_weeks AS w
        JOIN _slo_params AS p USING (slo_name)
        JOIN _slo_lookup AS e ON e.slo_name = w.slo_name AND e.k = w.week_start_ts AND e.tag = 'end'
        JOIN _slo_lookup AS wk ON wk.slo_name = w.slo_name AND wk.k = w.week_start_ts AND wk.tag = 'week'
        JOIN _slo_lookup AS wn ON wn.slo_name = w.slo_name AND wn.k = w.week_start_ts AND wn.tag = 'window'
        {burn_joins}
    ),
    budget AS (
        SELECT *, (1.0 - window_attainment) / (1.0 - target) AS budget_consumed FROM base
    )
    SELECT slo_name, service, week_start, good, total, attainment, target,
           window_start, window_end, window_attainment,
           budget_consumed, 1.0 - budget_consumed AS budget_remaining,
           burn_rate_1h, burn_rate_6h, burn_rate_1d, burn_rate_3d,
           {policy_stage_sql('budget_consumed')} AS policy_stage,
           CASE WHEN 1.0 - budget_consumed > {EPS} AND burn_rate_1d > {EPS}
                THEN window_end + to_seconds((1.0 - budget_consumed) * period_s / burn_rate_1d) END AS exhausted_at,
           attainment >= target - {EPS} AS met,
           budgeting_method, time_window, is_rolling, period_s / 86400.0 AS period_days,
           window_good, window_total
    FROM budget
    ORDER BY slo_name, week_start
    """


# ---------------------------------------------------------------- marts.slo_budget_daily


def prepare_slo_budget_daily(con: duckdb.DuckDBPyConnection) -> str:
    """``marts.slo_budget_daily``: the error-budget burn-down, one row per SLO and day (in the SLO's
    time zone) from its first minute's day to its last.

    - The window ends at the day's end (local midnight): rolling, the last duration; calendar, the
      calendar period to date.
    - ``budget_consumed = (1 - window_attainment) / (1 - target) x elapsed_fraction``, where
      elapsed_fraction = (day end - window_start) / (period_end - window_start): the share of the
      whole period's budget spent so far, traffic assumed even over the period (1 for rolling
      windows, so it equals marts.slo_weekly's figure at a week's end). A 99.9% calendar-month SLO at
      99.0% on day 1 of a 30-day month has spent 1/3 of the month's budget.
    - ``budget_remaining = 1 - budget_consumed`` (not clamped; clamp only when drawing).
    """
    create_params(con)
    con.execute("SET preserve_insertion_order = false")  # the final SELECT orders its rows
    ws, pe = window_bounds_sql("d.day_end")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_days AS
        WITH r AS (
            SELECT m.slo_name, min(m.minute) AS lo, max(m.minute) AS hi
            FROM core.sli_minutes AS m GROUP BY 1
        ),
        d0 AS (
            SELECT r.slo_name,
                   unnest(generate_series(CAST(timezone(p.tz, r.lo) AS DATE), CAST(timezone(p.tz, r.hi) AS DATE),
                                          INTERVAL 1 day)) AS day_ts
            FROM r JOIN _slo_params AS p USING (slo_name)
        ),
        d AS (
            SELECT d0.slo_name, CAST(d0.day_ts AS DATE) AS day,
                   timezone(p.tz, CAST(d0.day_ts AS DATE) + INTERVAL 1 day) AS day_end
            FROM d0 JOIN _slo_params AS p USING (slo_name)
        )
        SELECT d.slo_name, d.day, d.day_end, {ws} AS window_start, {pe} AS period_end
        FROM d JOIN _slo_params AS p USING (slo_name)
        """
    )
    boundaries = """
        SELECT slo_name, day_end AS k, 'end' AS tag, day_end AS x FROM _slo_days
        UNION ALL SELECT slo_name, day_end, 'window', window_start FROM _slo_days
        UNION ALL SELECT slo_name, day_end, 'day', day_end - INTERVAL 1 day FROM _slo_days
    """
    create_lookup(con, boundaries)
    win_att = attainment_sql("p.method", *(f"(e.{c} - wn.{c})" for c in
                                           ("c_good", "c_total", "c_slices", "c_good_slices", "c_ratio")))
    return f"""
    WITH base AS (
        SELECT d.slo_name, p.service, d.day, d.window_start, d.day_end AS window_end, d.period_end,
               e.c_good - wn.c_good AS window_good, e.c_total - wn.c_total AS window_total,
               {win_att} AS window_attainment,
               p.target,
               CASE WHEN p.is_rolling THEN 1.0
                    ELSE epoch(d.day_end - d.window_start) / epoch(d.period_end - d.window_start) END
                    AS elapsed_fraction
        FROM _slo_days AS d
        JOIN _slo_params AS p USING (slo_name)
        JOIN _slo_lookup AS e ON e.slo_name = d.slo_name AND e.k = d.day_end AND e.tag = 'end'
        JOIN _slo_lookup AS wn ON wn.slo_name = d.slo_name AND wn.k = d.day_end AND wn.tag = 'window'
    ),
    b AS (SELECT *, (1.0 - window_attainment) / (1.0 - target) * elapsed_fraction AS budget_consumed FROM base)
    SELECT slo_name, service, day, window_start, window_end, period_end, window_good, window_total,
           window_attainment, target, elapsed_fraction, budget_consumed,
           1.0 - budget_consumed AS budget_remaining,
           {policy_stage_sql('budget_consumed')} AS policy_stage
    FROM b
    ORDER BY slo_name, day
    """


# ---------------------------------------------------------------- marts.slo_alerts


def prepare_slo_alerts(con: duckdb.DuckDBPyConnection) -> str:
    """``marts.slo_alerts``: multi-window, multi-burn-rate alerts, one row per firing.

    METRICS.md: *page 1h/5m spending 2% of the budget, page 6h/30m 5%, ticket 1d/2h 10%, ticket
    3d/6h 10%; factor = budget share x SLO period / long window. Evaluated each minute over history:
    an alert fires when the burn over both windows ending at that minute is >= the factor, and
    resolves when it no longer holds.*

    Evaluation instants are minute boundaries t, from the end of the SLO's first minute to the end of
    its last; a window of length L ending at t is [t - L, t) (so the minute starting at t - 1m is its
    last). The burn over a window without events is NULL: the condition does not hold. ``fired_at``
    is the first instant the condition holds, ``resolved_at`` the first later instant it does not
    (NULL: still firing when the data ends). Sums over windows are prefix sums on a dense per-minute
    grid (``lag`` by the window's minutes), so each instant costs the same whatever the window.
    """
    create_params(con)
    con.execute("SET preserve_insertion_order = false")  # the final SELECT orders its rows
    create_ids(con)
    lags = sorted({duration_seconds(w) // 60 for _, lw, sw, _ in ALERT_WINDOWS for w in (lw, sw)})
    # the prefix sums C at t - j for every j needed at t and at the instant before (t - 1m), so a
    # change of each condition is found on the same row, without re-windowing the conditions
    shifts = sorted({1} | set(lags) | {k + 1 for k in lags})
    lag_cols = ",\n".join(
        f"lag(c_good, {j}, 0.0) OVER w AS cg{j}, lag(c_total, {j}, 0.0) OVER w AS ct{j}" for j in shifts
    )

    def cond(at_prev: bool, i: int, lw: str, sw: str) -> str:
        lk, sk = duration_seconds(lw) // 60, duration_seconds(sw) // 60

        def burn_ok(k: int) -> str:
            # _burn(g, t, target) >= factor - EPS, with the SLO's constants precomputed (same values)
            g, t = (f"(cg1 - cg{k + 1})", f"(ct1 - ct{k + 1})") if at_prev else \
                (f"(c_good - cg{k})", f"(c_total - ct{k})")
            return f"({t} > 0 AND (1.0 - {g} / {t}) / one_minus_target >= f{i})"

        return f"coalesce({burn_ok(lk)} AND {burn_ok(sk)}, false)"

    conds = ",\n".join(
        f"{cond(False, i, lw, sw)} AS a{i}, {cond(True, i, lw, sw)} AS b{i}"
        for i, (_, lw, sw, _) in enumerate(ALERT_WINDOWS)
    )
    thresholds = ", ".join(
        f"({share} * p.period_s / {duration_seconds(lw)}) - {EPS} AS f{i}"
        for i, (_, lw, _, share) in enumerate(ALERT_WINDOWS)
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _slo_alert_params AS SELECT i.slo_id, 1.0 - p.target AS one_minus_target, "
        f"{thresholds} FROM _slo_ids AS i JOIN _slo_params AS p USING (slo_name)"
    )
    n = len(ALERT_WINDOWS)
    changed = " OR ".join(f"a{i} <> b{i}" for i in range(n))
    windows = ", ".join(
        f"({i}, '{alert}', '{lw}', '{sw}', {share}, {duration_seconds(lw)})"
        for i, (alert, lw, sw, share) in enumerate(ALERT_WINDOWS)
    )
    # the dense grid is the SLO's minute rows plus zero rows for the minutes missing between its
    # first and last; missing minutes are looked for only in hours with fewer rows than minutes
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _slo_alert_hours AS
        SELECT i.slo_id, date_trunc('hour', m.minute) AS hour, count(*) AS n,
               min(m.minute) AS lo, max(m.minute) AS hi
        FROM core.sli_minutes AS m JOIN _slo_ids AS i USING (slo_name)
        GROUP BY ALL
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _slo_alert_gaps AS
        WITH r AS (SELECT slo_id, min(lo) AS lo, max(hi) AS hi FROM _slo_alert_hours GROUP BY 1),
        hours AS (
            SELECT slo_id, lo, hi, unnest(generate_series(date_trunc('hour', lo), date_trunc('hour', hi),
                                                          INTERVAL 1 hour)) AS hour
            FROM r
        ),
        gappy AS (
            SELECT h.slo_id, greatest(h.lo, h.hour) AS a, least(h.hi, h.hour + INTERVAL 59 minute) AS b
            FROM hours AS h LEFT JOIN _slo_alert_hours AS c USING (slo_id, hour)
            WHERE coalesce(c.n, 0) < (epoch(least(h.hi, h.hour + INTERVAL 59 minute))
                                      - epoch(greatest(h.lo, h.hour))) // 60 + 1
        ),
        grid AS (
            SELECT slo_id, unnest(generate_series(a, b, INTERVAL 1 minute)) AS minute FROM gappy
        ),
        have AS (
            SELECT i.slo_id, m.minute
            FROM core.sli_minutes AS m JOIN _slo_ids AS i USING (slo_name)
            SEMI JOIN gappy AS g ON g.slo_id = i.slo_id AND date_trunc('hour', m.minute) = date_trunc('hour', g.a)
        )
        SELECT slo_id, minute FROM grid ANTI JOIN have USING (slo_id, minute)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _slo_alert_transitions AS
        WITH dense AS (
            SELECT i.slo_id, m.minute, coalesce(m.good, 0.0) AS good, coalesce(m.total, 0.0) AS total
            FROM core.sli_minutes AS m JOIN _slo_ids AS i USING (slo_name)
            UNION ALL
            SELECT slo_id, minute, 0.0, 0.0 FROM _slo_alert_gaps
        ),
        cum AS (
            SELECT slo_id, minute + INTERVAL 1 minute AS t,
                   sum(good) OVER (PARTITION BY slo_id ORDER BY minute ROWS UNBOUNDED PRECEDING) AS c_good,
                   sum(total) OVER (PARTITION BY slo_id ORDER BY minute ROWS UNBOUNDED PRECEDING) AS c_total
            FROM dense
        ),
        win AS (
            SELECT slo_id, t, c_good, c_total, {lag_cols}
            FROM cum
            WINDOW w AS (PARTITION BY slo_id ORDER BY t)
        ),
        cond AS (
            SELECT win.slo_id, win.t, {conds}
            FROM win JOIN _slo_alert_params USING (slo_id)
        ),
        changes AS (
            SELECT slo_id, t, unnest([{", ".join(str(i) for i in range(n))}]) AS ix,
                   unnest([{", ".join(f"a{i}" for i in range(n))}]) AS firing,
                   unnest([{", ".join(f"b{i}" for i in range(n))}]) AS was_firing
            FROM cond WHERE {changed}
        )
        SELECT slo_id, ix, t, firing FROM changes WHERE firing <> was_firing
        """
    )
    return f"""
    WITH tr AS (
        SELECT *, lead(t) OVER (PARTITION BY slo_id, ix ORDER BY t) AS next_t
        FROM _slo_alert_transitions
    ),
    aw(ix, alert, long_window, short_window, budget_share, long_s) AS (VALUES {windows})
    SELECT i.slo_name, aw.alert, aw.long_window, aw.short_window,
           CAST(aw.budget_share AS DOUBLE) * p.period_s / aw.long_s AS factor,
           tr.t AS fired_at, tr.next_t AS resolved_at,
           CAST(aw.budget_share AS DOUBLE) AS budget_share, p.target, p.service
    FROM tr
    JOIN aw USING (ix)
    JOIN _slo_ids AS i USING (slo_id)
    JOIN _slo_params AS p USING (slo_name)
    WHERE tr.firing
    ORDER BY i.slo_name, fired_at, aw.ix
    """
