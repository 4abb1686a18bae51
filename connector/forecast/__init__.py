"""Looking ahead: contacts per hour for the coming weeks (`model`, learnt from `history`), and the agents
they need against the agents there are (`staffing`, calls by Erlang C: `erlang`); `report` prints them.

    >>> outlook = plan(store, settings, weeks=4)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from connector.calendar import BusinessCalendar
from connector.errors import ConfigError
from connector.forecast.history import ContactHistory, read_history
from connector.forecast.model import Forecast, forecast
from connector.forecast.staffing import StaffingHour, StaffingTargets, staffing_plan
from connector.settings import Settings
from connector.store import Store


@dataclass(frozen=True)
class Outlook:
    history: ContactHistory
    forecast: Forecast
    hours: list[StaffingHour]
    targets: StaffingTargets


def plan(store: Store, settings: Settings, *, weeks: int = 4, now: datetime | None = None) -> Outlook:
    """The `weeks` weeks from the desk's next local midnight, learnt from the
    `HELPDESK_FORECAST_HISTORY_WEEKS` weeks before today."""
    if weeks < 1:
        raise ValueError("forecast at least one week")
    if not 0 < settings.call_service_level_target < 100:
        raise ConfigError(
            "HELPDESK_CALL_SERVICE_LEVEL_TARGET must be above 0 and below 100 % to staff for it"
        )
    today = (now or datetime.now(settings.zone)).astimezone(settings.zone).date()
    history = read_history(store, settings, today - timedelta(weeks=settings.forecast_history_weeks), today)
    calendar = BusinessCalendar.from_settings(settings)
    # the history ends at today's midnight: today is forecast too, but not shown
    ahead = forecast(history, 24 + weeks * 168, calendar.is_closed).later(24)
    targets = StaffingTargets(
        answer_seconds=settings.call_service_level_seconds,
        service_level=settings.call_service_level_target / 100,
        max_occupancy=settings.max_occupancy / 100,
        assumed_ticket_seconds=settings.ticket_handle_seconds,
    )
    return Outlook(history, ahead, staffing_plan(ahead, history, calendar, targets), targets)
