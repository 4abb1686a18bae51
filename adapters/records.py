"""Common records from a vendor's values: the record itself (`source` and `source_id` filled in, the
schema's refusal named field by field), a person as a contact, plain text from markup, instants from
epoch numbers. Each adapter's mapping reads its vendor's keys and hands the values to these."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, TypeVar

from pydantic import ValidationError

from connector.errors import RecordValidationError
from connector.schema import Agent, Contact, SourceRecord

log = logging.getLogger(__name__)

S = TypeVar("S", bound=SourceRecord)


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(markup: str) -> str:
    """The text of a message that may hold HTML (tags dropped, entities decoded, whitespace collapsed);
    plain text comes back as it was, but for the whitespace."""
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def build(vendor: str, model: type[S], source_id: str, values: dict[str, Any]) -> S:
    """The common record `vendor:source_id` from mapped values (`source` and `source_id` filled in here);
    a value the schema refuses becomes a `RecordValidationError` naming the vendor, the entity, the record
    and each field."""
    try:
        return model(source=vendor, source_id=source_id, **values)
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in e["loc"]) or "record", e["msg"]) for e in exc.errors()]
        raise RecordValidationError(f"{vendor} {model.entity} {source_id}", problems) from exc


def build_person(
    vendor: str, source_id: str, names: tuple[Any, Any], emails: list[Any], phones: list[Any], **more: Any
) -> Contact:
    """A contact from a vendor's person: the first and last of `names` joined (None when both are
    empty), the first of `emails` and of `phones`, and `more` values (`build_contact`)."""
    name = " ".join(str(p) for p in names if p) or None
    values = {"name": name, "email": emails[0] if emails else None, "phone": phones[0] if phones else None}
    return build_contact(vendor, source_id, values | more)


def build_agent(
    vendor: str, source_id: str, name: Any, email: Any, teams: list[str], *, active: bool, **more: Any
) -> Agent:
    """An agent from a vendor's user (an empty email is none), with `more` values (e.g. a role)."""
    values = {"name": name, "email": email or None, "teams": teams, "active": active}
    return build(vendor, Agent, source_id, values | more)


def build_contact(vendor: str, source_id: str, values: dict[str, Any]) -> Contact:
    """A contact whose phone, if it is not a phone number, is kept in `raw` instead of losing the contact."""
    try:
        return build(vendor, Contact, source_id, values)
    except RecordValidationError as exc:
        if values.get("phone") and any(field == "phone" for field, _ in exc.problems):
            log.warning(
                "%s contact %s: phone %r is not a phone number; kept in raw",
                vendor,
                source_id,
                values["phone"],
            )
            return build(
                vendor, Contact, source_id, {**values, "phone": None, "phone_as_given": values["phone"]}
            )
        raise


def epoch_ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def from_epoch_seconds(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)
