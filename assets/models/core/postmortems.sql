-- core.postmortems: one row per postmortem, linked to the incident it reviews.
--
-- Rules (METRICS.md, "Postmortems"):
-- * "Linked by the postmortem's incident reference (canonical incident_id; a GitHub issue labelled
--   postmortem whose body says `incident: <ref>`; a Jira issue of type Postmortem or labelled
--   postmortem with an `incident:<ref>` label). The ref is the incident tool's own id as people copy
--   it (PagerDuty PXXXXXX, an Opsgenie id, #12 or owner/repo#12 for a GitHub issue) or the
--   warehouse's incident_id."
--   The adapters turn GitHub references into the warehouse's id (github-issue:owner/repo#12). A ref
--   names the incident whose incident_id it equals; failing that, the incident whose tool id (its
--   incident_id without the `<source>:` prefix: PT4KHLK, an Opsgenie UUID, owner/repo#12) it equals,
--   case-insensitively; when several tools share that id, the smallest incident_id (choice).
-- * "A postmortem that names an unknown incident is a data-quality finding, not a crash": such a
--   row keeps incident_id NULL, the reference as written in incident_ref and the finding in
--   `finding` ('unknown incident <ref>', or 'no incident reference' when it names none).
-- * status: draft | published | cancelled as the adapters read it (GitHub open / closed /
--   closed as not_planned; Jira statusCategory); without one, published when published_at is set.
-- * "The team is the incident's team" (core.incidents' team: its own, else its service's in the
--   catalog).
WITH pm AS (
    SELECT * FROM raw.postmortems
),
inc AS (
    SELECT incident_id, service, team,
           lower(regexp_replace(incident_id, '^[A-Za-z][A-Za-z0-9_-]*:', '')) AS tool_id
    FROM core.incidents
),
exact AS (
    SELECT p.postmortem_id, i.incident_id
    FROM pm AS p
    JOIN inc AS i ON i.incident_id = p.incident_id
),
by_tool_id AS (
    SELECT p.postmortem_id, min(i.incident_id) AS incident_id
    FROM pm AS p
    JOIN inc AS i ON i.tool_id = lower(p.incident_id)
    WHERE p.postmortem_id NOT IN (SELECT postmortem_id FROM exact)
    GROUP BY p.postmortem_id
),
linked AS (
    SELECT postmortem_id, incident_id FROM exact
    UNION ALL
    SELECT postmortem_id, incident_id FROM by_tool_id
)
SELECT
    p.postmortem_id,
    l.incident_id,
    p.created_at,
    p.published_at,
    coalesce(p.status, CASE WHEN p.published_at IS NOT NULL THEN 'published' ELSE 'draft' END) AS status,
    p.source,
    p.incident_id AS incident_ref,
    p.title,
    p.owner,
    i.service,
    i.team,
    CASE
        WHEN p.incident_id IS NULL THEN 'no incident reference'
        WHEN l.incident_id IS NULL THEN 'unknown incident ' || p.incident_id
    END AS finding
FROM pm AS p
LEFT JOIN linked AS l ON l.postmortem_id = p.postmortem_id
LEFT JOIN inc AS i ON i.incident_id = l.incident_id
ORDER BY p.created_at, p.postmortem_id
