"""The Security and Alerting sections of the weekly review: figures read from the marts (checked by
hand against the scenario inputs), one summary card each, and export strings kept inert in a real
headless Chromium.

Inputs (week under review 2026-W48, Mon 23 Nov 2026; see tests/metrics/scenarios for the arithmetic):
- vuln_sla_edges' Dependabot alerts of acme/checkout, plus #6, a critical alert with a hostile
  title opened Fri 20 Nov (W47) and still open. W48 overall: 2 fixed, 1 within SLA -> 50%; W47
  fixed nothing (attainment NULL, so no change to show). Open criticals at W48's end, oldest first:
  #6 (hostile), #3, #4.
- alert_noise_flapping's notifications and incidents (7 episodes, 3 noisy), plus one 2-minute
  warning whose alert name and service label are hostile: 8 episodes, 4 noisy -> 50%, target 5%.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models
from ops_warehouse.lake.publish import publish
from ops_warehouse.reporting.publish import build_weekly, publish_report

from .chromium import find_chromium, load_page
from .conftest import HOSTILE_SERVICE, HOSTILE_TITLE

SCENARIOS = Path(__file__).resolve().parents[1] / "metrics" / "scenarios"
W48 = date(2026, 11, 23)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> DataHome:
    root = tmp_path_factory.mktemp("security-report")
    home = DataHome.resolve(root / "home").ensure()
    alerts = json.loads((SCENARIOS / "vuln_sla_edges" / "dependabot.json").read_text())
    hostile = dict(
        alerts[2],
        number=6,
        created_at="2026-11-20T09:00:00Z",
        updated_at="2026-11-20T09:00:00Z",
        url="https://api.github.com/repos/acme/checkout/dependabot/alerts/6",
        html_url="https://github.com/acme/checkout/security/dependabot/6",
    )
    hostile["security_advisory"] = dict(hostile["security_advisory"], summary=HOSTILE_TITLE)
    (root / "dependabot.json").write_text(json.dumps(alerts + [hostile]))
    shutil.copy(SCENARIOS / "alert_noise_flapping" / "incidents.csv", root / "incidents.csv")
    lines = (SCENARIOS / "alert_noise_flapping" / "notifications.ndjson").read_text().splitlines()
    note = json.loads(lines[0])
    note["alerts"][0].update(
        status="resolved",
        fingerprint="hostile",
        startsAt="2026-11-24T10:00:00Z",
        endsAt="2026-11-24T10:02:00Z",
        labels={"alertname": HOSTILE_TITLE, "service": HOSTILE_SERVICE, "severity": "warning"},
        annotations={"summary": HOSTILE_TITLE},
    )
    note["status"] = "resolved"
    (root / "notifications.ndjson").write_text("\n".join(lines + [json.dumps(note)]) + "\n")
    for name in ("dependabot.json", "incidents.csv", "notifications.ndjson"):
        report = ingest_file(home, root / name)
        assert report.ok and not report.quarantined, report.line()
    build_models(home)
    publish(home)
    return home


def _section(home: DataHome, topic: str) -> dict:
    data = build_weekly(home, W48, now=datetime(2026, 12, 1, tzinfo=UTC))
    return next(s for s in data.sections if s.topic == topic).data


def test_security_section_reads_the_marts(home: DataHome) -> None:
    sec = _section(home, "security")
    assert sec["has_data"]
    assert (sec["overall"]["fixed"], sec["overall"]["fixed_within_sla"], sec["overall"]["sla_attainment"]) == (
        2,
        1,
        0.5,
    )
    critical = next(r for r in sec["by_severity"] if r["severity"] == "critical")
    assert critical["sla_hours"] == 24.0  # the policy comes from the mart's rows
    assert (critical["this"]["open_at_week_end"], critical["this"]["open_past_sla_at_week_end"]) == (3, 2)
    assert critical["prev"]["sla_attainment"] is None and critical["prev"]["open_past_sla_at_week_end"] == 1
    assert [f["finding_id"] for f in sec["oldest"]] == [
        "github-dependabot:acme/checkout#6",
        "github-dependabot:acme/checkout#3",
        "github-dependabot:acme/checkout#4",
    ]
    assert sec["oldest"][0]["title"] == HOSTILE_TITLE.strip()  # surrounding whitespace (U+2028) trimmed
    (card,) = sec["cards"]
    assert (card.key, card.value, card.prev) == ("patch_sla", 0.5, None)
    assert card.note == "2 open findings past SLA"


def test_alerting_section_reads_the_marts(home: DataHome) -> None:
    al = _section(home, "alerting")
    assert al["has_data"]
    t = al["this"]
    assert (t["episodes"], t["paging_episodes"], t["noisy"], t["noise_rate"], t["flapping"]) == (8, 2, 4, 0.5, 1)
    assert al["target"] == 0.05 and al["noise_met"] is False
    assert [(n["noise_rank"], n["alertname"], n["noisy"]) for n in al["names"]] == [
        (1, "DiskFull", 2),
        (2, HOSTILE_TITLE.strip(), 1),
        (3, "QueueBacklog", 1),
    ]
    (card,) = al["cards"]
    assert (card.key, card.value, card.target_met, card.target_text) == ("alert_noise", 0.5, False, "target < 5%")


def test_export_strings_stay_escaped(home: DataHome) -> None:
    html = publish_report(home, "2026-W48").read_text(encoding="utf-8")
    assert '<section id="security" data-section="security">' in html
    assert '<section id="alerting" data-section="alerting">' in html
    assert HOSTILE_TITLE not in html and HOSTILE_SERVICE not in html
    assert "&lt;/script&gt;&lt;script&gt;document.title=" in html


@pytest.mark.browser
def test_sections_in_a_browser_draw_and_stay_inert(home: DataHome) -> None:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI must install it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); the browser tests need it")
    page = publish_report(home, "2026-W48")
    probes = {
        "containers": "document.querySelectorAll('.figure').length",
        "drawn": "Array.from(document.querySelectorAll('.js-plotly-plot')).filter(e => e.querySelector('.main-svg')).length",  # noqa: E501
        "mine": "['fig-security-attainment', 'fig-security-backlog', 'fig-alerting-trend']"
        ".filter(id => document.getElementById(id) && document.getElementById(id).querySelector('.main-svg')).length",
        "pwned": "typeof window.__pwned",
        "title": "document.title",
        "hostile_text": "document.getElementById('security').innerText.includes(\"document.title='pwned'\")"
        " && document.getElementById('alerting').innerText.includes('<script>window.__pwned=1</script>')",
    }
    result = load_page(page, probes, binary=binary)
    v = result.values
    assert result.exceptions == [] and result.console_errors == [] and result.requests == []
    assert v["containers"] == v["drawn"] and v["mine"] == 3
    assert v["pwned"] == "undefined" and v["title"] == "Weekly metrics review 2026-W48"
    assert v["hostile_text"] is True
