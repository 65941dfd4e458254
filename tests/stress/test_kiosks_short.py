"""The short form of bench/kiosks.py: kiosks long-polling while a burst of webhooks arrives."""

from __future__ import annotations

from bench.kiosks import run


def test_a_burst_reaches_every_kiosk_once_and_in_order() -> None:
    result = run(kiosk_count=10, webhooks=300)
    assert result["events_received"] == 300
    assert {
        k: result[k] for k in ("lost", "received_twice", "out_of_order", "other_kiosks_events", "webhook_failures")
    } == dict.fromkeys(("lost", "received_twice", "out_of_order", "other_kiosks_events", "webhook_failures"), 0)
