"""The forecast against a synthetic history whose true mean is known.

History: 8 weeks (+ 1 holdout week) of 30-minute intervals, a two-peak weekday profile,
weekends at half volume, +2 % a week of exponential trend, Poisson counts around the true
mean.  Bounds, derived here rather than tuned:

* Noise floor: even the true mean ``μ`` misses Poisson actuals by ``E|Y − μ|``, which for a
  Poisson variable is exactly ``2·e^{−μ}·μ^{⌊μ⌋+1}/⌊μ⌋!`` (the mean absolute deviation of
  the Poisson law); ``floor = Σ E|Y − μ| / Σ μ`` is the best WAPE any forecast can expect.
* The model estimates each slot of the week from ``W`` weeks, so its forecast carries a
  variance ``≈ μ/W`` on top of the actual's ``μ``: for near-normal errors the expected
  absolute error scales with the standard deviation, ``floor × √(1 + 1/W)``.  We allow 10 %
  above that for the trend estimate and the normal approximation at small ``μ``.
* Against the true mean itself the expected WAPE is ``Σ √(2μ/(πW)) / Σ μ`` (half-normal
  mean of the estimation error); allowed 25 % more.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from hotline.core.wfm.forecast import (
    Event,
    ForecastError,
    History,
    forecast,
    history_from_rows,
)

PER_DAY = 48
WEEK = 7 * PER_DAY
START = date(2026, 9, 7)  # a Monday
WEEKS = 9  # 8 to fit + 1 held out


def true_mean(n: int, start_week: float = 0.0) -> np.ndarray:
    t = np.arange(n)
    hour = (t % PER_DAY) / 2
    weekday = (t // PER_DAY) % 7
    shape = 0.1 + np.exp(-(((hour - 11) / 2.5) ** 2)) + 0.8 * np.exp(-(((hour - 15.5) / 2.5) ** 2))
    weeks = start_week + t / WEEK
    return 30 * shape * np.where(weekday >= 5, 0.5, 1.0) * np.exp(math.log(1.02) * weeks)


def poisson_mad(mu: np.ndarray) -> np.ndarray:
    """E|Y − μ| for Y ~ Poisson(μ), in log space (no factorial overflow)."""
    k = np.floor(mu)
    log = np.log(2) - mu + (k + 1) * np.log(mu) - np.array([math.lgamma(x + 1) for x in k])
    return np.exp(log)


def history(seed: int = 11, days: int = WEEKS * 7) -> tuple[History, np.ndarray]:
    mean = true_mean(days * PER_DAY)
    calls = np.random.default_rng(seed).poisson(mean).astype(float)
    aht = np.where(calls > 0, 240.0, np.nan)
    return History(START, 30, calls, aht), mean


def wape(forecast_: np.ndarray, actual: np.ndarray) -> float:
    return float(np.abs(forecast_ - actual).sum() / actual.sum())


def test_given_a_seasonal_history_when_backtested_then_wape_is_near_the_poisson_floor() -> None:
    h, mean = history()
    result = forecast(h, horizon_days=7)
    holdout = mean[-WEEK:]
    floor = float(poisson_mad(holdout).sum() / holdout.sum())
    fit_weeks = WEEKS - 1
    bound = 1.10 * floor * math.sqrt(1 + 1 / fit_weeks)
    assert result.backtest is not None
    assert result.backtest.first_day == START + timedelta(weeks=fit_weeks)
    assert result.backtest.wape is not None
    assert floor * 0.9 < result.backtest.wape < bound, (result.backtest.wape, floor, bound)
    # MAPE is over intervals with calls only, and is worse than WAPE on quiet intervals
    assert result.backtest.mape is not None and result.backtest.mape > result.backtest.wape


def test_given_a_seasonal_history_when_forecast_then_it_recovers_the_true_mean() -> None:
    h, _ = history()
    result = forecast(h, horizon_days=7)
    truth = true_mean(WEEK, start_week=WEEKS)
    expected = float(np.sqrt(2 * truth / (math.pi * WEEKS)).sum() / truth.sum())
    assert wape(result.calls, truth) < 1.25 * expected
    assert result.start == START + timedelta(weeks=WEEKS)
    assert len(result.calls) == WEEK
    assert result.trend_per_week == pytest.approx(1.02, abs=0.01)
    # weekday × time of day: a Saturday is half a Monday (5 days of trend later: ×1.014);
    # each day's total rests on ~9 × 300 calls or more, a standard error of ~2.5 %
    saturday = result.calls[5 * PER_DAY : 6 * PER_DAY].sum()
    monday = result.calls[:PER_DAY].sum()
    assert saturday / monday == pytest.approx(0.5 * 1.02 ** (5 / 7), rel=0.08)
    # and the day has its two peaks: 11:00 and 15:30 above 13:00 and far above 03:00
    assert result.calls[22] > result.calls[26] > 3 * result.calls[6]
    assert np.allclose(result.aht, 240.0)


def test_given_an_event_when_forecast_then_its_days_are_multiplied_exactly() -> None:
    h, _ = history()
    first = START + timedelta(weeks=WEEKS, days=1)  # Tuesday and Wednesday of the horizon
    plain = forecast(h, horizon_days=7, holdout_days=0)
    sale = forecast(
        h, horizon_days=7, holdout_days=0, events=[Event(first, first + timedelta(days=1), 1.6)]
    )
    inside = slice(PER_DAY, 3 * PER_DAY)
    np.testing.assert_allclose(sale.calls[inside], 1.6 * plain.calls[inside], rtol=1e-12)
    np.testing.assert_array_equal(sale.calls[:PER_DAY], plain.calls[:PER_DAY])
    np.testing.assert_array_equal(sale.calls[3 * PER_DAY :], plain.calls[3 * PER_DAY :])


def test_given_holidays_when_forecast_then_closed_days_are_zero_and_left_out_of_the_fit() -> None:
    h, _ = history()
    wednesday = START + timedelta(weeks=3, days=2)
    calls = h.calls.copy()
    day = (wednesday - START).days
    calls[day * PER_DAY : (day + 1) * PER_DAY] = 0.0  # the center was closed
    closed = History(START, 30, calls, h.aht)
    holiday_ahead = START + timedelta(weeks=WEEKS, days=4)  # Friday of the horizon
    truth = true_mean(WEEK, start_week=WEEKS)
    wed = slice(2 * PER_DAY, 3 * PER_DAY)

    told = forecast(closed, holidays=[wednesday, holiday_ahead], holdout_days=0)
    untold = forecast(closed, holdout_days=0)

    assert np.all(told.calls[4 * PER_DAY : 5 * PER_DAY] == 0.0)
    # told: Wednesdays are estimated from the 8 open ones; untold: 1 of 9 is 0, so they
    # come out about 1/9 = 11 % low
    assert told.calls[wed].sum() / truth[wed].sum() == pytest.approx(1.0, abs=0.04)
    assert untold.calls[wed].sum() / told.calls[wed].sum() == pytest.approx(8 / 9, abs=0.02)


def test_given_an_event_in_the_history_when_forecast_then_it_does_not_inflate_the_forecast() -> (
    None
):
    h, _ = history()
    day = 4 * 7 + 1  # a Tuesday, 4 weeks in
    calls = h.calls.copy()
    calls[day * PER_DAY : (day + 1) * PER_DAY] *= 1.6
    boosted = History(START, 30, np.round(calls), h.aht)
    when = START + timedelta(days=day)
    told = forecast(boosted, events=[Event(when, when, 1.6)], holdout_days=0)
    untold = forecast(boosted, holdout_days=0)
    tue = slice(PER_DAY, 2 * PER_DAY)
    # untold, one Tuesday of 9 is 60 % up: Tuesdays come out ~6.7 % high
    assert untold.calls[tue].sum() / told.calls[tue].sum() == pytest.approx(1 + 0.6 / 9, abs=0.015)


def test_given_a_hand_case_then_mape_and_wape_are_the_relative_errors() -> None:
    # One week of exactly 10 calls an interval to fit, a holdout week of 8: the model
    # forecasts 10, so every error is 2 on 8: MAPE = WAPE = 0.25; AHT 200 vs 250: 0.2.
    calls = np.array([10.0] * WEEK + [8.0] * WEEK)
    aht = np.array([200.0] * WEEK + [250.0] * WEEK)
    result = forecast(History(START, 30, calls, aht), horizon_days=1)
    assert result.backtest is not None
    assert result.backtest.mape == pytest.approx(0.25, rel=1e-9)
    assert result.backtest.wape == pytest.approx(0.25, rel=1e-9)
    assert result.backtest.aht_wape == pytest.approx(0.2, rel=1e-9)


def test_given_ets_when_backtested_then_it_lands_within_a_looser_bound() -> None:
    # Holt-Winters chases the Poisson noise with its level (module docstring): its WAPE
    # stays within 60 % of the floor on this history, not within 10 %.
    h, mean = history()
    result = forecast(h, method="ets")
    holdout = mean[-WEEK:]
    floor = float(poisson_mad(holdout).sum() / holdout.sum())
    assert result.backtest is not None and result.backtest.wape is not None
    assert result.backtest.wape < 1.6 * floor
    assert np.all(result.calls >= 0)


def test_given_rows_when_gridded_then_missing_are_zero_and_repeats_add_up() -> None:
    rows = [
        (datetime(2026, 10, 25, 2, 0), 4.0, 100.0),
        (datetime(2026, 10, 25, 2, 0), 2.0, 400.0),  # the repeated hour of the clock change
        (datetime(2026, 10, 26, 23, 30), 1.0, 60.0),
    ]
    h = history_from_rows(rows, 30)
    assert h.start == date(2026, 10, 25) and h.days == 2
    assert h.calls[4] == 6.0 and h.aht[4] == pytest.approx(200.0)  # (4·100 + 2·400) / 6
    assert h.calls.sum() == 7.0 and h.calls[-1] == 1.0


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(datetime(2026, 10, 25, 2, 10), 4.0, 100.0)], "not on the 30-minute grid"),
        ([(datetime(2026, 10, 25, 2, 0), -1.0, 100.0)], "calls must be a number ≥ 0"),
        ([(datetime(2026, 10, 25, 2, 0), 3.0, None)], "aht must be > 0"),
        ([], "no rows"),
    ],
)
def test_given_bad_rows_when_gridded_then_a_clear_error(rows: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ForecastError, match=message):
        history_from_rows(rows, 30)


def test_given_too_short_a_history_when_forecast_then_the_error_says_how_much_is_needed() -> None:
    h, _ = history(days=10)
    with pytest.raises(ForecastError, match="10 days; the poisson model needs at least 14"):
        forecast(h)
    with pytest.raises(ForecastError, match="interval: must be one of"):
        history_from_rows([(datetime(2026, 1, 1), 1.0, 1.0)], 20)
