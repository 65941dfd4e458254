"""A settled split bill in the POS: its shares paid in one PayOrder, a `<Payment>` line each, then CloseVisit.

Real HTTP against the sandbox's R-Keeper simulator. The shares are stored as the split-bill
service leaves them (paid attempts of the order) and their outbox row is queued as it
queues it (`{"order_id", "payment_ids"}`); the test then drives the outbox by hand.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from sync_service.models import utc_now
from sync_service.pos import rkeeper_xml as rx
from sync_service.pos.config import connection_from
from sync_service.pos.rkeeper_client import RKeeperClient
from sync_service.services.pos_orders import PAYMENT_TOPIC
from tablepay_domain.payment_state import PaymentStatus
from tablepay_sandbox.rkeeper.options import RKeeperOptions
from tests.service.test_pos_sync import dish, dishes_in, faults, sim_order
from tests.support.harness import Harness, make_order, running_harness
from tests.support.payment_store import payment_record
from tests.support.waiting import eventually

TIP_DISH = "9001"  # the simulator's open-price tip dish
# The order: 2 x MARG 950 + BRUS 650 + TIRA 690 = 3240 (EUR: minor units are the POS's hundredths).
LINES = [dish("MARG", 2), dish("BRUS", 1), dish("TIRA", 1)]
# The shares, in the order they were paid: (dishes, tip, donation, provider, provider reference).
SHARES = [
    (1000, 150, 100, "stripe", "pi_a"),
    (1200, 0, 0, "mollie", "tr_b"),
    (1040, 150, 0, "stripe", "pi_c"),  # the same tip as the first: two tip dishes of one price
]
REFERENCES = ["stripe:pi_a", "mollie:tr_b", "stripe:pi_c"]


def order_in_pos(h: Harness) -> str:
    order = make_order(lines=LINES, tip_amount=0, table="Bar 1")
    assert h.kiosk.post("/v1/orders", json=order).status_code == 202
    h.run_outbox()
    assert h.pos_state(order["order_id"])["status"] == "in_pos"
    return str(order["order_id"])


def store_shares(h: Harness, order_id: str, shares: list[tuple[int, int, int, str, str]]) -> list[str]:
    """The shares as paid attempts of the order, through the service's own repository."""
    repo = h.app.state.repo
    ids = [f"pay_{order_id}_{n}" for n in range(1, len(shares) + 1)]

    async def write() -> None:
        with repo.transaction():
            for n, (dishes, tip, donation, provider, reference) in enumerate(shares):
                repo.insert_payment(
                    payment_record(
                        payment_id=ids[n],
                        order_id=order_id,
                        attempt=n + 1,
                        kiosk_id="kiosk-1",
                        status=PaymentStatus.PAID,
                        dish_subtotal=dishes,
                        tip_amount=tip,
                        donation_amount=donation,
                        amount_total=dishes + tip + donation,
                        provider=provider,
                        provider_session_id=f"cs_{n}" if provider == "stripe" else reference,
                        provider_payment_intent=reference if provider == "stripe" else None,
                        paid_at=utc_now(),
                    )
                )

    h.service.run(write())
    return ids


def queue_settled(h: Harness, order_id: str, payment_ids: list[str], key: str = "bill") -> None:
    """The outbox row a settled bill queues: its shares frozen in the payload."""
    repo = h.app.state.repo

    async def write() -> None:
        with repo.transaction():
            payload = {"order_id": order_id, "payment_ids": payment_ids}
            repo.enqueue(PAYMENT_TOPIC, f"pos:{order_id}:{key}", None, payload, ordering_key=order_id)

    h.service.run(write())


def calls(h: Harness) -> dict[str, int]:
    return dict(h.stripe_http.get("/_sandbox/rkeeper/calls").json())


def lines_in(remote: dict[str, Any]) -> list[tuple[int, int, str | None, str]]:
    return [(p["amount"], p["tipAmount"], p["tipCharge"], p["extTransactionInfo"]) for p in remote["payments"]]


def paid_detail(h: Harness, order_id: str) -> str:
    return str([s for s in h.pos_state(order_id)["trail"] if s["step"] == "paid"][-1]["detail"])


