"""Contacts per hour for the coming weeks, with a prediction interval, checked against a baseline.

Each channel group is one hourly series. The model is Nixtla's `statsforecast` MSTL: the series is split
into a daily (24 h) and a weekly (168 h) seasonal pattern and a trend (LOESS), the trend is forecast by
exponential smoothing (AutoETS) and the patterns are repeated. The baseline is the seasonal-naive forecast:
each hour as the same hour a week earlier. A backtest forecasts each of the last `BACKTEST_WEEKS` weeks of
the history from the weeks before it, with both, and scores them by MASE (mean absolute error over the
in-sample error of the weekly naive forecast: below 1 beats repeating last week on the training data).
A series gets the model's forecast only where the model scored better than the baseline; elsewhere the
baseline's, and the report says which.

Closed days (public holidays of `HELPDESK_HOLIDAY_COUNTRY`, `HELPDESK_CLOSED_DATES`) break the weekly
pattern, so in the history each of their hours is replaced by the same hour a week earlier before fitting,
and their forecast is the pattern's forecast × the share of the usual volume that came on the history's
closed days (1 without any).

`statsforecast` is an optional extra (`pip install '.[forecast]'`): it brings pandas, scipy and statsmodels.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from connector.errors import ConfigError
from connector.forecast.history import ContactHistory

WEEK = 168
DAY = 24
BACKTEST_WEEKS = 2
MIN_HISTORY_WEEKS = BACKTEST_WEEKS + 2
"""The model needs two weeks of every weekly pattern to fit, and the backtest holds out two more."""
LEVEL = 80
"""The prediction interval: 80 % of the hours should fall within it if the model is right."""
MODEL = "MSTL"
BASELINE = "SeasonalNaive"


@dataclass(frozen=True)
class SeriesForecast:
    """One channel group's forecast: `mean`, `low` and `high` (the 80 % interval) per hour."""

    group: str
    method: str
    """`MSTL`, or `SeasonalNaive` where the model did not beat it in the backtest."""
    mean: list[float]
    low: list[float]
    high: list[float]
    model_mase: float | None
    baseline_mase: float | None
    """The backtest scores (None: the history was too short to hold weeks out)."""
    closed_day_share: float


@dataclass(frozen=True)
class Forecast:
    start: datetime
    """The first forecast hour (naive, the desk's wall clock)."""
    hours: int
    series: dict[str, SeriesForecast] = field(default_factory=dict)

    def hour(self, index: int) -> datetime:
        return self.start + timedelta(hours=index)

    def later(self, skip: int) -> Forecast:
        """The same forecast from `skip` hours on."""
        return Forecast(
            self.start + timedelta(hours=skip),
            self.hours - skip,
            {
                group: replace(s, mean=s.mean[skip:], low=s.low[skip:], high=s.high[skip:])
                for group, s in self.series.items()
            },
        )


def require_statsforecast() -> None:
    if importlib.util.find_spec("statsforecast") is None:
        raise ConfigError(
            "the forecast needs the optional `forecast` extra: pip install 'helpdesk-kpi-connector[forecast]'"
        )


def forecast(history: ContactHistory, hours: int, is_closed: Callable[[date], bool]) -> Forecast:
    """Every channel group of `history`, `hours` hours on from its end."""
    require_statsforecast()
    if history.hours < MIN_HISTORY_WEEKS * WEEK:
        raise ConfigError(
            f"the forecast needs at least {MIN_HISTORY_WEEKS} weeks of history; "
            f"{history.hours // DAY} days were given"
        )
    if not history.counts:
        raise ConfigError(
            f"no contacts to learn from in the {history.hours // DAY} days of history "
            f"from {history.start:%Y-%m-%d}"
        )
    closed = [is_closed((history.start + timedelta(hours=i)).date()) for i in range(history.hours)]
    ahead_closed = [is_closed((history.end + timedelta(hours=i)).date()) for i in range(hours)]
    prepared = {group: _without_closed_days(counts, closed) for group, counts in history.counts.items()}
    frame = _frame(history.start, prepared)
    fitted = _fit(frame, hours)
    scores = _backtest(frame)
    result = Forecast(history.end, hours)
    for group, counts in history.counts.items():
        share = _closed_day_share(counts, prepared[group], closed)
        model_score, baseline_score = scores.get(group, (None, None))
        beaten = model_score is not None and baseline_score is not None and model_score < baseline_score
        method = MODEL if beaten else BASELINE
        mean, low, high = fitted[group][method]
        scale = [share if ahead_closed[i] else 1.0 for i in range(hours)]
        result.series[group] = SeriesForecast(
            group=group,
            method=method,
            mean=[max(v, 0.0) * s for v, s in zip(mean, scale, strict=True)],
            low=[max(v, 0.0) * s for v, s in zip(low, scale, strict=True)],
            high=[max(v, 0.0) * s for v, s in zip(high, scale, strict=True)],
            model_mase=model_score,
            baseline_mase=baseline_score,
            closed_day_share=share,
        )
    return result


