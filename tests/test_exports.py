"""The CSV and JSON exports of the figures: a spreadsheet never runs a cell as a formula, and the JSON is
always JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from connector.kpis.results import KpiResult, to_csv, to_json

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)


def figure(cut_value: str | None, value: float | None = 1.5) -> KpiResult:
    return KpiResult("K09", "contact_reasons", "value", "calendar", START, END, "category", cut_value, value,
                     "count", None, None, 3)  # fmt: skip


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv([figure(text)]), newline="")))
    assert rows[0]["cut_value"] == "'" + text
    assert rows[0]["value"] == "1.5"


def test_plain_text_and_negative_numbers_are_left_alone() -> None:
    rows = list(
        csv.DictReader(io.StringIO(to_csv([figure("billing", -2.5), figure(None, None)]), newline=""))
    )
    assert (rows[0]["cut_value"], rows[0]["value"]) == ("billing", "-2.5")
    assert (rows[1]["cut_value"], rows[1]["value"]) == ("", "")


def test_json_is_always_json() -> None:
    text = to_json([figure("x", float("inf")), figure("y", float("nan")), figure("z", 2.0)])
    parsed = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the JSON"))
    assert [row["value"] for row in parsed] == [None, None, 2.0]
    rows = list(csv.DictReader(io.StringIO(to_csv([figure("x", float("inf"))]), newline="")))
    assert rows[0]["value"] == ""
