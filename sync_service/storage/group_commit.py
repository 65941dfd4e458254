"""Group commit: write units submitted in the same loop turn share one transaction.

Webhooks arrive in bursts. Committing each one alone pays BEGIN, COMMIT and
the rewrite of the same index pages every time; the units that are waiting
together share one transaction instead. No caller is answered before the
COMMIT that holds its work, so durability is unchanged. If any unit fails,
the whole batch is rolled back and each unit is run again alone, so one bad
unit only fails itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from .repository import Repository

T = TypeVar("T")
_Unit = tuple[Callable[[], Any], "asyncio.Future[Any]"]


class GroupCommitter:
    def __init__(self, repo: Repository, *, max_batch: int = 128) -> None:
        self._repo = repo
        self._max_batch = max_batch
        self._waiting: list[_Unit] = []
        self._scheduled = False

    async def run(self, unit: Callable[[], T]) -> T:
        """Run `unit()` inside a shared transaction; returns its result once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._waiting.append((unit, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting[:self._max_batch], self._waiting[self._max_batch:]
        self._scheduled = bool(self._waiting)
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        try:
            with self._repo.transaction():
                results = [unit() for unit, _ in batch]
        except Exception:  # noqa: BLE001 - find the unit that failed by running each alone
            for unit, future in batch:
                self._run_alone(unit, future)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.cancelled():
                future.set_result(result)

    def _run_alone(self, unit: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        try:
            with self._repo.transaction():
                result = unit()
        except Exception as exc:  # noqa: BLE001 - handed to that unit's caller
            if not future.cancelled():
                future.set_exception(exc)
        else:
            if not future.cancelled():
                future.set_result(result)
