"""Feedback KPIs: CSAT, NPS/eNPS, CES, internal quality score and the feedback response rate."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from connector.kpis.catalogue import ALL_CUTS, Context, Group, KpiDefinition, kpi
from connector.kpis.figures import in_period, mean_results, rate_results
from connector.kpis.results import KpiResult


@kpi("K14", unit="percent", reads=("survey_response",), cuts=ALL_CUTS, better="higher")
def csat(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Positive CSAT responses / all CSAT responses × 100 (30 positive of 50 → 60 %), plus the mean
    score (stat `mean`, on the responses' own scale).

    Period: submission. Positive: a score at or above `HELPDESK_CSAT_POSITIVE_THRESHOLD` when set, else in
    the top-2 box of the response's own scale (4–5 on 1–5, 9–10 on 1–10).
    """
    groups = ctx.groups(*csat_query(ctx), ctx.cuts_for(d))
    return rate_results(ctx, d, groups) + mean_results(ctx, d, groups, unit="score")


def csat_query(ctx: Context) -> tuple[str, dict[str, str]]:
    """CSAT responses by submission period: positive (`num`) of all (`den`), score sum and count (K14,
    K29)."""
    threshold = ctx.settings.csat_positive_threshold
    positive = f"score >= {threshold}" if threshold is not None else "score >= scale_max - 1"
    return in_period("surveys", "submitted_at", "x.kind = 'csat'"), {
        "num": f"count(*) FILTER (WHERE {positive})",
        "den": "count(*)",
        "total": "sum(score)",
        "n": "count(score)",
    }


NPS_SCALE = "scale_min = 0 AND scale_max = 10"
"""SQL: an answer on the 0–10 scale — the only answers NPS counts (K15, and the contact's last NPS)."""
PROMOTER_FROM, DETRACTOR_UP_TO = 9, 6
"""NPS groups: promoters answer 9–10, detractors 0–6, passives in between."""


def nps_group(score: float) -> str:
    """An NPS answer's group, as K15 counts it: `promoter`, `passive` or `detractor`."""
    if score >= PROMOTER_FROM:
        return "promoter"
    return "detractor" if score <= DETRACTOR_UP_TO else "passive"


