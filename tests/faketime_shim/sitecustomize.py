"""Loaded by every Python process of `make test-clock` (the Makefile puts this folder on
PYTHONPATH), and only there: a work-around for Debian bookworm's libfaketime 0.9.10.

`make test-clock` moves only the wall clock (FAKETIME_DONT_FAKE_MONOTONIC=1); a faked
monotonic clock makes CPython's timed waits (`Event.wait`, `Thread.join`, through
`sem_clockwait`, which libfaketime does not intercept) last for the whole offset. With the
monotonic clock left alone, libfaketime 0.9.10 mistranslates `clock_nanosleep(CLOCK_MONOTONIC,
TIMER_ABSTIME)`, which CPython 3.11's `time.sleep` uses, into a negative time: EINVAL
(libfaketime issue 426, fixed after 0.9.10). So `time.sleep` waits in `select()` instead,
which takes a relative timeout. Nothing of dropscope's behaviour changes: a sleep is a sleep.
"""

from __future__ import annotations

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
