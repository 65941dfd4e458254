"""`eventually`: the one way a test waits for something another thread or process does.

A test waits for a condition, never for a fixed time: the condition returns as soon as it
holds, and when it never does the failure says what was awaited and what was last seen.
To show that nothing happened, do not wait at all: drive the background loop by hand
(`Harness.run_outbox()`, `reconciler.sweep()`) and assert after it ran.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    predicate: Callable[[], T],
    *,
    timeout: float = 10,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition",
) -> T:
    """Call `predicate` until it returns something truthy, and return that.

    A falsy result, or an AssertionError raised by `predicate`, means "not yet": so a
    predicate may assert with details (`assert p["status"] == "paid", p`) and return the
    value it checked. After `timeout` seconds an AssertionError names `message` (a string,
    or a callable for details known only then) and the last result or assertion.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = predicate()
        except AssertionError as exc:
            last = f"AssertionError: {exc}"
        else:
            if result:
                return result
            last = repr(result)
        if time.monotonic() >= deadline:
            what = message() if callable(message) else message
            raise AssertionError(f"{what} did not hold within {timeout:g} s; last: {last}")
        time.sleep(interval)
