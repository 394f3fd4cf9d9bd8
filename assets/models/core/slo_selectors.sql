-- core.slo_selectors: the queries of every SLO as the series selectors the SLI models match, one
-- row per label matcher (a query without label matchers has one row with label NULL).
--
-- Rule (METRICS.md, "SLOs and error budgets"): "A metric query is a Prometheus series selector
-- (name{label="v",code!~"5.."}), or one wrapped as sum(rate(SELECTOR[w])) / sum(increase(SELECTOR[w]))
-- (by clauses ignored; {{.window}} accepted)." Quoted UTF-8 names (Prometheus 3:
-- {"http.server.request.count", "service.name"="api"}) address OpenTelemetry and Datadog series.
-- The queries were parsed with the Prometheus grammar when the definition was ingested
-- (ops_warehouse/sources/slo_spec.py, compile_query) into the spec's `selectors`:
-- * role: good, bad, total (ratio SLOs) or threshold; metric: the metric name;
-- * wrapped: the query is rate()/increase() of the selector (decides the counter reading of a
--   Prometheus series of unstated kind, see core/sli_minutes.sql);
-- * op: =, !=, =~, !~; value: the text compared (le/quantile bounds as the adapters store them);
--   pattern: for regex matchers, the regex anchored as Prometheus anchors it, ^(?s:re)$.
-- A spec holds at most 3 queries of at most 16 label matchers each (checked at ingest).
WITH q AS (
    SELECT s.slo_name, n.i AS selector_index,
           '$.selectors[' || CAST(n.i AS VARCHAR) || ']' AS path, s.spec
    FROM core.slos AS s
    CROSS JOIN (SELECT unnest(generate_series(0, 2)) AS i) AS n
),
sel AS (
    SELECT slo_name, selector_index, spec, path,
           json_extract_string(spec, path || '.role') AS role,
           json_extract_string(spec, path || '.metric') AS metric,
           CAST(json_extract(spec, path || '.wrapped') AS BOOLEAN) AS wrapped
    FROM q
    WHERE json_extract_string(spec, path || '.metric') IS NOT NULL
),
m AS (
    SELECT sel.slo_name, sel.selector_index, sel.role, sel.metric, sel.wrapped, n.j AS matcher_index,
           json_extract_string(sel.spec, sel.path || '.matchers[' || CAST(n.j AS VARCHAR) || '].label') AS label,
           json_extract_string(sel.spec, sel.path || '.matchers[' || CAST(n.j AS VARCHAR) || '].op') AS op,
           json_extract_string(sel.spec, sel.path || '.matchers[' || CAST(n.j AS VARCHAR) || '].value') AS value,
           json_extract_string(sel.spec, sel.path || '.matchers[' || CAST(n.j AS VARCHAR) || '].pattern') AS pattern
    FROM sel
    CROSS JOIN (SELECT unnest(generate_series(0, 15)) AS j) AS n
)
SELECT slo_name, selector_index, role, metric, wrapped, matcher_index, label, op, value, pattern
FROM m
WHERE label IS NOT NULL
UNION ALL
SELECT slo_name, selector_index, role, metric, wrapped, NULL, NULL, NULL, NULL, NULL
FROM sel
WHERE json_extract_string(spec, path || '.matchers[0].label') IS NULL
ORDER BY slo_name, selector_index, matcher_index
