-- marts.action_items_weekly: postmortem action items by the ISO week of their due date, per team
-- and category, with rollups: category = '(all)' per team, team = '(all)' for everything
-- (`scope` column: team_category, team, overall). Filter on scope before summing.
--
-- Rules (METRICS.md, "Postmortem action items"):
-- * "Week assignment: an action item by due_date." due_date is core's effective due date: the
--   item's own, else derived from the category and created_at (7 / 30 / 90 days).
-- * "process items without a due date are left out of the rate": items with no effective due
--   date are excluded entirely.
-- * "due = items due that week, not not_doing": not_doing items are excluded entirely.
-- * "completed_on_time = completed on or before the due date": done, and the UTC date of
--   completed_at <= due_date (completing on the due day is on time).
-- * "completed_late = completed after it."
-- * "open_overdue = still open past it": core's is_overdue, an item still open whose due date has
--   passed as of the warehouse's data time (core.action_items.as_of: "when the warehouse is built",
--   known from the data, see there). Open items not yet due are open_not_due. Each item is in
--   exactly one of completed_on_time, completed_late, open_overdue, open_not_due.
-- * "on_time_rate = completed_on_time / due, counting only items whose due date has passed when the
--   warehouse is built (a week still in progress shows the rate over what is already due; NULL when
--   nothing is)": due_to_date = the week's due items whose due date has passed as of as_of
--   (core's due_passed), completed_on_time_to_date = those completed on time; on_time_rate =
--   completed_on_time_to_date / due_to_date. For a week wholly before as_of they equal due and
--   completed_on_time. "Default target: > 90%" from the setting action_item_target.
-- * team: core's team (the item's own, else its incident's), '(none)' when unknown.
WITH items AS (
    SELECT
        item_id,
        coalesce(team, '(none)') AS team,
        coalesce(category, 'unknown') AS category,
        status,
        due_date,
        due_passed,
        is_overdue,
        as_of,
        CAST(date_trunc('week', due_date) AS DATE) AS week_start,
        CAST(timezone('UTC', completed_at) AS DATE) AS completed_on
    FROM core.action_items
    WHERE status <> 'not_doing'       -- not_doing never counts
      AND due_date IS NOT NULL        -- process items without a due date are left out
),
classified AS (
    SELECT
        *,
        status = 'done' AND completed_on <= due_date AS on_time,
        status = 'done' AND (completed_on > due_date OR completed_on IS NULL) AS late,
        is_overdue AS overdue
    FROM items
),
agg AS (
    SELECT
        week_start,
        CASE WHEN grouping(team) = 1 THEN '(all)' ELSE team END AS team,
        CASE WHEN grouping(category) = 1 THEN '(all)' ELSE category END AS category,
        CASE
            WHEN grouping(team) = 1 THEN 'overall'
            WHEN grouping(category) = 1 THEN 'team'
            ELSE 'team_category'
        END AS scope,
        count(*) AS due,
        count(*) FILTER (WHERE on_time) AS completed_on_time,
        count(*) FILTER (WHERE late) AS completed_late,
        count(*) FILTER (WHERE overdue) AS open_overdue,
        count(*) FILTER (WHERE status = 'open' AND NOT overdue) AS open_not_due,
        count(*) FILTER (WHERE due_passed) AS due_to_date,
        count(*) FILTER (WHERE on_time AND due_passed) AS completed_on_time_to_date
    FROM classified
    GROUP BY GROUPING SETS ((week_start, team, category), (week_start, team), (week_start))
),
weeks AS (
    SELECT CAST(w AS DATE) AS week_start
    FROM (SELECT unnest(generate_series(CAST(min(week_start) AS TIMESTAMP), CAST(max(week_start) AS TIMESTAMP),
                                        INTERVAL 7 DAY)) AS w FROM items)
),
spine AS (
    -- "Weeks with no activity appear with zero counts and NULL rates": every week of the range for
    -- the overall row and each team; team x category rows stay sparse.
    SELECT week_start, '(all)' AS team, '(all)' AS category, 'overall' AS scope FROM weeks
    UNION ALL
    SELECT w.week_start, t.team, '(all)', 'team' FROM weeks AS w, (SELECT DISTINCT team FROM items) AS t
    UNION ALL
    SELECT week_start, team, category, scope FROM agg WHERE scope = 'team_category'
),
filled AS (
    SELECT sp.week_start, sp.team, sp.category, sp.scope,
           coalesce(a.due, 0) AS due,
           coalesce(a.completed_on_time, 0) AS completed_on_time,
           coalesce(a.completed_late, 0) AS completed_late,
           coalesce(a.open_overdue, 0) AS open_overdue,
           coalesce(a.open_not_due, 0) AS open_not_due,
           coalesce(a.due_to_date, 0) AS due_to_date,
           coalesce(a.completed_on_time_to_date, 0) AS completed_on_time_to_date
    FROM spine AS sp
    LEFT JOIN agg AS a USING (week_start, team, category, scope)
)
SELECT
    week_start,
    team,
    due,
    completed_on_time,
    completed_late,
    open_overdue,
    completed_on_time_to_date / nullif(due_to_date, 0) AS on_time_rate,
    category,
    scope,
    open_not_due,
    due_to_date,
    completed_on_time_to_date,
    CAST(getvariable('action_item_target') AS DOUBLE) AS on_time_target,
    completed_on_time_to_date / nullif(due_to_date, 0) > CAST(getvariable('action_item_target') AS DOUBLE)
        AS on_time_target_met,
    (SELECT max(as_of) FROM core.action_items) AS as_of
FROM filled
ORDER BY week_start, scope, team, category
