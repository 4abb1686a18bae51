"""KPI alerts (`HELPDESK_ALERTS`): rules as written, which figures they fire on, and raising each once as a
HubSpot task — end to end in the sandbox's HubSpot, where a second run raises none."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connector.alerts.check import firing
from connector.alerts.raising import raise_alerts, task_properties
from connector.alerts.rules import parse_rule, parse_rules
from connector.errors import ConfigError
from connector.jobs import run_job
from connector.kpis.results import KpiResult
from connector.sandbox import Sandbox
from connector.sandbox.hubspot import UI_DOMAIN
from connector.sandbox.hubspot_schema import PORTAL_ID
from connector.settings import load_settings
from connector.store import Store
from tests.contract_tables import problems
from tests.sync_helpers import sandbox_settings

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
DECEMBER = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


def figure(
    kpi: str, value: float | None, *, stat: str = "value", period: tuple[datetime, datetime] = NOVEMBER,
    cut: str = "overall", cut_value: str | None = None,
) -> KpiResult:  # fmt: skip
    return KpiResult(kpi, "name", stat, "calendar", *period, cut, cut_value, value, "percent", None, None, 10)


def test_rules_as_an_admin_writes_them() -> None:
    rule = parse_rule("K04.median@channel>86400")
    assert (rule.kpi, rule.stat, rule.cut, rule.cut_value, rule.comparison, rule.threshold) == (
        "K04", "median", "channel", None, ">", 86400.0,
    )  # fmt: skip
    assert parse_rule("K31 @ team=support <= 75").cut_value == "support"
    anomaly = parse_rule("K11~")
    assert anomaly.anomaly and anomaly.width == 3.0 and parse_rule("K13.share@channel~2").width == 2.0
    assert [r.text for r in parse_rules("K02<80; K26>10,")] == ["K02<80", "K26>10"]


@pytest.mark.parametrize(
    ("written", "named"),
    [
        ("K02 below 80", "is not a rule"),
        ("K99<1", "K99 is not in the catalogue"),
        ("K02@planet<1", "no cut 'planet'"),
        ("K31@channel<1", "K31 has no cut 'channel'"),
        ("K32>3", "a forecast"),
        ("K02@overall=x<1", "the overall cut has no values"),
    ],
)
def test_a_wrong_rule_is_named_in_the_settings_error(written: str, named: str) -> None:
    with pytest.raises(ConfigError, match="HELPDESK_ALERTS") as raised:
        load_settings(alerts=f"K02<80, {written}")
    assert named in str(raised.value) and written.split()[0] in str(raised.value)


def test_thresholds_fire_on_closed_periods_only() -> None:
    """The month to date is not judged (half a month would fire); the headline stat is the default; a cut
    rule judges every value of the cut, or the one named."""
    results = [
        figure("K02", 72.0),
        figure("K02", 50.0, period=DECEMBER),  # running: not judged
        figure("K02", 85.0, cut="channel", cut_value="email"),
        figure("K02", 60.0, cut="channel", cut_value="chat"),
        figure("K02", None, cut="channel", cut_value="phone"),  # no figure: nothing to judge
        figure("K04", 90000.0, stat="median"),
        figure("K04", 80000.0, stat="mean"),
    ]
    fired = firing(parse_rules("K02<80, K02@channel<80, K02@channel=email<80, K04>85000"), results, [], NOW)
    assert [(a.rule.text, a.result.cut_value) for a in fired] == [
        ("K02<80", None),
        ("K02@channel<80", "chat"),
    ]
    median = firing(parse_rules("K04.median>85000"), results, [], NOW)
    assert [a.result.value for a in median] == [90000.0]


def test_an_anomaly_lies_outside_the_range_the_recent_months_predict() -> None:
    months = [datetime(2026, m, 1, tzinfo=UTC) for m in range(5, 12)]
    history = [
        {"kpi": "K11", "stat": "count", "basis": "calendar", "cut": "overall", "cut_value": None,
         "period_start": start, "period_end": end, "value": value}
        for start, end, value in zip(months[:-1], months[1:], [100, 110, 90, 105, 95, 100], strict=True)
    ]  # fmt: skip
    rule = parse_rules("K11~")
    high = firing(rule, [figure("K11", 160.0, stat="count")], history, NOW)
    assert len(high) == 1 and high[0].expected is not None
    low, top = high[0].expected
    assert low == pytest.approx(100 - 3 * 7.0711, abs=0.01) and top == pytest.approx(
        100 + 3 * 7.0711, abs=0.01
    )
    assert firing(rule, [figure("K11", 115.0, stat="count")], history, NOW) == []
    assert len(firing(parse_rules("K11~1"), [figure("K11", 115.0, stat="count")], history, NOW)) == 1
    # fewer than three earlier months: no range yet
    assert firing(rule, [figure("K11", 500.0, stat="count")], history[-2:], NOW) == []


class FakeTasks:
    """A task writer that keeps what it is given: ids from 900, or refusals; one snapshot link."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.created: list[dict[str, str]] = []
        self.refuse = refuse

    def create_tasks(self, tasks: Sequence[Mapping[str, str]]) -> list[str | None]:
        if self.refuse:
            return [None] * len(tasks)
        self.created += [dict(t) for t in tasks]
        return [str(900 + n) for n in range(len(tasks))]

    def snapshot_links(self, keys: Sequence[str]) -> dict[str, str]:
        return {keys[0]: "https://app.hubspot.com/contacts/1/record/2-7/55"} if keys else {}


