-- Since rule of core.vulnerabilities (key opened_at): the earliest opened_at new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- An alert finding's row depends on its own raw rows; a scanner finding's on its target's scans:
-- a scan at T changes the findings of that target still open at T (their fix may move) and any
-- opened from T on.
WITH ids AS MATERIALIZED (
    SELECT finding_id FROM touched.vulnerabilities
),
scans AS MATERIALIZED (
    SELECT source, target, min(scanned_at) AS t
    FROM (
        SELECT source, target, scanned_at FROM touched.vulnerability_scans
        UNION ALL
        SELECT source, target, scanned_at FROM touched.vulnerability_observations
    )
    GROUP BY source, target
)
SELECT min(t) AS since
FROM (
    SELECT opened_at AS t FROM versions.vulnerabilities WHERE finding_id IN (SELECT finding_id FROM ids)
    UNION ALL
    SELECT opened_at AS t FROM before.core_vulnerabilities WHERE finding_id IN (SELECT finding_id FROM ids)
    UNION ALL
    SELECT t FROM scans
    UNION ALL
    SELECT v.opened_at AS t
    FROM before.core_vulnerabilities AS v
    JOIN scans AS g ON v.source = g.source AND v.target = g.target AND (v.fixed_at IS NULL OR v.fixed_at >= g.t)
)
