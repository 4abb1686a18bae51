"""JSON Lines import: one record per line, `{"type": "<entity>", ...fields of SPEC §3}`.

By default a file is all-or-nothing: every line is validated, and if any is invalid the transaction is
rolled back and nothing is stored. With `skip_invalid`, valid lines are stored and each rejected line is
returned (and written by the CLI to a rejects file) with its line number and every problem found.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from connector.schema import Record, entity_model
from connector.store import Store, UpsertCounts

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
PROGRESS_EVERY_SECONDS = 5.0


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one line: the field (dotted path, or `(line)` for the line as a whole)."""

    field: str
    reason: str


@dataclass
class RejectedLine:
    line: int
    problems: list[Problem]
    record: Any
    """The line as parsed JSON, or its text when it was not JSON."""

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "errors": [{"field": p.field, "reason": p.reason} for p in self.problems],
            "record": self.record,
        }


@dataclass
class ImportReport:
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: list[RejectedLine] = field(default_factory=list)
    lines: int = 0
    committed: bool = False


_UNDECODED = re.compile("[\udc80-\udcff]")
"""Bytes that were not UTF-8, as Python's surrogateescape error handler keeps them."""


class _RollBack(Exception):
    """Raised inside the import transaction to undo it when the file has an invalid line."""


def parse_line(line_no: int, text: str) -> Record | RejectedLine:
    """One JSON Lines line → a validated record, or the reasons it is not one."""
    broken = _UNDECODED.search(text)
    if broken is not None:  # the file is read with surrogateescape: an undecodable byte stands out
        byte = ord(broken.group()) - 0xDC00
        return RejectedLine(
            line_no,
            [Problem("(line)", f"not valid UTF-8: byte 0x{byte:02x} at column {broken.start() + 1}")],
            text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return RejectedLine(
            line_no, [Problem("(line)", f"not valid JSON: {exc.msg} at column {exc.colno}")], text
        )
    except RecursionError:
        return RejectedLine(line_no, [Problem("(line)", "nested too deep to read")], text[:200])
    if not isinstance(data, dict):
        return RejectedLine(line_no, [Problem("(line)", "expected a JSON object")], data)
    fields = dict(data)
    type_name = fields.pop("type", None)
    if not isinstance(type_name, str) or not type_name:
        return RejectedLine(line_no, [Problem("type", 'missing: name the entity, e.g. "ticket"')], data)
    try:
        model = entity_model(type_name)
    except ValueError as exc:
        return RejectedLine(line_no, [Problem("type", str(exc))], data)
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        problems = [
            Problem(
                ".".join(str(part) for part in error["loc"]) or "(record)",
                error["msg"].removeprefix("Value error, "),
            )
            for error in exc.errors(include_input=False, include_url=False)
        ]
        return RejectedLine(line_no, problems, data)


def import_lines(store: Store, lines: Iterable[str], *, skip_invalid: bool = False) -> ImportReport:
    """Validate and store every line; see the module docstring for the all-or-nothing rule."""
    report = ImportReport()
    progress = _Progress()
    try:
        with store.transaction() as connection:
            batch: list[Record] = []
            batch_ids: set[str] = set()

            def flush() -> None:
                if batch and (skip_invalid or not report.rejected):
                    report.counts.merge(store.upsert(connection, batch))
                batch.clear()
                batch_ids.clear()

            for line_no, text in enumerate(lines, start=1):
                report.lines = line_no
                progress.tick(line_no, len(report.rejected))
                if not text.strip():
                    continue
                parsed = parse_line(line_no, text.rstrip("\r\n"))
                if isinstance(parsed, RejectedLine):
                    report.rejected.append(parsed)
                    continue
                if parsed.id in batch_ids:  # a later version of a record in this batch: settle the first one
                    flush()
                batch.append(parsed)
                batch_ids.add(parsed.id)
                if len(batch) >= BATCH_SIZE:
                    flush()
            flush()
            if report.rejected and not skip_invalid:
                raise _RollBack
    except _RollBack:
        report.counts = UpsertCounts()
        return report
    report.committed = True
    return report


class _Progress:
    """A periodic log line with lines read and the rate, for files too big to wait on in silence."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last = self.started

    def tick(self, lines: int, rejected: int) -> None:
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            rate = lines / (now - self.started)
            log.info("import: %d lines read (%d rejected), %.0f lines/s", lines, rejected, rate)
