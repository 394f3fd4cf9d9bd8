"""The weekly page in a real headless Chromium: charts drawn, no errors, no requests, data inert."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.reporting.publish import publish_report

from .chromium import find_chromium, load_page
from .conftest import WEEK

pytestmark = pytest.mark.browser
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PROBES = {
    "figures": "document.body.getAttribute('data-figures')",
    "containers": "document.querySelectorAll('.figure').length",
    "plots": "document.querySelectorAll('.js-plotly-plot').length",
    "drawn": "Array.from(document.querySelectorAll('.js-plotly-plot')).filter(e => e.querySelector('.main-svg')).length",
    "pwned": "typeof window.__pwned",
    "title": "document.title",
    "filter_visible": "!document.getElementById('team-filter-box').hidden",
    "hostile_text": "document.body.innerText.includes('<script>window.__pwned=1</script>')",
    "rows": "document.querySelectorAll('tr[data-team]').length",
    # Choosing a team hides every row of the other teams.
    "after_filter": """(() => {
        const s = document.getElementById('team-filter'); s.value = 'core';
        s.dispatchEvent(new Event('change'));
        const rows = Array.from(document.querySelectorAll('tr[data-team]'));
        return {visible: rows.filter(r => !r.hidden).map(r => r.dataset.team),
                hidden: rows.filter(r => r.hidden).length};
    })()""",
}


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); the browser tests need it")
    return binary


@pytest.fixture
def page(report_home: DataHome) -> Path:
    return publish_report(report_home, WEEK)


def test_page_draws_every_chart_without_errors(chromium: str, page: Path) -> None:
    result = load_page(page, PROBES, binary=chromium)
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / f"weekly-{WEEK}.png"
    shot.write_bytes(result.screenshot)
    assert result.screenshot.startswith(b"\x89PNG")
    v = result.values
    assert result.exceptions == [] and result.console_errors == []
    assert result.requests == [], "the page must not touch the network"
    assert int(v["figures"]) == v["containers"] == v["plots"] == v["drawn"] == 8
    assert v["pwned"] == "undefined" and v["title"] == f"Weekly metrics review {WEEK}"
    assert v["hostile_text"] is True  # shown as text, not run
    assert v["filter_visible"] is True
    assert v["after_filter"]["hidden"] > 0 and set(v["after_filter"]["visible"]) == {"core"}


def test_page_reads_without_javascript(chromium: str, page: Path) -> None:
    probes = {k: PROBES[k] for k in ("pwned", "rows", "filter_visible", "title")}
    probes["noscript"] = "document.body.innerText.includes('This chart needs JavaScript')"
    result = load_page(page, probes, binary=chromium, javascript=False, height=1200)
    v = result.values
    assert result.exceptions == [] and result.requests == []
    assert v["rows"] > 0 and v["filter_visible"] is False and v["pwned"] == "undefined"
    assert v["noscript"] is True
