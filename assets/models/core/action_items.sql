-- core.action_items: postmortem follow-ups with their effective due date.
--
-- Rules (METRICS.md, "Postmortem action items"):
-- * Categories: immediate (due within 1 week), short_term (1 month), long_term (1 quarter),
--   process (no deadline).
-- * A missing due date is derived from the category and created_at: +7, +30 or +90 days.
--   Process items without a due date keep none and are left out of the on-time rate.
-- * status: open | done | not_doing, as the adapters decided (Jira statusCategory wins over
--   resolutiondate; Won't Do / Duplicate and GitHub not_planned mean not_doing).
-- * team: the item's own team, else the team of the incident's service in the catalog.
SELECT
    a.item_id,
    a.incident_id,
    a.title,
    a.owner,
    a.category,
    a.created_at,
    coalesce(
        a.due_date,
        CASE a.category
            WHEN 'immediate' THEN CAST(timezone('UTC', a.created_at) AS DATE) + 7
            WHEN 'short_term' THEN CAST(timezone('UTC', a.created_at) AS DATE) + 30
            WHEN 'long_term' THEN CAST(timezone('UTC', a.created_at) AS DATE) + 90
        END
    ) AS due_date,
    a.due_date IS NULL AND a.category IN ('immediate', 'short_term', 'long_term') AS due_date_derived,
    CASE WHEN a.status = 'done' THEN coalesce(a.completed_at, a.updated_at) END AS completed_at,
    a.status,
    coalesce(a.team, i.team, cs.team) AS team,
    i.service,
    a.source
FROM raw.action_items AS a
LEFT JOIN core.incidents AS i ON i.incident_id = a.incident_id
LEFT JOIN catalog.services AS cs ON cs.service = i.service
ORDER BY a.created_at, a.item_id
