"""Settings: environment and .env, nesting, lists, validation that names the variable, secrets kept secret."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from connector.business_hours import WeeklyHours
from connector.docs import README, render
from connector.errors import ConfigError
from connector.settings import (
    Settings,
    Vendor,
    WriteTarget,
    effective_settings,
    iter_setting_docs,
    load_settings,
)

SECRET = "pat-na1-0b5e-SECRET-never-print-me"


def test_defaults_are_sensible() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///helpdesk.db"
    assert settings.timezone == "UTC"
    assert str(settings.business_hours) == "mon-fri 09:00-17:00"
    assert settings.business_hours.seconds_per_week() == 40 * 3600
    assert settings.holiday_country is None
    assert settings.sources == []
    assert (
        settings.kpis[0] == "K01" and settings.kpis[-1] == "K32" and len(settings.kpis) == 32
    )  # K32: the forecast
    assert settings.write_back == list(WriteTarget)
    assert settings.first_response_targets.urgent == timedelta(hours=1)
    assert settings.short_abandon_seconds == 10
    assert settings.hubspot.base_url == "https://api.hubapi.com"
    assert settings.aircall.base_url == "https://api.aircall.io/v1"


def test_environment_with_prefix_nesting_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_TIMEZONE", "Europe/Amsterdam")
    monkeypatch.setenv("HELPDESK_BUSINESS_HOURS", "mon-fri 08:30-17:30, sat 10:00-14:00")
    monkeypatch.setenv("HELPDESK_HOLIDAY_COUNTRY", "nl")
    monkeypatch.setenv("HELPDESK_CLOSED_DATES", "2026-12-24, 2026-12-31")
    monkeypatch.setenv("HELPDESK_SOURCES", "hubspot,aircall")
    monkeypatch.setenv("HELPDESK_KPIS", "k01,K14")
    monkeypatch.setenv("HELPDESK_HUBSPOT__ACCESS_TOKEN", SECRET)
    monkeypatch.setenv("HELPDESK_AIRCALL__API_ID", "abc")
    monkeypatch.setenv("HELPDESK_FIRST_RESPONSE_TARGETS__HIGH", "PT2H")
    monkeypatch.setenv("HELPDESK_FIRST_RESPONSE_TARGETS__LOW", "7200")
    monkeypatch.setenv("HELPDESK_DRY_RUN", "true")
    monkeypatch.setenv("HELPDESK_BACKFILL_START", "2025-01-01")
    settings = load_settings()
    assert settings.zone.key == "Europe/Amsterdam"
    assert settings.business_hours.days[5] == ((10 * 3600, 14 * 3600),)
    assert settings.holiday_country == "NL"
    assert settings.closed_dates == [date(2026, 12, 24), date(2026, 12, 31)]
    assert settings.sources == [Vendor.HUBSPOT, Vendor.AIRCALL]
    assert settings.kpis == ["K01", "K14"]
    assert settings.hubspot.access_token is not None
    assert settings.hubspot.access_token.get_secret_value() == SECRET
    assert settings.aircall.api_id == "abc"
    assert settings.first_response_targets.high == timedelta(hours=2)
    assert settings.first_response_targets.low == timedelta(hours=2)
    assert settings.dry_run is True
    assert settings.backfill_from() == date(2025, 1, 1)


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "HELPDESK_TIMEZONE=Europe/Brussels\nHELPDESK_LIVEAGENT__API_KEY=from-dotenv\nHELPDESK_SOURCES=liveagent\n"
    )
    monkeypatch.setenv("HELPDESK_SOURCES", "aircall")
    settings = load_settings()
    assert settings.timezone == "Europe/Brussels"
    assert (
        settings.liveagent.api_key is not None
        and settings.liveagent.api_key.get_secret_value() == "from-dotenv"
    )
    assert settings.sources == [Vendor.AIRCALL]


def test_another_env_file_can_be_named(tmp_path: Path) -> None:
    other = tmp_path / "prod.env"
    other.write_text("HELPDESK_CURRENCY=usd\n")
    assert load_settings(_env_file=other).currency == "USD"


INVALID = [
    ("HELPDESK_TIMEZONE", "Mars/Olympus", "IANA time zone"),
    ("HELPDESK_BUSINESS_HOURS", "mon-fri 9-17", "not a time range"),
    ("HELPDESK_BUSINESS_HOURS", "mon-fri 09:00-17:00, fri 16:00-18:00", "overlap on fri"),
    ("HELPDESK_BUSINESS_HOURS", "weekdays 09:00-17:00", "unknown day"),
    ("HELPDESK_BUSINESS_HOURS", "mon 17:00-09:00", "ends before it starts"),
    ("HELPDESK_HOLIDAY_COUNTRY", "XX", "country"),
    ("HELPDESK_HOLIDAY_COUNTRY", "DE-ZZ", "subdivision"),
    ("HELPDESK_CLOSED_DATES", "2026-12-24,tomorrow", "date"),
    ("HELPDESK_SOURCES", "hubspot,zendesk", "'hubspot'"),
    ("HELPDESK_KPIS", "K01,K99", "unknown KPI"),
    ("HELPDESK_WRITE_BACK", "slack", "hubspot_properties"),
    ("HELPDESK_DATABASE_URL", "mysql://x@localhost/db", "unsupported database"),
    ("HELPDESK_DATABASE_URL", "not a url", "not a database URL"),
    ("HELPDESK_SHORT_ABANDON_SECONDS", "-1", "greater than or equal"),
    ("HELPDESK_FIRST_RESPONSE_TARGETS__URGENT", "-PT1H", "positive"),
    ("HELPDESK_CURRENCY", "euro", "ISO 4217"),
    ("HELPDESK_LOG_LEVEL", "LOUD", "'DEBUG'"),
    ("HELPDESK_HUBSPOT__BASE_URL", "api.hubapi.com", "http(s) URL"),
    ("HELPDESK_DRY_RUN", "perhaps", "boolean"),
]


@pytest.mark.parametrize(("variable", "value", "reason"), INVALID)
def test_invalid_setting_names_the_variable_and_reason(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, reason: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert variable in message
    assert reason.lower() in message.lower()


def test_unknown_key_in_dotenv_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HELPDESK_TIMEZON=Europe/Amsterdam\n")
    with pytest.raises(ConfigError, match="HELPDESK_TIMEZON: not a known setting"):
        load_settings()


def test_secret_never_appears_in_repr_errors_or_effective_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELPDESK_HUBSPOT__ACCESS_TOKEN", SECRET)
    monkeypatch.setenv("HELPDESK_AIRCALL__API_TOKEN", SECRET)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"postgresql://svc:{SECRET}@db.internal/helpdesk")
    settings = load_settings()
    shown = dict(effective_settings(settings))
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert SECRET not in "\n".join(f"{k}={v}" for k, v in shown.items())
    assert shown["HELPDESK_HUBSPOT__ACCESS_TOKEN"] == "********** (set)"
    assert "***" in shown["HELPDESK_DATABASE_URL"]
    # a secret in an invalid setting must not leak through the error either
    monkeypatch.setenv("HELPDESK_HUBSPOT__CLIENT_SECRET", SECRET)
    monkeypatch.setenv("HELPDESK_HUBSPOT__UNKNOWN", SECRET)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"mysql://svc:{SECRET}@db.internal/helpdesk")
    monkeypatch.setenv("HELPDESK_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert SECRET not in str(caught.value)


def test_vendor_reports_what_a_sync_needs() -> None:
    settings = load_settings(liveagent={"api_key": "k"})
    assert settings.hubspot.missing() == ["access_token"]
    assert settings.liveagent.missing() == ["base_url"]
    assert settings.aircall.missing() == ["api_id", "api_token"]


@pytest.mark.parametrize(
    ("text", "normalised", "hours"),
    [
        ("mon-fri 09:00-17:00", "mon-fri 09:00-17:00", 40),
        (
            "MON-FRI 09:00-12:00 13:00-17:00, sat 10:00-14:00",
            "mon-fri 09:00-12:00 13:00-17:00, sat 10:00-14:00",
            39,
        ),
        ("mon-sun 00:00-24:00", "mon-sun 00:00-24:00", 168),
        ("fri-mon 10:00-12:00", "mon 10:00-12:00, fri-sun 10:00-12:00", 8),
        ("tue 08:00-10:00, mon 08:00-10:00", "mon-tue 08:00-10:00", 4),
    ],
)
def test_business_hours_compact_form(text: str, normalised: str, hours: int) -> None:
    parsed = WeeklyHours.parse(text)
    assert str(parsed) == normalised
    assert parsed.seconds_per_week() == hours * 3600
    assert WeeklyHours.parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    "text", ["", "  ,  ", "mon", "mon 09:00-25:00", "mon 09:60-10:00", "mon 24:30-24:45"]
)
def test_business_hours_errors(text: str) -> None:
    with pytest.raises(ValueError):
        WeeklyHours.parse(text)


def test_every_setting_has_a_description_and_readme_table_is_current() -> None:
    docs = list(iter_setting_docs())
    assert len({d.env for d in docs}) == len(docs)
    assert all(d.description for d in docs), [d.env for d in docs if not d.description]
    assert all(d.env.startswith("HELPDESK_") for d in docs)
    readme = README.read_text(encoding="utf-8")
    assert render(readme) == readme, "README configuration table is stale: run python -m connector.docs"


def test_settings_table_covers_every_field() -> None:
    documented = {d.env for d in iter_setting_docs()}
    shown = {name for name, _ in effective_settings(Settings())}
    assert documented == shown