@kpi("K15", unit="score", reads=("survey_response",), better="higher")
def nps(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """% promoters (9–10) − % detractors (0–6), from −100 to 100 (70 % − 10 % → 60); eNPS from employee
    surveys the same way (stat `enps`).

    Period: submission. Only answers on the 0–10 scale count. `promoters` and `detractors` report the two
    shares.
    """
    aggregates: dict[str, str] = {}
    for kind in ("nps", "enps"):
        on_scale = f"kind = '{kind}' AND {NPS_SCALE}"
        aggregates |= {
            f"{kind}_promoters": f"count(*) FILTER (WHERE {on_scale} AND score >= {PROMOTER_FROM})",
            f"{kind}_detractors": f"count(*) FILTER (WHERE {on_scale} AND score <= {DETRACTOR_UP_TO})",
            f"{kind}_n": f"count(*) FILTER (WHERE {on_scale})",
        }
    groups = ctx.groups(
        in_period("surveys", "submitted_at", "x.kind IN ('nps', 'enps')"), aggregates, ctx.cuts_for(d)
    )
    results = []
    for group in groups:
        for kind, stat in (("nps", "value"), ("enps", "enps")):
            n = group[f"{kind}_n"] or 0
            promoters = group[f"{kind}_promoters"] or 0
            detractors = group[f"{kind}_detractors"] or 0
            net = promoters - detractors
            results.append(
                ctx.result(
                    d, group, stat, 100.0 * net / n if n else None, numerator=net, denominator=n, count=n
                )
            )
            if kind == "nps":
                for share_stat, count in (("promoters", promoters), ("detractors", detractors)):
                    results.append(
                        ctx.result(
                            d,
                            group,
                            share_stat,
                            100.0 * count / n if n else None,
                            unit="percent",
                            numerator=count,
                            denominator=n,
                            count=n,
                        )
                    )
    return results


@kpi("K16", unit="score", reads=("survey_response",), better="lower")
def ces(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Sum of effort scores / number of responses, on the scale asked and in its direction (1–7 "how
    much effort", or 1 very easy … 10 very hard: lower is better on both).

    Period: submission. Responses on different scales are not mixed: the stat is `mean` for the most
    common scale and `mean:<min>-<max>` for any other.
    """
    groups = ctx.groups(
        in_period("surveys", "submitted_at", "x.kind = 'ces'"),
        {"total": "sum(score)", "n": "count(score)"},
        ctx.cuts_for(d),
    )
    scales = ctx.workspace.rows(
        f"""SELECT scale_min, scale_max, count(*) FROM ({in_period("surveys", "submitted_at", "x.kind = 'ces'")})
            GROUP BY ALL ORDER BY 3 DESC, 1, 2"""
    )
    if len(scales) <= 1:
        return mean_results(ctx, d, groups)
    results: list[KpiResult] = []
    for index, (low, high, _) in enumerate(scales):
        stat = "mean" if index == 0 else f"mean:{low:g}-{high:g}"
        per_scale = ctx.groups(
            in_period(
                "surveys", "submitted_at", f"x.kind = 'ces' AND x.scale_min = {low} AND x.scale_max = {high}"
            ),
            {"total": "sum(score)", "n": "count(score)"},
            ctx.cuts_for(d),
        )
        results += mean_results(ctx, d, per_scale, stat=stat)
    return results


def review_score(
    criteria: dict[str, float | None], weights: dict[str, float], critical: list[str]
) -> float | None:
    """One QA review's score: Σ(weightᵢ · scoreᵢ) / Σ weightᵢ over the criteria not marked N/A (null),
    each weight 1 unless given; 0 when a critical criterion scored below 50; None when nothing applies."""
    if any(criteria.get(name) is not None and criteria[name] < 50 for name in critical):  # type: ignore[operator]
        return 0.0
    applicable = {name: score for name, score in criteria.items() if score is not None}
    total_weight = sum(weights.get(name, 1.0) for name in applicable)
    if not total_weight:
        return None
    return sum(weights.get(name, 1.0) * score for name, score in applicable.items()) / total_weight


@kpi("K18", unit="score", reads=("quality_review",), cuts=("overall", "agent"), better="higher")
def internal_quality_score(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Mean of review scores, each review Σ(weightᵢ·scoreᵢ)/Σweightᵢ on 0–100 over the criteria not
    marked N/A; a review in which a critical criterion scores below 50 scores 0 (reviews 100, 9.91, 63.96,
    90.99 and 0 → 52.97).

    Period: the review's time. A criterion without a weight in the review takes its weight from
    `HELPDESK_IQS_WEIGHTS`, else 1.
    """
    rows = ctx.workspace.rows(
        f"SELECT pidx, agent, criteria, weights, critical FROM ({in_period('reviews', 'reviewed_at')})"
    )
    sums: dict[tuple[int, str, str | None], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for pidx, agent, criteria, weights, critical in rows:
        criteria_scores = _json(criteria, {})
        given = _json(weights, {})
        defaults = ctx.settings.iqs_weights
        merged = {name: given.get(name, defaults.get(name.lower(), 1.0)) for name in criteria_scores}
        score = review_score(criteria_scores, merged, _json(critical, []))
        if score is None:
            continue
        keys = [(pidx, "overall", None)] + ([(pidx, "agent", agent)] if "agent" in ctx.cuts_for(d) else [])
        for key in keys:
            sums[key][0] += score
            sums[key][1] += 1
    for pidx in range(len(ctx.periods)):
        sums.setdefault((pidx, "overall", None), [0.0, 0.0])
    groups = [
        Group(pidx, cut, value, {"total": total, "n": int(n)})
        for (pidx, cut, value), (total, n) in sorted(
            sums.items(), key=lambda kv: (kv[0][0], kv[0][1] != "overall", kv[0][2] or "")
        )
    ]
    return mean_results(ctx, d, groups, stat="value")


def _json(text: str | None, default: Any) -> Any:
    return json.loads(text) if text else default


@kpi("K19", unit="percent", reads=("survey_response",), better="higher")
def feedback_response_rate(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Customer feedback that received a response from the company / all customer feedback × 100.

    Period: submission of the feedback. Feedback: CSAT, NPS and CES responses (employee eNPS and SERVQUAL
    panels are not feedback awaiting an answer); responded: `responded_at` is set.
    """
    groups = ctx.groups(
        in_period("surveys", "submitted_at", "x.kind IN ('csat', 'nps', 'ces')"),
        {"num": "count(*) FILTER (WHERE responded_at IS NOT NULL)", "den": "count(*)"},
        ctx.cuts_for(d),
    )
    return rate_results(ctx, d, groups)


@kpi("K17", unit="score", reads=("survey_response",), cuts=("overall",), better="higher")
def servqual(ctx: Context, d: KpiDefinition) -> list[KpiResult]:
    """Per RATER dimension the gap mean perception − mean expectation (stat = the dimension: `reliability`,
    `assurance`, `tangibles`, `empathy`, `responsiveness`); overall (`value`) the mean of the dimensions'
    gaps, or their weighted mean under a 100-point allocation (`HELPDESK_SERVQUAL_WEIGHTS`).

    Period: submission. A negative gap means service fell short of expectations. A dimension without both
    expectation and perception answers has no gap and is left out of the overall figure.
    """
    rows = ctx.workspace.rows(
        f"""SELECT pidx, dimension, avg(score) FILTER (WHERE measure = 'perception'),
                   avg(score) FILTER (WHERE measure = 'expectation'), count(*)
            FROM ({in_period("surveys", "submitted_at", "x.kind = 'servqual'")}) GROUP BY ALL ORDER BY ALL"""
    )
    gaps: dict[int, dict[str, tuple[float | None, int]]] = defaultdict(dict)
    for pidx, dimension, perception, expectation, n in rows:
        gap = perception - expectation if perception is not None and expectation is not None else None
        gaps[pidx][dimension] = (gap, n)
    weights = {name.value: weight for name, weight in ctx.settings.servqual_weights.items()}
    results = []
    for pidx in range(len(ctx.periods)):
        group = Group(pidx, "overall", None, {})
        known = {dim: gap for dim, (gap, _) in gaps[pidx].items() if gap is not None}
        for dimension, (gap, n) in sorted(gaps[pidx].items()):
            results.append(ctx.result(d, group, dimension, gap, count=n))
        if weights:
            total = sum(weights.get(dim, 0.0) for dim in known)
            overall = (
                sum(weights.get(dim, 0.0) * gap for dim, gap in known.items()) / total if total else None
            )
        else:
            overall = sum(known.values()) / len(known) if known else None
        results.append(ctx.result(d, group, "value", overall, count=sum(n for _, n in gaps[pidx].values())))
    return results
