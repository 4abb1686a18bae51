"""Settings, read once at the entry point from `HELPDESK_*` environment variables and an optional `.env`.

Nested settings use a double underscore: `HELPDESK_HUBSPOT__ACCESS_TOKEN`. Lists are comma-separated
(`HELPDESK_SOURCES=hubspot,aircall`). Secrets are `SecretStr`: they print as `**********` and never
appear in error messages, which name the variable and the reason but not the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from connector.alerts.rules import AlertRule

from connector.business_hours import WeeklyHours
from connector.errors import ConfigError
from connector.schema import CurrencyCode, ServqualDimension

ENV_PREFIX = "HELPDESK_"
NESTED_DELIMITER = "__"


def catalogue_ids() -> list[str]:
    """The ids of the KPI catalogue, in order: each KPI registers itself where it is defined
    (`connector.kpis`), so a new KPI needs no list here. Imported when first asked for, as the
    catalogue's modules read these settings."""
    from connector.kpis import CATALOGUE

    return sorted(CATALOGUE)


class Vendor(StrEnum):
    """The sources the connector syncs from, each with its adapter and its settings group."""

    HUBSPOT = "hubspot"
    LIVEAGENT = "liveagent"
    AIRCALL = "aircall"


class EngagementInput(StrEnum):
    """The inputs K23 (customer engagement score) weighs: `loyalty` (loyalty-programme participation),
    `education` (education participation) and `contact` (usage and contact frequency)."""

    LOYALTY = "loyalty"
    EDUCATION = "education"
    CONTACT = "contact"


class WriteTarget(StrEnum):
    """Where `push` and `run` write the figures: HubSpot record properties, HubSpot KPI snapshot records,
    the HTML dashboard."""

    HUBSPOT_PROPERTIES = "hubspot_properties"
    HUBSPOT_SNAPSHOTS = "hubspot_snapshots"
    DASHBOARD = "dashboard"


def _split_list(value: Any) -> Any:
    """Comma-separated environment values become lists; lists given in code pass through."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _split_mapping(value: Any) -> Any:
    """`name=number, name=number` becomes a dict; dicts given in code pass through."""
    if not isinstance(value, str):
        return value
    mapping: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        name, equals, number = item.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"{item!r} is not name=number")
        mapping[name.strip().lower()] = number.strip()
    return mapping


DURATION_FORMS = "seconds (600), ISO 8601 (PT10M) or HH:MM:SS (00:10:00)"


def _plain_seconds(value: Any) -> Any:
    """Seconds as a plain number; other text must be one of the forms pydantic reads as a duration."""
    if isinstance(value, str):
        text = value.strip()
        if text.replace(".", "", 1).isdigit():
            return float(text)
        try:
            TypeAdapter(timedelta).validate_python(text)
        except ValidationError:
            raise ValueError(f"not a duration: give {DURATION_FORMS}") from None
    return value


def _positive_duration(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


def _non_negative_duration(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must not be a negative duration")
    return value


Duration = Annotated[timedelta, BeforeValidator(_plain_seconds), AfterValidator(_positive_duration)]
"""A positive duration: ISO 8601 (`PT4H`), `HH:MM:SS` or seconds."""
Lag = Annotated[timedelta, BeforeValidator(_plain_seconds), AfterValidator(_non_negative_duration)]
"""A duration that may be zero."""


def _check_base_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL (e.g. https://api.hubapi.com)")
    try:
        parts.port  # noqa: B018  (raises for a port that is not 0–65535)
    except ValueError:
        raise ValueError(f"{value!r} has a port outside 1–65535") from None
    return value.rstrip("/")


def _sane_day(value: date | None) -> date | None:
    """A day the store can hold a record of (1970–2099)."""
    if value is not None and not date(1970, 1, 1) <= value < date(2100, 1, 1):
        raise ValueError(f"{value.isoformat()} is outside 1970–2099 (e.g. 2025-01-01)")
    return value


def _not_empty_secret(value: SecretStr | None) -> SecretStr | None:
    """An empty secret is a mistake, not a credential: unset the variable instead, or give the value."""
    if value is not None and not value.get_secret_value().strip():
        raise ValueError("is empty: give the credential, or unset the variable")
    return value


class VendorSettings(BaseModel):
    """What every vendor needs: a base URL (so the sandbox can stand in) and credentials."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base_url: str | None = None

    _check_url = field_validator("base_url")(_check_base_url)

    @field_validator("*", mode="after")
    @classmethod
    def _no_empty_secret(cls, value: Any) -> Any:
        return _not_empty_secret(value) if isinstance(value, SecretStr) else value

    def missing(self) -> list[str]:
        """Names (relative to the vendor) of the settings a sync needs but that are not set."""
        return [name for name in self.required_for_sync() if getattr(self, name) in (None, "")]

    def require(self, vendor: str) -> None:
        """Raise a `ConfigError` naming the environment variables a sync with `vendor` still needs."""
        missing = self.missing()
        if missing:
            names = ", ".join(f"{ENV_PREFIX}{vendor.upper()}__{name.upper()}" for name in missing)
            raise ConfigError(f"{vendor}: set {names}")

    @classmethod
    def required_for_sync(cls) -> tuple[str, ...]:
        return ("base_url",)