def test_each_alert_is_raised_once_and_a_refused_one_is_tried_again(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'alerts.db'}")
    settings = load_settings(alerts="K02<80", alert_owner="101")
    tasks = FakeTasks()
    try:
        results = [figure("K02", 72.0)]
        dry = raise_alerts(settings, store, results, moment=NOW, writer=tasks, dry_run=True)
        assert dry[0] == "alerts: 1 new, 0 raised before (1 rule(s))" and "dry run, not raised" in dry[1]
        refused = raise_alerts(
            settings, store, results, moment=NOW, writer=FakeTasks(refuse=True), dry_run=False
        )
        assert "NOT raised" in refused[1]
        first = raise_alerts(settings, store, results, moment=NOW, writer=tasks, dry_run=False)
        assert first[1].startswith(
            "alert: K02 name value (calendar) overall, period from 2026-11-01: 72 percent"
        )
        assert first[1].endswith("→ HubSpot task 900")
        again = raise_alerts(settings, store, results, moment=NOW, writer=tasks, dry_run=False)
        assert again == ["alerts: 0 new, 1 raised before (1 rule(s))"]
    finally:
        store.close()
    created = tasks.created
    task = created[-1]
    assert task["hubspot_owner_id"] == "101" and task["hs_task_status"] == "NOT_STARTED"
    assert task["hs_timestamp"] == "2026-12-04T06:00:00.000Z" and "K02<80" in task["hs_task_subject"]
    assert (
        "snapshot_key K02|value|calendar|2026-11-01" in task["hs_task_body"]
        and "< 80" in task["hs_task_body"]
    )
    assert "KPI snapshot: https://app.hubspot.com/contacts/1/record/2-7/55 (" in task["hs_task_body"]


def test_task_properties_without_an_owner_leave_it_unassigned() -> None:
    alert = firing(parse_rules("K02<80"), [figure("K02", 1.0)], [], NOW)[0]
    assert "hubspot_owner_id" not in task_properties(alert, None, NOW)


def test_run_raises_one_task_per_firing_alert_and_a_second_run_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with Sandbox(seed=31, size=120, end=today, **limits) as sandbox:  # type: ignore[arg-type]
        monkeypatch.setenv("HELPDESK_ALERTS", "K11>0, K11@channel>0, K02>1000")
        monkeypatch.setenv("HELPDESK_ALERT_OWNER", "101")
        settings = sandbox_settings(sandbox, monkeypatch, database_url=f"sqlite:///{tmp_path / 'job.db'}")
        first = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        tasks: Any = sandbox.hubspot.kinds["tasks"]
        raised = list(tasks.rows)
        linked = [_linked_snapshot(sandbox, row.properties["hs_task_body"]) for row in raised]
        second = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        after = len(tasks.rows)
    assert first.ok and second.ok, (first.lines, second.lines)
    alert_lines = [line for line in first.lines if line.startswith("alert: ")]
    channels = {line.split(" overall")[0] for line in alert_lines}
    assert len(raised) == len(alert_lines) >= 2 and channels  # last month overall and per channel
    assert all(row.properties["hubspot_owner_id"] == "101" for row in raised)
    # what was written and what the sandbox keeps are the tasks guide's properties and codes
    assert [p for row in raised for p in problems("hubspot", "tasks", row.properties)] == []
    assert all("→ HubSpot task" in line for line in alert_lines)
    assert after == len(raised)
    assert any(line.startswith(f"alerts: 0 new, {len(raised)} raised before") for line in second.lines)
    assert timedelta(0) <= datetime.now(UTC) - today
    # each task links to its figure's snapshot record: the link's record holds the key the task names
    assert all(named == held for named, held in linked)


def _linked_snapshot(sandbox: Sandbox, body: str) -> tuple[str, str]:
    """(the snapshot key a task's body names, the key of the record its link points at)."""
    found = re.search(
        rf"KPI snapshot: https://{UI_DOMAIN}/contacts/{PORTAL_ID}/record/(2-\d+)/(\d+) "
        r"\(helpdesk_kpi_snapshot with snapshot_key (\S+)\)",
        body,
    )
    assert found is not None, body
    object_type, record_id, key = found.groups()
    kind = sandbox.hubspot.kinds[object_type]
    index = kind.index_of(record_id)
    assert index is not None
    return key, str(kind.record(index).properties.get("snapshot_key"))


def test_a_task_whose_answer_was_lost_is_found_not_made_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first task's create is cut off after HubSpot made it (the answer lost): the retry's search
    finds that task, so each alert still has exactly one."""
    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    # the first request under /crm/v3/objects/tasks is the search before the create, the second the create
    faults = "hubspot:/crm/v3/objects/tasks=truncate#0,1"
    with Sandbox(seed=31, size=120, end=today, faults=faults, **limits) as sandbox:  # type: ignore[arg-type]
        monkeypatch.setenv("HELPDESK_ALERTS", "K11>0, K11@channel>0")
        settings = sandbox_settings(sandbox, monkeypatch, database_url=f"sqlite:///{tmp_path / 'job.db'}")
        report = run_job(settings, out=tmp_path / "r", months=2, dry_run=False, emit=lambda line: None)
        tasks: Any = sandbox.hubspot.kinds["tasks"]
        subjects = [row.properties["hs_task_subject"] for row in tasks.rows]
        searched = [body for kind, body in sandbox.hubspot.searches if kind == "tasks"]
        creates = [path for method, path, _ in sandbox.hubspot.writes if path == "/crm/v3/objects/tasks"]
    assert report.ok, report.lines
    alert_lines = [line for line in report.lines if line.startswith("alert: ")]
    assert len(subjects) == len(set(subjects)) == len(alert_lines) >= 2
    # one search per task, and one more for the retry of the lost one: one create per task all the same
    assert len(searched) == len(subjects) + 1 and len(creates) == len(subjects)
