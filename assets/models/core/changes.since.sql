-- Since rule of core.changes (key authored_at): the earliest authored_at new data can change.
-- (What a since query reads and returns: ops_warehouse/lake/incremental.py.)
--
-- A commit's row changes when its raw rows or its pull request change, or when the successful
-- production deployments that can ship it change: one whose sha is the commit or its PR's merge
-- commit, its explicit or current deployment, or (first deployment finishing at or after the
-- merge) any commit of the service merged since the latest unchanged deployment before the
-- earliest changed one.
WITH prod AS MATERIALIZED (
    -- successful production deployments that differ before/after (added, removed or changed)
    SELECT * FROM changed.core_deployments WHERE is_production AND status = 'success'
),
prs AS (
    -- pull requests touched, or whose merge commit a changed deployment names
    SELECT repo, pr_number FROM touched.pull_requests
    UNION
    SELECT repo, pr_number FROM versions.pull_requests WHERE merge_commit_sha IN (SELECT sha FROM prod)
),
first_change AS (
    SELECT service, min(finished_at) AS f FROM prod GROUP BY service
),
prev AS (
    SELECT c.service, max(p.finished_at) AS p
    FROM first_change AS c
    LEFT JOIN before.core_deployments AS p
      ON p.service = c.service AND p.is_production AND p.status = 'success' AND p.finished_at < c.f
    GROUP BY c.service
),
raw_changes AS MATERIALIZED (
    SELECT change_id, repo, pr_number, deploy_id, authored_at FROM versions.changes
),
ids AS MATERIALIZED (
    SELECT change_id FROM touched.changes
    UNION
    SELECT r.change_id FROM raw_changes AS r JOIN prs AS p ON p.repo = r.repo AND p.pr_number = r.pr_number
    UNION
    SELECT change_id FROM raw_changes
    WHERE change_id IN (SELECT sha FROM prod) OR deploy_id IN (SELECT deploy_id FROM prod)
    UNION
    SELECT change_id FROM before.core_changes
    WHERE change_id IN (SELECT sha FROM prod) OR deploy_id IN (SELECT deploy_id FROM prod)
    UNION
    SELECT c.change_id FROM before.core_changes AS c JOIN prev AS p
      ON c.service = p.service AND (p.p IS NULL OR c.merged_at >= p.p)
)
SELECT min(t) AS since
FROM (
    SELECT authored_at AS t FROM raw_changes WHERE change_id IN (SELECT change_id FROM ids)
    UNION ALL
    SELECT authored_at AS t FROM before.core_changes WHERE change_id IN (SELECT change_id FROM ids)
)
