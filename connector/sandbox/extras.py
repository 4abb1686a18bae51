"""What a service desk keeps outside its helpdesk and phone system, for a sandbox world: the desk's
monthly cost (finance), QA reviews of agents (a QA sheet), SERVQUAL and post-chat CSAT answers from
customers (with the desk's follow-ups) and eNPS answers from agents (a survey tool), and customers won
during the year — some referred, some in the loyalty or the education programme (the CRM's own
records). Deterministic for the world's seed and end, as the records the importer reads
(`connector.importer`); the demo imports them, so every KPI of the catalogue has inputs.

    >>> lines = [json.dumps(r) for r in extra_records(world)]
    >>> import_lines(store, lines)
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connector.sandbox.hubspot_objects import ID_BASES
from connector.sandbox.liveagent import _agent_id
from connector.sandbox.world import World

DIMENSIONS = ("reliability", "assurance", "tangibles", "empathy", "responsiveness")
CRITERIA = {"greeting": 1, "accuracy": 3, "tone": 2, "resolution": 3}
"""QA criteria and their weights; `accuracy` is critical (a fail there fails the review)."""
GROWTH = 6
"""New customers a month."""


def extra_records(world: World) -> list[dict[str, Any]]:
    """Every extra record for `world`'s year, month by month."""
    records: list[dict[str, Any]] = []
    for first, following in _months(world):
        rng = _rng(world, first.isoformat())
        records.append(
            {
                "type": "service_cost",
                "period_start": first.isoformat(),
                "period_end": following.isoformat(),
                "amount": str(30_000 + 500 * rng.randint(0, 16)),
                "currency": "EUR",
            }
        )
        start = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
        days = (following - first).days
        records += _reviews(world, rng, start, days)
        records += _servqual(world, rng, start, days)
        records += _enps(world, rng, start, days)
        records += _new_customers(world, rng, start, days)
        records += _post_chat_csat(world, rng, start, days)
    return [r for r in records if world.start <= (_when(r) or world.start) < world.end]  # inside its year


def _months(world: World) -> Iterator[tuple[date, date]]:
    first = world.start.date().replace(day=1)
    while first < world.end.date():
        following = (first + timedelta(days=32)).replace(day=1)
        yield first, following
        first = following


