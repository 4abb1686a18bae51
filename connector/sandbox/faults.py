"""Fault switches: make the sandbox fail the way vendors do, deterministically.

A fault spec is a `;`-separated list of rules `VENDOR[:PATH_PREFIX]=KIND[(ARG)][@PROBABILITY|#SEQUENCE]`:

    hubspot:/crm/v3/objects=503@0.2          5xx on a fifth of the object requests (seeded, so repeatable)
    aircall=latency(1.5)                     every Aircall answer 1.5 s late
    liveagent:/tickets=drop#1,1,0            drop the first two connections, then answer
    hubspot=429(2)#1,1,1,0                   a 429 storm with Retry-After: 2, then normal service
    hubspot=429(none)#1,1                    a 429 storm without Retry-After
    hubspot=truncate@0.1 / =malformed@0.1    cut bodies short / answer 200 with broken JSON
    hubspot:/crm/v3/objects/tickets/batch/update=partial(0.3)   207: 30 % of batch inputs fail
    hubspot=414(2000)                        414 for URLs longer than 2,000 characters

`#` sequences are consumed per rule, one entry per matching request (1 = fault, 0 = pass), and then the
rule passes. Without `@` or `#` a rule always fires.

The same spec switches on the world quirks that make naive connectors lose data:

    hubspot=search_lag(30)      a write shows up in search only 30 s later (eventual consistency)
    hubspot=bulk_update(3000)   3,000 tickets share one hs_lastmodifieddate
    hubspot=archived(0.05)      5 % of tickets and contacts archived (listed only with archived=true)
    hubspot=merged(0.02)        2 % of contacts merged into another (hs_merged_object_ids)
    aircall=history_days(90)    calls older than 90 days are gone from the API
    aircall=late_tags(120)      a call's tags and comments appear 120 s after it ended
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

VENDORS = ("hubspot", "aircall", "liveagent")
KINDS = ("5xx", "latency", "drop", "truncate", "malformed", "429", "partial", "414")
QUIRKS = {
    "hubspot": ("search_lag", "bulk_update", "archived", "merged"),
    "aircall": ("history_days", "late_tags"),
    "liveagent": (),
}
"""World behaviour switched on by the same spec (`hubspot=search_lag(30)`): see `Sandbox`."""


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message names the rule."""


