"""A deterministic service-desk world for the offline sandbox.

Every record is a pure function of (seed, kind, index): ticket 17 of seed 7 is the same on every machine
and every run, and any record can be produced on its own, so a world of millions of tickets needs no
memory until someone asks for it. Only indexes that must be sorted (search by modification date) are
materialised, as compact arrays.

People exist once and appear in every vendor under the same email, as in real portals: agent `n` is
HubSpot owner `n`, and its email is the same in LiveAgent and Aircall.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from connector.sandbox.themes import LANGUAGES, OTHER, ThemedText, write, write_note

FIRST_NAMES = (
    "Anna",
    "Bram",
    "Chloé",
    "Daan",
    "Emma",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jens",
    "Kim",
    "Lotte",
)
LAST_NAMES = (
    "de Vries",
    "Jansen",
    "Martin",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "Bos",
)
FOLLOW_UP_SHARE = 0.15
"""Share of tickets that are a customer's follow-up on a recent ticket of the same category."""
FOLLOW_UP_DAYS = 5
CATEGORIES = ("billing", "account", "delivery", "how-to", "technical", "complaint")
CATEGORY_THEMES = {
    "billing": ("invoice", "refund"),
    "account": ("login", "cancel_subscription", "address_change"),
    "delivery": ("late_delivery", "address_change", "damaged"),
    "how-to": (OTHER, "cancel_subscription", "app_crash"),
    "technical": ("app_crash", "login"),
    "complaint": ("damaged", "late_delivery", "refund"),
}
"""The themes a ticket of each category is written from (a desk's categories are coarser than its topics,
and a complaint can be about anything)."""
CALL_NOTE_SHARE = 0.6
"""Share of answered calls an agent writes a note on."""
CHANNELS = ("EMAIL", "CHAT", "PHONE", "FORM")
PRIORITIES = ("LOW", "MEDIUM", "HIGH", "URGENT")
TEAMS = ("Tier 1", "Tier 2", "Billing")
MISSED_REASONS = (
    "abandoned_in_classic",
    "short_abandoned",
    "no_available_agent",
    "agents_did_not_answer",
    "out_of_opening_hours",
    "abandoned_in_ivr",
)
CALL_TAGS = ("billing", "delivery", "vip", "callback")
DEPARTMENTS = ("Support NL", "Support BE", "Social")
LIVEAGENT_CHANNELS = ("E", "C", "F", "T", "M")
"""LiveAgent's channel codes the world's conversations come in by: email, chat (contact button), Facebook,
Twitter, contact form."""


@dataclass(frozen=True)
class WorldAgent:
    index: int
    first_name: str
    last_name: str
    email: str
    team: str
    created_at: datetime


@dataclass(frozen=True)
class WorldCall:
    index: int
    direction: str
    status: str
    missed_call_reason: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    agent_index: int | None
    customer_index: int
    tags: tuple[str, ...]
    note: ThemedText | None = None
    """The agent's note on an answered call (Aircall's comment, HubSpot's `hs_call_body`), if written."""


@dataclass(frozen=True)
class WorldConversation:
    """A LiveAgent ticket: a conversation with its messages, assignments and transfers."""

    index: int
    code: str
    subject: str
    channel_type: str
    status: str
    department_index: int
    agent_index: int | None
    customer_index: int
    tags: tuple[str, ...]
    created_at: datetime
    changed_at: datetime
    resolved_at: datetime | None
    """The final resolution."""
    first_resolved_at: datetime | None
    """Earlier than `resolved_at` when the customer reopened the ticket."""
    messages: tuple[tuple[str, datetime, int | None], ...]
    """(author: 'customer' | 'agent' | 'system', time, agent index) in time order."""
    assignments: tuple[tuple[int, int | None, datetime, datetime | None], ...]
    """(department index, agent index, from, to): a second row is a transfer."""
    notes: tuple[tuple[datetime, int], ...] = ()
    """Internal notes (time, agent index): agents writing to each other, never seen by the customer."""
    description: str = ""
    """The customer's first message."""


@dataclass(frozen=True)
class WorldCustomer:
    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    created_at: datetime
    customer_since: datetime | None
    churned_at: datetime | None
    acquisition_source: str
    modified_at: datetime


@dataclass(frozen=True)
class WorldSurvey:
    index: int
    kind: str  # NPS, CSAT, CES
    value: int
    submitted_at: datetime
    customer_index: int
    ticket_index: int


@dataclass(frozen=True)
class WorldDeal:
    index: int
    customer_index: int
    amount: float
    closed_at: datetime
    won: bool


