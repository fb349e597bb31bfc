"""The per-call time limit: a rule function running longer than the limit is interrupted with
RuleTimeout. A ticking timer (ten times a second) checks the call in progress, so that starting a call
costs no system call. A rule that catches BaseException and loops on is not stopped here: Node's deadline
for the whole request ends the process, and the rule is found and blamed on a rerun."""

import signal
import time

TICK_SECONDS = 0.1


class RuleTimeout(BaseException):
    """A BaseException, so that `except Exception` in a rule does not swallow it."""


class CallClock:
    def __init__(self, limit_seconds):
        self.limit_seconds = limit_seconds
        self._started = None
        self._what = None

    def install(self):
        signal.signal(signal.SIGALRM, self._on_tick)
        signal.setitimer(signal.ITIMER_REAL, TICK_SECONDS, TICK_SECONDS)

    def start(self, what):
        self._what = what
        self._started = time.monotonic()

    def stop(self):
        self._started = None

    def _on_tick(self, _signal, _frame):
        started = self._started
        if started is not None and time.monotonic() - started > self.limit_seconds:
            self._started = None
            raise RuleTimeout(f"{self._what} ran longer than {self.limit_seconds:g} s")