class HubSpotSettings(VendorSettings):
    base_url: str | None = Field("https://api.hubapi.com", description="HubSpot API base URL.")
    access_token: SecretStr | None = Field(None, description="Private-app or OAuth access token.")
    client_secret: SecretStr | None = Field(
        None, description="App client secret, verifies webhook v3 signatures."
    )
    requests_per_10s: int = Field(
        100, gt=0, description="The app's request limit per 10 seconds (100 on most tiers, 190 on some)."
    )
    search_per_second: float = Field(
        4.0, gt=0, description="Search requests per second (HubSpot allows 4-5)."
    )
    daily_reserve: int = Field(
        1000, ge=0, description="Daily requests left for other integrations: a sync stops before using them."
    )
    churn_property: str | None = Field(
        None, description="Contact property holding the churn date (portals differ; none by default)."
    )
    won_deal_stages: Annotated[list[str], NoDecode] = Field(
        ["closedwon"], description="Deal stage ids that count as a purchase (closed won)."
    )
    archived_sweep: Duration = Field(
        timedelta(days=1), description="How often archived (deleted) records are swept."
    )

    _split_stages = field_validator("won_deal_stages", mode="before")(_split_list)

    @classmethod
    def required_for_sync(cls) -> tuple[str, ...]:
        return ("base_url", "access_token")


class LiveAgentSettings(VendorSettings):
    base_url: str | None = Field(None, description="Account API URL, e.g. `https://acme.ladesk.com/api/v3`.")
    api_key: SecretStr | None = Field(None, description="API v3 key (sent as the `apikey` header).")
    webhook_secret: SecretStr | None = Field(
        None, description="Shared secret expected on LiveAgent webhooks."
    )
    requests_per_minute: int = Field(180, gt=0, description="The API key's request limit per minute.")
    reread: Duration = Field(
        timedelta(hours=24),
        description="Recent calls re-read on every sync by `dateCreated` (a call is answered and finished "
        "after it was created).",
    )

    @classmethod
    def required_for_sync(cls) -> tuple[str, ...]:
        return ("base_url", "api_key")


class AircallSettings(VendorSettings):
    base_url: str | None = Field("https://api.aircall.io/v1", description="Aircall API base URL.")
    api_id: str | None = Field(None, description="API ID (HTTP Basic user).")
    api_token: SecretStr | None = Field(None, description="API token (HTTP Basic password).")
    webhook_token: SecretStr | None = Field(None, description="Token Aircall puts in each webhook body.")
    requests_per_minute: int = Field(60, gt=0, description="The company's request limit per minute.")
    reread: Duration = Field(
        timedelta(hours=48), description="Recent calls re-read on every sync (tags and comments come late)."
    )

    @classmethod
    def required_for_sync(cls) -> tuple[str, ...]:
        return ("base_url", "api_id", "api_token")