@pytest.mark.parametrize(
    ("mode", "includes_tip", "lines", "tip_dishes"),
    [
        # Each share's tip on its own line's tipAmount with TipCharge; amount = its dishes.
        ("tip_charge", False, [(1000, 150, "7"), (1200, 0, None), (1040, 150, "7")], []),
        # A POS whose Payment@amount includes tipAmount: the tip inside each line's amount too.
        ("tip_charge", True, [(1150, 150, "7"), (1200, 0, None), (1190, 150, "7")], []),
        # Each tip a dish of its own added before paying; each line pays its dishes and its tip dish.
        ("dish", False, [(1150, 0, None), (1200, 0, None), (1190, 0, None)], [150, 150]),
    ],
    ids=["tip-charge", "tip-charge-in-amount", "tip-dish"],
)
def test_a_settled_bills_shares_are_paid_in_one_pay_order_a_line_each(
    tmp_path: Any, mode: str, includes_tip: bool, lines: list[tuple[int, int, str | None]], tip_dishes: list[int]
) -> None:
    with running_harness(
        tmp_path,
        pos=True,
        background=False,
        rkeeper_tip_mode=mode,
        rkeeper_payment_includes_tip=includes_tip,
        rkeeper_options=RKeeperOptions(payment_amount_includes_tip=includes_tip),
    ) as h:
        order_id = order_in_pos(h)
        ids = store_shares(h, order_id, SHARES)
        queue_settled(h, order_id, ids)
        h.run_outbox()

        state = h.pos_state(order_id)
        assert state["status"] == "paid" and state["check_num"] == "10001", state
        remote = sim_order(h, order_id)
        assert remote["paid"] and remote["visit_finished"] and remote["unpaidSum"] == 0
        # In the shares' order; the donation (100 on the first) is nowhere.
        assert lines_in(remote) == [(*line, ref) for line, ref in zip(lines, REFERENCES, strict=True)]
        assert sum(p["covered"] for p in remote["payments"]) == remote["orderSum"] == 3240 + sum(tip_dishes)
        assert [price for code, _, price in dishes_in(remote) if code == TIP_DISH] == tip_dishes
        assert calls(h)["PayOrder"] == 1
        detail = paid_detail(h, order_id)
        assert all(payment_id in detail for payment_id in ids) and "check 10001; visit closed" in detail, detail


def test_shares_that_do_not_make_the_unpaid_sum_are_refused_before_paying(tmp_path: Any) -> None:
    with running_harness(tmp_path, pos=True, background=False) as h:
        order_id = order_in_pos(h)
        ids = store_shares(h, order_id, SHARES[:2])  # 2200 of 3240
        queue_settled(h, order_id, ids)
        h.run_outbox()

        state = h.pos_state(order_id)
        assert state["status"] == "failed", state
        assert "the POS wants 3240" in state["last_error"] and "the 2 shares paid 2200" in state["last_error"]
        assert "PayOrder" not in calls(h)  # refused by us, before sending
        remote = sim_order(h, order_id)
        assert not remote["paid"] and remote["payments"] == [] and remote["unpaidSum"] == 3240

        # The POS itself refuses lines that do not add up to its unpaid sum, too little or too much: 3373.
        card, charge = rx.Ref(id=h.settings.rkeeper_currency_id), rx.Ref(code=h.settings.rkeeper_tip_charge_code)
        first, second = (
            rx.PaymentLine(card, 1000, REFERENCES[0], 150, charge),
            rx.PaymentLine(card, 1200, REFERENCES[1]),
        )
        for third in ([], [rx.PaymentLine(card, 1041, REFERENCES[2])]):
            with pytest.raises(rx.PosCommandError) as refused:
                asyncio.run(_pay(h, state["pos_guid"], [first, second, *third]))
            assert refused.value.number == rx.NOT_ENOUGH_MONEY
        assert sim_order(h, order_id)["payments"] == []


async def _pay(h: Harness, guid: str, payments: list[rx.PaymentLine]) -> str:
    client = RKeeperClient(connection_from(h.settings))
    try:
        station, cashier = rx.Ref(code=h.settings.rkeeper_station_code), rx.Ref(code=h.settings.rkeeper_cashier_code)
        return await client.pay_order(guid, station=station, cashier=cashier, payments=payments)
    finally:
        await client.aclose()


@pytest.mark.parametrize("command", ["SaveOrder", "PayOrder", "CloseVisit"])
def test_a_retried_delivery_after_the_pos_applied_it_books_nothing_twice(tmp_path: Any, command: str) -> None:
    with running_harness(tmp_path, pos=True, background=False, rkeeper_tip_mode="dish") as h:
        order_id = order_in_pos(h)
        ids = store_shares(h, order_id, SHARES)
        faults(h, drop_next=1, commands=[command])  # applied by the POS, its answer lost: the row runs again
        queue_settled(h, order_id, ids)
        eventually(
            lambda: h.run_outbox() >= 0 and h.pos_state(order_id)["status"] == "paid",
            message=lambda: f"the shares paid in the POS after the lost answer: {h.pos_state(order_id)}",
        )
        assert h.stripe_http.get("/_sandbox/rkeeper/faults").json().get("drop_next", 0) == 0  # the fault fired
        # The same shares queued again (a second row for the bill): the POS is paid already, nothing is sent.
        queue_settled(h, order_id, ids, key="again")
        assert h.run_outbox() == 1
        # The check number is known unless PayOrder's own answer was the one lost.
        check = "?" if command == "PayOrder" else "10001"
        assert f"already paid in the POS (check {check})" in paid_detail(h, order_id)

        remote = sim_order(h, order_id)
        assert remote["paid"] and remote["visit_finished"] and len(remote["payments"]) == 3
        assert [price for code, _, price in dishes_in(remote) if code == TIP_DISH] == [150, 150]
        assert calls(h)["PayOrder"] == 1
