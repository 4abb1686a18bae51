"""The common schema (SPEC §3): what every adapter produces and every KPI reads.

Each record except `ServiceCost` names where it came from with `source` (a lowercase slug such as
`hubspot`) and `source_id`; its `id` is always `"{source}:{source_id}"`, and references to other records
(`agent_id`, `contact_id`, `ticket_id`, `call_id`, `referred_by`) hold such ids. Timestamps must carry an
offset and are converted to UTC, so a naive timestamp is an error rather than a silent guess. Fields the
schema does not know are kept in `raw`, never dropped.

Usage:

    >>> t = Ticket(source="liveagent", source_id="7", created_at="2026-01-05T09:00:00+01:00",
    ...            status="open", sla_tier="gold")
    >>> t.id, t.created_at.isoformat(), t.raw
    ('liveagent:7', '2026-01-05T08:00:00+00:00', {'sla_tier': 'gold'})
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

SOURCE_SLUG = r"[a-z0-9][a-z0-9_-]*"
_RECORD_ID = re.compile(rf"^{SOURCE_SLUG}:\S.*$")
_SOCIAL_CHANNEL = re.compile(r"^social:[a-z0-9][a-z0-9_-]*$")


# --- value types -------------------------------------------------------------------------------------


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
"""Timestamps a KPI can use: a period, a business calendar and an epoch in seconds all hold them."""
MAX_NESTING = 32
"""How deep `raw` and other free-form objects may nest."""
INT64 = (-(2**63), 2**63 - 1)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _to_utc(value: datetime) -> datetime:
    """The instant in UTC, refused outside 1970–2100 (year 1 or 9999 with an offset cannot even be
    converted, and nothing KPI-worthy happened then)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside 1970–2100") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"{utc.isoformat()} is outside 1970–2100")
    return utc


def unusable(value: Any) -> str | None:
    """Why a value cannot be stored and computed with — an integer beyond 64 bits, a non-finite number,
    text that is not valid UTF-8 (a lone surrogate), nesting deeper than `MAX_NESTING` — or None. Walks
    lists and objects without recursion, so a hostile depth cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not INT64[0] <= item <= INT64[1]:
                return "an integer beyond 64 bits"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item} is not a finite number"
        elif isinstance(item, Decimal):
            if not item.is_finite():
                return f"{item} is not a finite number"
        elif isinstance(item, str):
            if _SURROGATE.search(item):
                return "text that is not valid UTF-8 (a lone surrogate)"
        elif isinstance(item, dict | list | tuple):
            if depth >= MAX_NESTING:
                return f"nested deeper than {MAX_NESTING} levels"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def _check_record_id(value: str) -> str:
    if not _RECORD_ID.match(value):
        raise ValueError(f"{value!r} is not a record id of the form 'source:source_id'")
    return value


def _check_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or "@" in domain or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _check_currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"{value!r} is not a three-letter ISO 4217 currency code")
    return value


def _to_e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            f"{value!r} is not an E.164 phone number (+ country code and digits): {exc}"
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{value!r} is not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timestamp with an offset (`Z` or `+hh:mm`), converted to UTC."""
RecordId = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_record_id)]
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_email)]
PhoneE164 = Annotated[str, AfterValidator(_to_e164)]
"""A phone number in E.164 form; spaces, dashes and brackets in the input are normalised away."""
CurrencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_check_currency)
]
Money = Annotated[
    Decimal, Field(max_digits=18, decimal_places=4), AfterValidator(lambda v: v.quantize(Decimal("0.0001")))
]
"""An amount with at most 4 decimals, kept at exactly 4 so a stored and a fresh value compare equal."""
Seconds = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
"""A count of events on one record (reopens, transfers): the calculator holds them in 32 bits."""


class BaseChannel(StrEnum):
    """Channels with a fixed name; social networks are `social:<network>` (e.g. `social:facebook`)."""

    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    FORM = "form"
    WEB = "web"
    API = "api"
    OTHER = "other"


def _check_channel(value: str) -> str:
    value = value.strip().lower()
    if value in BaseChannel.__members__.values() or _SOCIAL_CHANNEL.match(value):
        return value
    names = ", ".join(c.value for c in BaseChannel)
    raise ValueError(f"unknown channel {value!r}; expected one of {names} or social:<network>")


Channel = Annotated[str, AfterValidator(_check_channel)]


