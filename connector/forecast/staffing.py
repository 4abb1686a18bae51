"""Agents needed per hour of the coming weeks, against the agents available.

Per forecast hour in which the desk is open:

- **calls**: Erlang C (`connector.forecast.erlang`) on the forecast inbound calls and the measured mean
  call handle time (K06's call items), for K31's service level (`HELPDESK_CALL_SERVICE_LEVEL_TARGET` %
  within `HELPDESK_CALL_SERVICE_LEVEL_SECONDS`) at most `HELPDESK_MAX_OCCUPANCY` % busy;
- **tickets**: workload = forecast tickets × mean ticket work time (K06's ticket items where a source
  records it, else `HELPDESK_TICKET_HANDLE_SECONDS`) ÷ the maximum occupancy, in agent-hours; tickets
  that arrive while the desk is closed are worked in its next open hour (they queue overnight);
- **needed** = call agents + ticket workload rounded up; **available** = active agents (as K30 counts
  them), all of them in every open hour; **short** / **over** = the difference either way.

Closed hours need and offer no agents. Calls arriving then are not answered live, so they add nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.calendar import BusinessCalendar
from connector.forecast.erlang import agents_needed
from connector.forecast.history import CALLS, TICKETS, ContactHistory
from connector.forecast.model import Forecast


@dataclass(frozen=True)
class StaffingHour:
    start: datetime
    """The hour (naive, the desk's wall clock)."""
    open: bool
    calls: float
    tickets: float
    """Forecast contacts arriving in the hour (mean of the forecast)."""
    call_agents: int
    ticket_workload: float
    """Agent-hours of ticket work to do in the hour (closed-hour arrivals carried in)."""
    needed: int
    available: int

    @property
    def short(self) -> int:
        return max(self.needed - self.available, 0)

    @property
    def over(self) -> int:
        return max(self.available - self.needed, 0)


@dataclass(frozen=True)
class StaffingTargets:
    answer_seconds: float
    service_level: float
    """Share of calls to answer within `answer_seconds` (0–1)."""
    max_occupancy: float
    """0–1."""
    assumed_ticket_seconds: float
    """A ticket's work where no source records it (`HELPDESK_TICKET_HANDLE_SECONDS`)."""


def staffing_plan(
    forecast: Forecast,
    history: ContactHistory,
    calendar: BusinessCalendar,
    targets: StaffingTargets,
) -> list[StaffingHour]:
    """One row per forecast hour. A ticket's handle time is the history's recorded mean, else
    `targets.assumed_ticket_seconds`."""
    call_series = forecast.series.get(CALLS)
    ticket_series = [s for group, s in forecast.series.items() if group.startswith(TICKETS)]
    call_handle = history.call_handle_seconds or 0.0
    ticket_handle = history.ticket_handle_seconds or targets.assumed_ticket_seconds
    rows: list[StaffingHour] = []
    backlog = 0.0
    for i in range(forecast.hours):
        start = forecast.hour(i)
        is_open = _open_during(calendar, start)
        calls = call_series.mean[i] if call_series else 0.0
        tickets = sum(s.mean[i] for s in ticket_series)
        backlog += tickets
        if not is_open:
            rows.append(StaffingHour(start, False, calls, tickets, 0, 0.0, 0, 0))
            continue
        workload = backlog * ticket_handle / 3600 / targets.max_occupancy
        backlog = 0.0
        call_agents = 0
        if calls > 0 and call_handle > 0:
            call_agents = agents_needed(
                calls=calls,
                period_seconds=3600,
                handle_seconds=call_handle,
                answer_seconds=targets.answer_seconds,
                target=targets.service_level,
                max_occupancy=targets.max_occupancy,
            ).agents
        needed = call_agents + math.ceil(workload - 1e-9)
        rows.append(
            StaffingHour(start, True, calls, tickets, call_agents, workload, needed, history.active_agents)
        )
    return rows


def _open_during(calendar: BusinessCalendar, local_hour: datetime) -> bool:
    """Whether the desk is open at any moment of the wall-clock hour."""
    start = local_hour.replace(tzinfo=calendar.zone)
    end = (local_hour + timedelta(hours=1)).replace(tzinfo=calendar.zone)
    return next(iter(calendar.open_intervals(start, end)), None) is not None
