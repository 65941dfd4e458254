"""The long-polled feed: at once when there are events, else as soon as one arrives."""

import threading
import time

import pytest

from tests.support.harness import Harness, make_order


def test_feed_answers_at_once_when_events_exist(harness: Harness):
    harness.checkout(make_order())
    started = time.monotonic()
    events = harness.feed(after=0, wait=20)
    assert len(events) == 1 and time.monotonic() - started < 5


def test_feed_waits_then_wakes_on_a_new_event(harness: Harness):
    payment = harness.checkout(make_order()).json()
    after = harness.feed()[-1]["seq"]
    timer = threading.Timer(0.5, lambda: harness.complete(payment, "succeeded"))
    timer.start()
    started = time.monotonic()
    events = harness.feed(after=after, wait=20)
    elapsed = time.monotonic() - started
    timer.join()
    # The order's status moved with it (order.status, in the same commit).
    assert [e["event"] for e in events] == ["payment.succeeded", "order.status"]
    assert events[1]["order_status"] == "paid" and events[0]["order_status"] is None
    assert 0.4 < elapsed < 10


def test_feed_times_out_empty_and_keeps_the_cursor(harness: Harness):
    response = harness.kiosk.get("/v1/events", params={"after": 7, "wait": 0.3})
    assert response.json() == {"events": [], "next_after": 7}


def test_feed_is_resumable_and_per_kiosk(harness: Harness):
    first = harness.checkout(make_order()).json()
    harness.complete(first, "succeeded")
    harness.wait_status(first["payment_id"], "paid")
    all_events = harness.feed()
    seqs = [e["seq"] for e in all_events]
    assert seqs == sorted(seqs)
    resumed = harness.feed(after=seqs[0])
    assert resumed == all_events[1:]
    assert all("kiosk_id" not in e for e in all_events)


def test_a_long_poll_whose_kiosk_hung_up_does_not_hold_the_shutdown(harness: Harness):
    import httpx

    with pytest.raises(httpx.ReadTimeout):
        harness.kiosk.get("/v1/events", params={"after": 0, "wait": 60}, timeout=httpx.Timeout(5, read=0.5))
    started = time.monotonic()
    harness.service.stop()
    assert time.monotonic() - started < 5


def test_a_kiosk_of_an_earlier_release_is_sent_only_the_events_it_can_apply(tmp_path) -> None:
    """It reads every event as a payment's: a split bill's and an order status's are left out for it, and
    its cursor moves past them; this release's kiosk asks for every event (`events=all`)."""
    from tests.support.bills import Table, split_order
    from tests.support.harness import running_harness

    with running_harness(tmp_path) as h:
        h.paid()  # an order paid in full: its payment's events are for every kiosk
        table = Table(h, split_order("ord-legacy-feed"))
        table.pay(table.take(mode="remaining"))
        every = h.feed()
        names = {e["event"] for e in every}
        assert {"bill.opened", "bill.share_paid", "bill.settled", "order.status"} <= names, names
        # The fast path (plain parameters) and FastAPI's route (a wait it leaves to FastAPI) answer alike.
        for wait in ("0", "0.0000000"):
            page = h.kiosk.get("/v1/events", params={"after": 0, "wait": wait}).json()
            assert page["events"] and all(e["event"].startswith(("payment.", "pos.")) for e in page["events"])
            assert page["next_after"] == every[-1]["seq"]  # past what it was not sent
            everything = h.kiosk.get("/v1/events", params={"after": 0, "wait": wait, "events": "all"}).json()["events"]
            assert [e["event_id"] for e in everything] == [e["event_id"] for e in every]