class TicketStatus(StrEnum):
    """Where a ticket stands: `new` (no agent has answered yet), `open` (being worked), `pending` (waiting
    on the customer or a third party), `resolved` (solved; a reopen makes it open again), `closed` (done
    and locked)."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    """A ticket's urgency as its source sets it, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class AuthorType(StrEnum):
    """Who wrote a message: the `customer`, an `agent`, or no one who speaks to the customer (`system`: the
    helpdesk's own events and internal notes; never a reply)."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class CallDirection(StrEnum):
    """`inbound` (a customer calls in), `outbound` (an agent calls out), `internal` (between colleagues, or a
    direction the source does not name; left out of the call KPIs)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallStatus(StrEnum):
    """How a call ended: `answered` by an agent; `abandoned`, the caller hung up before reaching one (K26);
    `voicemail`, a message was left (not an abandon); `missed`, unanswered otherwise."""

    ANSWERED = "answered"
    MISSED = "missed"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"


class SurveyKind(StrEnum):
    """The question a survey answer scores: customer satisfaction (`csat`, K14), net promoter (`nps`, K15),
    customer effort (`ces`, K16), one SERVQUAL item (`servqual`, K17) or the employees' net promoter
    question (`enps`, K15's `enps` stat)."""

    CSAT = "csat"
    NPS = "nps"
    CES = "ces"
    SERVQUAL = "servqual"
    ENPS = "enps"


class ServqualDimension(StrEnum):
    """SERVQUAL's five dimensions of service quality (K17 reports the gap per dimension)."""

    RELIABILITY = "reliability"
    ASSURANCE = "assurance"
    TANGIBLES = "tangibles"
    EMPATHY = "empathy"
    RESPONSIVENESS = "responsiveness"


class ServqualMeasure(StrEnum):
    """A SERVQUAL item asks what the customer `expect`ed or what they `perceive`d; the gap is perception −
    expectation."""

    EXPECTATION = "expectation"
    PERCEPTION = "perception"


