-- Since rule of marts.deploy_slo_impact (key finished_at): the earliest finished_at new data can
-- change. (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A row reads its deployment and the SLI minutes in (started_at - 60 min, started_at] and
-- (finished_at, finished_at + 60 min]: a changed production success changes its own row; a
-- changed minute m the deployments finishing at or after m - 60 min (a before window holding m
-- starts at or after m, and finished_at >= started_at); a changed SLO definition (service,
-- target) any row, so the table is rebuilt.
WITH -- SLI minutes (slo_name, minute, good, total) that differ before and after, compared from the
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
)
SELECT CASE
        WHEN EXISTS (SELECT 1 FROM changed.core_slos) THEN TIMESTAMPTZ '-infinity'
        ELSE (
            SELECT min(t)
            FROM (
                SELECT finished_at AS t FROM changed.core_deployments WHERE is_production AND status = 'success'
                UNION ALL
                SELECT minute - INTERVAL 60 MINUTE AS t FROM sli_changes
            )
        )
    END AS since
