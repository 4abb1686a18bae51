"""Values a KPI cannot use are refused at the door (SPEC §3, issue 12): each case ends in one clear
`line N: field: reason` and a non-zero exit, nothing is stored from the file, and `compute` runs on
whatever `import` accepted."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connector.kpis import compute
from connector.periods import Grain, split_periods
from connector.schema import Call, Ticket
from connector.settings import load_settings
from connector.store import Store
from tests.test_cli import run

TICKET = ('{"type": "ticket", "source": "x", "source_id": "%s", "channel": "email", "status": "new", '
          '"created_at": "2026-01-05T09:00:00Z"%s}')  # fmt: skip


def ticket(number: int, extra: str = "") -> bytes:
    return (TICKET % (number, extra)).encode()


CASES = [
    (ticket(1).replace(b"2026-01-05T09:00:00Z", b"0001-01-01T00:00:00Z"), "created_at: 0001-01-01T00:00:00+00:00 is outside 1970–2100"),
    (ticket(1).replace(b"2026-01-05T09:00:00Z", b"9999-12-31T23:30:00-01:00"), "created_at: 9999-12-31T23:30:00-01:00 is outside 1970–2100"),
    (ticket(1).replace(b"2026-01-05T09:00:00Z", b"0001-01-01T00:30:00+01:00"), "created_at: 0001-01-01T00:30:00+01:00 is outside 1970–2100"),
    (ticket(1).replace(b"2026-01-05T09:00:00Z", b"2100-01-01T00:00:00Z"), "created_at: 2100-01-01T00:00:00+00:00 is outside 1970–2100"),
    (b'{"type": "call", "source": "x", "source_id": "1", "direction": "inbound", "status": "answered", '
     b'"started_at": "2026-01-05T09:00:00Z", "wait_seconds": Infinity}', "wait_seconds: inf is not a finite number"),
    (b'{"type": "call", "source": "x", "source_id": "1", "direction": "inbound", "status": "answered", '
     b'"started_at": "2026-01-05T09:00:00Z", "talk_seconds": NaN}', "talk_seconds: "),
    (ticket(1, ', "reopen_count": 99999999999999999999999'), "reopen_count: Input should be less than or equal to"),
    (ticket(1, ', "legacy_id": 18446744073709551616'), "raw: an integer beyond 64 bits"),
    (ticket(1, ', "legacy": {"score": -Infinity}'), "raw: -inf is not a finite number"),
    (ticket(1, ', "deep": ' + "[" * 40 + "]" * 40), "raw: nested deeper than 32 levels"),
    (ticket(1, ', "deeper": ' + "[" * 100_000 + "]" * 100_000), "(line): nested too deep to read"),
    (ticket(1, ', "subject": "cafX"').replace(b"X", b"\xe9"), "(line): not valid UTF-8: byte 0xe9 at column 143"),
    (ticket(1, ', "reopen_count": 2147483648'), "reopen_count: Input should be less than or equal to 2147483647"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "message"), CASES, ids=[c[1].split(":")[0] + str(n) for n, c in enumerate(CASES)]
)
def test_an_unusable_value_stops_the_file_with_one_line_naming_it(
    tmp_path: Path, line: bytes, message: str
) -> None:
    file = tmp_path / "records.jsonl"
    file.write_bytes(ticket(100) + b"\n" + line + b"\n")
    url = f"sqlite:///{tmp_path / 'door.db'}"
    result = run("import", str(file), env={"HELPDESK_DATABASE_URL": url})
    assert result.exit_code == 1
    problems = [ln for ln in result.output.splitlines() if ln.startswith("line ")]
    assert len(problems) == 1 and problems[0].startswith(f"line 2: {message}"), result.output
    assert "Traceback" not in result.output
    store = Store.open(url)
    assert store.records(Ticket) == [] and store.records(Call) == []  # nothing from a rejected file
    store.close()


def test_compute_runs_on_whatever_import_accepted(tmp_path: Path) -> None:
    """The edges of what is accepted: the first and last instants of the range, zero and huge durations,
    the largest counts, a 64-bit integer in raw, a deep but allowed raw object."""
    lines = [
        ticket(1).replace(b"2026-01-05T09:00:00Z", b"1970-01-01T00:00:00Z"),
        ticket(2).replace(b"2026-01-05T09:00:00Z", b"2099-12-31T23:59:59Z"),
        ticket(3, ', "reopen_count": 2147483647, "legacy_id": 9223372036854775807, "handle_seconds": 1e300'),
        ticket(4, ', "nest": ' + "[" * 31 + "]" * 31),
        b'{"type": "call", "source": "x", "source_id": "c", "direction": "inbound", "status": "answered", '
        b'"started_at": "2026-01-05T09:00:00Z", "wait_seconds": 0, "talk_seconds": 1e300}',
    ]
    file = tmp_path / "edges.jsonl"
    file.write_bytes(b"\n".join(lines) + b"\n")
    url = f"sqlite:///{tmp_path / 'edges.db'}"
    result = run("import", str(file), env={"HELPDESK_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    store = Store.open(url)
    settings = load_settings(database_url=url)
    periods = split_periods(date(2026, 1, 1), date(2026, 2, 1), Grain.MONTH, settings.zone)
    figures = compute(store, settings, periods)
    assert figures and all(f.value is None or f.value == f.value for f in figures)
    store.close()
