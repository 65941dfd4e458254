"""The short form of bench/chain.py: paid orders through two instances on one PostgreSQL behind a round-robin
proxy, one of them SIGKILLed and restarted along the way (PostgreSQL only: the session's server, a fresh database)."""

from __future__ import annotations

import pytest

from bench.chain import run


def test_orders_paid_exactly_once_through_two_instances_one_repeatedly_killed(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(orders=120, workers=8, kill_every=(0.3, 1.0), settle_timeout=120, database_url=postgres_url) == 0
    printed = capsys.readouterr().out
    assert '"kills": 0' not in printed  # instance B really was killed along the way
    assert "PASS" in printed
