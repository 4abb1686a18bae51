"""The contact forecast and the agents it needs, end to end on a synthetic history whose arrival rates are
known: eight weeks of calls and e-mail tickets drawn from a fixed hourly pattern (Poisson, seeded), a desk
open Monday to Friday 09:00–17:00 in Amsterdam, five active agents."""

from __future__ import annotations

import importlib.util
import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

import connector.forecast.model as model
from connector.cli import cli
from connector.errors import ConfigError
from connector.forecast import plan
from connector.forecast.erlang import agents_needed
from connector.forecast.model import BASELINE, MODEL
from connector.forecast.results import staffing_results
from connector.schema import Agent, Record
from connector.settings import load_settings
from connector.store import Store
from connector.writer.dashboard import render_dashboard
from tests.kpi_helpers import call, ticket

ZONE = ZoneInfo("Europe/Amsterdam")
TODAY = date(2026, 11, 30)  # a Monday
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZONE)
WEEKS = 8
CALL_RATE = {9: 10, 10: 20, 11: 30, 12: 15, 13: 20, 14: 25, 15: 15, 16: 10}
"""Inbound calls per hour on a weekday, by local hour (none while the desk is closed)."""
TICKET_RATE = {hour: 4 for hour in range(24)}
"""E-mail tickets come round the clock: 4 an hour."""
HANDLE = 180
CLOSED_IN_HISTORY = date(2026, 11, 11)  # a Wednesday: nobody came
CLOSED_AHEAD = date(2026, 12, 2)  # the Wednesday of the forecast week


def _poisson(rng: random.Random, rate: float) -> int:
    """Knuth's method: exact for the small rates here."""
    limit, k, product = pow(2.718281828459045, -rate), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _history() -> list[Record]:
    rng = random.Random(20261130)
    records: list[Record] = [Agent(source="aircall", source_id=str(n), active=True) for n in range(5)]
    day = TODAY - timedelta(weeks=WEEKS)
    while day < TODAY:
        for hour in range(24):
            if day == CLOSED_IN_HISTORY:
                continue
            start = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)
            calls = _poisson(rng, CALL_RATE.get(hour, 0)) if day.weekday() < 5 else 0
            for _ in range(calls):
                moment = start + timedelta(seconds=rng.uniform(0, 3599))
                records.append(call(moment.astimezone(UTC).isoformat(), talk_seconds=HANDLE, wait_seconds=5))
            for _ in range(_poisson(rng, TICKET_RATE[hour])):
                moment = start + timedelta(seconds=rng.uniform(0, 3599))
                records.append(ticket(moment.astimezone(UTC).isoformat(), channel="email"))
        day += timedelta(days=1)
    return records


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('forecast') / 'store.db'}"
    store = Store.open(url)
    try:
        with store.transaction() as tx:
            store.upsert(tx, _history())
    finally:
        store.close()
    return url


def _settings(url: str) -> Any:
    return load_settings(
        database_url=url,
        timezone="Europe/Amsterdam",
        business_hours="mon-fri 09:00-17:00",
        closed_dates=f"{CLOSED_IN_HISTORY},{CLOSED_AHEAD}",
        forecast_history_weeks=WEEKS,
    )


@pytest.fixture(scope="module")
def outlook(store_url: str) -> Any:
    store = Store.open(store_url)
    try:
        return plan(store, _settings(store_url), weeks=1, now=NOW)
    finally:
        store.close()


def test_the_forecast_recovers_the_known_arrival_rates(outlook: Any) -> None:
    forecast = outlook.forecast
    assert forecast.start == datetime(2026, 12, 1) and forecast.hours == 168  # from tomorrow, local
    assert set(forecast.series) == {"calls", "tickets:email"}
    calls, tickets = forecast.series["calls"], forecast.series["tickets:email"]
    open_days = [
        d
        for d in range(7)
        if forecast.hour(24 * d).weekday() < 5 and forecast.hour(24 * d).date() != CLOSED_AHEAD
    ]
    for hour, rate in CALL_RATE.items():
        predicted = sum(calls.mean[24 * d + hour] for d in open_days) / len(open_days)
        assert predicted == pytest.approx(rate, rel=0.25), (hour, predicted)
    for d in range(7):  # no calls while closed: nights and the weekend
        assert all(calls.mean[24 * d + h] < 1 for h in range(24) if h not in CALL_RATE)
    weekly = sum(tickets.mean[i] for i in range(168) if forecast.hour(i).date() != CLOSED_AHEAD)
    assert weekly == pytest.approx(4 * 24 * 6, rel=0.15)
    # the 80 % interval brackets the mean
    assert all(lo <= m <= hi for lo, m, hi in zip(calls.low, calls.mean, calls.high, strict=True))


