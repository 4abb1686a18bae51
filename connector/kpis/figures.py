"""From grouped aggregates to KPI results: the SQL aggregates a KPI asks `Context.groups` for (durations'
count, sum, mean and quantiles; rows by period) and the builders that turn each group into `KpiResult`s
(durations, rates, means, counts), null where a denominator is empty."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from connector.kpis.catalogue import BASIS_SUFFIX, BASIS_TEXT, Basis, Context, Group, KpiDefinition
from connector.kpis.results import KpiResult


def in_period(table: str, timestamp: str, where: str = "TRUE", columns: str = "x.*") -> str:
    """Rows of `table` with the `pidx` of the period their `timestamp` falls in (rows outside every
    period, or with a null timestamp, are left out)."""
    return f"SELECT x.{timestamp}_p AS pidx, {columns} FROM {table} x WHERE x.{timestamp}_p IS NOT NULL AND ({where})"


DURATION_STATS = ("mean", "median", "p90")
QUANTILE_METHOD = (
    "Medians and p90s interpolate linearly between the closest ranks (numpy's default method): of n "
    "sorted values x₀ … xₙ₋₁, the p-quantile lies at rank h = p·(n − 1), so it is "
    "x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋). A median of 1, 2, 3, 10 is 2.5; their p90 is 7.9."
)
"""How every median and p90 is computed (DuckDB's `quantile_cont`), as the README and the dashboard
state it."""


def duration_aggregates(
    measure: str,
    prefix: str = "",
    bases: Sequence[Basis] = (Basis.CALENDAR, Basis.BUSINESS),
    *,
    where: str | None = None,
) -> dict[str, str]:
    """Aggregates of a duration measure given as an expression with `{b}` for the basis suffix (a
    measure without `{b}`, such as a call's wait, is the same in every basis asked for), over the rows
    that satisfy `where` (all when None)."""
    only = f" FILTER (WHERE {where})" if where else ""
    out: dict[str, str] = {}
    for basis in bases:
        m = measure.format(b=BASIS_SUFFIX[basis])
        key = f"{prefix}{basis.value}"
        out |= {
            f"{key}_n": f"count({m}){only}",
            f"{key}_sum": f"sum({m}){only}",
            f"{key}_mean": f"avg({m}){only}",
            # one holistic aggregate for both quantiles: half the sorting of median() + quantile_cont()
            f"{key}_quantiles": f"quantile_cont({m}, [0.5, 0.9]){only}",
        }
    return out


def duration_results(
    ctx: Context,
    definition: KpiDefinition,
    groups: Iterable[Group],
    *,
    bases: Sequence[Basis] = (Basis.CALENDAR, Basis.BUSINESS),
    prefix: str = "",
    stat_prefix: str = "",
) -> list[KpiResult]:
    """mean, median and p90 per group and basis; the mean carries numerator (sum) and denominator (n)."""
    results = []
    for group in groups:
        for basis in bases:
            key = prefix + BASIS_TEXT[basis]
            n = group[f"{key}_n"] or 0
            total = group[f"{key}_sum"]
            median, p90 = group[f"{key}_quantiles"] or (None, None)
            values = {"mean": group[f"{key}_mean"], "median": median, "p90": p90}
            for stat in DURATION_STATS:
                value = values[stat] if n else None
                extra: dict[str, Any] = {"numerator": total, "denominator": n} if stat == "mean" and n else {}
                results.append(
                    ctx.result(definition, group, stat_prefix + stat, value, basis=basis, count=n, **extra)
                )
    return results


def rate_results(
    ctx: Context,
    definition: KpiDefinition,
    groups: Iterable[Group],
    *,
    numerator: str = "num",
    denominator: str = "den",
    stat: str = "value",
    scale: float = 100.0,
    unit: str | None = None,
    basis: Basis = Basis.CALENDAR,
) -> list[KpiResult]:
    """value = scale × numerator / denominator; null when the denominator is 0 or absent."""
    return [
        _ratio(
            ctx, definition, group, stat, group[numerator] or 0, group[denominator] or 0, scale, unit, basis
        )
        for group in groups
    ]


def mean_results(
    ctx: Context,
    definition: KpiDefinition,
    groups: Iterable[Group],
    *,
    unit: str | None = None,
    total: str = "total",
    n: str = "n",
    stat: str = "mean",
) -> list[KpiResult]:
    """value = total / n; null when n is 0 (an empty group has no total either)."""
    results = []
    for group in groups:
        count = group[n] or 0
        total_ = group[total] if count else None
        results.append(_ratio(ctx, definition, group, stat, total_, count, 1.0, unit, Basis.CALENDAR))
    return results


def _ratio(
    ctx: Context,
    definition: KpiDefinition,
    group: Group,
    stat: str,
    numerator: Any,
    denominator: Any,
    scale: float,
    unit: str | None,
    basis: Basis,
) -> KpiResult:
    """One result of scale × numerator / denominator (null when the denominator is 0), carrying both."""
    if not denominator:
        value = None
    else:  # scale first, as a reader computes it (and a Decimal total is never multiplied by a float)
        value = scale * numerator / denominator if scale != 1.0 else numerator / denominator
    return ctx.result(
        definition,
        group,
        stat,
        value,
        basis=basis,
        unit=unit,
        numerator=numerator,
        denominator=denominator,
        count=int(denominator),
    )


def count_results(
    ctx: Context, definition: KpiDefinition, groups: Iterable[Group], *, n: str = "n", stat: str = "count"
) -> list[KpiResult]:
    return [ctx.result(definition, g, stat, g[n] or 0, unit="count", count=g[n] or 0) for g in groups]
