"""The hook for extra report sections: a module in ``reporting/sections`` plus its template."""

from __future__ import annotations

import shutil
import types
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.reporting import sections
from ops_warehouse.reporting.data import Metric
from ops_warehouse.reporting.publish import build_weekly
from ops_warehouse.reporting.render import render_weekly, templates_dir

from .conftest import HOSTILE_TITLE

W10 = date(2026, 3, 2)


def _module(topic: str, place: str | None, fail: bool = False) -> types.ModuleType:
    module = types.ModuleType(f"ops_warehouse.reporting.sections.{topic}")

    def build(con: duckdb.DuckDBPyConnection, week_start: date, settings: dict[str, Any]) -> dict[str, Any]:
        if fail:
            con.execute("SELECT * FROM marts.no_such_mart")
        n = con.execute("SELECT count(*) FROM core.incidents WHERE created_at >= ?", [week_start]).fetchone()[0]
        return {
            "has_data": True,
            "rows": [{"title": HOSTILE_TITLE, "n": n}],
            "cards": [Metric(f"{topic}_card", f"{topic} card", n, None, "count")],
            "figures": {"trend": go.Figure(go.Bar(x=["a"], y=[n]))},
        }

    module.TITLE = f"Topic {topic}"
    module.PLACE = place
    module.build = build
    return module


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "tpl"
    shutil.copytree(templates_dir(), out)
    template = (
        '{% import "macros.html.j2" as m with context %}{% if section.has_data %}'
        '<p class="probe-{{ extra.topic }}">{{ section.rows[0].title }} {{ section.rows[0].n }}</p>'
        '{{ m.chart(section.figure_ids.trend) }}{% else %}<p class="nodata">no data</p>{% endif %}'
    )
    for topic in ("alpha", "beta", "gamma"):
        (out / "sections" / f"{topic}.html.j2").write_text(template, encoding="utf-8")
    return out


def test_sections_render_in_place_with_cards_and_charts(
    small_home: DataHome, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mods = [_module("alpha", None), _module("beta", "incidents"), _module("gamma", None, fail=True)]
    monkeypatch.setattr(sections, "discover", lambda: mods)
    data = build_weekly(small_home, W10, now=datetime(2026, 3, 10, tzinfo=UTC))
    assert [(s.topic, s.place, s.has_data) for s in data.sections] == [
        ("alpha", None, True),
        ("beta", "incidents", True),
        ("gamma", None, False),
    ]
    assert [m.key for m in data.summary["metrics"]][-2:] == ["alpha_card", "beta_card"]
    html = render_weekly(data, folder)
    # alpha stands alone (own section and toc entry), beta sits inside the incidents section
    assert '<section id="alpha" data-section="alpha">' in html and '<a href="#alpha">Topic alpha</a>' in html
    incidents = html.split('<section id="incidents">')[1].split("</section>")[0]
    assert 'class="probe-beta"' in incidents and 'class="probe-alpha"' not in incidents
    assert html.count("2</p>") == 2  # both sections read the two W10 incidents
    assert HOSTILE_TITLE not in html and "&lt;/script&gt;&lt;script&gt;" in html
    assert 'id="fig-alpha-trend"' in html and 'id="fig-beta-trend"' in html
    assert '<section id="gamma" data-section="gamma">' in html  # failing queries: the section says no data


def test_the_package_sections_all_have_templates() -> None:
    for module in sections.discover():
        topic = module.__name__.rsplit(".", 1)[-1]
        assert (templates_dir() / "sections" / f"{topic}.html.j2").is_file(), topic
        assert callable(module.build) and isinstance(module.TITLE, str)
