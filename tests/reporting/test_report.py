"""The weekly review's data assembly, formatting, escaping, publishing and index."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.reporting.data import assemble
from ops_warehouse.reporting.publish import build_weekly, last_complete_week, parse_week, publish_report
from ops_warehouse.reporting.render import delta, fmt, render_weekly, templates_dir

from .conftest import HOSTILE_OWNER, HOSTILE_SERVICE, HOSTILE_TITLE, PREV_WEEK, WEEK

W10 = date(2026, 3, 2)


@pytest.fixture(scope="module")
def weekly(small_home: DataHome):
    return build_weekly(small_home, W10, now=datetime(2026, 3, 10, tzinfo=UTC))


def _metric(data, key):
    return next(m for m in data.summary["metrics"] if m.key == key)


# ---------------------------------------------------------------- data assembly


def test_incident_figures_and_week_over_week(weekly) -> None:
    inc = weekly.incidents
    assert inc["total"] == 2 and inc["prev_total"] == 1
    assert {s["severity"]: (s["count"], s["prev"]) for s in inc["by_severity"]} == {
        "sev1": (1, 0),
        "sev2": (0, 1),
        "sev3": (1, 0),
    }
    mtta, mttr = _metric(weekly, "mtta"), _metric(weekly, "mttr")
    # the mart's means and its verdict against the configured targets (< 5 min, < 30 min)
    assert (mtta.value, mtta.prev, mtta.target_met) == pytest.approx((7.0, 2.0, False))
    assert (mttr.value, mttr.prev, mttr.target_met) == pytest.approx((50.0, 20.0, False))
    assert (mtta.target_text, mttr.target_text) == ("target < 5 min", "target < 30 min")
    listed = {i["incident_id"]: i for i in inc["list"]}
    assert set(listed) == {"INC-1", "INC-2"}
    assert listed["INC-1"]["caused_by_deploy_id"] == "D3" and listed["INC-1"]["deploy_sha"] == "e" * 40
    assert listed["INC-1"]["time_to_ack_minutes"] == pytest.approx(4)
    assert listed["INC-1"]["time_to_resolve_minutes"] == pytest.approx(40)
    assert listed["INC-2"]["title"] == HOSTILE_TITLE


def test_deployment_health(weekly) -> None:
    this, prev = weekly.deployments["this"], weekly.deployments["prev"]
    assert (this["attempts"], this["successful"], this["failed"]) == (5, 4, 1)
    assert this["success_rate"] == pytest.approx(0.8) and prev["success_rate"] == pytest.approx(1.0)
    assert this["success_target_met"] is False and this["success_target"] == pytest.approx(0.999)
    assert this["duration_p50_minutes"] == pytest.approx(10.0)  # 10, 20, 30, 5 (failed), 5 -> median 10
    by_service = {s["service"]: s for s in weekly.deployments["by_service"]}
    assert by_service["api"]["attempts"] == 4 and by_service[HOSTILE_SERVICE]["attempts"] == 1
    # a service's team is the mart's: the team of its latest deployment
    assert by_service["api"]["team"] == "core"


def test_dora_and_tiers(weekly) -> None:
    assert weekly.dora["this"]["deployments"] == 4 and weekly.dora["prev"]["deployments"] == 2
    assert weekly.dora["this"]["change_failure_rate"] == pytest.approx(0.25)
    assert weekly.dora["prev"]["change_failure_rate"] == pytest.approx(0.5)
    assert len(weekly.dora["trend"]["week_start"]) == 12 and weekly.dora["trend"]["week_start"][-1] == W10
    assert set(weekly.dora["tiers"]) <= {"deployment_frequency", "lead_time", "change_failure_rate", "recovery_time"}
    # two weeks of history (W09, W10): the value is shown, the tier is not (fewer than 4 weeks)
    cfr = weekly.dora["tiers"]["change_failure_rate"]
    assert (cfr["tier"], cfr["weeks_measured"]) == (None, 2) and cfr["value"] == pytest.approx(2 / 6)  # D0, D3
    # the chart bands are the configured benchmark's (dora-2023 by default)
    bands = [(b["tier"], b["band_low"], b["band_high"]) for b in weekly.dora["bands"]["change_failure_rate"]]
    assert bands == [("elite", 0, 0.05), ("high", 0.05, 0.10), ("medium", 0.10, 0.15), ("low", 0.15, None)]


def test_action_items(weekly) -> None:
    on_time = _metric(weekly, "action_items")
    assert on_time.value == pytest.approx(1 / 3) and on_time.prev == pytest.approx(1.0)
    assert on_time.target_met is False and on_time.target_text == "target > 90%"
    # the warehouse's data time is A2's completion, Sat 7 Mar 15:00: A3 (due 6 Mar) is 1 day overdue
    [item] = weekly.actions["overdue"]
    assert (item["item_id"], item["days_overdue"], item["owner"]) == ("A3", 1, HOSTILE_OWNER)


def test_no_slo_data_is_no_data_not_zero(weekly) -> None:
    assert weekly.slo["has_data"] is False
    assert weekly.summary["slos_met"] is None
    assert all(m.key != "slos_met" for m in weekly.summary["metrics"])


def test_missing_marts_and_columns_never_crash(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA core; CREATE SCHEMA marts")
    # Only a few columns, and a mart without its verdict columns: nothing is recomputed in their place.
    con.execute("CREATE TABLE core.incidents (incident_id VARCHAR, severity VARCHAR, created_at TIMESTAMPTZ)")
    con.execute("INSERT INTO core.incidents VALUES ('x', 'sev2', TIMESTAMPTZ '2026-03-03 10:00:00+00')")
    con.execute("CREATE TABLE marts.slo_weekly (slo_name VARCHAR, week_start DATE, attainment DOUBLE, target DOUBLE)")
    con.execute("INSERT INTO marts.slo_weekly VALUES ('s', DATE '2026-03-02', 0.99, 0.999)")
    con.execute("CREATE TABLE marts.dora_tier (metric VARCHAR)")  # unusable: no tier column
    data = assemble(con, W10)
    assert data.incidents["list"][0]["time_to_resolve_minutes"] is None and data.incidents.get("total") is None
    [slo] = data.slo["rows"]
    assert slo["met"] is None and slo["policy_stage"] is None and slo["budget_remaining"] is None
    assert data.dora["has_data"] is False and data.actions["has_data"] is False
    html = render_weekly(data)
    assert "no data" in html and "99.000%" in html


# ---------------------------------------------------------------- formatting


def test_zero_never_shows_a_minus_sign() -> None:
    assert fmt(-0.0, "pct") == fmt(0.0, "pct") == fmt(-1e-17, "pct") == "0.0%"
    assert fmt(-0.0004, "pct") == "0.0%" and fmt(-0.0006, "pct") == "-0.1%"
    assert fmt(-0.0, "pct3") == "0.000%" and fmt(-0.01, "minutes") == "0.0 min"
    assert fmt(-0.001, "hours") == "0 min" and fmt(-0.0, "ratio") == "0.00x" and fmt(-0.0, "number") == "0.00"


def test_formatting_rates_as_percentages_and_null_as_no_data() -> None:
    assert fmt(0.25, "pct") == "25.0%"
    assert fmt(0.99956, "pct3") == "99.956%"
    assert fmt(None, "pct") == fmt(None, "minutes") == "no data"
    assert fmt(7, "minutes") == "7.0 min" and fmt(180, "minutes") == "3.0 h"
    assert fmt(0.5, "hours") == "30 min" and fmt(100, "hours") == "4.2 d"


def test_week_over_week_delta() -> None:
    assert delta(0.5, 0.25, "pct", "up") == {"text": "+25.0 pp", "cls": "good", "arrow": "▲"}
    assert delta(7.0, 2.0, "minutes", "down")["cls"] == "bad"
    assert delta(2, 1, "count", "down") == {"text": "+1", "cls": "bad", "arrow": "▲"}
    assert delta(3, 3, "count", "up")["text"] == "no change"
    assert delta(1, None, "count")["text"] == "no data to compare"
    assert delta(0.99961, 0.99960, "pct3", "up")["text"] == "+0.001 pp"
    assert delta(0.999601, 0.999600, "pct3", "up")["text"] == "+<0.001 pp"


# ---------------------------------------------------------------- escaping


def test_hostile_strings_are_escaped(weekly) -> None:
    html = render_weekly(weekly)
    for hostile in (HOSTILE_SERVICE, HOSTILE_TITLE, HOSTILE_OWNER):
        assert hostile not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=3&#34;&gt;Zoë" in html
    assert "ünïcødé" in html
    # Every script element is ours: as many closing tags as opening ones, and none inside data.
    assert html.count("<script") == html.count("</script>")
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, flags=re.S):
        assert "<" not in block and ">" not in block and "\u2028" not in block
        json.loads(block)  # still valid JSON after escaping


def test_figure_data_keeps_the_hostile_name_as_data(weekly) -> None:
    html = render_weekly(weekly)
    blocks = re.findall(r'<script type="application/json" id="fig-[^"]*"[^>]*>(.*?)</script>', html, flags=re.S)
    assert blocks and int(re.search(r'data-figures="(\d+)"', html).group(1)) == len(blocks)


# ---------------------------------------------------------------- publishing


def test_publish_writes_week_and_index_newest_first(report_home: DataHome) -> None:
    page = publish_report(report_home, WEEK)
    assert page == report_home.reports / "weekly" / f"{WEEK}.html"
    assert "Weekly metrics review · 2026-W10" in page.read_text(encoding="utf-8")
    publish_report(report_home, PREV_WEEK.lower())  # case-insensitive
    index = (report_home.reports / "index.html").read_text(encoding="utf-8")
    weeks = re.findall(r'data-week="([^"]+)"', index)
    assert weeks == [WEEK, PREV_WEEK]
    assert 'href="weekly/2026-W10.html"' in index
    headline = json.loads((report_home.reports / "weekly" / f"{WEEK}.json").read_text(encoding="utf-8"))
    assert headline["incidents"] == 2 and headline["action_on_time_rate"] == pytest.approx(1 / 3)
    row = index.split('data-week="2026-W10"')[1].split("</tr>")[0]
    assert "33.3%" in row and "7.0 min" in row and "50.0 min" in row
    # No temporary files are left behind.
    leftovers = [p.name for p in report_home.reports.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_week_without_data_still_renders(report_home: DataHome) -> None:
    page = publish_report(report_home, "2020-W01")
    html = page.read_text(encoding="utf-8")
    assert "No data for 2020-W01" in html and "no data" in html
    assert "Plotly.newPlot" not in html  # nothing to draw: Plotly is not even included
    assert json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))["has_data"] is False


@pytest.mark.parametrize("bad", ["2026-48", "2026-W54", "W48", "2026-W4", "last week", "2026-W48 ", ""])
def test_unknown_week_format_is_a_clear_value_error(report_home: DataHome, bad: str) -> None:
    if bad == "2026-W48 ":
        assert parse_week(bad) == date(2026, 11, 23)  # surrounding blanks are forgiven
        return
    with pytest.raises(ValueError, match="ISO week like 2026-W48|has no ISO week"):
        publish_report(report_home, bad)


def test_default_week_is_the_last_complete_iso_week() -> None:
    assert last_complete_week(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) == date(2026, 11, 16)
    assert last_complete_week(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == date(2026, 11, 23)
    assert last_complete_week(datetime(2027, 1, 4, 12, tzinfo=UTC)) == date(2026, 12, 28)


def test_write_is_atomic(report_home: DataHome, monkeypatch: pytest.MonkeyPatch) -> None:
    page = publish_report(report_home, WEEK)
    before = page.read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        publish_report(report_home, WEEK)
    assert page.read_bytes() == before
    assert [p for p in page.parent.iterdir() if p.name.startswith(".")] == []


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no published warehouse"):
        publish_report(DataHome.resolve(tmp_path / "empty"), WEEK)


def test_templates_folder_can_be_overridden(
    report_home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "tpl"
    folder.mkdir()
    for name in ("report.css", "index.html.j2"):
        (folder / name).write_text((templates_dir() / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "weekly.html.j2").write_text("custom {{ d.week }} {{ d.incidents.list[1].title }}", encoding="utf-8")
    monkeypatch.setenv("OPS_WAREHOUSE_REPORTS_TEMPLATES", str(folder))
    assert templates_dir() == folder
    html = publish_report(report_home, WEEK).read_text(encoding="utf-8")
    assert html.startswith("custom 2026-W10 &lt;/script&gt;")


def test_page_is_offline(weekly) -> None:
    from plotly.offline import get_plotlyjs

    html = render_weekly(weekly)
    assert html.count(get_plotlyjs()) == 1  # Plotly's code inlined exactly once
    ours = html.replace(get_plotlyjs(), "")
    assert not re.search(r'(src|href)="(https?:)?//', ours)
    assert ours.count("Plotly.newPlot") == 1  # one drawing loop
    assert "default-src 'none'" in html


def test_cli_report_prints_the_path(report_home: DataHome, capsys: pytest.CaptureFixture[str]) -> None:
    from ops_warehouse.cli import main

    assert main(["--home", str(report_home.root), "report", "--week", WEEK]) == 0
    assert capsys.readouterr().out.strip() == str(report_home.reports / "weekly" / f"{WEEK}.html")
    assert main(["--home", str(report_home.root), "report", "--week", "2026-48"]) == 1
    assert "ISO week like 2026-W48" in capsys.readouterr().err


def test_files_are_readable_by_others(report_home: DataHome) -> None:
    page = publish_report(report_home, WEEK)
    assert os.stat(page).st_mode & 0o044 == 0o044


def test_dora_chart_shades_the_bands_it_is_given() -> None:
    """The chart draws marts.dora_benchmark's bands (here dora-2024's change failure rate, whose
    medium tier no value reaches), not bands of its own."""
    from ops_warehouse.reporting import figures

    bands = [
        {"tier": "elite", "rank": 1, "band_low": 0.0, "band_high": 0.05},
        {"tier": "high", "rank": 2, "band_low": 0.05, "band_high": 0.20},
        {"tier": "medium", "rank": 3, "band_low": 0.20, "band_high": 0.10},
        {"tier": "low", "rank": 4, "band_low": 0.20, "band_high": None},
    ]
    trend = {"week_start": [date(2026, 2, 23), W10], "change_failure_rate": [0.1, 0.3]}
    fig = figures.dora_trend(trend, "change_failure_rate", "Change failure rate", bands, pct=True)
    shaded = [(s.y0, s.y1) for s in fig.layout.shapes]
    top = fig.layout.yaxis.range[1]
    assert shaded == [(0.0, 0.05), (0.05, 0.20), (0.20, top)] and top == pytest.approx(0.375)
    assert [a.text for a in fig.layout.annotations] == ["elite", "high", "low"]
    assert figures.dora_trend(trend, "change_failure_rate", "x", None).layout.shapes == ()