@dataclass
class FaultRule:
    vendor: str
    path_prefix: str
    kind: str
    status: int = 500
    argument: str | None = None
    probability: float | None = None
    sequence: list[bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def matches(self, vendor: str, path: str) -> bool:
        return vendor == self.vendor and path.startswith(self.path_prefix)

    def fires(self, rng: random.Random) -> bool:
        with self._lock:
            if self.sequence is not None:
                return self.sequence.pop(0) if self.sequence else False
            if self.probability is not None:
                return rng.random() < self.probability
            return True


def parse_faults(spec: str) -> list[FaultRule]:
    rules = []
    for text in (part.strip() for part in spec.split(";")):
        if not text:
            continue
        target, equals, action = text.partition("=")
        if not equals:
            raise FaultSpecError(f"{text!r}: expected VENDOR[:PATH]=KIND")
        vendor, _, path = target.strip().partition(":")
        if vendor not in VENDORS:
            raise FaultSpecError(f"{text!r}: unknown vendor {vendor!r}; use {', '.join(VENDORS)}")
        selector_probability: float | None = None
        selector_sequence: list[bool] | None = None
        if "@" in action:
            action, _, probability = action.partition("@")
            try:
                selector_probability = float(probability)
            except ValueError:
                raise FaultSpecError(f"{text!r}: {probability!r} is not a probability") from None
        elif "#" in action:
            action, _, sequence = action.partition("#")
            selector_sequence = [item.strip() == "1" for item in sequence.split(",") if item.strip()]
        name, _, raw_argument = action.strip().partition("(")
        argument = raw_argument.rstrip(")") or None
        status = 500
        kind = name
        if name.isdigit() and name.startswith("5"):
            kind, status = "5xx", int(name)
        if kind in QUIRKS[vendor]:
            try:
                float(argument or "")
            except ValueError:
                raise FaultSpecError(f"{text!r}: {name} needs a number, e.g. {name}(30)") from None
        elif kind not in KINDS:
            options = ", ".join([*KINDS[1:], *QUIRKS[vendor]])
            raise FaultSpecError(f"{text!r}: unknown fault {name!r}; use 5xx codes or {options}")
        rules.append(
            FaultRule(vendor, path or "/", kind, status, argument, selector_probability, selector_sequence)
        )
    return rules


class FaultInjector:
    """WSGI middleware in front of one vendor's emulator that applies the rules for that vendor."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], vendor: str, rules: list[FaultRule], seed: int
    ) -> None:
        self.app = app
        self.vendor = vendor
        self.rules = [rule for rule in rules if rule.vendor == vendor and rule.kind in KINDS]
        self.rng = random.Random(f"faults:{seed}:{vendor}")  # noqa: S311  (reproducible faults, not secrets)
        self.fired: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        for rule in self.rules:
            if (
                not rule.matches(self.vendor, path)
                or not self._applies(rule, environ)
                or not rule.fires(self.rng)
            ):
                continue
            self.fired.append((rule.kind, path))
            outcome = self._apply(rule, environ, start_response)
            if outcome is not None:
                return outcome
        return self.app(environ, start_response)

    def _applies(self, rule: FaultRule, environ: dict[str, Any]) -> bool:
        if rule.kind == "414":
            url = environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", "")
            return len(url) > int(rule.argument or 8000)
        return True

    def _apply(
        self, rule: FaultRule, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes] | None:
        if rule.kind == "latency":
            time.sleep(float(rule.argument or 1.0))
            return None
        if rule.kind == "partial":
            environ["sandbox.partial_failure"] = float(rule.argument or 0.5)
            return None
        if rule.kind == "drop":
            connection = environ.get("werkzeug.socket")
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)  # the write that follows fails: the client sees a reset
            return [b""]
        if rule.kind in ("truncate", "malformed"):
            return self._mangle(rule.kind, environ, start_response)
        if rule.kind == "429":
            response = _error_json(429, "rate limited (sandbox fault)")
            if rule.argument != "none":
                response.headers["Retry-After"] = str(rule.argument or 1)
            return response(environ, start_response)
        status = 414 if rule.kind == "414" else rule.status
        return _error_json(status, "sandbox fault")(environ, start_response)

    def _mangle(
        self, kind: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(self.app(environ, capture))
        if kind == "malformed":
            broken = b'{"results": [{"id": "1", "properties": '
            start_response(
                "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(broken)))]
            )
            return [broken]
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        connection = environ.get("werkzeug.socket")

        def cut() -> Iterable[bytes]:
            yield body[: len(body) // 2]
            if connection is not None:
                connection.shutdown(socket.SHUT_RDWR)

        return cut()


def quirk(rules: list[FaultRule], vendor: str, name: str) -> float | None:
    """The value a spec gives a world quirk (`hubspot=search_lag(30)` → 30.0), if any."""
    values = [float(rule.argument or 0) for rule in rules if rule.vendor == vendor and rule.kind == name]
    return values[-1] if values else None


def _error_json(status: int, message: str) -> Response:
    return Response(
        json.dumps({"status": "error", "message": message}), status=status, mimetype="application/json"
    )


def partial_failures(request: Request, inputs: list[Any]) -> set[int]:
    """Positions of batch inputs a `partial` fault makes fail (every k-th, deterministically)."""
    fraction = request.environ.get("sandbox.partial_failure")
    if not fraction:
        return set()
    step = max(1, round(1 / fraction))
    return {position for position in range(len(inputs)) if position % step == 0}
