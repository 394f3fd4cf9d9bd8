-- core.slos: one row per SLO definition, from OpenSLO, Sloth or canonical files.
--
-- The adapters normalize every format into one JSON spec (see ops_warehouse/sources/slo_spec.py):
-- target is a fraction (Sloth's percent objective divided by 100), time_window is a duration such
-- as 28d or 1M, rolling or calendar-aligned in a time zone. A threshold indicator counts each
-- sample as one event, good when `value op threshold` holds. Time-slice SLOs carry their slice
-- window (default 1m) and, for Timeslices, the ratio a slice needs to be good. The spec also holds
-- its queries compiled into selectors (metric name, label matchers), which core.slo_selectors
-- lists one per row.
--
-- Derived columns the SLO models read:
-- * period_s: the SLO period in seconds, for alert factors and the forecast. Choice: a month is 30
--   days (Sloth's default period), a quarter 90, a year 365 (duration units m h d w M Q Y).
-- * cal_unit, cal_n: the duration's unit and count (calendar windows: `1M` is the calendar month,
--   `1Q` the quarter, `1Y` the year, `1w` the ISO week; other units are periods of that length
--   anchored at start_local, default the Unix epoch).
-- * slice_s: the time slice in seconds (time-slice methods; 1m unless given), NULL for Occurrences.
WITH s AS (
    SELECT
        slo_name,
        coalesce(service, json_extract_string(spec, '$.service')) AS service,
        json_extract_string(spec, '$.budgeting_method') AS budgeting_method,
        CAST(json_extract(spec, '$.target') AS DOUBLE) AS target,
        json_extract_string(spec, '$.time_window.duration') AS time_window,
        CAST(json_extract(spec, '$.time_window.is_rolling') AS BOOLEAN) AS is_rolling,
        coalesce(json_extract_string(spec, '$.time_window.time_zone'), 'UTC') AS time_zone,
        json_extract_string(spec, '$.time_window.start_time') AS start_time,
        json_extract_string(spec, '$.source_spec') AS source_spec,
        json_extract_string(spec, '$.description') AS description,
        json_extract_string(spec, '$.indicator.kind') AS indicator_kind,
        json_extract_string(spec, '$.time_slice_window') AS time_slice_window,
        CAST(json_extract(spec, '$.time_slice_target') AS DOUBLE) AS time_slice_target,
        json_extract_string(spec, '$.indicator.threshold.op') AS threshold_op,
        CAST(json_extract(spec, '$.indicator.threshold.value') AS DOUBLE) AS threshold_value,
        json_extract_string(spec, '$.indicator.good') IS NOT NULL AS has_good,
        spec
    FROM raw.slo_definitions
),
units(unit, unit_s) AS (
    VALUES ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800), ('M', 2592000), ('Q', 7776000), ('Y', 31536000)
)
SELECT
    s.slo_name, s.service, s.budgeting_method, s.target, s.time_window, s.is_rolling, s.time_zone,
    s.source_spec, s.description, s.indicator_kind, s.time_slice_window, s.time_slice_target,
    s.threshold_op, s.threshold_value, s.has_good,
    CAST(regexp_extract(s.time_window, '^([0-9]+)', 1) AS BIGINT) * w.unit_s AS period_s,
    w.unit AS cal_unit,
    CAST(regexp_extract(s.time_window, '^([0-9]+)', 1) AS INTEGER) AS cal_n,
    TRY_CAST(substr(replace(replace(s.start_time, 'T', ' '), 'Z', ''), 1, 19) AS TIMESTAMP) AS start_local,
    CASE WHEN s.budgeting_method <> 'Occurrences'
         THEN CAST(regexp_extract(coalesce(s.time_slice_window, '1m'), '^([0-9]+)', 1) AS BIGINT) * l.unit_s
    END AS slice_s,
    s.spec
FROM s
JOIN units AS w ON w.unit = regexp_extract(s.time_window, '([mhdwMQY])$', 1)
LEFT JOIN units AS l ON l.unit = regexp_extract(coalesce(s.time_slice_window, '1m'), '([mhdwMQY])$', 1)
ORDER BY s.slo_name