def _without_closed_days(counts: list[int], closed: list[bool]) -> list[float]:
    """The hours of closed days replaced by the same hour a week earlier (or later, in the first week)."""
    values = [float(v) for v in counts]
    for i, shut in enumerate(closed):
        if shut:
            usual = [j for j in (i - WEEK, i - 2 * WEEK, i + WEEK, i + 2 * WEEK) if 0 <= j < len(values)]
            source = next((j for j in usual if not closed[j]), None)
            if source is not None:
                values[i] = values[source]
    return values


def _closed_day_share(counts: list[int], usual: list[float], closed: list[bool]) -> float:
    """Contacts on the history's closed days / what the weekly pattern expected then; 1 without any."""
    came = sum(c for c, shut in zip(counts, closed, strict=True) if shut)
    expected = sum(u for u, shut in zip(usual, closed, strict=True) if shut)
    return came / expected if expected else 1.0


def _frame(start: datetime, series: dict[str, list[float]]) -> Any:
    import pandas as pd

    frames = [
        pd.DataFrame(
            {"unique_id": group, "ds": pd.date_range(start, periods=len(values), freq="h"), "y": values}
        )
        for group, values in series.items()
    ]
    return pd.concat(frames, ignore_index=True)


def _engine() -> Any:
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    return StatsForecast(
        models=[
            MSTL(season_length=[DAY, WEEK], trend_forecaster=AutoETS(model="ZZN"), alias=MODEL),
            SeasonalNaive(season_length=WEEK, alias=BASELINE),
        ],
        freq="h",
        n_jobs=1,
    )


def _fit(frame: Any, hours: int) -> dict[str, dict[str, tuple[list[float], list[float], list[float]]]]:
    """Per group and method: (mean, low, high) for `hours` hours after the history (`_frame`)."""
    predicted = _engine().forecast(df=frame, h=hours, level=[LEVEL])
    out: dict[str, dict[str, tuple[list[float], list[float], list[float]]]] = {}
    for group, rows in predicted.groupby("unique_id", sort=False):
        rows = rows.sort_values("ds")
        out[str(group)] = {
            method: (
                rows[method].tolist(),
                rows[f"{method}-lo-{LEVEL}"].tolist(),
                rows[f"{method}-hi-{LEVEL}"].tolist(),
            )
            for method in (MODEL, BASELINE)
        }
    return out


def _backtest(frame: Any) -> dict[str, tuple[float, float]]:
    """Per group of the history (`_frame`): (model MASE, baseline MASE) over the last `BACKTEST_WEEKS`
    weeks, each forecast from the weeks before it; the scale is the training part's weekly-naive error."""
    from utilsforecast.losses import mase

    validated = _engine().cross_validation(df=frame, h=WEEK, n_windows=BACKTEST_WEEKS, step_size=WEEK)
    scores: dict[str, list[tuple[float, float]]] = {}
    for cutoff, window in validated.groupby("cutoff"):
        train = frame[frame["ds"] <= cutoff]
        scored = mase(window.drop(columns="cutoff"), [MODEL, BASELINE], seasonality=WEEK, train_df=train)
        for _, row in scored.iterrows():
            scores.setdefault(str(row["unique_id"]), []).append((float(row[MODEL]), float(row[BASELINE])))
    return {
        group: (sum(m for m, _ in pairs) / len(pairs), sum(b for _, b in pairs) / len(pairs))
        for group, pairs in scores.items()
        if all(m == m and b == b for m, b in pairs)  # NaN: a series the naive forecast fits exactly
    }
