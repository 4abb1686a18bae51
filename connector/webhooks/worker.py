"""When recorded events get processed: right after the answer by a background worker (under `serve`, a
process of its own), or inside the request within a time budget (AWS Lambda freezes a function between
invocations, so no thread may outlive the answer there). Either way an event not finished stays pending,
and the next round, `helpdesk-kpi drain` or the next `run` finishes it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol, Self

from connector.settings import Settings
from connector.store import Store
from connector.webhooks.process import EventProcessor

log = logging.getLogger(__name__)


class _Flag(Protocol):
    """`threading.Event` and `multiprocessing.Event` alike."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class _Runner(Protocol):
    """`threading.Thread` and `multiprocessing.Process` alike."""

    def start(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


class _Woken:
    """What both workers share: a runner (a thread or a process) that `notify` wakes and `stop` ends,
    through two flags the runner's loop watches."""

    _runner: _Runner
    _wake: _Flag
    _stopping: _Flag
    stop_wait = 10.0
    """Seconds `stop` waits for the runner unless told."""

    def start(self) -> Self:
        self._runner.start()
        return self

    def notify(self, events: Sequence[Any] = ()) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end, wake it, wait up to `timeout` (`stop_wait`) seconds for it, then
        `_stopped`."""
        self._stopping.set()
        self._wake.set()
        self._runner.join(self.stop_wait if timeout is None else timeout)
        self._stopped()

    def _stopped(self) -> None:
        """What is left to do once the runner ended or `stop` stopped waiting."""


class BackgroundWorker(_Woken):
    """One thread that drains the pending events whenever the app records new ones (`notify`), and every
    `poll` seconds (events left pending by a failed round, or recorded by another process)."""

    def __init__(
        self,
        processor: EventProcessor,
        *,
        poll: float = 30.0,
        wake: _Flag | None = None,
        stopping: _Flag | None = None,
    ) -> None:
        self.processor = processor
        self.poll = poll
        self._wake: _Flag = wake or threading.Event()
        self._stopping: _Flag = stopping or threading.Event()
        self._runner = threading.Thread(target=self.run, name="webhook-worker", daemon=True)
        self.rounds = 0

    def _stopped(self) -> None:
        self.processor.close()

    def run(self) -> None:
        """The loop: drain, then wait for `notify` or `poll` seconds, until stopped."""
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


class ProcessWorker(_Woken):
    """The background worker in a process of its own (`serve`): the server's threads keep Python's
    interpreter lock for answering, and the worker gets a core — as a thread beside eight answering
    threads it got less than one core between them. The process opens its own store; `notify` wakes
    it; it ends with the server, even one killed outright (it watches its parent)."""

    stop_wait = 15.0

    def __init__(self, settings: Settings, *, poll: float = 30.0) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or locks inherited
        self._wake = context.Event()
        self._stopping = context.Event()
        arguments = (settings, self._wake, self._stopping, poll, os.getpid())
        self._process = context.Process(target=_work, args=arguments, name="webhook-worker", daemon=True)
        self._runner = self._process

    def _stopped(self) -> None:
        if self._process.is_alive():
            self._process.terminate()


def _work(settings: Settings, wake: _Flag, stopping: _Flag, poll: float, parent: int) -> None:
    """The worker process: the thread's loop, until `stopping` is set or the server is gone."""
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )

    def watch_parent() -> None:
        while not stopping.is_set():
            if os.getppid() != parent:  # the server died without stopping us
                stopping.set()
                wake.set()
            time.sleep(1.0)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    store = Store.open(settings.database_url)
    worker = BackgroundWorker(EventProcessor(settings, store), poll=poll, wake=wake, stopping=stopping)
    try:
        worker.run()
    finally:
        worker.processor.close()
        store.close()


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
