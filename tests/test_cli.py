"""The command line: `import` (all-or-nothing, --skip-invalid, stdin), `check`, `demo`, on both databases."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from connector.cli import cli
from connector.kpis import CATALOGUE
from connector.kpis.results import RESULT_KEYS
from connector.sandbox.world import World
from connector.schema import Ticket
from connector.store import Store
from tests import browser_helpers
from tests.conftest import EXAMPLE_LINES, example_records

SECRET = "tok-SECRET-value-4242"


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, input=stdin, catch_exceptions=False)


def write_jsonl(path: Path, objects: list[Any]) -> Path:
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objects))
    return path


def _counts_row(output: str, entity: str) -> list[int]:
    for line in output.splitlines():
        if line.startswith(entity + " "):
            return [int(n) for n in line.split()[1:]]
    raise AssertionError(f"no row for {entity} in:\n{output}")


def test_import_stores_every_record_and_a_second_import_is_all_unchanged(
    tmp_path: Path, database_url: str
) -> None:
    file = write_jsonl(tmp_path / "f.jsonl", example_records())
    env = {"HELPDESK_DATABASE_URL": database_url}
    first = run("import", str(file), env=env)
    assert first.exit_code == 0, first.output
    total = len(EXAMPLE_LINES)
    assert _counts_row(first.output, "total") == [total, 0, 0, 0]
    assert _counts_row(first.output, "ticket") == [5, 0, 0, 0]
    second = run("import", str(file), env=env)
    assert second.exit_code == 0
    assert _counts_row(second.output, "total") == [0, 0, total, 0]
    store = Store.open(database_url)
    assert sum(store.counts().values()) == total
    store.close()


def test_one_bad_line_stores_nothing_and_names_line_field_and_reason(
    tmp_path: Path, database_url: str
) -> None:
    good = example_records()
    bad = {**good[12], "created_at": "2026-01-05T09:12:00"}  # a ticket with a naive timestamp
    assert bad["type"] == "ticket"
    file = write_jsonl(tmp_path / "f.jsonl", [*good[:20], bad, *good[20:]])
    result = run("import", str(file), env={"HELPDESK_DATABASE_URL": database_url})
    assert result.exit_code == 1
    assert "line 21: created_at: Input should have timezone info" in result.output
    assert "Nothing imported" in result.output
    store = Store.open(database_url)
    assert sum(store.counts().values()) == 0
    store.close()
    assert not (tmp_path / "f.rejects.jsonl").exists()


def test_every_invalid_line_is_reported(tmp_path: Path) -> None:
    lines = [
        '{"type": "ticket", "source": "x", "source_id": "1", "status": "waiting", "created_at": "2026-01-01T00:00Z"}',
        "{not json",
        '["a", "list"]',
        '{"source": "x", "source_id": "2"}',
        '{"type": "tiket", "source": "x", "source_id": "3"}',
        "",
        '{"type": "call", "source": "aircall", "source_id": "4", "direction": "inbound"}',
    ]
    result = run("import", str(write_jsonl(tmp_path / "bad.jsonl", lines)))
    assert result.exit_code == 1
    out = result.output
    assert "line 1: status: Input should be 'new', 'open'" in out
    assert "line 2: (line): not valid JSON" in out
    assert "line 3: (line): expected a JSON object" in out
    assert "line 4: type: missing" in out
    assert "line 5: type: unknown type 'tiket'" in out
    assert "line 7: status: Field required" in out
    assert "line 7: started_at: Field required" in out
    assert "line 6" not in out  # blank lines are skipped


def test_skip_invalid_imports_the_rest_and_writes_rejects_with_errors(
    tmp_path: Path, database_url: str
) -> None:
    good = example_records()
    bad_call = {**good[30], "status": "busy"}
    assert bad_call["type"] == "call"
    file = write_jsonl(tmp_path / "calls.jsonl", [*good, bad_call, "{oops"])
    result = run("import", str(file), "--skip-invalid", env={"HELPDESK_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "2 invalid line(s) skipped" in result.output
    rejects = [json.loads(line) for line in (tmp_path / "calls.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [len(good) + 1, len(good) + 2]
    assert rejects[0]["errors"] == [{"field": "status", "reason": rejects[0]["errors"][0]["reason"]}]
    assert "answered" in rejects[0]["errors"][0]["reason"]
    assert rejects[0]["record"] == bad_call
    assert rejects[1]["record"] == "{oops"
    store = Store.open(database_url)
    assert sum(store.counts().values()) == len(good)
    store.close()


def test_rejects_path_can_be_chosen_and_stdin_is_read(tmp_path: Path) -> None:
    lines = [*EXAMPLE_LINES[:3], '{"type": "agent"}']
    result = run(
        "import", "-", "--skip-invalid", "--rejects", str(tmp_path / "r.jsonl"), stdin="\n".join(lines)
    )
    assert result.exit_code == 0, result.output
    assert _counts_row(result.output, "agent") == [3, 0, 0, 0]
    rejected = json.loads((tmp_path / "r.jsonl").read_text())
    assert {e["field"] for e in rejected["errors"]} == {"source", "source_id"}


def test_import_applies_newest_version_rule(tmp_path: Path) -> None:
    base = {"type": "ticket", "source": "zendesk", "source_id": "81", "status": "open"}
    v2 = {**base, "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-06T09:00:00Z", "subject": "v2"}
    v1 = {**v2, "updated_at": "2026-01-05T10:00:00Z", "subject": "v1"}
    run("import", str(write_jsonl(tmp_path / "a.jsonl", [v2])))
    result = run("import", str(write_jsonl(tmp_path / "b.jsonl", [v1])))
    assert _counts_row(result.output, "ticket") == [0, 0, 0, 1]
    store = Store.open("sqlite:///helpdesk.db")  # the default database, in the test's working directory
    assert store.get(Ticket, "zendesk:81").subject == "v2"  # type: ignore[union-attr]
    store.close()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("import", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 1
    assert "cannot read" in result.output and "nope.jsonl" in result.output


def test_import_with_invalid_settings_names_the_variable() -> None:
    result = run("import", "-", env={"HELPDESK_DATABASE_URL": "oracle://x"}, stdin="")
    assert result.exit_code == 1
    assert "HELPDESK_DATABASE_URL: unsupported database 'oracle'" in result.output


def test_check_with_defaults_is_valid_and_prints_every_setting() -> None:
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "HELPDESK_DATABASE_URL = sqlite:///helpdesk.db" in result.output
    assert "HELPDESK_HUBSPOT__ACCESS_TOKEN = (not set)" in result.output
    assert "none enabled" in result.output
    assert "Settings are valid." in result.output


def test_check_names_what_an_enabled_source_is_missing_and_masks_secrets() -> None:
    env = {
        "HELPDESK_SOURCES": "hubspot,liveagent,aircall",
        "HELPDESK_HUBSPOT__ACCESS_TOKEN": SECRET,
        "HELPDESK_AIRCALL__API_TOKEN": SECRET,
        "HELPDESK_DATABASE_URL": f"postgresql://svc:{SECRET}@db.internal/helpdesk",
    }
    result = run("check", env=env)
    assert result.exit_code == 1
    assert SECRET not in result.output
    assert "HELPDESK_HUBSPOT__ACCESS_TOKEN = ********** (set)" in result.output
    assert "hubspot: enabled, ready" in result.output
    assert (
        "liveagent: enabled, missing HELPDESK_LIVEAGENT__BASE_URL, HELPDESK_LIVEAGENT__API_KEY"
        in result.output
    )
    assert "aircall: enabled, missing HELPDESK_AIRCALL__API_ID" in result.output


def test_check_fails_on_invalid_values_and_unknown_variables() -> None:
    invalid = run("check", env={"HELPDESK_TIMEZONE": "Amsterdam"})
    assert invalid.exit_code == 1
    assert "HELPDESK_TIMEZONE: 'Amsterdam' is not an IANA time zone" in invalid.output
    typo = run("check", env={"HELPDESK_BUISNESS_HOURS": "mon-fri 08:00-16:00"})
    assert typo.exit_code == 1
    assert "HELPDESK_BUISNESS_HOURS is not a setting" in typo.output


def test_check_reads_a_named_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(f"HELPDESK_SOURCES=hubspot\nHELPDESK_HUBSPOT__ACCESS_TOKEN={SECRET}\n")
    result = run("--env-file", str(env_file), "check")
    assert result.exit_code == 0, result.output
    assert "hubspot: enabled, ready" in result.output
    assert SECRET not in result.output
    assert run("--env-file", str(tmp_path / "missing.env"), "check").exit_code == 2


@pytest.mark.slow
def test_demo_runs_the_whole_job_against_the_sandbox_and_a_rerun_changes_no_property(tmp_path: Path) -> None:
    args = (
        "demo",
        "--database",
        f"sqlite:///{tmp_path / 'demo.db'}",
        "--size",
        "240",
        "--out",
        str(tmp_path / "r"),
    )
    today = datetime.now(UTC).date()  # before the run: the demo's world ends at the start of this day
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert (
        "hubspot/tickets:" in result.output
        and "liveagent/tickets:" in result.output
        and "aircall/calls:" in result.output
    )
    assert "hubspot: created 2 property groups and 20 properties" in result.output
    # the run found why the world's customers wrote, and wrote each ticket's topic to HubSpot
    assert re.search(r"topics: \d+ discovered over \d+ tickets and \d+ calls", result.output), result.output
    assert "helpdesk_topic" in result.output
    assert "POST /crm/v3/objects/tickets/batch/update" in result.output  # what the sandbox's HubSpot received
    assert (tmp_path / "r" / "dashboard.html").exists() and "Open the dashboard:" in result.output
    # the dashboard shows the topics, each with its trend and the subjects of typical tickets
    topic_view = (
        (tmp_path / "r" / "dashboard.html").read_text().split('id="topic-view"')[1].split("</table>")[0]
    )
    assert topic_view.count("<polyline points=") >= 6 and topic_view.count('<td class="examples"><div>') >= 6
    # the demo's world runs up to yesterday, whatever the date: the latest full month has figures
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()
    figures = json.loads((tmp_path / "r" / "kpis.json").read_text())
    volume = [
        f
        for f in figures
        if (f["kpi"], f["cut"]) == ("K11", "overall") and f["period_start"].startswith(last_month)
    ]
    assert volume and volume[0]["value"] > 0, volume
    # and every KPI has a figure for it: the demo imports what the vendors do not hold
    valued = {
        f["kpi"] for f in figures if f["period_start"].startswith(last_month) and f["value"] is not None
    }
    past = {kpi for kpi, definition in CATALOGUE.items() if not definition.forecast}
    assert valued == past, sorted(past - valued)
    # and the staffing forecast (K32) for the four weeks from tomorrow, learnt from the same world
    ahead = sorted({f["period_start"][:10] for f in figures if f["kpi"] == "K32" and f["cut"] == "overall"})
    assert len(ahead) == 28 and ahead[0] > today.isoformat(), ahead[:3]
    assert "forecast: " in result.output and "K32 figures for 4 week(s)" in result.output
    # the world's follow-up tickets are repeat contacts: K08 is not a flat zero
    assert any(f["value"] for f in figures if (f["kpi"], f["cut"]) == ("K08", "overall")), "K08 all 0 %"
    assert "imported" in result.output and "servqual" in result.output
    if browser_helpers.chromium_available():
        # as a person sees it: every card but K29's (its figures are the leaderboard) and K32's (a forecast:
        # the staffing map) has a headline of a closed period, every mark inside its plot, the heat maps,
        # and the demo's agents on the leaderboard
        with browser_helpers.dashboard_page(tmp_path / "r" / "dashboard.html") as page:
            headlined = browser_helpers.assert_sound(page, today.replace(day=1).isoformat())
            assert set(CATALOGUE) - set(headlined) == {"K29", "K32"}
            assert page.locator("#k11-heat-map rect.heat-cell").count() > 0
            assert page.locator("#k32-staffing-map rect.heat-cell").count() > 0
            names = page.locator("#agent-leaderboard tbody td:first-child").all_inner_texts()
            world = World(seed=1, size=240)
            agents = {
                f"{world.agent(i).first_name} {world.agent(i).last_name}" for i in range(world.agent_count)
            }
            assert agents <= set(names) and "(unassigned)" in names, names
    # the forecast of the sandbox's world as an admin asks for it: the backtest that chose each channel
    # group's forecast, then the four weeks from tomorrow day by day, every hour behind them in the CSV
    store_env = {"HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    outlook = run("forecast", env=store_env)
    assert outlook.exit_code == 0, outlook.output
    assert "calls: backtest MASE MSTL" in outlook.output and "tickets:email: backtest MASE" in outlook.output
    days = [
        line for line in outlook.output.splitlines() if re.match(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) 20", line)
    ]
    assert len(days) == 28 and days[0].split()[1] == (today + timedelta(days=1)).isoformat(), days[:2]
    hourly = run("forecast", "--format", "csv", "--weeks", "1", env=store_env).output.splitlines()
    assert len(hourly) == 1 + 168 and "agents_needed" in hourly[0]
    assert any(int(line.split(",")[6]) > 0 for line in hourly[1:]), "no hour needs an agent"
    # why the world's customers wrote: the topics name the sandbox's themes, in both languages
    found = run("topics", "--format", "json", env=store_env)
    assert found.exit_code == 0, found.output
    topics = json.loads(found.output[found.output.index("{") :])["topics"]
    labels = " ".join(t["label"] for t in topics)
    themes = {"refund": ("refund", "terugbetaling"), "login": ("password", "wachtwoord"),
              "invoice": ("invoice", "factuur"), "damaged": ("damaged", "kapot"),
              "cancel": ("cancel", "opzeggen"), "address": ("address", "adres"), "app": ("crashes", "crasht"),
              "delivery": ("parcel", "pakket")}  # fmt: skip
    named = {theme for theme, words in themes.items() if all(w in labels for w in words)}
    assert len(named) >= 6, labels
    assert sum(t["tickets"] for t in topics) >= 300 and all(t["examples"] for t in topics)
    assert sum(t["calls"] for t in topics) >= 50  # the agents' notes on the world's answered calls
    # the kept topics in the latest full month: every topic's figures, the rising ones flagged
    month = last_month[:7]
    inspected = run("topics", "--period", month, "--format", "json", env=store_env)
    assert inspected.exit_code == 0, inspected.output
    view = json.loads(inspected.output[inspected.output.index("{") :])
    assert view["period"] == month and len(view["topics"]) >= 6
    assert {topic["label"] for topic in view["topics"]} <= {t["label"] for t in topics} | {"(no topic)"}
    figures = {
        key for topic in view["topics"] for key, value in topic["figures"].items() if value is not None
    }
    assert {"Tickets", "Calls", "Share of tickets", "CSAT (% satisfied)"} <= figures, figures
    text = run("topics", "--period", month, env=store_env)
    assert text.exit_code == 0 and f"Topics of {month}, by tickets" in text.output, text.output
    assert run("topics", "--period", "2026-13", env=store_env).exit_code == 2  # not a month
    again = run(*args)
    assert again.exit_code == 0, again.output
    assert "hubspot: no property value changed since the last push" in again.output
    assert "tickets/batch/update" not in again.output and "contacts/batch/update" not in again.output
    assert (
        "batch/upsert" not in again.output
    )  # no snapshot: closed periods unchanged, the running one stays out


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("helpdesk-kpi")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("check", "import", "demo"):
        assert command in result.stdout


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_import_help_explains_the_format(flag: str) -> None:
    result = run("import", flag)
    assert "JSON Lines" in result.output and "--skip-invalid" in result.output


def test_import_then_compute_json_prints_flat_records_and_stores_snapshots(
    tmp_path: Path, database_url: str
) -> None:
    env = {"HELPDESK_DATABASE_URL": database_url, "HELPDESK_TIMEZONE": "Europe/Amsterdam"}
    assert run("import", str(write_jsonl(tmp_path / "f.jsonl", example_records())), env=env).exit_code == 0
    result = CliRunner().invoke(
        cli,
        [
            "compute",
            "--start",
            "2026-01-01",
            "--end",
            "2026-02-01",
            "--cut",
            "agent,channel",
            "--format",
            "json",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert all(list(r) == list(RESULT_KEYS) for r in records)
    by_key = {(r["kpi"], r["stat"], r["basis"], r["cut"], r["cut_value"]): r for r in records}
    assert by_key[("K14", "value", "calendar", "overall", None)]["value"] == pytest.approx(200 / 3)
    assert by_key[("K10", "value", "calendar", "overall", None)]["value"] == 10000.0  # €40,000 / 4 resolved
    assert by_key[("K18", "value", "calendar", "overall", None)]["value"] == 90.0
    assert by_key[("K15", "enps", "calendar", "overall", None)]["value"] is None  # no eNPS answers
    assert by_key[("K01", "mean", "calendar", "agent", "aircall:501")]["count"] == 3  # Anna in two sources
    assert records[0]["period_start"] == "2025-12-31T23:00:00Z"
    store = Store.open(database_url)
    assert len(store.kpi_results()) == len(records)
    store.close()


def test_compute_rejects_unknown_cuts_and_kpis() -> None:
    bad_cut = run("compute", "--start", "2026-01-01", "--end", "2026-02-01", "--cut", "planet")
    assert bad_cut.exit_code == 1 and "unknown cuts: planet" in bad_cut.output
    bad_kpi = run("compute", "--start", "2026-01-01", "--end", "2026-02-01", "--kpi", "K77")
    assert bad_kpi.exit_code == 1 and "K77" in bad_kpi.output
    backwards = run("compute", "--start", "2026-02-01", "--end", "2026-01-01")
    assert backwards.exit_code == 1 and "must be after" in backwards.output


def test_run_dry_run_syncs_computes_and_reports_but_writes_nothing_to_hubspot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.sandbox import Sandbox
    from tests.sync_helpers import FAST

    limits = {"hubspot_requests_per_10s": 100_000, "aircall_requests_per_minute": 1_000_000,
              "liveagent_requests_per_minute": 1_000_000}  # fmt: skip
    with Sandbox(seed=41, size=60, **limits) as sandbox:  # type: ignore[arg-type]
        env = sandbox.settings_env() | FAST | {"HELPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = run("run", "--dry-run", "--months", "14", "--out", str(tmp_path / "out"))
        assert result.exit_code == 0, result.output
        assert "hubspot: would write" in result.output and "[dry run] update tickets" in result.output
        assert "compute: " in result.output and "sync: " in result.output
        assert sandbox.hubspot.writes == []
        assert (tmp_path / "out" / "dashboard.html").exists()
        # sync and push shared one HubSpot governor: it saw every request the sandbox's HubSpot received
        total = int(result.output.split(" API calls in all")[0].rsplit(" ", 1)[-1])
        assert total == len(sandbox.hubspot.requests)
        reported = run("report", "--out", str(tmp_path / "again"))
        assert reported.exit_code == 0, reported.output
        assert (tmp_path / "again" / "kpis.json").exists() and "dashboard:" in reported.output
