"""Alert rules as an admin writes them in `HELPDESK_ALERTS`, comma- or semicolon-separated:

    K02<80                  K02's headline stat, overall, below 80
    K26>10                  above 10
    K04.median@channel>86400   K04's median per channel (every channel), above a day
    K31@team=support<=75   one cut value
    K11~                    an anomaly: K11 outside the range its recent periods predict
    K13.share@channel~2     … with 2 standard deviations instead of 3

A rule is `KPI[.stat][@cut[=value]]` then either a comparison (`<`, `<=`, `>`, `>=` and a number) or
`~` with an optional width in standard deviations (default 3). Without a stat the KPI's headline stat
(`value`, `mean`, `rate` or `count`, the dashboard card's); without a cut `overall`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from connector.kpis.catalogue import ALL_CUTS, CATALOGUE

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
DEFAULT_WIDTH = 3.0
"""An anomaly lies more than this many standard deviations from the mean of the recent periods."""
RULE = re.compile(
    r"^(?P<kpi>K\d{2})(?:\.(?P<stat>[a-z_:0-9]+))?(?:@(?P<cut>[a-z_]+)(?:=(?P<value>[^<>=~]+))?)?"
    r"\s*(?:(?P<op><=|>=|<|>)\s*(?P<threshold>-?\d+(?:\.\d+)?)|~\s*(?P<width>\d+(?:\.\d+)?)?)$"
)


@dataclass(frozen=True)
class AlertRule:
    text: str
    """The rule as written (normalised), which names it in tasks and in the store."""
    kpi: str
    stat: str | None
    cut: str
    cut_value: str | None
    comparison: str | None
    """`<`, `<=`, `>`, `>=`; None for an anomaly rule."""
    threshold: float | None
    width: float | None
    """Standard deviations of an anomaly rule."""

    @property
    def anomaly(self) -> bool:
        return self.comparison is None

    def breached(self, value: float) -> bool:
        assert self.comparison is not None and self.threshold is not None
        return COMPARISONS[self.comparison](value, self.threshold)


def parse_rule(text: str) -> AlertRule:
    """One rule; a ValueError names what is wrong with it."""
    written = text.strip()
    match = RULE.match(written.replace(" ", ""))
    if match is None:
        raise ValueError(
            f"{written!r} is not a rule: write KPI[.stat][@cut[=value]] then <, <=, >, >= and a number, "
            "or ~ for an anomaly (e.g. K02<80, K04.median@channel>86400, K11~)"
        )
    kpi, cut = match["kpi"], match["cut"] or "overall"
    definition = CATALOGUE.get(kpi)
    if definition is None:
        raise ValueError(f"{written!r}: {kpi} is not in the catalogue")
    if definition.forecast:
        raise ValueError(f"{written!r}: {kpi} is a forecast, not a measured KPI")
    if cut not in ALL_CUTS:
        raise ValueError(f"{written!r}: no cut {cut!r} (choose from {', '.join(ALL_CUTS)})")
    if cut not in definition.cuts:
        raise ValueError(f"{written!r}: {kpi} has no cut {cut!r} (it has {', '.join(definition.cuts)})")
    if cut == "overall" and match["value"]:
        raise ValueError(f"{written!r}: the overall cut has no values")
    threshold = float(match["threshold"]) if match["threshold"] is not None else None
    width = float(match["width"]) if match["width"] else (None if match["op"] else DEFAULT_WIDTH)
    if width is not None and width <= 0:
        raise ValueError(f"{written!r}: an anomaly's width must be above 0 standard deviations")
    return AlertRule(
        text=match.group(0),
        kpi=kpi,
        stat=match["stat"],
        cut=cut,
        cut_value=match["value"],
        comparison=match["op"],
        threshold=threshold,
        width=width,
    )


def parse_rules(text: str) -> list[AlertRule]:
    """Every rule of a `HELPDESK_ALERTS` value; each problem named (a ValueError listing them all)."""
    rules, problems = [], []
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        try:
            rules.append(parse_rule(part))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("; ".join(problems))
    return rules