def _rng(world: World, key: str) -> random.Random:
    digest = hashlib.blake2b(f"{world.seed}:extras:{key}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311  (reproducible data, not secrets)


def _at(rng: random.Random, start: datetime, days: int) -> datetime:
    """A working-day moment of the month (10:00-16:00 UTC)."""
    moment = start + timedelta(days=rng.randrange(days), hours=rng.randint(10, 15), minutes=rng.randrange(60))
    return moment if moment.weekday() < 5 else moment - timedelta(days=moment.weekday() - 4)


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _when(record: dict[str, Any]) -> datetime | None:
    text = record.get("reviewed_at") or record.get("submitted_at") or record.get("customer_since")
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _agent(index: int) -> str:
    return f"liveagent:{_agent_id(index)}"


def _customer(index: int) -> str:
    return f"hubspot:{ID_BASES['contacts'] + index}"


def _reviews(world: World, rng: random.Random, start: datetime, days: int) -> list[dict[str, Any]]:
    """Two QA reviews per agent a month, each criterion scored 0-100; a few fail on accuracy."""
    reviews = []
    for agent in range(world.agent_count):
        for n in range(2):
            skill = 70 + 5 * (agent % 4)
            criteria = {name: min(100, max(0, round(rng.gauss(skill, 12)))) for name in CRITERIA}
            if rng.random() < 0.08:
                criteria["accuracy"] = rng.randint(20, 45)
            reviews.append(
                {
                    "type": "quality_review",
                    "source": "qa-sheet",
                    "source_id": f"{start:%Y-%m}-{agent}-{n}",
                    "agent_id": _agent(agent),
                    "reviewed_at": _stamp(_at(rng, start, days)),
                    "criteria": criteria,
                    "weights": CRITERIA,
                    "critical": ["accuracy"],
                }
            )
    return reviews


def _servqual(world: World, rng: random.Random, start: datetime, days: int) -> list[dict[str, Any]]:
    """A dozen customers a month rate expectation and perception on each RATER dimension (1-7):
    expectations run high, perceptions a little lower, empathy lowest."""
    answers = []
    for respondent in rng.sample(range(world.customer_count), min(12, world.customer_count)):
        moment = _stamp(_at(rng, start, days))
        for dimension in DIMENSIONS:
            shortfall = 1.2 if dimension == "empathy" else 0.5
            for measure, mean in (("expectation", 6.2), ("perception", 6.2 - shortfall)):
                score = min(7, max(1, round(rng.gauss(mean, 0.8))))
                answers.append(
                    {
                        "type": "survey_response",
                        "source": "survey-tool",
                        "source_id": f"sq-{start:%Y-%m}-{respondent}-{dimension}-{measure}",
                        "kind": "servqual",
                        "dimension": dimension,
                        "measure": measure,
                        "score": score,
                        "submitted_at": moment,
                        "contact_id": _customer(respondent),
                    }
                )
    return answers


def _enps(world: World, rng: random.Random, start: datetime, days: int) -> list[dict[str, Any]]:
    """Every agent answers the monthly eNPS question (0-10)."""
    return [
        {
            "type": "survey_response",
            "source": "survey-tool",
            "source_id": f"enps-{start:%Y-%m}-{agent}",
            "kind": "enps",
            "score": min(10, max(0, round(rng.gauss(7.5, 1.8)))),
            "submitted_at": _stamp(_at(rng, start, days)),
            "agent_id": _agent(agent),
        }
        for agent in range(world.agent_count)
    ]


def _post_chat_csat(world: World, rng: random.Random, start: datetime, days: int) -> list[dict[str, Any]]:
    """A post-chat survey tool's CSAT answers (1-5), ten a month; the desk follows up on most of the
    unhappy ones and some of the others within two days (`responded_at`)."""
    answers = []
    for n in range(10):
        submitted = _at(rng, start, days)
        score = rng.choices((1, 2, 3, 4, 5), weights=(1, 1, 2, 4, 4))[0]
        record: dict[str, Any] = {
            "type": "survey_response",
            "source": "survey-tool",
            "source_id": f"chat-{start:%Y-%m}-{n}",
            "kind": "csat",
            "score": score,
            "submitted_at": _stamp(submitted),
            "contact_id": _customer(rng.randrange(world.customer_count)),
        }
        if rng.random() < (0.8 if score <= 2 else 0.3):
            record["responded_at"] = _stamp(submitted + timedelta(hours=rng.randint(1, 48)))
        answers.append(record)
    return answers


def _new_customers(world: World, rng: random.Random, start: datetime, days: int) -> list[dict[str, Any]]:
    """Customers won this month: a third referred by an existing customer, some in the loyalty or the
    education programme."""
    customers = []
    for n in range(GROWTH):
        since = _at(rng, start, days)
        referred = rng.random() < 0.33
        record: dict[str, Any] = {
            "type": "contact",
            "source": "crm",
            "source_id": f"new-{start:%Y-%m}-{n}",
            "name": f"New Customer {start:%Y%m}{n}",
            "email": f"new.{start:%Y%m}.{n}@example.org",
            "created_at": _stamp(since - timedelta(days=rng.randint(1, 20))),
            "customer_since": _stamp(since),
            "acquisition_source": "referral" if referred else rng.choice(("organic", "advertising", "event")),
            "attributes": {
                "loyalty_member": rng.random() < 0.4,
                "education_participant": rng.random() < 0.25,
            },
        }
        if referred:
            record["referred_by"] = _customer(rng.randrange(world.customer_count))
        customers.append(record)
    return customers