def _not_before(anchor: str) -> Callable[[Any, datetime | None, ValidationInfo], datetime | None]:
    """A field validator: the field's timestamp may not precede the `anchor` field's timestamp."""

    def check(cls: Any, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get(anchor)
        if value is not None and start is not None and value < start:
            raise ValueError(f"{value.isoformat()} is before {anchor} ({start.isoformat()})")
        return value

    return check


def _above(anchor: str, note: str = "") -> Callable[[Any, Any, ValidationInfo], Any]:
    """A field validator: the field's value must lie strictly above the `anchor` field's (a scale's top
    above its bottom, a date range's end after its start); `note` follows the error."""

    def check(cls: Any, value: Any, info: ValidationInfo) -> Any:
        low = info.data.get(anchor)
        if value is not None and low is not None and value <= low:
            shown = (
                f"after {anchor} ({low.isoformat()})"
                if isinstance(low, date)
                else f"above {anchor} ({low:g})"
            )
            raise ValueError(f"must be {shown}{note}")
        return value

    return check


# --- records -----------------------------------------------------------------------------------------


class Record(BaseModel):
    """Base of every common record: strict field names, unknown fields moved into `raw`."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, str_strip_whitespace=True)

    entity: ClassVar[str]
    """The snake_case entity name used in JSON Lines `type` keys and table names."""

    if TYPE_CHECKING:  # each concrete base declares `id` after its key fields, so it validates last
        id: str
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("*", mode="after")
    @classmethod
    def _usable(cls, value: Any) -> Any:
        """Values a KPI cannot use are refused at the door, whatever the source (SPEC §3)."""
        problem = unusable(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_fields_in_raw(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = {k: v for k, v in data.items() if k not in cls.model_fields}
        if not unknown or not isinstance(data.get("raw", {}), dict | None):
            return data
        known = {k: v for k, v in data.items() if k in cls.model_fields}
        known["raw"] = {**(data.get("raw") or {}), **unknown}
        return known

    @field_validator("id", check_fields=False)
    @classmethod
    def _id_matches_key(cls, value: str, info: ValidationInfo) -> str:
        try:
            derived = cls._derive_id(info.data)
        except KeyError:  # a key field failed its own validation and is reported there
            return value
        if value and value != derived:
            raise ValueError(f"{value!r} does not match the id derived from the record's key ({derived!r})")
        return derived

    @classmethod
    def _derive_id(cls, data: dict[str, Any]) -> str:
        raise NotImplementedError


class SourceRecord(Record):
    """A record that came from one source system; `id` = `"{source}:{source_id}"`."""

    source: Annotated[str, StringConstraints(pattern=rf"^{SOURCE_SLUG}$")]
    source_id: Annotated[str, StringConstraints(min_length=1)]
    id: str = Field(default="", validate_default=True)

    @classmethod
    def _derive_id(cls, data: dict[str, Any]) -> str:
        return f"{data['source']}:{data['source_id']}"


class Agent(SourceRecord):
    entity: ClassVar[str] = "agent"

    name: str | None = None
    email: Email | None = None
    teams: list[str] = Field(default_factory=list)
    active: bool = True


class Contact(SourceRecord):
    entity: ClassVar[str] = "contact"

    email: Email | None = None
    phone: PhoneE164 | None = None
    name: str | None = None
    company: str | None = None
    created_at: UtcDatetime | None = None
    customer_since: UtcDatetime | None = None
    churned_at: UtcDatetime | None = None
    acquisition_source: str | None = None
    referred_by: RecordId | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    archived: bool = False
    """Deleted (archived) in its source: kept for history, left out of every KPI."""

    _churn_after_start = field_validator("churned_at")(_not_before("customer_since"))


class Ticket(SourceRecord):
    """A support case. `resolved_at` is the final resolution; `first_resolved_at` the first one, which
    differs from it when the ticket was reopened."""

    entity: ClassVar[str] = "ticket"

    subject: str | None = None
    description: str | None = None
    """The customer's first message, as text: what topic discovery reads besides the subject."""
    channel: Channel = BaseChannel.OTHER.value
    status: TicketStatus
    priority: Priority | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    contact_id: RecordId | None = None
    agent_id: RecordId | None = None
    team: str | None = None
    created_at: UtcDatetime
    first_agent_reply_at: UtcDatetime | None = None
    """The first public agent reply (K01 ends here); None while the customer still waits."""
    first_resolved_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    reopen_count: Count = 0
    escalated: bool = False
    escalation_at: UtcDatetime | None = None
    transfer_count: Count = 0
    is_complaint: bool = False
    handle_seconds: Seconds | None = None
    """Agent work time where the source records it; without it K06 estimates first touch → close."""
    updated_at: UtcDatetime | None = None
    archived: bool = False
    """Deleted (archived) in its source: kept for history, left out of every KPI."""

    _after_creation = field_validator(
        "first_agent_reply_at", "first_resolved_at", "resolved_at", "closed_at", "escalation_at", "updated_at"
    )(_not_before("created_at"))
    _final_after_first = field_validator("resolved_at")(_not_before("first_resolved_at"))


class Message(SourceRecord):
    entity: ClassVar[str] = "message"

    ticket_id: RecordId
    author_type: AuthorType
    agent_id: RecordId | None = None
    channel: Channel | None = None
    created_at: UtcDatetime
    is_public: bool = True


class Call(SourceRecord):
    entity: ClassVar[str] = "call"

    direction: CallDirection
    status: CallStatus
    missed_reason: str | None = None
    """The source's reason an unanswered call was not picked up (Aircall's `missed_call_reason`, HubSpot's
    call status), lower case; K26 breaks abandons down by it."""
    started_at: UtcDatetime
    answered_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    wait_seconds: Seconds | None = None
    """Queue time: until an agent answered, or until the call ended unanswered."""
    talk_seconds: Seconds | None = None
    hold_seconds: Seconds | None = None
    wrap_up_seconds: Seconds | None = None
    agent_id: RecordId | None = None
    team: str | None = None
    contact_id: RecordId | None = None
    phone_number: PhoneE164 | None = None
    ticket_id: RecordId | None = None
    notes: str | None = None
    """What agents wrote on the call, as plain text (Aircall's comments oldest first, blank-line-joined;
    HubSpot's `hs_call_body`): words the topic discovery reads alongside the tickets'."""
    updated_at: UtcDatetime | None = None
    archived: bool = False
    """Deleted (archived) in its source: kept for history, left out of every KPI."""

    _after_start = field_validator("answered_at", "ended_at")(_not_before("started_at"))


DEFAULT_SCALES: dict[SurveyKind, tuple[float, float]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.ENPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
    SurveyKind.SERVQUAL: (1, 7),
}
"""Scales assumed when a response does not state its own (NPS is 0-10 by definition; the others are the
most common scales in the seeds). A score outside the scale is rejected, so a wrong guess shows."""


class SurveyResponse(SourceRecord):
    """One answer to a CSAT, NPS, CES, SERVQUAL or eNPS question, on its own scale."""

    entity: ClassVar[str] = "survey_response"

    kind: SurveyKind
    scale_min: float
    scale_max: float
    score: float
    submitted_at: UtcDatetime
    contact_id: RecordId | None = None
    ticket_id: RecordId | None = None
    agent_id: RecordId | None = None
    dimension: ServqualDimension | None = None
    measure: ServqualMeasure | None = Field(default=None, validate_default=True)
    comment: str | None = None
    responded_at: UtcDatetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_scale(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("kind") not in DEFAULT_SCALES:
            return data
        low, high = DEFAULT_SCALES[SurveyKind(data["kind"])]
        filled = dict(data)
        if filled.get("scale_min") is None:
            filled["scale_min"] = low
        if filled.get("scale_max") is None:
            filled["scale_max"] = high
        return filled

    _scale_ordered = field_validator("scale_max")(_above("scale_min"))

    @field_validator("score")
    @classmethod
    def _score_on_scale(cls, value: float, info: ValidationInfo) -> float:
        low, high = info.data.get("scale_min"), info.data.get("scale_max")
        if low is not None and high is not None and not low <= value <= high:
            raise ValueError(f"{value:g} is outside the scale {low:g}-{high:g}")
        return value

    @field_validator("measure")
    @classmethod
    def _servqual_complete(
        cls, value: ServqualMeasure | None, info: ValidationInfo
    ) -> ServqualMeasure | None:
        if info.data.get("kind") == SurveyKind.SERVQUAL and (
            value is None or info.data.get("dimension") is None
        ):
            raise ValueError("a servqual response needs both dimension and measure")
        return value

    _responded_after_submission = field_validator("responded_at")(_not_before("submitted_at"))


class QualityReview(SourceRecord):
    """An internal QA review: criteria scored 0-100 (null = not applicable), weights, critical criteria."""

    entity: ClassVar[str] = "quality_review"

    ticket_id: RecordId | None = None
    call_id: RecordId | None = None
    agent_id: RecordId | None = None
    reviewed_at: UtcDatetime
    criteria: dict[str, Annotated[float, Field(ge=0, le=100)] | None]
    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    critical: list[str] = Field(default_factory=list)

    @field_validator("criteria")
    @classmethod
    def _criteria_present(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        if not value:
            raise ValueError("a review needs at least one criterion")
        return value

    @field_validator("weights", "critical")
    @classmethod
    def _names_are_criteria(cls, value: Any, info: ValidationInfo) -> Any:
        criteria = info.data.get("criteria")
        if criteria is not None:
            unknown = sorted(set(value) - set(criteria))
            if unknown:
                raise ValueError(f"names not among the criteria: {', '.join(unknown)}")
        return value


class Purchase(SourceRecord):
    entity: ClassVar[str] = "purchase"

    contact_id: RecordId | None = None
    amount: Money
    currency: CurrencyCode
    gross_margin: Annotated[float, Field(ge=0, le=1)] | None = None
    occurred_at: UtcDatetime


class ServiceCost(Record):
    """Total cost of the service desk over a half-open date range `[period_start, period_end)`.

    No source: costs come from finance. Keyed by (period_start, period_end, currency); its id is
    `"{period_start}/{period_end}/{currency}"`.
    """

    entity: ClassVar[str] = "service_cost"

    period_start: date
    period_end: date
    amount: Annotated[Money, Field(ge=0)]
    currency: CurrencyCode
    id: str = Field(default="", validate_default=True)

    _end_after_start = field_validator("period_end")(_above("period_start", "; the range is [start, end)"))

    @classmethod
    def _derive_id(cls, data: dict[str, Any]) -> str:
        return f"{data['period_start'].isoformat()}/{data['period_end'].isoformat()}/{data['currency']}"


ENTITIES: dict[str, type[Record]] = {
    model.entity: model
    for model in (Agent, Contact, Ticket, Message, Call, SurveyResponse, QualityReview, Purchase, ServiceCost)
}
"""Every entity of the common schema by its snake_case name, in dependency order."""


def entity_model(type_name: str) -> type[Record]:
    """The model for a JSON Lines `type` value: `survey_response`, `SurveyResponse` and `survey-response`
    all name the same entity."""
    key = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", type_name.strip()).replace("-", "_").lower()
    try:
        return ENTITIES[key]
    except KeyError:
        raise ValueError(f"unknown type {type_name!r}; expected one of {', '.join(ENTITIES)}") from None
