"""The weekly page in a real headless Chromium: charts drawn, no errors, no requests, data inert."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.reporting.publish import publish_report

from .chromium import find_chromium, load_page
from .conftest import DEMO_WEEK, WEEK

pytestmark = pytest.mark.browser
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
PROBES = {
    "figures": "document.body.getAttribute('data-figures')",
    "containers": "document.querySelectorAll('.figure').length",
    "plots": "document.querySelectorAll('.js-plotly-plot').length",
    "drawn": "Array.from(document.querySelectorAll('.js-plotly-plot')).filter(e => e.querySelector('.main-svg')).length",  # noqa: E501
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


# Elements wider than their box: a table that needs horizontal scrolling, or the page itself. The
# core sections' tables (those with data-table) are checked; extra sections check their own.
OVERFLOW = {
    "page_width": "document.documentElement.scrollWidth",
    "viewport": "document.documentElement.clientWidth",
    "scrolling_tables": """Array.from(document.querySelectorAll('.scroll')).filter(
        e => e.scrollWidth > e.clientWidth + 1 && e.querySelector('table[data-table]'))
        .map(e => e.querySelector('table').dataset.table)""",
    "tables": "Array.from(document.querySelectorAll('.scroll table')).map(t => t.dataset.table)",
    "cut_tables": """Array.from(document.querySelectorAll('table[data-table]')).filter(
        t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(t => t.dataset.table)""",
    "spilling_tables": """Array.from(document.querySelectorAll('table[data-table]')).filter(
        t => t.getBoundingClientRect().right > t.parentElement.getBoundingClientRect().right + 1)
        .map(t => t.dataset.table)""",
}


@pytest.fixture(scope="module")
def demo_page(demo_home: DataHome) -> Path:
    return publish_report(demo_home, DEMO_WEEK)


def test_tables_fit_a_1400_px_screen(chromium: str, demo_page: Path) -> None:
    """The SLO and DORA tables (the widest) need no horizontal scrolling at 1400 px."""
    result = load_page(demo_page, OVERFLOW, binary=chromium, width=1400, height=1600)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / f"weekly-{DEMO_WEEK}-1400.png").write_bytes(result.screenshot)
    v = result.values
    assert {"slo", "dora-services"} <= set(v["tables"])
    assert v["scrolling_tables"] == [] and v["cut_tables"] == [] and v["spilling_tables"] == []


def test_print_layout(chromium: str, demo_page: Path) -> None:
    """Printed (A4 landscape): no navigation or filter, nothing cut at the right edge, tables shown
    whole (no scroll boxes), every chart drawn, and a multi-page PDF."""
    probes = {
        **OVERFLOW,
        "nav": "getComputedStyle(document.querySelector('nav.toc')).display",
        "scroll_boxes": """Array.from(document.querySelectorAll('.scroll')).filter(
            e => getComputedStyle(e).overflowY !== 'visible' || e.scrollHeight > e.clientHeight + 1).length""",
        "drawn": PROBES["drawn"],
        "figures": PROBES["figures"],
    }
    # 1040 px is the printable width of A4 landscape with the page's 12 mm margins at 96 dpi
    result = load_page(demo_page, probes, binary=chromium, width=1040, height=1400, media="print", pdf=True)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / f"weekly-{DEMO_WEEK}-print.png").write_bytes(result.screenshot)
    v = result.values
    assert result.exceptions == [] and result.console_errors == [] and result.requests == []
    assert v["nav"] == "none" and v["scroll_boxes"] == 0
    assert v["scrolling_tables"] == [] and v["cut_tables"] == [] and v["spilling_tables"] == []
    assert int(v["figures"]) == v["drawn"] > 0
    assert (
        result.pdf.startswith(b"%PDF")
        and result.pdf.count(b"/Type /Page\n") + result.pdf.count(b"/Type /Page/") + result.pdf.count(b"/Type /Page ")
        >= 2
    )
    (OUTPUT / f"weekly-{DEMO_WEEK}.pdf").write_bytes(result.pdf)
