"""The report sections on deploy impact, postmortems and MTBF: every figure they show is the mart's,
checked against hand-computed values of the scenario inputs they are built from.

Inputs: tests/metrics/scenarios/deploy_followed_by_burn (week 2024-01-01) and
postmortem_timeliness (postmortems due in week 2024-01-15), in one warehouse. See their
expected.yaml for the arithmetic; MTBF at the end of week 2024-01-01 (trailing 30 days from
2023-12-09): api has four sev1/sev2 incidents (PABC123, the Opsgenie one, #7, POPEN01) -> 720 / 4 =
180 h; web one (PWEB001) -> 720 h, which misses a target of more than 720 h; overall 5 -> 144 h.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish
from ops_warehouse.reporting.publish import build_weekly
from ops_warehouse.reporting.render import render_weekly

SCENARIOS = Path(__file__).resolve().parents[1] / "metrics" / "scenarios"
W1, W3 = date(2024, 1, 1), date(2024, 1, 15)
NOW = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> DataHome:
    root = tmp_path_factory.mktemp("deploy-postmortem-report")
    home = DataHome.resolve(root / "home").ensure()
    for case in ("deploy_followed_by_burn", "postmortem_timeliness"):
        for f in sorted((SCENARIOS / case).iterdir()):
            if f.name.startswith("expected."):
                continue
            copy = root / f"{case}-{f.name}"
            shutil.copy(f, copy)
            report = ingest_file(home, copy, kind=None if f.suffix == ".json" else "canonical")
            assert report.ok and not report.quarantined, report.line()
    build_models(home)
    publish(home)
    return home


def _week(home: DataHome, week: date) -> Any:
    return build_weekly(home, week, now=NOW)


def _section(data: Any, topic: str) -> dict[str, Any]:
    return next(s for s in data.sections if s.topic == topic).data


def _card(data: Any, key: str) -> Any:
    return next(m for m in data.summary["metrics"] if m.key == key)


def test_deploys_that_burned_budget(home: DataHome) -> None:
    data = _week(home, W1)
    sec = _section(data, "deploy_impact")
    assert sec["has_data"] and (sec["suspect_deployments"], sec["deployments_measured"]) == (1, 1)
    [row] = sec["rows"]
    assert (row["deploy_id"], row["service"], row["slo_name"]) == ("d1", "api", "api-availability")
    assert row["burn_before"] == pytest.approx(0.01) and row["burn_after"] == pytest.approx(7.5)
    assert row["bad_after"] == pytest.approx(4500)
    card = _card(data, "suspect_deploys")
    assert (card.value, card.prev) == (1, None)
    # the SLI chart lists the minutes in (started_at - 90 min, finished_at + 90 min] = (08:30, 11:40]:
    # 190 minutes, the worst at 850 good of 1000
    trace = sec["figures"]["sli_0"].data[0]
    assert len(trace.x) == 190 and min(trace.y) == pytest.approx(0.85) and max(trace.y) == pytest.approx(1.0)


def test_share_of_burn_after_deploys(home: DataHome) -> None:
    sec = _section(_week(home, W1), "deploy_burn_share")
    assert sec["overall"]["deploy_budget_share"] == pytest.approx(4500 / 4506)
    [api] = sec["services"]
    assert (api["service"], api["bad_events"], api["bad_events_after_deploys"]) == ("api", 4506, 4500)


def test_postmortem_timeliness(home: DataHome) -> None:
    data = _week(home, W3)
    sec = _section(data, "postmortems")
    o = sec["overall"]
    assert (o["required"], o["drafted_on_time"], o["published_on_time"], o["late"], o["missing"]) == (4, 2, 1, 3, 1)
    assert o["on_time_rate"] == pytest.approx(0.25)
    teams = {r["team"]: (r["required"], r["late"], r["on_time_rate"]) for r in sec["teams"]}
    assert teams == {"core": (3, 2, pytest.approx(1 / 3)), "web": (1, 1, 0.0)}
    assert [f["postmortem_id"] for f in sec["findings"]] == ["pm-unknown"]
    assert _card(data, "late_postmortems").value == 3


def test_mtbf(home: DataHome) -> None:
    sec = _section(_week(home, W1), "mtbf")
    assert sec["overall"]["mtbf_hours"] == pytest.approx(144.0)
    rows = {r["service"]: (r["mtbf_hours"], r["serious_incidents_30d"], r["mtbf_target_met"]) for r in sec["services"]}
    assert rows == {"api": (pytest.approx(180.0), 4, False), "web": (pytest.approx(720.0), 1, False)}
    assert sec["below"] == 2


def test_sections_render_with_their_figures(home: DataHome) -> None:
    html = render_weekly(_week(home, W1))
    # burn 0.01x -> 7.50x, share 4500 / 4506 = 99.9%, MTBF 180 h = 7.5 d, 720 h = 30.0 d, 144 h = 6.0 d
    for text in (
        "Deploys that burned budget",
        "<code>d1</code>",
        "7.50x",
        "0.01x",
        "<b>99.9%</b>",
        "Burn that followed deploys",
        "Time between serious failures (MTBF)",
        "7.5 d",
        "30.0 d",
        "6.0 d",
    ):
        assert text in html, text
    assert 'id="fig-deploy-impact-sli-0"' in html  # the SLI chart of the suspect deploy
    html3 = render_weekly(_week(home, W3))
    assert "Postmortem timeliness" in html3 and "<b>3 late</b>" in html3 and "<b>25.0%</b>" in html3
    assert "<code>pm-unknown</code>" in html3 and "<code>PNOPE99</code>" in html3
