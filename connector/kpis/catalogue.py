"""The KPI catalogue: each KPI defined once, with its id, name, unit, inputs, cuts and formula.

A KPI is a function registered with `@kpi(...)`; its docstring is the definition shown in the README and
the dashboard (the first paragraph is the formula, the rest says which timestamp assigns a record to a
period and how edge cases are treated). The function receives a `Context` and returns `KpiResult`s,
usually through `Context.groups`, which computes every requested cut in one `GROUPING SETS` query over
the workspace's columns, and the result builders of `connector.kpis.figures`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from connector.kpis.results import KpiResult
from connector.kpis.workspace import CUT_COLUMNS, Workspace
from connector.periods import Period
from connector.settings import Settings

ALL_CUTS: tuple[str, ...] = ("overall", *CUT_COLUMNS)
RECORD_CUTS: tuple[str, ...] = tuple(c for c in ALL_CUTS if c != "topic")
"""A KPI's cuts unless it names its own: the topic cut is asked for by the KPIs whose figure per topic
says something (volume, resolution time, CSAT): per topic, every KPI would multiply the figures by the
number of topics."""
OVERALL_ONLY: tuple[str, ...] = ("overall",)


class Basis(StrEnum):
    CALENDAR = "calendar"
    BUSINESS = "business"


BASIS_SUFFIX = {Basis.CALENDAR: "e", Basis.BUSINESS: "b"}
"""Workspace column suffix per basis: `created_at_e` (calendar seconds), `created_at_b` (business)."""
BASIS_TEXT = {basis: str.__str__(basis) for basis in Basis}
"""A basis as plain text: `Basis.X.value` goes through the enum machinery, 150,000 times a computation."""


@dataclass(frozen=True)
class KpiDefinition:
    """One KPI of the catalogue, as `@kpi` registers it on the function that computes it (whose docstring
    is the KPI's formula)."""

    id: str
    """`K01` … : the SPEC's number, the key of every stored and written figure."""
    name: str
    unit: str
    """What its headline figure counts in (`seconds`, `percent`, `score`, `currency`, …)."""
    reads: tuple[str, ...]
    """The entities whose records it reads; the README and the dashboard name its sources from them."""
    cuts: tuple[str, ...]
    """The breakdowns it is reported by (`overall` always; `team`, `agent`, `channel`, …)."""
    timed: bool
    """A duration, reported in calendar and in business time."""
    compute: Callable[[Context, KpiDefinition], list[KpiResult]] = field(repr=False)
    better: str | None = None
    """Which way is good for the headline figure: `lower` (times, abandon and churn rates), `higher`
    (satisfaction, resolution and retention), or None (volumes: neither)."""
    looks_back: bool = False
    """Compares each period with the one before the first (K09's change): that period is loaded too."""
    looks_ahead: tuple[str, ...] = ()
    """Settings (in days) for how far after a period its figures look (the FCR and repeat-contact
    windows): the records that far after the last period are loaded too."""
    forecast: bool = False
    """Figures of coming periods, made by the forecast (`connector.forecast`) from the store's history,
    not by computing past periods (which give none)."""

    @property
    def formula(self) -> str:
        """The docstring's first paragraph, on one line."""
        doc = inspect.getdoc(self.compute) or ""
        return " ".join(doc.split("\n\n")[0].split())

    @property
    def definition(self) -> str:
        return inspect.getdoc(self.compute) or ""


CATALOGUE: dict[str, KpiDefinition] = {}


def is_forecast(kpi_id: str) -> bool:
    """Whether `kpi_id` is a forecast KPI (figures of coming periods, see `KpiDefinition.forecast`)."""
    definition = CATALOGUE.get(kpi_id)
    return definition is not None and definition.forecast


def kpi(
    kpi_id: str,
    *,
    unit: str,
    reads: Sequence[str],
    cuts: Sequence[str] = RECORD_CUTS,
    timed: bool = False,
    better: str | None = None,
    looks_back: bool = False,
    looks_ahead: Sequence[str] = (),
    forecast: bool = False,
) -> Callable[[Callable[[Context, KpiDefinition], list[KpiResult]]], Callable[..., list[KpiResult]]]:
    """Register a KPI under the decorated function's name (the KPI's `name`, e.g. `first_response_time`)
    and `kpi_id`. `timed` KPIs are durations reported in calendar and in business time; `better`
    says which way its headline figure improves (`lower`, `higher`, or None for volumes); `looks_back`
    and `looks_ahead` say which records beyond its periods it reads; `forecast` KPIs are made by the
    forecast, not computed (see `KpiDefinition`)."""
    if better not in (None, "lower", "higher"):
        raise ValueError(f"{kpi_id}: better is 'lower', 'higher' or None")

    def register(
        function: Callable[[Context, KpiDefinition], list[KpiResult]],
    ) -> Callable[[Context, KpiDefinition], list[KpiResult]]:
        if kpi_id in CATALOGUE:
            raise ValueError(f"{kpi_id} is defined twice")
        CATALOGUE[kpi_id] = KpiDefinition(
            kpi_id,
            function.__name__,
            unit,
            tuple(reads),
            tuple(cuts),
            timed,
            function,
            better,
            looks_back,
            tuple(looks_ahead),
            forecast,
        )
        return function

    return register


@dataclass
class Group:
    """One row of a grouped query: a period, a cut and its value, and the aggregates."""

    pidx: int
    cut: str
    cut_value: str | None
    values: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


@dataclass
class Context:
    """What a KPI function may use: the workspace, the settings, the periods and the requested cuts."""

    workspace: Workspace
    settings: Settings
    periods: Sequence[Period]
    cuts: tuple[str, ...]
    _memo: dict[tuple[str, tuple[tuple[str, str], ...], bool], tuple[frozenset[str], list[Group]]] = field(
        default_factory=dict, repr=False
    )

    def cuts_for(self, definition: KpiDefinition) -> tuple[str, ...]:
        """The requested cuts the KPI has; the topic cut only once topics were discovered (before, every
        ticket's topic is `(none)` and the cut would repeat the overall figure)."""
        return (
            tuple(
                c for c in self.cuts if c in definition.cuts and (c != "topic" or self.workspace.has_topics)
            )
            or OVERALL_ONLY
        )

    def groups(
        self, relation: str, aggregates: Mapping[str, str], cuts: Sequence[str], *, fill_overall: bool = True
    ) -> list[Group]:
        """Aggregate `relation` (a query with a `pidx` column and the cut columns) per period and per
        cut in one query. Periods with no rows still get an overall group (aggregates None).

        The same query asked again for the same or fewer cuts (the leaderboard asks what FRT, handle time,
        CSAT and escalation already computed) is answered from memory. Callers must not modify groups."""
        key = (relation, tuple(aggregates.items()), fill_overall)
        wanted = frozenset(cuts) | {"overall"}
        cached = self._memo.get(key)
        if cached is not None and wanted <= cached[0]:
            return [g for g in cached[1] if g.cut in wanted]
        groups = self._query_groups(relation, aggregates, cuts, fill_overall=fill_overall)
        self._memo[key] = (wanted, groups)
        return groups

    def _query_groups(
        self, relation: str, aggregates: Mapping[str, str], cuts: Sequence[str], *, fill_overall: bool
    ) -> list[Group]:
        dims = [c for c in cuts if c != "overall"]
        select = ["pidx", *(f"GROUPING({d}) AS g_{d}" for d in dims), *dims]
        select += [f"{sql} AS {name}" for name, sql in aggregates.items()]
        grouping = (
            "GROUP BY GROUPING SETS ((pidx), " + ", ".join(f"(pidx, {d})" for d in dims) + ")"
            if dims
            else "GROUP BY pidx"
        )
        cursor = self.workspace.con.execute(f"SELECT {', '.join(select)} FROM ({relation}) r {grouping}")
        names = [d[0] for d in cursor.description]
        groups: list[Group] = []
        seen_overall: set[int] = set()
        for row in cursor.fetchall():
            data = dict(zip(names, row, strict=True))
            grouped = [d for d in dims if data[f"g_{d}"] == 0]
            values = {name: data[name] for name in aggregates}
            if grouped:
                groups.append(Group(data["pidx"], grouped[0], data[grouped[0]], values))
            else:
                seen_overall.add(data["pidx"])
                groups.append(Group(data["pidx"], "overall", None, values))
        if fill_overall:
            groups += [
                Group(i, "overall", None, dict.fromkeys(aggregates))
                for i in range(len(self.periods))
                if i not in seen_overall
            ]
        return sorted(groups, key=lambda g: (g.pidx, g.cut != "overall", g.cut, g.cut_value or ""))

    def result(
        self,
        definition: KpiDefinition,
        group: Group,
        stat: str,
        value: float | None,
        *,
        basis: Basis = Basis.CALENDAR,
        unit: str | None = None,
        numerator: float | None = None,
        denominator: float | None = None,
        count: int | None = None,
    ) -> KpiResult:
        period = self.periods[group.pidx]
        return KpiResult(
            kpi=definition.id,
            name=definition.name,
            stat=stat,
            basis=BASIS_TEXT[basis],
            period_start=period.start,
            period_end=period.end,
            cut=group.cut,
            cut_value=group.cut_value,
            value=None if value is None else float(value),
            unit=unit or definition.unit,
            numerator=None if numerator is None else float(numerator),
            denominator=None if denominator is None else float(denominator),
            count=None if count is None else int(count),
        )
