"""Bad settings and unreachable places, tried as a new admin would (issue 12): `check` finds each one and
names the variable in one line; `sync`, `compute` and `report` print one line and exit non-zero, never a
traceback; an unreachable vendor is given up on at once, naming host and cause; a run with nothing to do
says so."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_cli import run

CASES = [
    ({"HELPDESK_HUBSPOT": "notjson"}, "HELPDESK_HUBSPOT: not valid JSON"),
    ({"HELPDESK_SOURCES": "liveagent", "HELPDESK_LIVEAGENT__BASE_URL": "http://127.0.0.1:1/api/v3",
      "HELPDESK_LIVEAGENT__API_KEY": ""}, "HELPDESK_LIVEAGENT__API_KEY: is empty"),
    ({"HELPDESK_FCR_WINDOW_DAYS": "inf"}, "HELPDESK_FCR_WINDOW_DAYS: Input should be a finite number"),
    ({"HELPDESK_CSAT_POSITIVE_THRESHOLD": "nan"}, "HELPDESK_CSAT_POSITIVE_THRESHOLD: Input should be a finite number"),
    ({"HELPDESK_BACKFILL_START": "0001-01-01"}, "HELPDESK_BACKFILL_START: 0001-01-01 is outside 1970–2099"),
    ({"HELPDESK_SYNC_OVERLAP": "tenminutes"}, "HELPDESK_SYNC_OVERLAP: not a duration: give seconds (600)"),
    ({"HELPDESK_AIRCALL__BASE_URL": "http://127.0.0.1:99999/v1"}, "HELPDESK_AIRCALL__BASE_URL: 'http://127.0.0.1:99999/v1' has a port outside 1–65535"),
    ({"HELPDESK_DATABASE_URL": "sqlite:///nope/x.db"}, "the folder nope does not exist"),
    ({"HELPDESK_DATABASE_URL": "sqlite:///."}, ". is a folder, not a database file"),
    ({"HELPDESK_DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/x"}, "cannot connect to 127.0.0.1:1:"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("env", "message"), CASES, ids=[next(iter(c[0])) + str(n) for n, c in enumerate(CASES)]
)
def test_check_names_the_variable_and_runs_fail_in_one_line(env: dict[str, str], message: str) -> None:
    checked = run("check", env=env)
    assert checked.exit_code == 1 and message in checked.output, checked.output
    for command in (["sync"], ["compute", "--start", "2026-01-01", "--end", "2026-02-01"], ["report"]):
        result = run(*command, env=env | {"HELPDESK_SOURCES": env.get("HELPDESK_SOURCES", "hubspot")})
        assert result.exit_code != 0, (command, result.output)
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert any(message.split(":")[0] in line for line in result.output.splitlines()), (
            command,
            result.output,
        )
    assert "password" not in checked.output and ":pw@" not in checked.output


def test_an_env_file_that_is_not_utf8_and_an_unknown_name_in_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.env"
    bad.write_bytes(b"HELPDESK_TIMEZONE=UTC\nHELPDESK_FOO=\xff\n")
    result = run("--env-file", str(bad), "check")
    assert result.exit_code == 1 and "bad.env: not UTF-8 text (byte 0xff" in result.output
    unknown = tmp_path / "unknown.env"
    unknown.write_text("HELPDESK_FOOBAR=1\n")
    result = run("--env-file", str(unknown), "check")
    assert result.exit_code == 1 and "HELPDESK_FOOBAR: not a known setting" in result.output
    assert "HELPDESK_HELPDESK_" not in result.output


def test_a_sync_with_nothing_to_do_says_so_and_creates_no_store(tmp_path: Path) -> None:
    result = run("sync")
    assert result.exit_code == 0 and "Nothing to sync: no source is enabled" in result.output
    assert not (tmp_path / "helpdesk.db").exists()


@pytest.mark.parametrize(
    ("vendor", "env", "cause"),
    [
        ("aircall", {"HELPDESK_AIRCALL__BASE_URL": "http://127.0.0.1:1/v1", "HELPDESK_AIRCALL__API_ID": "a",
                     "HELPDESK_AIRCALL__API_TOKEN": "b"}, "cannot connect to 127.0.0.1:1"),
        ("hubspot", {"HELPDESK_HUBSPOT__BASE_URL": "http://nohost.invalid:8080",
                     "HELPDESK_HUBSPOT__ACCESS_TOKEN": "b"}, "cannot connect to nohost.invalid:8080: Failed to resolve"),
    ],
)  # fmt: skip
def test_an_unreachable_vendor_is_given_up_on_at_once_naming_host_and_cause(
    vendor: str, env: dict[str, str], cause: str
) -> None:
    started = time.monotonic()
    result = run("sync", env=env | {"HELPDESK_SOURCES": vendor})
    assert time.monotonic() - started < 20  # no minutes of retries
    assert result.exit_code == 1
    assert f"FAILED {vendor}: {cause}" in result.output
    assert "— FAILED" in result.output and "— done" not in result.output
    assert result.output.count(cause) <= 2  # the live log line and the summary, not once per stream


def test_check_online_makes_one_authenticated_call_per_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from connector.sandbox import Sandbox

    with Sandbox(seed=3, size=20) as sandbox:
        env = sandbox.settings_env() | {"HELPDESK_SOURCES": "hubspot,liveagent,aircall"}
        before = {v: len(getattr(sandbox, v).requests) for v in ("hubspot", "liveagent", "aircall")}
        result = run("check", "--online", env=env)
        assert result.exit_code == 0, result.output
        for vendor in ("hubspot", "liveagent", "aircall"):
            assert f"{vendor}: enabled, answers" in result.output
            assert len(getattr(sandbox, vendor).requests) - before[vendor] == 1
        wrong = run("check", "--online", env=env | {"HELPDESK_LIVEAGENT__API_KEY": "wrong-key"})
        assert wrong.exit_code == 1
        assert "liveagent: enabled, does NOT answer: HTTP 401: Invalid API key" in wrong.output
        assert "wrong-key" not in wrong.output


@pytest.mark.parametrize(
    ("env", "example"),
    [
        ({"HELPDESK_FCR_WINDOW_DAYS": "inf"}, "(e.g. HELPDESK_FCR_WINDOW_DAYS=7)"),
        ({"HELPDESK_RUN_MONTHS": "0"}, "(e.g. HELPDESK_RUN_MONTHS=2)"),
        ({"HELPDESK_SOURCES": "zendesk"}, "(e.g. HELPDESK_SOURCES=hubspot,aircall)"),
        (
            {"HELPDESK_FIRST_RESPONSE_TARGETS__HIGH": "soon"},
            "(e.g. HELPDESK_FIRST_RESPONSE_TARGETS__HIGH=PT4H)",
        ),
    ],
)
def test_a_settings_error_gives_an_example_of_a_valid_value(env: dict[str, str], example: str) -> None:
    result = run("check", env=env)
    assert result.exit_code == 1 and example in result.output, result.output


def test_skip_invalid_with_a_lone_surrogate_keeps_the_good_lines_and_writes_the_rejects(
    tmp_path: Path,
) -> None:
    good = '{"type": "ticket", "source": "x", "source_id": "1", "created_at": "2026-01-05T09:00:00Z", "status": "new"}'
    bad = '{"type": "ticket", "source": "x", "source_id": "2", "subject": "\\ud800", "created_at": "2026-01-05T09:00:00Z", "status": "new"}'
    (tmp_path / "s.jsonl").write_text(good + "\n" + bad + "\n")
    result = run("import", "--skip-invalid", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 0 and "1 invalid line(s) skipped" in result.output
    rejects = (tmp_path / "s.rejects.jsonl").read_text().splitlines()
    assert len(rejects) == 1 and '"line": 2' in rejects[0] and '"field": "subject"' in rejects[0]
