"""When recorded events get processed: right after the answer by a background thread (`serve`, a
container), or inside the request within a time budget (AWS Lambda freezes a function between
invocations, so no thread may outlive the answer there). Either way an event not finished stays pending,
and the next round, `helpdesk-kpi drain` or the next `run` finishes it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from connector.webhooks.process import EventProcessor

log = logging.getLogger(__name__)


class BackgroundWorker:
    """One thread that drains the pending events whenever the app records new ones (`notify`), and every
    `poll` seconds (events left pending by a failed round, or recorded by another process)."""

    def __init__(self, processor: EventProcessor, *, poll: float = 30.0) -> None:
        self.processor = processor
        self.poll = poll
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)
        self.rounds = 0

    def start(self) -> BackgroundWorker:
        self._thread.start()
        return self

    def notify(self, events: Sequence[Any] = ()) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        self.processor.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                report = self.processor.drain()
                if report.done or report.failed:
                    for line in report.lines():
                        log.info("%s", line)
            except Exception:  # the store is down, or a bug: log it, keep serving, try again later
                log.exception("processing webhook events failed; they stay pending")
            self.rounds += 1
            self._wake.wait(self.poll)


class InlineProcessing:
    """Process inside the request, for at most `budget` seconds; what is left stays pending. Never
    raises: the events are recorded already, so the answer stays a 2xx."""

    def __init__(self, processor: EventProcessor, *, budget: float) -> None:
        self.processor = processor
        self.budget = budget

    def __call__(self, events: Sequence[Any] = ()) -> None:
        try:
            self.processor.process(deadline=time.monotonic() + self.budget)
        except Exception:
            log.exception("processing webhook events failed; they stay pending")
