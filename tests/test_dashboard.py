"""The dashboard: self-contained HTML with charts, leaderboard, channel table, basis comparison and
definitions, plus CSV/JSON exports — and a real browser (Debian's chromium through Playwright) that
renders it with the computed values and no console error."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector.kpis import ALL_CUTS, compute
from connector.kpis.results import KpiResult
from connector.periods import Grain, split_periods
from connector.sandbox import Sandbox
from connector.settings import Settings
from connector.store import Store
from connector.writer.dashboard import (
    Target,
    agent_roster,
    format_value,
    render_dashboard,
    targets_from,
    write_report,
    write_report_for,
)
from tests.browser_helpers import assert_sound, dashboard_page
from tests.sync_helpers import sandbox_settings, sync

ZONE = ZoneInfo("Europe/Amsterdam")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
NOW = datetime(2026, 11, 4, tzinfo=UTC)


def result(kpi: str, month: int, value: float | None, *, stat: str = "value", basis: str = "calendar",
           cut: str = "overall", cut_value: str | None = None, unit: str = "percent") -> KpiResult:  # fmt: skip
    start = datetime(2026, month, 1, tzinfo=UTC)
    end = datetime(2026, month + 1, 1, tzinfo=UTC)
    return KpiResult(kpi, "csat", stat, basis, start, end, cut, cut_value, value, unit, None, None, 1)


def test_the_html_is_self_contained_and_shows_every_part() -> None:
    results = [result("K14", m, 60.0 + m) for m in (8, 9, 10)]
    results += [result("K14", 10, 75.0, cut="agent", cut_value="hubspot:101")]
    results += [
        result("K01", m, 3600.0 * m / 8, stat="mean", basis=b, unit="seconds")
        for m in (8, 9, 10)
        for b in ("calendar", "business")
    ]
    html = render_dashboard(results, zone=ZONE, generated_at=NOW, names={"hubspot:101": "Anna de Vries"})
    assert not re.search(r"https?://", html.replace("http://www.w3.org/2000/svg", ""))
    assert "<link" not in html and " src=" not in html and "@import" not in html
    assert html.count("<script") == 1  # inline: it only makes the tables sortable
    assert html.count('class="card chart"') == 2
    assert "Anna de Vries" in html and "75.0 %" in html
    assert 'id="basis-comparison"' in html and "K01 first response time" in html
    assert "K14 · csat" in html and "Mean CSAT" not in html  # definitions come from the catalogue
    assert "Periods 2026-08-01 to 2026-10-31" in html


def test_an_empty_result_set_still_renders() -> None:
    html = render_dashboard([], zone=ZONE, generated_at=NOW)
    assert "No KPI results yet" in html


def test_exports_hold_the_same_results(tmp_path: Path) -> None:
    results = [result("K14", 9, 61.5), result("K14", 10, None)]
    paths = write_report(results, tmp_path / "out", zone=ZONE, generated_at=NOW)
    exported = json.loads(paths["json"].read_text())
    assert [r["value"] for r in exported] == [61.5, None]
    assert paths["csv"].read_text().splitlines()[0].startswith("kpi,name,stat,basis")
    assert paths["dashboard"].exists()


@pytest.fixture
def computed_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, list[KpiResult], dict[str, tuple[str, bool]]]:
    """A dashboard from the whole pipeline: sandbox → sync → compute → report."""
    store = Store.open(f"sqlite:///{tmp_path / 'browser.db'}")
    with Sandbox(
        seed=31, size=400, hubspot_requests_per_10s=100_000, aircall_requests_per_minute=1_000_000
    ) as sandbox:
        settings = sandbox_settings(sandbox, monkeypatch)
        for vendor in ("hubspot", "aircall"):
            assert sync(settings, store, vendor, now=NOW).ok
    periods = split_periods(date(2026, 6, 1), date(2026, 11, 1), Grain.MONTH, settings.zone)
    results = compute(store, settings, periods, cuts=ALL_CUTS, now=NOW)
    paths = write_report_for(settings, store, results, tmp_path / "report", generated_at=NOW)
    roster = agent_roster(store)
    store.close()
    return paths["dashboard"], results, roster


def test_a_real_browser_renders_the_charts_and_leaderboard(
    computed_report: tuple[Path, list[KpiResult], dict[str, tuple[str, bool]]],
) -> None:
    dashboard, results, roster = computed_report
    with dashboard_page(dashboard) as page:
        headlined = assert_sound(page, NOW.astimezone(ZONE).strftime("%Y-%m-01"))
        assert "K01" in headlined and "K14" in headlined
        # K11's weekday × hour heat map of the latest full period, every cell inside its frame
        cells = page.locator("#k11-heat-map rect.heat-cell")
        october_cells = [
            r
            for r in results
            if (r.kpi, r.cut) == ("K11", "weekday_hour")
            and r.period_start == datetime(2026, 10, 1, tzinfo=UTC).astimezone(ZONE)
        ]
        assert cells.count() == len([r for r in october_cells if r.value]) > 0
        assert page.locator("section.chart[data-kpi=K01] svg polyline").count() == 2  # calendar and business
        box = page.locator("section.chart[data-kpi=K01] svg").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 50  # laid out, not collapsed

        # the leaderboard shows the computed figures of the latest full period (October)
        october = datetime(2026, 10, 1, tzinfo=UTC).astimezone(ZONE)
        frt = [r for r in results if (r.kpi, r.stat, r.basis, r.cut) == ("K01", "mean", "business", "agent")
               and r.period_start == october and r.value is not None]  # fmt: skip
        assert frt
        rows = page.locator("#agent-leaderboard tbody tr")
        assert rows.count() >= len(frt)
        cells = page.locator("#agent-leaderboard tbody td").all_inner_texts()
        for figure in frt:
            assert format_value(figure.value, figure.unit) in cells
        # every active agent has a row, and a click on a heading sorts by that column
        active = {identity for identity, (_, on) in roster.items() if on}
        labels = page.locator("#agent-leaderboard tbody td:first-child").all_inner_texts()
        assert active and {roster[identity][0] for identity in active} <= set(labels)
        heading = page.locator("#agent-leaderboard th", has_text="First response")
        heading.click()
        assert heading.get_attribute("aria-sort") == "descending"
        keys = page.locator("#agent-leaderboard tbody tr td:nth-child(2)").evaluate_all(
            "cells => cells.map(c => c.dataset.sort === undefined ? null : parseFloat(c.dataset.sort))"
        )
        figures = [k for k in keys if k is not None]
        assert figures == sorted(figures, reverse=True) and keys[: len(figures)] == figures  # blanks last
        heading.click()
        keys = page.locator("#agent-leaderboard tbody tr td:nth-child(2)").evaluate_all(
            "cells => cells.map(c => c.dataset.sort === undefined ? null : parseFloat(c.dataset.sort))"
        )
        assert [k for k in keys if k is not None] == sorted(figures)
        # the first-response bars per priority, each with its target's mark
        assert page.locator("#frt-targets rect.bar").count() == 4
        assert page.locator("#frt-targets line.target").count() == 4
        assert page.locator("section.chart[data-kpi=K31] svg line.target").count() == 1
        for view in ("team-view", "priority-view", "category-view", "contact-reasons-view"):
            assert page.locator(f"#{view} tbody tr").count() > 0, view
        k01 = page.locator("section.chart[data-kpi=K01] .latest").inner_text()
        assert k01.split(" 20")[0].strip() != "–"

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        page.emulate_media(media="print")
        page.screenshot(path=str(ARTIFACTS / "dashboard-print.png"), full_page=False)


def test_headlines_are_the_latest_closed_period_against_the_one_before() -> None:
    results = [result("K14", m, 60.0 + m) for m in (8, 9, 10)]  # CSAT rising: good
    results += [
        result("K01", m, 600.0 * m, stat="mean", unit="seconds") for m in (8, 9, 10, 11)
    ]  # FRT rising: bad
    results += [result("K15", m, v, unit="score") for m, v in ((8, -20.0), (9, 10.0), (10, -35.0))]
    results += [result("K10", m, 12.5 * m, unit="currency") for m in (9, 10)]
    html = render_dashboard(results, zone=ZONE, generated_at=NOW, currency="EUR")
    k14 = html.split('data-kpi="K14"')[1].split("</section>")[0]
    assert 'data-period="2026-10-01"' in k14 and "70.0 %" in k14
    assert '<span class="change good"' in k14 and "+1.0 pp" in k14
    assert "small sample (n &lt; 20)" in k14  # each figure counts one answer here
    k01 = html.split('data-kpi="K01"')[1].split("</section>")[0]
    assert '<span class="change bad"' in k01 and "+10.0 min" in k01  # slower first responses are worse
    assert "so far (from 2026-11-01)" in k01  # the running month apart, not the headline
    k15 = html.split('data-kpi="K15"')[1].split("</section>")[0]
    assert 'class="zero"' in k15 and ">-35<" in k15  # the axis reaches below zero, with a zero line
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', k15)]
    assert ys and all(28 <= y <= 120 - 28 for y in ys)
    assert "125.00 EUR" in html  # money carries its currency
    assert format_value(1234.5, "EUR") == "1,234.50 EUR"  # as the calculator reports it
    k17 = html.split('data-kpi="K17"')[1].split("</section>")[0]
    assert 'class="empty explain"' in k17 and "servqual" in k17  # no figures: what would give some
    assert "<code>" in html and "`" not in html.split("<main>")[1]  # definitions' code spans rendered


def test_targets_from_the_settings_are_drawn_and_the_axis_spans_them() -> None:
    settings = Settings(_env_file=None, capacity_contacts_per_agent_hour=3.5, call_service_level_target=90)
    targets = targets_from(settings)
    assert Target("K01", 3600.0, "urgent target", "urgent") in targets
    assert Target("K01", 86400.0, "low target", "low") in targets
    assert Target("K31", 90.0, "target within 20 s") in targets and Target("K30", 3.5, "capacity") in targets
    assert not any(t.kpi == "K30" for t in targets_from(Settings(_env_file=None)))
    results = [result("K31", m, 60.0 + m) for m in (8, 9, 10)]  # every figure below the target
    results += [result("K30", m, 1.0, unit="contacts_per_agent_hour") for m in (8, 9, 10)]
    results += [
        result("K01", 10, mean, stat="mean", basis="business", cut="priority", cut_value=p, unit="seconds")
        for p, mean in (("urgent", 5400.0), ("high", 3600.0), ("low", 7200.0))
    ]
    html = render_dashboard(results, zone=ZONE, generated_at=NOW, targets=targets)
    k31 = html.split('data-kpi="K31"')[1].split("</section>")[0]
    assert 'class="target"' in k31 and "target within 20 s: 90.0 %" in k31
    target_y = float(re.findall(r'<line class="target" x1="28" y1="([\d.]+)"', k31)[0])
    assert target_y == 28.0  # the highest value on the axis: above every figure, inside the plot
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', k31)]
    assert all(target_y < y <= 120 - 28 for y in ys)
    assert "capacity: 3.5" in html.split('data-kpi="K30"')[1].split("</section>")[0]
    # first response per priority against its target: urgent misses (1.5 h > 1 h), high meets (1 h < 4 h)
    bars = html.split('id="frt-targets"')[1].split("</svg>")[0]
    assert re.search(r'class="bar bad"[^>]*><title>urgent: 1.5 h \(target 1.0 h\)', bars)
    assert re.search(r'class="bar good"[^>]*><title>high: 1.0 h \(target 4.0 h\)', bars)
    assert re.search(r'class="bar none"[^>]*><title>medium: – \(target 8.0 h\)', bars)
    rows = html.split('id="priority-view"')[1].split("</table>")[0]
    assert [row.split("</td>")[0] for row in rows.split("<tr><td>")[1:]] == ["urgent", "high", "low"]


def test_views_of_the_latest_full_period_list_every_active_agent_and_the_top_reasons() -> None:
    results = [result("K14", 10, 80.0, cut="agent", cut_value="hubspot:101")]
    results += [result("K14", 11, 10.0, cut="agent", cut_value="hubspot:101")]  # the running month
    results += [result("K14", 10, 70.0, cut="team", cut_value="Tier 1")]
    results += [
        result("K09", 10, n, stat="count", cut="tag", cut_value=f"tag{n}", unit="count") for n in range(1, 13)
    ]
    results += [result("K09", 10, 5.0, stat="count", cut="category", cut_value="billing", unit="count")]
    results += [result("K08", 10, 12.5, cut="category", cut_value="billing")]
    html = render_dashboard(
        results,
        zone=ZONE,
        generated_at=NOW,
        names={"hubspot:101": "Anna de Vries", "hubspot:102": "Bram Bos"},
        active_agents=["hubspot:101", "hubspot:102"],
    )
    board = html.split('id="agent-leaderboard"')[1].split("</table>")[0]
    assert "Anna de Vries" in board and '<td data-sort="80.0">80.0 %</td>' in board and "10.0 %" not in board
    assert "<tr><td>Bram Bos</td><td>–</td>" in board  # active, no figures yet: listed all the same
    assert "<tr><td>Tier 1</td>" in html.split('id="team-view"')[1]
    category = html.split('id="category-view"')[1].split("</table>")[0]
    assert "<tr><td>billing</td>" in category and "12.5 %" in category
    table = html.split('id="contact-reasons-view"')[1].split("</table>")[0]
    reasons = [row.split("</td>")[0] for row in table.split("<tr><td>")[1:]]
    # the top ten of categories and tags together, most frequent first
    assert reasons == [f"tag: tag{n}" for n in range(12, 5, -1)] + [
        "category: billing",
        "tag: tag5",
        "tag: tag4",
    ]
    assert "th data-sortable" in board


def test_the_topics_section_shows_the_top_topics_with_trend_rising_flag_and_examples() -> None:
    def topic(
        month: int, label: str, value: float | None, stat: str = "count", kpi: str = "K09"
    ) -> KpiResult:
        unit = {"count": "count", "rising": "rank", "median": "seconds", "change": "percent_change"}[stat]
        basis = "business" if kpi == "K04" else "calendar"
        return result(kpi, month, value, stat=stat, basis=basis, cut="topic", cut_value=label, unit=unit)

    results = [topic(8, "refund / money back", 4), topic(9, "refund / money back", 6),
               topic(10, "refund / money back", 12), topic(10, "refund / money back", 1, "rising"),
               topic(10, "refund / money back", 100.0, "change"),
               topic(10, "refund / money back", 7200, "median", "K04"),
               topic(8, "wachtwoord / inloggen", 9), topic(10, "wachtwoord / inloggen", 3),
               topic(10, "wachtwoord / inloggen", None, "rising"), topic(10, "(none)", 2),
               topic(11, "refund / money back", 50)]  # fmt: skip
    html = render_dashboard(
        results, zone=ZONE, generated_at=NOW, topic_examples={"refund / money back": ["Where is my refund?"]}
    )
    section = html.split('id="topic-view"')[1].split("</table>")[0]
    rows = section.split("<tr")[2:]
    assert [row.split("<td>")[1].split("<")[0].strip() for row in rows] == [
        "refund / money back",  # 12 tickets in October, the latest full period (November is running)
        "wachtwoord / inloggen",
        "(no topic)",
    ]
    assert 'class="rising"' in rows[0] and "▲1" in rows[0] and "▲" not in rows[1]
    assert "4 → 6 → 12 → 50" in rows[0] and "<polyline points=" in rows[0]  # every period shown
    assert "9 → 0 → 3 → 0" in rows[1]
    assert "<div>Where is my refund?</div>" in rows[0]
    for text in (format_value(7200, "seconds"), format_value(100.0, "percent_change")):
        assert f">{text}</td>" in rows[0], (text, rows[0])
    empty = render_dashboard([result("K14", 10, 80.0)], zone=ZONE, generated_at=NOW)
    assert "No topics yet" in empty


def test_write_report_for_names_agents_and_draws_the_settings_targets(tmp_path: Path) -> None:
    from connector.schema import Agent

    store = Store.open(f"sqlite:///{tmp_path / 'roster.db'}")
    with store.transaction() as tx:
        store.upsert(
            tx,
            [
                Agent(source="hubspot", source_id="101", name="Anna de Vries"),
                Agent(source="hubspot", source_id="102", name="Bram Bos", active=False),
                Agent(source="hubspot", source_id="103", name="Chloé Martin"),
            ],
        )
    settings = Settings(_env_file=None, capacity_contacts_per_agent_hour=2)
    results = [result("K30", m, 1.0, unit="contacts_per_agent_hour") for m in (9, 10)]
    html = write_report_for(settings, store, results, tmp_path / "out", generated_at=NOW)[
        "dashboard"
    ].read_text()
    store.close()
    board = html.split('id="agent-leaderboard"')[1].split("</table>")[0]
    assert "Anna de Vries" in board and "Chloé Martin" in board and "Bram Bos" not in board  # inactive
    assert "capacity: 2" in html
