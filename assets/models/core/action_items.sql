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
-- * as_of: "when the warehouse is built", known deterministically from the data (choice): the
--   warehouse's data time, the latest event any operational export recorded (a deployment
--   finished; an incident created, acknowledged or resolved; an action item created, completed or
--   updated). Rebuilding the same data gives the same tables, which a wall clock would not, and a
--   report of an old week reads what was due then. due_passed: the due date has passed as of it
--   (the UTC date of as_of is after due_date); is_overdue: still open and due_passed ("open_overdue
--   = still open past it"); days_overdue = days from the due date to as_of's UTC date, for those.
--   marts.action_items_weekly counts these flags; the report lists the overdue items.
WITH clock AS (
    SELECT max(t) AS as_of
    FROM (
        SELECT max(finished_at) AS t FROM core.deployments
        UNION ALL
        SELECT max(greatest(created_at, coalesce(acknowledged_at, created_at), coalesce(resolved_at, created_at)))
        FROM core.incidents
        UNION ALL
        SELECT max(greatest(created_at, coalesce(completed_at, created_at), coalesce(updated_at, created_at)))
        FROM raw.action_items
    ) AS t
),
items AS (
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
)
SELECT
    items.*,
    clock.as_of,
    due_date IS NOT NULL AND due_date < CAST(timezone('UTC', clock.as_of) AS DATE) AS due_passed,
    status = 'open' AND due_date IS NOT NULL AND due_date < CAST(timezone('UTC', clock.as_of) AS DATE) AS is_overdue,
    CASE WHEN status = 'open' AND due_date < CAST(timezone('UTC', clock.as_of) AS DATE)
         THEN date_diff('day', due_date, CAST(timezone('UTC', clock.as_of) AS DATE)) END AS days_overdue
FROM items, clock
ORDER BY created_at, item_id
