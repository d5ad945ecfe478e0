"""One small supervisor for every long-running thread of every process.

A component is a function that runs until it returns or raises. Run under a
`Supervisor`, an unexpected exception is logged once with its traceback (the
frames and the exception's type only: an exception's text can carry a payload,
a secret or a phone's address, so it is never logged), counted in
`iotorino_thread_restarts_total{thread}`, and the component is started again
after a backoff (policy `restart`) or the whole process is marked failed
(policy `exit`: `Supervisor.wait()` returns and the command exits non-zero, so
its service manager restarts it). Never a half-alive process.

A component that fails after running `STABLE_S` seconds counts its failures
in a row afresh, so `give_up_after` stops a crash loop, not a process that
fails now and then. A component spawned with `forever=True` (a server) that
returns, or calls `sys.exit`, while the process is not stopping has failed too.

Liveness and readiness: `alive()` is false once a component with policy `exit`
has failed or a restarting component keeps failing (`give_up_after` failures
in a row); `ready()` is false while
any component says it is not ready (`set_ready`). `iotorino.core.health`
serves both as `/healthz` and `/readyz` beside `/metrics`.

Pure threading; the clock and the sleep are passed in so tests need no waiting.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

from prometheus_client import CollectorRegistry, Counter

log = logging.getLogger("iotorino.supervisor")

# Seconds a component must run before a failure no longer counts as "in a row".
STABLE_S = 60.0

RESTART = "restart"
EXIT = "exit"
POLICIES = (RESTART, EXIT)


def safe_traceback(exc: BaseException) -> str:
    """The traceback's frames and the exception's type, without its message (which may hold payload)."""
    frames = traceback.extract_tb(exc.__traceback__)
    lines = [f'  File "{f.filename}", line {f.lineno}, in {f.name}' for f in frames]
    return "Traceback (most recent call last):\n" + "\n".join(lines) + f"\n{type(exc).__module__}.{type(exc).__qualname__}"


class _Ended(Exception):
    """A `forever` component returned (or exited) while the process was not stopping."""


@dataclass
class _Component:
    name: str
    target: Callable[[], None]
    policy: str
    backoff_s: tuple[float, float]
    thread: threading.Thread | None = None
    failures: int = 0
    running: bool = False
    failed: bool = False
    ready: bool = True
    not_ready_reason: str = ""
    last_error: str = ""
    restarts_in_row: int = 0
    forever: bool = False
    extra: dict = field(default_factory=dict)


class Supervisor:
    """Starts components in daemon threads and keeps them running, or fails the process loudly."""

    def __init__(self, process: str, *, registry: CollectorRegistry | None = None,
                 sleep: Callable[[float], None] | None = None,
                 give_up_after: int = 0, clock: Callable[[], float] = time.monotonic) -> None:
        """`give_up_after` > 0 turns a restarting component that failed that many times in a row into a
        process failure (0: restart for ever); `clock` (seconds) measures how long a component ran."""
        self.process = process
        self._components: dict[str, _Component] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failed = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._give_up_after = give_up_after
        self._clock = clock
        self.restarts = Counter("iotorino_thread_restarts", "Unexpected exceptions that restarted a thread",
                                ["thread"], registry=registry)

    # -- starting and stopping ------------------------------------------------------------
    def spawn(self, name: str, target: Callable[[], None], *, policy: str = RESTART,
              backoff_s: tuple[float, float] = (0.5, 30.0), forever: bool = False) -> threading.Thread:
        """Run `target` in a daemon thread named `name` under `policy` (`restart` or `exit`); with `forever`,
        a return while the process is not stopping is a failure too."""
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r}: accepted {', '.join(POLICIES)}")
        with self._lock:
            if name in self._components and self._components[name].running:
                raise ValueError(f"component {name!r} is already running")
            component = _Component(name, target, policy, backoff_s, forever=forever)
            before = self._components.get(name)
            if before is not None:  # readiness said before the spawn (set_ready) holds
                component.ready, component.not_ready_reason = before.ready, before.not_ready_reason
            self._components[name] = component
            self.restarts.labels(thread=name)  # the series exists from the start, at 0
            component.thread = threading.Thread(target=self._run, args=(component,), name=name, daemon=True)
            component.running = True
        component.thread.start()
        return component.thread

    def stop(self) -> None:
        """Ask every loop to end (components watch `stopping`); wakes backoff waits."""
        self._stop.set()

    @property
    def stopping(self) -> threading.Event:
        """Set when the process is stopping: components' loops should end when it is."""
        return self._stop

    def join(self, timeout: float | None = None) -> None:
        """Wait for every component's thread to end (each at most `timeout` seconds)."""
        for component in list(self._components.values()):
            if component.thread is not None and component.thread is not threading.current_thread():
                component.thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the process fails or stops; True when it failed (exit non-zero then)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._failed.is_set() and not self._stop.is_set():
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            self._failed.wait(0.2 if left is None else min(0.2, left))
        return self._failed.is_set()

    def fail(self, name: str, why: str) -> None:
        """Mark the process failed because of `name`: liveness turns false and `wait()` returns."""
        log.error("event=process_failed process=%s component=%s why=%s", self.process, name, why)
        with self._lock:
            if name in self._components:
                self._components[name].failed = True
                self._components[name].last_error = why
        self._failed.set()

    # -- readiness --------------------------------------------------------------------------
    def set_ready(self, name: str, ready: bool, reason: str = "") -> None:
        """A component says whether it can do its work now (reason: why not, for `/readyz`)."""
        with self._lock:
            component = self._components.get(name)
            if component is None:
                component = _Component(name, lambda: None, RESTART, (0, 0))
                self._components[name] = component
            component.ready = ready
            component.not_ready_reason = "" if ready else reason

    def alive(self) -> bool:
        """Liveness: no component has failed the process."""
        return not self._failed.is_set()

    def ready(self) -> bool:
        """Readiness: alive, and every component running (or finished on purpose) and ready."""
        return self.alive() and all(c.ready and not c.failed for c in self._components.values())

    def status(self) -> dict:
        """Per component: running, ready, failures and the reason it is not ready (for `/readyz`)."""
        with self._lock:
            return {
                "process": self.process,
                "alive": self.alive(),
                "ready": self.alive() and all(c.ready and not c.failed for c in self._components.values()),
                "components": {
                    c.name: {"running": c.running, "ready": c.ready and not c.failed, "failures": c.failures,
                             **({"reason": c.not_ready_reason or c.last_error}
                                if (not c.ready or c.failed) else {})}
                    for c in self._components.values()
                },
            }

    # -- the loop -----------------------------------------------------------------------------
    def _run(self, component: _Component) -> None:
        delay = component.backoff_s[0]
        try:
            while not self._stop.is_set():
                started = self._clock()
                try:
                    component.target()
                    if component.forever and not self._stop.is_set():
                        raise _Ended(f"{component.name} returned while the process runs")
                    component.restarts_in_row = 0
                    return  # ended on purpose
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - the supervisor's whole point
                    if self._clock() - started >= max(STABLE_S, component.backoff_s[1]):
                        # It ran well for a while before this failure: a new series, the shortest backoff.
                        component.restarts_in_row = 0
                        delay = component.backoff_s[0]
                    component.failures += 1
                    component.restarts_in_row += 1
                    component.last_error = f"{type(exc).__name__} in {component.name}"
                    self.restarts.labels(thread=component.name).inc()
                    log.error("event=thread_crashed process=%s thread=%s error=%s failures=%d\n%s",
                              self.process, component.name, type(exc).__name__, component.failures,
                              safe_traceback(exc))
                    if component.policy == EXIT or (
                            self._give_up_after and component.restarts_in_row >= self._give_up_after):
                        self.fail(component.name, component.last_error)
                        return
                    if self._stop.is_set():
                        return
                    component.ready = False
                    component.not_ready_reason = f"restarting after {type(exc).__name__}"
                    self._sleep(delay)
                    delay = min(delay * 2, component.backoff_s[1])
                    component.ready = True
                    component.not_ready_reason = ""
        finally:
            component.running = False
