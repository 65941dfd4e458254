"""The waiter's actions never strand the waiter.

Each async slot of a view model handles the errors it expects (offline, refused). Anything else, a
malformed answer from the service or a bug, would otherwise end in qasync's excepthook and leave
the view model where it was (a checkout stuck in STARTING with no button on screen). `waiter_action`
logs it with its trace and hands it to the view model's `recover(error)`, whose contract is to put
the view model in a state the waiter can leave (Back / Try again), without losing the order.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from qasync import asyncSlot

log = logging.getLogger(__name__)


class Recovers(Protocol):
    def recover(self, error: Exception) -> None:
        """Leave the state the failed action left behind for one with a way out."""


R = TypeVar("R", bound=Recovers)
Action = Callable[..., Awaitable[None]]


def unexpected(error: Exception) -> str:
    """What the waiter reads: that nothing was lost and what to do (the trace is in the log)."""
    return (
        f"Something went wrong ({type(error).__name__}); nothing was lost. "
        "Try again, or go back; if it happens again, call the manager."
    )


def waiter_action(*slot_types: type) -> Callable[[Action], Any]:
    """`@asyncSlot(*slot_types)` whose unexpected errors are logged and recovered from, never left hanging."""

    def decorate(method: Action) -> Any:
        @functools.wraps(method)
        async def run(self: Recovers, *args: Any) -> None:
            try:
                await method(self, *args)
            except Exception as error:
                log.exception("%s.%s failed unexpectedly", type(self).__name__, method.__name__)
                self.recover(error)

        return asyncSlot(*slot_types)(run)

    return decorate
