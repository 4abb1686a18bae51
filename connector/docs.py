"""Generated parts of the README, so they cannot drift from the code.

`python -m connector.docs` rewrites each block between `<!-- NAME:start -->` and `<!-- NAME:end -->`;
a test fails when the README differs from what this module renders.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from connector.kpis import CATALOGUE
from connector.kpis.figures import QUANTILE_METHOD
from connector.settings import iter_setting_docs

README = Path(__file__).resolve().parent.parent / "README.md"


def settings_table() -> str:
    """The configuration table: every setting's variable, default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for doc in iter_setting_docs():
        default = f"`{doc.default}`" if doc.default else ""
        meaning = doc.description + (" *Secret.*" if doc.secret else "")
        rows.append(f"| `{doc.env}` | {default} | {meaning} |")
    return "\n".join(rows)


ENTITY_SOURCES = {
    "ticket": ("HubSpot", "LiveAgent"),
    "agent": ("HubSpot owners", "LiveAgent", "Aircall"),
    "message": ("LiveAgent", "HubSpot"),
    "call": ("Aircall", "HubSpot"),
    "survey_response": ("HubSpot",),
    "contact": ("HubSpot", "LiveAgent", "Aircall"),
    "purchase": ("HubSpot deals",),
    "quality_review": ("JSON Lines import",),
    "service_cost": ("JSON Lines import", "settings"),
}
"""Where each entity comes from, for the KPI table's sources column."""


def kpi_table() -> str:
    """The KPI catalogue: id, name, formula, unit and the systems whose records feed it."""
    rows = ["| id | KPI | formula | unit | sources |", "|---|---|---|---|---|"]
    for kpi_id, definition in sorted(CATALOGUE.items()):
        sources = dict.fromkeys(s for entity in definition.reads for s in ENTITY_SOURCES[entity])
        timed = " ⏱" if definition.timed else ""
        formula = definition.formula.replace("|", "\\|")
        cells = [f"{kpi_id}{timed}", f"`{definition.name}`", formula, definition.unit, ", ".join(sources)]
        rows.append("| " + " | ".join(cells) + " |")
    rows += ["", QUANTILE_METHOD]
    return "\n".join(rows)


BLOCKS: dict[str, Callable[[], str]] = {"settings-table": settings_table, "kpi-table": kpi_table}


def render(text: str) -> str:
    """`text` with every generated block replaced by its current rendering."""
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README has no <!-- {name}:start --> … <!-- {name}:end --> block")
        text = pattern.sub(lambda m, b=build: m.group(1) + b() + "\n" + m.group(2), text)  # type: ignore[misc]
    return text


def main() -> int:
    current = README.read_text(encoding="utf-8")
    updated = render(current)
    if updated != current:
        README.write_text(updated, encoding="utf-8")
        print(f"updated {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
