-- Since rule of marts.slo_alerts (key fired_at): the earliest firing new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A changed SLO definition (any column of core.slos) rebuilds the table. A condition at instant
-- t reads the minutes before t, so with minutes recomputed from c, instants from c + 1 minute
-- can change; a firing still open then is recomputed from its start (its resolution may move,
-- see slo_alerts.span.sql). An SLO whose data resumes after a gap was evaluated up to the end of
-- its old last minute: the instants after it (its windows draining through the gap) are new, so
-- they are recomputed too.
WITH minutes AS (
    SELECT since AS c FROM plan.upstream_since WHERE model = 'core.sli_minutes'
),
-- SLI minutes (slo_name, minute, good, total) that differ before and after, compared from the
-- minute core.sli_minutes recomputed from; when it was rebuilt whole (and no SLO definition
-- changed), its rows can only differ from the minute of the earliest new or replaced metric
-- sample on (a counter's increase belongs to the later sample's minute), so only that tail is
-- compared.
sli_from AS (
    SELECT CASE
            WHEN isinf(since) THEN (SELECT date_trunc('minute', min(ts)) FROM touched.metric_samples)
            ELSE since
        END AS t
    FROM plan.upstream_since WHERE model = 'core.sli_minutes'
),
sli_before AS NOT MATERIALIZED (
    SELECT slo_name, minute, good, total FROM before.core_sli_minutes WHERE minute >= (SELECT t FROM sli_from)
),
sli_after AS NOT MATERIALIZED (
    SELECT slo_name, minute, good, total FROM core.sli_minutes WHERE minute >= (SELECT t FROM sli_from)
),
sli_changes AS MATERIALIZED (
    (SELECT * FROM sli_before EXCEPT ALL SELECT * FROM sli_after)
    UNION ALL
    (SELECT * FROM sli_after EXCEPT ALL SELECT * FROM sli_before)
),
resumed AS (
    SELECT min(t) AS t
    FROM (
        SELECT max(last_minute) + INTERVAL 1 MINUTE AS t FROM before.core_sli_hours
        WHERE slo_name IN (SELECT DISTINCT slo_name FROM sli_changes)
        GROUP BY slo_name
    )
)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        WHEN m.c IS NULL OR isinf(m.c) THEN m.c
        ELSE least(m.c + INTERVAL 1 MINUTE, r.t)
    END AS since
FROM minutes AS m, resumed AS r