def test_the_backtest_scores_both_and_the_better_one_is_used(outlook: Any) -> None:
    for series in outlook.forecast.series.values():
        assert series.model_mase is not None and series.baseline_mase is not None
        assert series.model_mase > 0 and series.baseline_mase > 0
        better = MODEL if series.model_mase < series.baseline_mase else BASELINE
        assert series.method == better


def test_a_closed_day_keeps_its_history_out_and_gets_no_contacts_or_staff(outlook: Any) -> None:
    """Nobody came on the history's closed Wednesday: it is left out of the pattern (share 0), so the
    closed Wednesday ahead expects nothing and staffs nobody, while the other weekdays keep their volume."""
    calls = outlook.forecast.series["calls"]
    assert calls.closed_day_share == 0
    day = [i for i in range(168) if outlook.forecast.hour(i).date() == CLOSED_AHEAD]
    assert len(day) == 24 and all(calls.mean[i] == 0 for i in day)
    assert all(not outlook.hours[i].open and outlook.hours[i].needed == 0 for i in day)


def test_agents_needed_follow_erlang_c_on_the_forecast(outlook: Any) -> None:
    targets = outlook.targets
    assert (targets.answer_seconds, targets.service_level, targets.max_occupancy) == (20, 0.8, 0.85)
    assert outlook.history.call_handle_seconds == HANDLE and outlook.history.active_agents == 5
    for row in outlook.hours:
        if not row.open:
            assert (row.call_agents, row.needed, row.available) == (0, 0, 0)
            continue
        assert row.start.weekday() < 5 and 9 <= row.start.hour < 17
        erlang = agents_needed(
            calls=row.calls, period_seconds=3600, handle_seconds=HANDLE, answer_seconds=20
        ).agents
        assert row.call_agents == erlang
        assert (
            row.available == 5 and row.short == max(row.needed - 5, 0) and row.over == max(5 - row.needed, 0)
        )
    # 30 calls an hour of 3 minutes (1.5 erlangs) need 4 agents for 80 % in 20 s: the forecast's too
    eleven = [r for r in outlook.hours if r.open and r.start.hour == 11]
    truth = agents_needed(calls=30, period_seconds=3600, handle_seconds=HANDLE, answer_seconds=20).agents
    assert truth == 4 and all(abs(r.call_agents - truth) <= 1 for r in eleven)
    # tickets of the night are worked at 09:00: the first open hour carries 16 hours of arrivals
    nine = [r for r in outlook.hours if r.open and r.start.hour == 9 and r.start.weekday() != 0]
    ten = [r for r in outlook.hours if r.open and r.start.hour == 10]
    assert min(r.ticket_workload for r in nine) > 5 * max(r.ticket_workload for r in ten)


