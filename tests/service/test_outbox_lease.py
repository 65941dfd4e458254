"""Chain mode (PostgreSQL only): a row claimed in a batch keeps its lease for its own delivery.

An instance claims up to 20 rows with one lease and delivers them one after another. Found by bench/chain.py
(1,000 orders, one instance SIGKILLed again and again): one order's dishes in the POS twice and its payment parked
as a dead letter, because the last rows of a batch were delivered after the batch's lease had run out, while the
other instance had already taken them over. Now each row's lease is renewed, under its token, when its turn
comes, and a row whose lease was taken over meanwhile is left to the instance that took it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from sync_service.services import outbox
from sync_service.services.outbox import OutboxWorker
from sync_service.storage.postgres import open_postgres
from sync_service.storage.repository import Repository

LEASE = 60.0
DELIVERY = 40.0  # each delivery takes less than a lease; two of them take more


@pytest.fixture
def two_instances(postgres_url: str) -> Iterator[tuple[Repository, Repository]]:
    a, b = open_postgres(postgres_url), open_postgres(postgres_url)
    try:
        yield Repository(a), Repository(b)
    finally:
        a.close()
        b.close()


@pytest.mark.asyncio
async def test_the_last_row_of_a_batch_is_not_delivered_twice_when_the_batch_outlasts_its_lease(
    two_instances: tuple[Repository, Repository], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo_a, repo_b = two_instances
    with repo_a.transaction():
        for n in (1, 2):
            repo_a.enqueue("test.topic", f"row-{n}", None, {"n": n}, ordering_key=f"order-{n}")
    clock = [time.time()]
    monkeypatch.setattr(outbox, "time", SimpleNamespace(time=lambda: clock[0]))
    delivered: Counter[int] = Counter()
    tried_by_b: list[int] = []

    async def deliver_on_b(payload: dict[str, Any]) -> None:
        delivered[payload["n"]] += 1

    worker_b = OutboxWorker(repo_b, {"test.topic": deliver_on_b}, max_attempts=5, lease_seconds=LEASE)

    async def deliver_on_a(payload: dict[str, Any]) -> None:
        delivered[payload["n"]] += 1
        clock[0] += DELIVERY
        if payload["n"] == 2:  # instance B looks for work while A is still delivering row 2
            tried_by_b.append(await worker_b.run_once())

    worker_a = OutboxWorker(repo_a, {"test.topic": deliver_on_a}, max_attempts=5, lease_seconds=LEASE)
    assert await worker_a.run_once() == 2  # both rows claimed in one batch, delivered one after the other

    assert delivered == {1: 1, 2: 1}
    assert tried_by_b == [0]  # row 2's lease was renewed when its turn came: not B's to take
    assert [row["state"] for row in repo_a.outbox_rows("test.topic")] == ["done", "done"]
