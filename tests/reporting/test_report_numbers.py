"""Every number the weekly page shows equals its mart value: one definition per figure.

A week of generated exports (the demo's generator, real formats) is ingested, built and published;
the page is rendered, parsed, and each figure cell (summary cards, the tables of every section) is
compared with the value SQL reads from the published snapshot, formatted the way the page formats
it. The page marks its figures with ``data-table`` / ``data-row`` / ``data-col`` / ``data-kind``;
a figure cell without a mapping here, a row the mart lacks, or a row the page leaves out fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import duckdb
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.lake.publish import connect_snapshot
from ops_warehouse.reporting.publish import parse_week, publish_report
from ops_warehouse.reporting.render import fmt

from .conftest import DEMO_WEEK

# table -> SQL giving (row key, figure columns...) for the reviewed week; ? = the week's Monday,
# named parameters: $week (Monday), $prev (previous Monday), $end (next Monday).
TABLES: dict[str, str] = {
    "summary": """
        SELECT 'slos_met' AS row, (SELECT count(*) FILTER (WHERE met) FROM marts.slo_weekly
                                   WHERE week_start = $week) AS value,
               (SELECT count(*) FILTER (WHERE met) FROM marts.slo_weekly WHERE week_start = $prev) AS prev
        UNION ALL SELECT 'incidents', c.incidents, p.incidents FROM marts.incident_weekly c
            LEFT JOIN marts.incident_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'mtta', c.mtta_minutes_mean, p.mtta_minutes_mean FROM marts.incident_weekly c
            LEFT JOIN marts.incident_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'mttr', c.mttr_minutes_mean, p.mttr_minutes_mean FROM marts.incident_weekly c
            LEFT JOIN marts.incident_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'action_items', c.on_time_rate, p.on_time_rate FROM marts.action_items_weekly c
            LEFT JOIN marts.action_items_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'deployments', c.deployments, p.deployments FROM marts.dora_weekly c
            LEFT JOIN marts.dora_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'cfr', c.change_failure_rate, p.change_failure_rate FROM marts.dora_weekly c
            LEFT JOIN marts.dora_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
        UNION ALL SELECT 'deploy_success', c.success_rate, p.success_rate FROM marts.deployment_health_weekly c
            LEFT JOIN marts.deployment_health_weekly p ON p.scope = 'overall' AND p.week_start = $prev
            WHERE c.scope = 'overall' AND c.week_start = $week
    """,
    "slo-summary": "SELECT slo_name AS row, attainment FROM marts.slo_weekly WHERE week_start = $week",
    "slo": """SELECT slo_name AS row, attainment, target, window_attainment, budget_remaining, burn_rate_1d
              FROM marts.slo_weekly WHERE week_start = $week""",
    "slo-alerts": """SELECT slo_name || ' ' || alert || ' ' || CAST(epoch(fired_at) AS BIGINT) AS row, factor
                     FROM marts.slo_alerts WHERE fired_at < $end AND (resolved_at IS NULL OR resolved_at >= $week)""",
    "dora-tiers": """SELECT metric AS row, weeks_measured FROM marts.dora_tier
                     WHERE scope = 'overall' AND period_end = $end""",
    "incidents-by-severity": """
        SELECT c.severity AS row, c.incidents, p.incidents AS prev_incidents FROM marts.incident_weekly c
        LEFT JOIN marts.incident_weekly p ON p.scope = 'severity' AND p.severity = c.severity AND p.week_start = $prev
        WHERE c.scope = 'severity' AND c.week_start = $week
        UNION ALL
        SELECT '(all)', c.incidents, p.incidents FROM marts.incident_weekly c
        LEFT JOIN marts.incident_weekly p ON p.scope = 'overall' AND p.week_start = $prev
        WHERE c.scope = 'overall' AND c.week_start = $week""",
    "dora-week": """SELECT '' AS row, deployments, lead_time_p50_hours, change_failure_rate, recovery_time_p50_hours
                    FROM marts.dora_weekly WHERE scope = 'overall' AND week_start = $week""",
    "dora-services": """
        SELECT w.service AS row, w.deployments, w.change_failure_rate, w.lead_time_p50_hours,
               w.recovery_time_p50_hours, t.weeks_measured
        FROM marts.dora_weekly w
        LEFT JOIN (SELECT service, max(weeks_measured) AS weeks_measured FROM marts.dora_tier
                   WHERE scope = 'service' AND period_end = $end GROUP BY service) t USING (service)
        WHERE w.scope = 'service' AND w.week_start = $week""",
    "deployment-health": """
        SELECT '' AS row, success_rate, rollback_rate, duration_p50_minutes, duration_p90_minutes, attempts,
               successful, failed, errored, cancelled, rollbacks
        FROM marts.deployment_health_weekly WHERE scope = 'overall' AND week_start = $week""",
    "deployment-services": """
        SELECT service AS row, attempts, success_rate, rollbacks, rollback_rate, duration_p50_minutes,
               duration_p90_minutes
        FROM marts.deployment_health_weekly WHERE scope = 'service' AND week_start = $week""",
    "incidents-week": """SELECT '' AS row, incidents, open_incidents FROM marts.incident_weekly
                         WHERE scope = 'overall' AND week_start = $week""",
    "incidents": """SELECT incident_id AS row, time_to_ack_minutes, time_to_resolve_minutes FROM core.incidents
                    WHERE created_at >= $week AND created_at < $end""",
    "action-teams": """
        SELECT team AS row, due, due_to_date, completed_on_time, completed_late, open_overdue, on_time_rate
        FROM marts.action_items_weekly WHERE scope = 'team' AND week_start = $week AND due > 0""",
    "overdue": "SELECT item_id AS row, days_overdue FROM core.action_items WHERE is_overdue AND due_date < $end",
}
# tables whose rows the page lists in full (others show a fixed set of rows)
FULL_LISTS = {
    "slo",
    "slo-summary",
    "dora-services",
    "deployment-services",
    "incidents",
    "action-teams",
    "overdue",
    "incidents-by-severity",
    "dora-tiers",
}
NUMBER = re.compile(r"\d")
BASE_CARDS = {"slos_met", "incidents", "mtta", "mttr", "action_items", "deployments", "cfr", "deploy_success"}


@dataclass
class Cell:
    table: str
    row: str
    col: str
    kind: str
    text: str = ""


class FigureParser(HTMLParser):
    """Collects every element carrying ``data-col`` with its own text, table and row, and every
    number in a ``td.num`` that carries none."""

    VOID = frozenset({"br", "img", "meta", "input", "hr", "link"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[Cell] = []
        self.unmarked: list[str] = []
        self.stack: list[tuple[str, dict[str, str], Cell | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        a = {k: v or "" for k, v in attrs}
        cell = None
        if "data-col" in a:
            table = a.get("data-table") or self._up("data-table")
            row = a["data-row"] if "data-row" in a else self._up("data-row")
            cell = Cell(table, row, a["data-col"], a.get("data-kind", ""))
            self.cells.append(cell)
        self.stack.append((tag, a, cell))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        while self.stack:
            open_tag, _, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.stack:
            return
        tag, a, cell = self.stack[-1]
        if cell is not None:
            cell.text += data
        elif tag == "td" and "num" in a.get("class", "").split() and NUMBER.search(data) and self._up("data-table"):
            self.unmarked.append(f"{self._up('data-table')}/{self._up('data-row')}: {data.strip()!r}")

    def _up(self, attr: str) -> str:
        for _, a, _ in reversed(self.stack):
            if attr in a:
                return a[attr]
        return ""


def expected_values(con: duckdb.DuckDBPyConnection, week: date) -> dict[str, dict[str, dict[str, Any]]]:
    params = {"week": week, "prev": week - timedelta(weeks=1), "end": week + timedelta(weeks=1)}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for table, sql in TABLES.items():
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        cur = con.execute(sql, used)
        names = [d[0] for d in cur.description]
        out[table] = {str(r[0]): dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
    return out


def mismatches(html: str, expected: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """Every way the page's figures differ from the marts (empty when they agree)."""
    parser = FigureParser()
    parser.feed(html)
    problems = [f"a figure cell without data-col: {u}" for u in parser.unmarked]
    shown: dict[str, set[str]] = {}
    for c in parser.cells:
        if c.table not in expected:
            problems.append(f"{c.table}/{c.row}/{c.col}: no SQL for table {c.table!r}")
            continue
        if c.table == "summary" and c.row not in BASE_CARDS:
            continue  # a card an extra section adds: that section's tests check it
        shown.setdefault(c.table, set()).add(c.row)
        row = expected[c.table].get(c.row)
        if row is None:
            problems.append(f"{c.table}/{c.row}: shown, but the mart has no such row")
            continue
        if c.col not in row:
            problems.append(f"{c.table}/{c.row}/{c.col}: no such column in the SQL")
            continue
        want = (
            fmt(row[c.col], c.kind)
            if c.kind in ("count", "pct", "pct3", "minutes", "hours", "ratio", "number")
            else None
        )
        if want is None:
            problems.append(f"{c.table}/{c.row}/{c.col}: unknown kind {c.kind!r}")
        elif " ".join(c.text.split()) != want:
            problems.append(f"{c.table}/{c.row}/{c.col}: page shows {c.text.strip()!r}, mart says {want!r}")
    for table in FULL_LISTS:
        missing = set(expected[table]) - shown.get(table, set())
        if missing:
            problems.append(f"{table}: mart rows missing from the page: {sorted(missing)}")
    return problems


