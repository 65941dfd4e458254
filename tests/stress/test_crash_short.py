"""The short form of bench/crash.py: paid orders while the sync service is SIGKILLed and restarted."""

from __future__ import annotations

from bench.crash import run


def test_orders_paid_exactly_once_through_repeated_sigkills(capsys) -> None:
    assert run(orders=60, workers=6, kill_every=(0.3, 1.0), settle_timeout=180) == 0
    printed = capsys.readouterr().out
    assert '"kills": 0' not in printed  # the service really was killed along the way
    assert "PASS" in printed