def test_too_little_history_and_a_missing_extra_are_named(
    store_url: str, outlook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_weeks = replace(outlook.history, hours=3 * 168, counts={"calls": [0] * (3 * 168)})
    with pytest.raises(ConfigError, match="at least 4 weeks of history; 21 days were given"):
        model.forecast(three_weeks, 168, lambda day: False)
    with pytest.raises(ConfigError, match="HELPDESK_FORECAST_HISTORY_WEEKS"):
        load_settings(forecast_history_weeks=3)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    store = Store.open(store_url)
    try:
        with pytest.raises(ConfigError, match=r"pip install 'helpdesk-kpi-connector\[forecast\]'"):
            plan(store, _settings(store_url), weeks=1, now=NOW)
    finally:
        store.close()


def test_the_command_prints_a_table_json_and_csv(
    store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in {
        "HELPDESK_DATABASE_URL": store_url,
        "HELPDESK_TIMEZONE": "Europe/Amsterdam",
        "HELPDESK_CLOSED_DATES": f"{CLOSED_IN_HISTORY}",
        "HELPDESK_FORECAST_HISTORY_WEEKS": str(WEEKS),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("connector.forecast.datetime", _Frozen)
    runner = CliRunner()
    table = runner.invoke(cli, ["forecast", "--weeks", "2"])
    assert table.exit_code == 0, table.output
    assert "calls: backtest MASE MSTL" in table.output and "tickets:email: backtest MASE" in table.output
    assert "Tue 2026-12-01" in table.output and "Mon 2026-12-14" in table.output
    document = json.loads(runner.invoke(cli, ["forecast", "--format", "json"]).output)
    assert len(document["staffing"]) == 4 * 168 and document["history"]["active_agents"] == 5
    monkeypatch.setenv("HELPDESK_FORECAST_WEEKS", "3")  # the setting is the default
    assert len(json.loads(runner.invoke(cli, ["forecast", "--format", "json"]).output)["staffing"]) == 3 * 168
    assert {s["group"] for s in document["series"]} == {"calls", "tickets:email"}
    lines = runner.invoke(cli, ["forecast", "--format", "csv", "--weeks", "1"]).output.splitlines()
    assert lines[0].startswith("hour,open,calls,tickets,call_agents") and len(lines) == 1 + 168


class _Frozen(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return NOW.astimezone(tz)


def test_k32_figures_carry_the_outlook(outlook: Any) -> None:
    """Per open hour five stats in the day's period (cut `hour`), and the day's totals (cut `overall`):
    contacts summed over every hour, agents over the open hours (agent-hours)."""
    results = staffing_results(outlook, ZONE)
    assert len({r.snapshot_key for r in results}) == len(results)
    open_rows = [h for h in outlook.hours if h.open]
    assert len([r for r in results if r.cut == "hour"]) == 5 * len(open_rows)
    tuesday = datetime(2026, 12, 1, tzinfo=ZONE).astimezone(UTC)
    day = {r.stat: r for r in results if r.cut == "overall" and r.period_start == tuesday}
    rows = [h for h in outlook.hours if h.start.date() == date(2026, 12, 1)]
    assert day["needed"].value == sum(h.needed for h in rows) and day["needed"].unit == "agent_hours"
    assert day["calls"].value == pytest.approx(sum(h.calls for h in rows), abs=1e-3)
    ten = {
        r.stat: r.value
        for r in results
        if r.cut == "hour" and r.cut_value == "10" and r.period_start == tuesday
    }
    row = next(h for h in rows if h.start.hour == 10)
    assert ten == pytest.approx(
        {
            "calls": row.calls,
            "tickets": row.tickets,
            "needed": row.needed,
            "available": 5,
            "short": row.short,
        },
        abs=1e-3,
    )
    assert all(r.kpi == "K32" and r.name == "staffing_forecast" for r in results)


def test_the_dashboard_draws_the_staffing_map(outlook: Any) -> None:
    results = staffing_results(outlook, ZONE)
    html = render_dashboard(results, zone=ZONE, generated_at=NOW)
    section = html.split('id="k32-staffing-map"')[1].split("</svg>")[0]
    open_hours = [h for h in outlook.hours if h.open]
    assert section.count('class="heat-cell') == len(open_hours)
    assert section.count('class="heat-cell short"') == sum(1 for h in open_hours if h.short)
    assert "Tue 01 Dec" in section and "agents needed" in section
    assert "No staffing forecast yet" in render_dashboard([], zone=ZONE, generated_at=NOW)


def test_forecasts_go_to_hubspot_as_made_while_other_running_periods_wait(tmp_path: Path) -> None:
    from connector.jobs import snapshots_due
    from connector.kpis.results import KpiResult

    def figure(kpi: str, end: datetime) -> KpiResult:
        return KpiResult(
            kpi,
            "x",
            "value",
            "calendar",
            end - timedelta(days=1),
            end,
            "overall",
            None,
            1.0,
            "count",
            None,
            None,
            None,
        )

    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        ahead = NOW.astimezone(UTC) + timedelta(days=3)
        with store.transaction() as tx:
            store.save_kpi_results(
                tx, [figure("K11", NOW.astimezone(UTC)), figure("K11", ahead), figure("K32", ahead)]
            )
        due = {
            (r["kpi"], r["period_end"].replace(tzinfo=UTC)) for r in snapshots_due(store, NOW.astimezone(UTC))
        }
    finally:
        store.close()
    assert due == {("K11", NOW.astimezone(UTC)), ("K32", ahead)}


def test_run_adds_the_forecast_or_says_why_not(store_url: str, tmp_path: Path) -> None:
    from connector.jobs import forecast_step

    lines: list[str] = []
    store = Store.open(store_url)
    try:
        results = forecast_step(_settings(store_url), store, NOW, lines)
        assert results and lines[-1].startswith(f"forecast: {len(results)} K32 figures for 4 week(s) (calls ")
        stored = [r for r in store.kpi_results() if r["kpi"] == "K32"]
        assert len(stored) >= len(results)
    finally:
        store.close()
    empty = Store.open(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert forecast_step(_settings(str(empty.url)), empty, NOW, lines) == []
        assert lines[-1].startswith("forecast: skipped (no contacts to learn from in the 56 days")
    finally:
        empty.close()