class FirstResponseTargets(BaseModel):
    """First-response SLA target per ticket priority (K02); ISO 8601 (`PT4H`), `HH:MM:SS` or seconds."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    urgent: Duration = Field(timedelta(hours=1), description="First-response target for urgent tickets.")
    high: Duration = Field(timedelta(hours=4), description="First-response target for high-priority tickets.")
    medium: Duration = Field(
        timedelta(hours=8), description="First-response target for medium-priority tickets."
    )
    low: Duration = Field(timedelta(hours=24), description="First-response target for low-priority tickets.")


PRIORITIES = tuple(FirstResponseTargets.model_fields)
"""The ticket priorities the connector knows, most urgent first: those that have a first-response target."""


class Settings(BaseSettings):
    """Every setting of the connector. Build it once at the entry point and pass it down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED_DELIMITER,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
        allow_inf_nan=False,  # a setting pasted into a calculation must be a number
    )

    database_url: str = Field(
        "sqlite:///helpdesk.db",
        description="Store: `sqlite:///path.db` or `postgresql://user:pass@host:port/db` "
        "(install the `postgres` extra: `pip install '.[postgres]'`).",
        repr=False,  # may carry a password; `effective_settings` shows it with the password hidden
    )
    timezone: str = Field("UTC", description="IANA time zone of periods and business hours.")
    business_hours: Annotated[WeeklyHours, NoDecode] = Field(
        WeeklyHours.parse("mon-fri 09:00-17:00"),
        description="Opening hours, e.g. `mon-fri 09:00-17:00, sat 10:00-14:00`.",
    )
    holiday_country: str | None = Field(
        None, description="ISO 3166 country (optionally `-subdivision`, e.g. `DE-BY`) for public holidays."
    )
    closed_dates: Annotated[list[date], NoDecode] = Field(
        default_factory=list, description="Extra closed dates, comma-separated ISO dates."
    )
    sources: Annotated[list[Vendor], NoDecode] = Field(
        default_factory=list, description="Vendors to sync, comma-separated: `hubspot,liveagent,aircall`."
    )
    kpis: Annotated[list[str], NoDecode] = Field(
        default_factory=catalogue_ids, description="KPIs to compute, comma-separated ids (`K01,K14`)."
    )
    write_back: Annotated[list[WriteTarget], NoDecode] = Field(
        default_factory=lambda: list(WriteTarget),
        description="Where results go: `hubspot_properties,hubspot_snapshots,dashboard`.",
    )
    dry_run: bool = Field(False, description="Print what would be written; write nothing.")
    run_months: int = Field(
        2,
        ge=1,
        le=60,
        description="Months `run` and `report` compute: the month to date and the full months before it.",
    )
    sync_overlap: Lag = Field(
        timedelta(minutes=10),
        description="How far behind its cursor a sync re-reads (late, eventually consistent records).",
    )
    webhook_budget: Duration = Field(
        timedelta(seconds=3.5),
        description="How long a webhook request may spend processing its events before answering; what is "
        "left stays pending for the server's worker or `drain` (the vendors time out after 5 s).",
    )
    backfill_start: Annotated[date | None, AfterValidator(_sane_day)] = Field(
        None, description="First day the initial sync reads (ISO date); empty = 365 days back."
    )
    first_response_targets: FirstResponseTargets = Field(default_factory=FirstResponseTargets)
    csat_positive_threshold: float | None = Field(
        None, description="Lowest CSAT score counted as positive; empty = top-2 box of each response's scale."
    )
    short_abandon_seconds: float = Field(
        10, ge=0, description="Inbound calls abandoned sooner than this are left out of the abandon rate."
    )
    call_duplicate_seconds: float = Field(
        120,
        ge=0,
        description="Calls of one caller in two sources starting this close are one call (Aircall logs its "
        "calls into HubSpot); 0 keeps every copy.",
    )
    call_service_level_seconds: float = Field(
        20,
        gt=0,
        description="Inbound calls answered within this many seconds meet the call service level (K31).",
    )
    call_service_level_target: float = Field(
        80,
        ge=0,
        le=100,
        description="Share of inbound calls (%) the desk aims to answer within the service level (80 % in "
        "20 s is the common goal); drawn as K31's target.",
    )
    max_occupancy: float = Field(
        85,
        gt=0,
        le=100,
        description="The share of their open time (%) agents may spend on contacts in the staffing forecast; "
        "above 85-90 % for long, occupancy hides in longer handle times.",
    )
    ticket_handle_seconds: float = Field(
        600,
        gt=0,
        description="Agent work per ticket the staffing forecast assumes where no source records ticket work "
        "time (seconds).",
    )
    forecast_weeks: int = Field(
        4, ge=1, le=26, description="Weeks ahead `run` and `forecast` forecast contacts and staffing for."
    )
    forecast_history_weeks: int = Field(
        12,
        ge=4,
        le=104,
        description="Weeks of history the contact forecast learns from: at least 4 (two to fit the weekly "
        "pattern, two more its backtest holds out).",
    )
    alerts: str = Field(
        "",
        description="Alert rules checked at the end of `run`, comma-separated: thresholds (`K02<80`, "
        "`K04.median@channel>86400`, `K31@team=support<75`) and anomalies (`K11~`: outside the mean ± 3 "
        "standard deviations of the periods before). Each alert that fires becomes one HubSpot task.",
    )
    alert_owner: str | None = Field(
        None, description="HubSpot owner id the alert tasks are assigned to; empty = unassigned."
    )
    topic_count: int = Field(
        0,
        ge=0,
        le=60,
        description="Topics `topics` finds in the tickets' words; 0 = the number whose topics separate best "
        "(silhouette, 4 to 30).",
    )
    topic_months: int = Field(
        12,
        ge=1,
        le=120,
        description="Months of tickets (by creation) and call notes (by the call's start) `topics` "
        "learns the topics from.",
    )
    topic_seed: int = Field(
        0, ge=0, description="Seed of topic discovery: the same store and seed give the same topics."
    )
    topic_refresh_days: int = Field(
        7,
        ge=0,
        description="`run` discovers the topics anew when the last discovery is this many days old (or there "
        "is none), and in between gives new tickets the known topic nearest their words; 0 = `run` leaves "
        "topics alone (`topics` still works). Needs the `topics` extra.",
    )
    fcr_window_days: float = Field(
        7,
        gt=0,
        description="A call is resolved at first contact when the caller does not return within this.",
    )
    repeat_contact_window_days: float = Field(
        7,
        gt=0,
        description="A customer back about the same category within this many days is a repeat contact.",
    )
    capacity_contacts_per_agent_hour: float | None = Field(
        None, gt=0, description="Contacts one agent can handle per open hour; above it a period is flagged."
    )
    servqual_weights: Annotated[dict[ServqualDimension, float], NoDecode] = Field(
        default_factory=dict,
        description="100-point allocation over the SERVQUAL dimensions, e.g. `reliability=30,empathy=20`.",
    )
    engagement_weights: Annotated[dict[EngagementInput, float], NoDecode] = Field(
        default_factory=lambda: dict.fromkeys(EngagementInput, 1.0),
        description="Weights of the engagement score inputs: `loyalty`, `education`, `contact`.",
    )
    iqs_weights: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=dict,
        description="Default weight per QA criterion for reviews that carry none, e.g. `accuracy=3,tone=2`.",
    )
    service_cost_monthly: Decimal | None = Field(
        None,
        ge=0,
        description="Monthly service-desk cost for cost per ticket, when no ServiceCost is imported.",
    )
    clv_lifespan_years: float | None = Field(
        None, gt=0, description="Average customer lifespan for CLV; empty = measured from churned customers."
    )
    clv_gross_margin: float | None = Field(
        None, ge=0, le=1, description="Gross margin (0–1) for historical CLV when purchases carry none."
    )
    currency: CurrencyCode = Field(
        "EUR", description="Currency of `service_cost_monthly` and reported money."
    )
    kpi_memory_limit_mb: int = Field(
        640,
        description="Memory (MB, at least 128) the KPI computation's DuckDB may hold; beyond it, it spills "
        "to a temporary directory instead of growing (the process peaks ~300 MB above this); 0 = DuckDB's "
        "own limit, 80 % of RAM.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log verbosity.")
    hubspot: HubSpotSettings = Field(default_factory=HubSpotSettings)
    liveagent: LiveAgentSettings = Field(default_factory=LiveAgentSettings)
    aircall: AircallSettings = Field(default_factory=AircallSettings)

    _split_lists = field_validator("closed_dates", "sources", "kpis", "write_back", mode="before")(
        _split_list
    )
    _split_mappings = field_validator("servqual_weights", "engagement_weights", "iqs_weights", mode="before")(
        _split_mapping
    )

    @field_validator("servqual_weights", "engagement_weights", "iqs_weights")
    @classmethod
    def _non_negative_weights(cls, value: dict[Any, float]) -> dict[Any, float]:
        negative = [str(getattr(k, "value", k)) for k, w in value.items() if w < 0]
        if negative:
            raise ValueError(f"weights must not be negative: {', '.join(negative)}")
        if value and not any(value.values()):
            raise ValueError("at least one weight must be above 0")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL (e.g. sqlite:///helpdesk.db)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {url.get_backend_name()!r}; use sqlite or postgresql")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None
        return value

    @field_validator("holiday_country")
    @classmethod
    def _known_holiday_country(cls, value: str | None) -> str | None:
        if not value:
            return None
        import holidays  # imported here: loading its country list is slow and rarely needed

        country, _, subdivision = value.upper().partition("-")
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise ValueError(f"{country!r} is not a country the holidays package knows (ISO 3166 alpha-2)")
        if subdivision and subdivision not in supported[country]:
            raise ValueError(f"{subdivision!r} is not a subdivision of {country}")
        return value.upper()

    @field_validator("kpi_memory_limit_mb")
    @classmethod
    def _workable_memory(cls, value: int) -> int:
        if value != 0 and value < 128:
            raise ValueError("at least 128 (MB), or 0 for DuckDB's own limit")
        return value

    @field_validator("alerts")
    @classmethod
    def _parsed_alerts(cls, value: str) -> str:
        from connector.alerts.rules import parse_rules

        parse_rules(value)
        return value

    @field_validator("alert_owner")
    @classmethod
    def _owner_id(cls, value: str | None) -> str | None:
        if value and not value.strip().isdigit():
            raise ValueError("a HubSpot owner id is a number (GET /crm/v3/owners lists them)")
        return value.strip() if value else None

    @property
    def alert_rules(self) -> list[AlertRule]:
        from connector.alerts.rules import parse_rules

        return parse_rules(self.alerts)

    @field_validator("kpis")
    @classmethod
    def _known_kpis(cls, value: list[str]) -> list[str]:
        normalised = [item.upper() for item in value]
        known = catalogue_ids()
        unknown = [item for item in normalised if item not in known]
        if unknown:
            raise ValueError(
                f"unknown KPI ids {', '.join(unknown)}; the catalogue has {known[0]}…{known[-1]}"
            )
        return normalised

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def backfill_from(self, now: datetime | None = None) -> date:
        """The first day an initial sync reads."""
        if self.backfill_start is not None:
            return self.backfill_start
        return ((now or datetime.now(UTC)).astimezone(self.zone) - timedelta(days=365)).date()

    def vendor(self, vendor: Vendor) -> VendorSettings:
        settings: VendorSettings = getattr(self, vendor.value)
        return settings


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; on invalid input raise ConfigError listing each variable and reason."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = [f"{name}: {reason}" for name, reason in describe_errors(exc)]
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from None
    except SettingsError as exc:  # a nested group given as one variable that is not JSON
        field = re.search(r'field "(\w+)"', str(exc))
        name = env_name((field.group(1),)) if field else f"{ENV_PREFIX}…"
        example = f"{name}__BASE_URL=…" if field else "the nested variables"
        reason = f"not valid JSON; set one variable per setting instead, e.g. {example}"
        raise ConfigError(f"invalid settings:\n  {name}: {reason}") from None
    except UnicodeDecodeError as exc:
        where = overrides.get("_env_file") or ".env"
        raise ConfigError(
            f"invalid settings:\n  {where}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start})"
        ) from None


def env_name(loc: tuple[str | int, ...]) -> str:
    """The environment variable behind a settings location: ('hubspot', 'access_token') →
    HELPDESK_HUBSPOT__ACCESS_TOKEN. A location that already names the variable (an unknown name read from
    a `.env` file) keeps its one prefix."""
    name = NESTED_DELIMITER.join(str(part).upper() for part in loc)
    return name if name.startswith(ENV_PREFIX) else ENV_PREFIX + name


def describe_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(variable, reason) per error, never the offending value (it may be a secret). A problem inside a
    list or mapping value names the item in the reason: `HELPDESK_SERVQUAL_WEIGHTS: speed: …`."""
    nested = {
        name
        for name, info in Settings.model_fields.items()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)
    }
    described = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = tuple(f"item {part + 1}" if isinstance(part, int) else str(part) for part in error["loc"])
        depth = 2 if loc and loc[0] in nested and len(loc) > 1 else 1
        variable, inside = loc[:depth], [part for part in loc[depth:] if part != "[key]"]
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "not a known setting"
            variable, inside = loc, []
        if inside:
            reason = f"{'.'.join(inside)}: {reason}"
        name = env_name(variable)
        example = _EXAMPLES[name]
        if example and "e.g." not in reason and error["type"] != "extra_forbidden":
            reason = f"{reason} (e.g. {name}={example})"
        described.append((name, reason))
    return described


_EXAMPLE_OVERRIDES = {
    f"{ENV_PREFIX}BACKFILL_START": "2025-01-01",
    f"{ENV_PREFIX}HOLIDAY_COUNTRY": "NL",
    f"{ENV_PREFIX}CLOSED_DATES": "2026-12-24,2026-12-31",
    f"{ENV_PREFIX}CSAT_POSITIVE_THRESHOLD": "4",
    f"{ENV_PREFIX}CAPACITY_CONTACTS_PER_AGENT_HOUR": "6",
    f"{ENV_PREFIX}SOURCES": "hubspot,aircall",
    f"{ENV_PREFIX}SERVICE_COST_MONTHLY": "40000",
}


class _Examples(dict[str, str]):
    """A valid value per variable for error messages: its default, or a typical value where it has none."""

    def __missing__(self, name: str) -> str:
        docs = {doc.env: doc for doc in iter_setting_docs()}
        self.update({env: doc.default for env, doc in docs.items() if doc.default and not doc.secret})
        self.update(_EXAMPLE_OVERRIDES)
        return dict.get(self, name, "")


_EXAMPLES = _Examples()


@dataclass(frozen=True)
class SettingDoc:
    """One row of the configuration table."""

    env: str
    default: str
    description: str
    secret: bool


def _format_default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    else:
        value = info.default
    return _show(value, empty="")


def _show(value: Any, *, empty: str) -> str:
    """A setting's value the way an admin would type it into the environment."""
    if value is None or value == [] or value == {}:
        return empty
    if isinstance(value, dict):
        return ",".join(f"{getattr(k, 'value', k)}={v:g}" for k, v in value.items()) or empty
    if isinstance(value, list):
        items = [str(getattr(v, "value", v)) for v in value]
        return f"{items[0]}…{items[-1]} (all {len(items)})" if len(items) > 6 else ",".join(items)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, timedelta):
        return str(TypeAdapter(timedelta).dump_python(value, mode="json"))
    return str(value)


def iter_setting_docs(model: type[BaseModel] = Settings, loc: tuple[str, ...] = ()) -> Iterator[SettingDoc]:
    """Every leaf setting with its variable name, default and description (the README table)."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from iter_setting_docs(annotation, (*loc, name))
            continue
        secret = "SecretStr" in str(annotation)
        yield SettingDoc(env_name((*loc, name)), _format_default(info), info.description or "", secret)


def effective_settings(settings: Settings) -> Iterator[tuple[str, str]]:
    """(variable, value shown to a person) for every leaf setting; secrets masked, DB passwords hidden."""

    def walk(model: BaseModel, loc: tuple[str, ...]) -> Iterator[tuple[str, str]]:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel):
                yield from walk(value, (*loc, name))
                continue
            if isinstance(value, SecretStr):
                shown = "********** (set)" if value.get_secret_value() else "(empty)"
            elif name == "database_url" and not loc:
                shown = make_url(value).render_as_string(hide_password=True)
            else:
                shown = _show(value, empty="(not set)")
            yield env_name((*loc, name)), shown

    yield from walk(settings, ())