@dataclass(frozen=True)
class WorldTicket:
    index: int
    subject: str
    description: str
    """The customer's first message (HubSpot's `content`)."""
    theme: str
    """What the customer wrote about (`connector.sandbox.themes`): the truth topic tests compare with."""
    language: str
    channel: str
    priority: str
    category: str
    owner_index: int | None
    created_at: datetime
    first_reply_at: datetime | None
    closed_at: datetime | None
    modified_at: datetime

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class World:
    """The sandbox's data: `size` tickets over the year before `end`, and the people behind them."""

    def __init__(self, seed: int = 1, size: int = 1000, *, end: datetime | None = None) -> None:
        self.seed = seed
        self.size = size
        self.end = end or datetime(2026, 11, 1, tzinfo=UTC)
        self.start = self.end - timedelta(days=365)
        self.agent_count = max(3, min(150, size // 200 + 3))

    @cached_property
    def _busy_hours(self) -> list[float]:
        """Cumulative weight of each hour of the year: office hours in Amsterdam (weekdays 08-18) are five
        times as busy as the rest, so contacts cluster where a real desk gets them."""
        zone = ZoneInfo("Europe/Amsterdam")
        total, cumulative = 0.0, []
        hours = int((self.end - self.start).total_seconds() // 3600)
        for hour in range(hours):
            local = (self.start + timedelta(hours=hour)).astimezone(zone)
            total += 5.0 if local.weekday() < 5 and 8 <= local.hour < 18 else 1.0
            cumulative.append(total)
        return cumulative

    def moment(self, share: float) -> datetime:
        """The instant a `share` (0..1) of the year's traffic has arrived by: monotonic in `share`, so
        records generated in index order stay in time order."""
        cumulative = self._busy_hours
        target = share * cumulative[-1]
        hour = bisect_left(cumulative, target)
        before = cumulative[hour - 1] if hour else 0.0
        fraction = (target - before) / (cumulative[hour] - before)
        return self.start + timedelta(hours=hour + fraction)

    def _rng(self, kind: str, index: int) -> random.Random:
        digest = hashlib.blake2b(f"{self.seed}:{kind}:{index}".encode(), digest_size=8).digest()
        return random.Random(int.from_bytes(digest, "big"))  # noqa: S311  (reproducible data, not secrets)

    def _arrival(self, kind: str, index: int, count: int) -> tuple[random.Random, datetime]:
        """Record `index` of `count` of one kind: its own random stream and its moment, the records spread
        over the year's traffic in index order."""
        rng = self._rng(kind, index)
        return rng, self.moment((index + rng.random()) / count)

    def agent(self, index: int) -> WorldAgent:
        rng = self._rng("agent", index)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first.lower().replace('é', 'e')}.{last.lower().replace(' ', '')}.{index}@example.com"
        created = self.start - timedelta(days=rng.randint(30, 900))
        return WorldAgent(index, first, last, email, TEAMS[index % len(TEAMS)], created)

    def ticket(self, index: int) -> WorldTicket:
        """Ticket `index`: created in index order over the year, answered and closed after plausible
        delays, modified at its last event (bulk updates are layered on top by the fault switches)."""
        rng, created = self._arrival("ticket", index, self.size)
        category = rng.choice(CATEGORIES)
        replied = created + timedelta(seconds=rng.expovariate(1 / 7200)) if rng.random() < 0.93 else None
        closed = None
        if replied is not None and rng.random() < 0.85:
            closed = replied + timedelta(seconds=rng.expovariate(1 / 86400))
        last_event = max(t for t in (created, replied, closed) if t is not None)
        modified = last_event + timedelta(seconds=rng.randint(0, 600))
        owner = rng.randrange(self.agent_count) if replied is not None else None
        text = self.customer_text("ticket", index, category)
        return WorldTicket(
            index=index,
            subject=text.subject,
            description=text.message,
            theme=text.theme,
            language=text.language,
            channel=rng.choice(CHANNELS),
            priority=rng.choices(PRIORITIES, weights=(30, 45, 20, 5))[0],
            category=category,
            owner_index=owner,
            created_at=created,
            first_reply_at=replied,
            closed_at=closed,
            modified_at=modified,
        )

    def customer_text(self, kind: str, index: int, category: str) -> ThemedText:
        """The subject and first message of ticket or conversation `index`: a theme its category suggests
        (`CATEGORY_THEMES`), Dutch or English alike. A random stream of its own, so the texts leave every
        other property of the world as it was."""
        rng = self._rng(f"{kind}-text", index)
        language = rng.choice(LANGUAGES)
        return write(rng, rng.choice(CATEGORY_THEMES[category]), language)

    def ticket_customer(self, index: int) -> int:
        """The customer behind ticket `index`. Customers take turns (a stride coprime with their count),
        except for follow-ups: one ticket in `FOLLOW_UP_SHARE` comes from the customer of a ticket about
        the same category filed up to `FOLLOW_UP_DAYS` before it — the repeat contacts of K08. A follow-up
        only follows a first contact, so the chain is one step long."""
        first = index * 7919 % self.customer_count
        if not self._is_follow_up(index):
            return first
        ticket = self.ticket(index)
        for earlier in range(index - 1, -1, -1):
            before = self.ticket(earlier)
            if ticket.created_at - before.created_at > timedelta(days=FOLLOW_UP_DAYS):
                break
            if before.category == ticket.category and not self._is_follow_up(earlier):
                return earlier * 7919 % self.customer_count
        return first

    def _is_follow_up(self, index: int) -> bool:
        return self._rng("ticket-follow-up", index).random() < FOLLOW_UP_SHARE

    @property
    def call_count(self) -> int:
        """Calls scale with tickets: one call per ticket."""
        return self.size

    @property
    def customer_count(self) -> int:
        return max(10, self.size // 4)

    def call(self, index: int) -> WorldCall:
        """Call `index`, started in index order over the year: mostly answered inbound calls, with
        missed ones (and their reasons, short abandons among them) and some outbound calls."""
        rng, started = self._arrival("call", index, self.call_count)
        direction = "outbound" if rng.random() < 0.15 else "inbound"
        answered_by = rng.randrange(self.agent_count)
        if direction == "inbound" and rng.random() < 0.2:
            reason = rng.choice(MISSED_REASONS)
            wait = rng.uniform(1, 9) if reason == "short_abandoned" else rng.uniform(10, 240)
            answered, ended, agent = None, started + timedelta(seconds=wait), None
        else:
            reason, agent = None, answered_by
            answered = started + timedelta(seconds=rng.expovariate(1 / 25))
            ended = answered + timedelta(seconds=rng.expovariate(1 / 300))
        tags = tuple(sorted(rng.sample(CALL_TAGS, k=rng.choice((0, 0, 1, 2)))))
        return WorldCall(
            index,
            direction,
            "done",
            reason,
            started,
            answered,
            ended,
            agent,
            rng.randrange(self.customer_count),
            tags,
            self.call_note(index) if answered is not None else None,
        )

    def call_note(self, index: int) -> ThemedText | None:
        """The note an agent wrote on answered call `index` (`CALL_NOTE_SHARE` of them get one): a theme
        of a random category's, Dutch or English alike; a random stream of its own, as `customer_text`."""
        rng = self._rng("call-note", index)
        if rng.random() >= CALL_NOTE_SHARE:
            return None
        return write_note(rng, rng.choice(CATEGORY_THEMES[rng.choice(CATEGORIES)]), rng.choice(LANGUAGES))

    def customer(self, index: int) -> WorldCustomer:
        """Customer `index`: the same person (email, phone) in HubSpot, LiveAgent and Aircall."""
        rng = self._rng("customer", index)
        created = self.start - timedelta(days=rng.randint(0, 1500))
        since = created + timedelta(days=rng.randint(0, 60)) if rng.random() < 0.8 else None
        churned = None
        if since is not None and rng.random() < 0.12:
            churned = max(since + timedelta(days=30), self.start) + timedelta(days=rng.randint(0, 330))
        source = rng.choices(
            ("ORGANIC_SEARCH", "REFERRALS", "PAID_SEARCH", "DIRECT_TRAFFIC"), weights=(4, 2, 3, 3)
        )[0]
        last = max(t for t in (created, since, churned) if t is not None)
        return WorldCustomer(
            index=index,
            first_name=f"Customer{index}",
            last_name="Example",
            email=f"customer{index}@example.org",
            phone=f"+316{index:08d}",
            company=f"Company {index % 97}",
            created_at=created,
            customer_since=since,
            churned_at=churned,
            acquisition_source=source,
            modified_at=last + timedelta(seconds=rng.randint(0, 86400)),
        )

    @property
    def survey_count(self) -> int:
        return max(1, self.size // 5)

    def survey(self, index: int) -> WorldSurvey:
        rng = self._rng("survey", index)
        kind = rng.choices(("CSAT", "NPS", "CES"), weights=(5, 3, 2))[0]
        value = {
            "CSAT": rng.choices(range(1, 6), weights=(1, 1, 2, 4, 5))[0],
            "NPS": rng.choices(range(11), weights=(1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 5))[0],
            "CES": rng.randint(1, 7),
        }[kind]
        ticket_index = rng.randrange(self.size)
        submitted = self.ticket(ticket_index).created_at + timedelta(days=rng.uniform(0.1, 3))
        return WorldSurvey(index, kind, value, submitted, rng.randrange(self.customer_count), ticket_index)

    @property
    def deal_count(self) -> int:
        return max(1, self.size // 10)

    def deal(self, index: int) -> WorldDeal:
        rng, closed = self._arrival("deal", index, self.deal_count)
        return WorldDeal(
            index,
            rng.randrange(self.customer_count),
            round(rng.uniform(50, 5000), 2),
            closed,
            rng.random() < 0.7,
        )

    @property
    def conversation_count(self) -> int:
        """LiveAgent carries the chat, social and part of the email traffic: half as many as HubSpot."""
        return max(1, self.size // 2)

    def conversation(self, index: int) -> WorldConversation:
        rng, created = self._arrival("conversation", index, self.conversation_count)
        channel = rng.choice(LIVEAGENT_CHANNELS)
        department = 2 if channel in ("F", "T") else rng.randrange(2)
        agent = rng.randrange(self.agent_count)
        messages: list[tuple[str, datetime, int | None]] = [("customer", created, None)]
        moment = created
        for _ in range(rng.randint(1, 4)):
            moment += timedelta(seconds=rng.expovariate(1 / 1800))
            messages.append(("agent", moment, agent))
            if rng.random() < 0.5:
                moment += timedelta(seconds=rng.expovariate(1 / 3600))
                messages.append(("customer", moment, None))
        resolved = first_resolved = None
        if rng.random() < 0.8:
            moment += timedelta(seconds=rng.randint(60, 7200))
            resolved = first_resolved = moment
            messages.append(("system", moment, None))
            if rng.random() < 0.1:  # the customer writes again: reopened, answered, resolved once more
                moment += timedelta(seconds=rng.randint(3600, 3 * 86400))
                messages.append(("customer", moment, None))
                moment += timedelta(seconds=rng.expovariate(1 / 1800))
                messages.append(("agent", moment, agent))
                moment += timedelta(seconds=rng.randint(60, 7200))
                resolved = moment
                messages.append(("system", moment, None))
        extra = self._rng("conversation-extra", index)  # its own stream: the draws above stay as they were
        unanswered = extra.random() < 0.05
        if unanswered:  # nobody has replied yet: the customer's message only, still open
            messages, resolved, first_resolved = messages[:1], None, None
            moment = created + timedelta(seconds=extra.randint(1800, 7200))
        notes: list[tuple[datetime, int]] = []
        if unanswered or extra.random() < 0.2:
            notes.append((created + timedelta(seconds=extra.randint(60, 1200)), agent))
        assignments: list[tuple[int, int | None, datetime, datetime | None]] = []
        if unanswered or rng.random() < 0.15:  # transferred once, to another department and agent
            handover = created + (moment - created) / 2
            assignments.append((department, agent, created, handover))
            department, agent = (department + 1) % 3, (agent + 1) % self.agent_count
            assignments.append((department, agent, handover, resolved))
        else:
            assignments.append((department, agent, created, resolved))
        tags = tuple(
            sorted(
                rng.sample(
                    ("complaint", "positive", "negative", "technical", "vip"), k=rng.choice((0, 1, 1, 2))
                )
            )
        )
        text = self.customer_text("conversation", index, rng.choice(CATEGORIES))
        return WorldConversation(
            index=index,
            code=f"{chr(65 + index % 26)}{index:05d}-LA",
            subject=text.subject,
            description=text.message,
            channel_type=channel,
            status="R" if resolved else ("N" if unanswered else rng.choice(("C", "A", "N", "W"))),
            department_index=department,
            agent_index=agent,
            customer_index=rng.randrange(self.customer_count),
            tags=tags,
            created_at=created,
            changed_at=moment + timedelta(seconds=rng.randint(0, 300)),
            resolved_at=resolved,
            first_resolved_at=first_resolved,
            messages=tuple(messages),
            assignments=tuple(assignments),
            notes=tuple(notes),
        )

    @cached_property
    def call_starts(self) -> array[int]:
        """Each call's start in UNIX seconds. Calls start in index order, so this is sorted."""
        return array("q", (int(self.call(i).started_at.timestamp()) for i in range(self.call_count)))
