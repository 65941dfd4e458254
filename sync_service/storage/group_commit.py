"""Group commit: items submitted in the same loop turn are processed in one transaction.

Webhooks arrive in bursts. Committing each alone pays BEGIN, COMMIT, a
statement per table and the rewrite of the same index pages every time; the
items waiting together share one transaction and set-based statements
instead. No caller is answered before the COMMIT that holds its work, so
durability is unchanged. If the batch fails, each item is processed again
alone, so one bad item only fails itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from .repository import Repository

In = TypeVar("In")
Out = TypeVar("Out")


class GroupCommitter(Generic[In, Out]):
    def __init__(
        self,
        repo: Repository,
        process: Callable[[Sequence[In]], list[Out]],
        *,
        after_commit: Callable[[Sequence[In], list[Out]], None] | None = None,
        max_batch: int = 256,
    ) -> None:
        """`process(items)` runs inside a transaction and returns one result per item, in order;
        `after_commit(items, results)` runs once per committed batch (notifications, one log line)."""
        self._repo = repo
        self._process = process
        self._after_commit = after_commit
        self._max_batch = max_batch
        self._waiting: list[tuple[In, asyncio.Future[Out]]] = []
        self._scheduled = False

    async def submit(self, item: In) -> Out:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Out] = loop.create_future()
        self._waiting.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
        self._scheduled = bool(self._waiting)
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        try:
            with self._repo.transaction():
                results = self._process([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - find the item that failed by processing each alone
            if len(batch) == 1:
                _settle(batch[0][1], error=exc)
            else:
                for item, future in batch:
                    self._process_alone(item, future)
            return
        self._committed([item for item, _ in batch], results)
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    def _committed(self, items: Sequence[In], results: list[Out]) -> None:
        if self._after_commit is not None:
            self._after_commit(items, results)

    def _process_alone(self, item: In, future: asyncio.Future[Out]) -> None:
        try:
            with self._repo.transaction():
                result = self._process([item])[0]
        except Exception as exc:  # noqa: BLE001 - handed to that item's caller
            _settle(future, error=exc)
        else:
            self._committed([item], [result])
            _settle(future, result)


def _settle(future: asyncio.Future[Out], result: Out | None = None, error: BaseException | None = None) -> None:
    if future.cancelled():  # the caller went away (client disconnected); the work is stored anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