@pytest.fixture(scope="module")
def page(demo_home: DataHome) -> tuple[str, dict[str, dict[str, dict[str, Any]]]]:
    html = publish_report(demo_home, DEMO_WEEK).read_text(encoding="utf-8")
    con = connect_snapshot(demo_home)
    try:
        return html, expected_values(con, parse_week(DEMO_WEEK))
    finally:
        con.close()


def test_every_number_shown_equals_its_mart_value(page: tuple[str, dict[str, dict[str, dict[str, Any]]]]) -> None:
    html, expected = page
    assert mismatches(html, expected) == []
    # the week has something in every section, so the comparison covered them
    for table in (
        "summary",
        "slo",
        "dora-services",
        "deployment-services",
        "incidents",
        "action-teams",
        "incidents-by-severity",
        "dora-tiers",
        "deployment-health",
    ):
        assert expected[table], f"the generated week has no rows for {table}"
    assert len(expected["summary"]) == 8


def test_the_comparison_catches_a_wrong_figure(page: tuple[str, dict[str, dict[str, dict[str, Any]]]]) -> None:
    html, expected = page
    # a card showing another figure than the mart's
    value = fmt(expected["summary"]["incidents"]["value"], "count")
    head, card = html.split('data-metric="incidents"', 1)
    card = card.replace(f'data-col="value" data-kind="count">{value}<', 'data-col="value" data-kind="count">999<', 1)
    tampered = head + 'data-metric="incidents"' + card
    assert tampered != html and any("summary/incidents/value" in p for p in mismatches(tampered, expected))
    # a number the page shows without saying which mart column it is
    sneaky = html.replace("</table>", '<tr data-row="x"><td class="num">42.0%</td></tr></table>', 1)
    assert any("without data-col" in p for p in mismatches(sneaky, expected))
    # a mart row the page leaves out
    fewer = {**expected, "slo": {**expected["slo"], "an-slo-the-page-does-not-show": {}}}
    assert any("missing from the page" in p for p in mismatches(html, fewer))
