-- core.slos: one row per SLO definition, from OpenSLO, Sloth or canonical files.
--
-- The adapters normalize every format into one JSON spec (see ops_warehouse/sources/slo_spec.py):
-- target is a fraction (Sloth's percent objective divided by 100), time_window is a duration such
-- as 28d or 1M, rolling or calendar-aligned in a time zone. A threshold indicator counts each
-- sample as one event, good when `value op threshold` holds. Time-slice SLOs carry their slice
-- window (default 1m) and, for Timeslices, the ratio a slice needs to be good.
SELECT
    slo_name,
    coalesce(service, json_extract_string(spec, '$.service')) AS service,
    json_extract_string(spec, '$.budgeting_method') AS budgeting_method,
    CAST(json_extract(spec, '$.target') AS DOUBLE) AS target,
    json_extract_string(spec, '$.time_window.duration') AS time_window,
    CAST(json_extract(spec, '$.time_window.is_rolling') AS BOOLEAN) AS is_rolling,
    json_extract_string(spec, '$.time_window.time_zone') AS time_zone,
    json_extract_string(spec, '$.source_spec') AS source_spec,
    json_extract_string(spec, '$.description') AS description,
    json_extract_string(spec, '$.indicator.kind') AS indicator_kind,
    json_extract_string(spec, '$.time_slice_window') AS time_slice_window,
    CAST(json_extract(spec, '$.time_slice_target') AS DOUBLE) AS time_slice_target,
    spec
FROM raw.slo_definitions
ORDER BY slo_name
