"""A dashboard opened in a real browser (Debian's chromium, driven by Playwright), and the checks a person
would make looking at it: a card per KPI with a figure or an explanation, every SVG mark inside its plot,
headlines of closed periods, no console error and nothing fetched."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from connector.kpis import CATALOGUE


def chromium_available() -> bool:
    """Whether a browser test can run here: chromium installed, or CI requiring it (then it fails)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found is not None or os.environ.get("CONNECTOR_REQUIRE_BROWSER") == "1"


def chromium_or_skip() -> str:
    """The chromium executable; the test is skipped without one (a failure where CI requires it)."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        if os.environ.get("CONNECTOR_REQUIRE_BROWSER") == "1":
            pytest.fail("CONNECTOR_REQUIRE_BROWSER=1 but no chromium is installed")
        pytest.skip("no chromium (Debian: apt-get install chromium)")
    return executable


@contextmanager
def dashboard_page(dashboard: Path) -> Iterator[Any]:
    """The dashboard open in headless Chromium; on leaving, no console error happened and nothing but
    the file itself was fetched."""
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    problems: list[str] = []
    fetched: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda request: fetched.append(request.url))
        page.goto(dashboard.as_uri())
        yield page
        browser.close()
    assert problems == []
    assert all(url.startswith("file://") for url in fetched), fetched


def assert_sound(page: Any, running_month: str) -> list[str]:
    """A card per catalogue KPI, each with a headline or an explanation; every SVG mark on the page
    (points, lines, bars, targets, heat cells) inside its plot; every headline of a period before
    `running_month` (`YYYY-MM-01`). Returns the KPIs whose card has a headline."""
    assert page.locator("section.chart").count() == len(CATALOGUE)
    headlined = []
    for card in page.locator("section.chart").all():
        has_headline = card.locator(".latest").count() == 1
        assert has_headline or card.locator(".explain").count() == 1, card.inner_html()
        if has_headline:
            headlined.append(card.get_attribute("data-kpi"))
    marks = page.evaluate(
        """() => [...document.querySelectorAll('svg')].flatMap(svg => {
               const plot = svg.getBoundingClientRect();
               return [...svg.querySelectorAll('circle, polyline, line, rect')].map(mark => {
                   const box = mark.getBoundingClientRect();
                   return [box.left - plot.left, box.top - plot.top, plot.right - box.right,
                           plot.bottom - box.bottom];
               });
           })"""
    )
    assert marks and all(min(edges) >= -0.5 for edges in marks), [m for m in marks if min(m) < -0.5][:5]
    inside = page.evaluate(
        """() => { const frame = document.querySelector('#k11-heat-map rect.heat-frame');
                   if (!frame) return true;
                   const f = frame.getBoundingClientRect();
                   return [...document.querySelectorAll('#k11-heat-map rect.heat-cell')].every(c => {
                       const b = c.getBoundingClientRect();
                       return b.left >= f.left && b.right <= f.right && b.top >= f.top && b.bottom <= f.bottom; }); }"""
    )
    assert inside, "a heat-map cell outside its frame"
    periods = page.locator("section.chart .latest").evaluate_all("els => els.map(e => e.dataset.period)")
    assert all(p < running_month for p in periods), periods
    return headlined
