"""The checkout view model's split bill without widgets: the bill API faked with httpx.MockTransport,
the guests' progress fed to the store as the feed worker would apply it."""

from __future__ import annotations

import json

import httpx
import pytest

from pos_app.client import SyncClient
from pos_app.menu import load_menu
from pos_app.store import KioskStore, open_db
from pos_app.viewmodels import CheckoutState, CheckoutViewModel, OrderViewModel

from .conftest import kiosk_settings
from .test_split_bill_store import bill, bill_event, share_event


class FakeService:
    """The bill API and a checkout that charges what the bill leaves, as docs/split-bill.md says."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict]] = []
        self.state = bill()
        self.refuse: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.seen.append((request.method, request.url.path, body))
        if self.refuse is not None:
            return self.refuse
        if request.url.path.endswith("/bill"):
            if request.method == "DELETE":
                self.state = {**self.state, "status": "stopped", "held": 0, "guests_paying": 0}
                self.state["remaining"] = self.state["total"] - self.state["paid"]
            answer = {**self.state, "bill_url": "https://pay.example/bill/tok123", "token": "tok123"}
            return httpx.Response(201 if request.method == "POST" else 200, json=answer)
        left = self.state["total"] - self.state["paid"]
        return httpx.Response(
            201,
            json={
                "payment_id": "p-rest",
                "order_id": body["order_id"],
                "attempt": 3,
                "status": "open",
                "currency": "EUR",
                "checkout_url": "http://c/rest",
                "expires_at": 2_000_000_000,
                "amount_total": left + body["tip_amount"],
                "tip_amount": body["tip_amount"],
                "donation_amount": 0,
                "paid_at": None,
            },
        )


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def vm(tmp_path, qapp, service) -> CheckoutViewModel:
    order_vm = OrderViewModel(KioskStore(open_db(tmp_path / "k.sqlite")), load_menu(), kiosk_settings())
    order_vm.open_table("7")
    for sku in ("MARG", "CARB"):
        order_vm.add_item(sku)
    order_vm.set_tip_percent(10)
    client = SyncClient("http://svc", "t", transport=httpx.MockTransport(service))
    return CheckoutViewModel(order_vm.store, client, order_vm)


def feed(vm: CheckoutViewModel, *events: dict) -> None:
    """As the feed worker does: apply a page, then tell the view models which orders changed."""
    order_id = vm.order_vm.order.order_id
    page = [{**e, "order_id": order_id} for e in events]
    vm.store.apply_events(page, max(e["seq"] for e in page))
    vm.on_orders_changed([order_id])


def test_split_shows_the_bill_url_and_the_guests_progress(vm, service, qtbot, qasync_loop):
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT, timeout=5000)
    method, path, body = service.seen[0]
    assert (method, path) == ("POST", f"/v1/orders/{vm.order_id}/bill")
    assert body["tip_amount"] == 0 and body["donation_amount"] == 0 and len(body["lines"]) == 2
    assert body["tip_presets"] == [10, 15, 20]  # the kiosk's, for the bill page
    assert vm.bill_url == "https://pay.example/bill/tok123"
    assert vm.progress_text == "€0.00 of €96.00 paid" and vm.amount_text == "€96.00"
    feed(vm, share_event(1, "open", "bill.share_open", "s1", 4310, bill(held=4210, guests=1)))
    assert vm.progress_text == "€0.00 of €96.00 paid · 1 guest paying"
    feed(
        vm,
        share_event(2, "paid", "bill.share_paid", "s1", 4310, bill(paid=4210)),
        share_event(3, "open", "bill.share_open", "s2", 2000, bill(paid=4210, held=2000, guests=1)),
        share_event(4, "open", "bill.share_open", "s3", 2000, bill(paid=4210, held=4000, guests=2)),
    )
    assert vm.progress_text == "€42.10 of €96.00 paid · 2 guests paying"
    assert vm.state is CheckoutState.SPLIT and vm.attempt is None  # a share is never the checkout shown
    assert not vm.store.order(vm.order_id).is_paid
    feed(
        vm,
        share_event(5, "paid", "bill.share_paid", "s2", 2000, bill(paid=6210, held=2000, guests=1)),
        share_event(6, "paid", "bill.share_paid", "s3", 3390, bill(paid=9600)),
        bill_event(7, "bill.settled", bill("settled", paid=9600)),
    )
    assert vm.state is CheckoutState.PAID and vm.amount_text == "€96.00"
    assert vm.order_vm.order.is_paid


def test_stop_split_then_pay_the_rest_in_full_shows_the_checkouts_own_amount(vm, service, qtbot, qasync_loop):
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT, timeout=5000)
    feed(vm, share_event(1, "paid", "bill.share_paid", "s1", 4310, bill(paid=4210)))
    service.state = bill(paid=4210)
    vm.stop_split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.STOPPED, timeout=5000)
    assert service.seen[-1][:2] == ("DELETE", f"/v1/orders/{vm.order_id}/bill")
    assert vm.amount_text == "€53.90" and "€53.90 is left" in vm.message
    assert vm.order_vm.pay_text == "Pay the rest in full" and vm.order_vm.can_pay
    vm.pay_rest()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.WAITING, timeout=5000)
    assert service.seen[-1][1] == "/v1/checkouts"
    # 53.90 left plus the order's tip as the kiosk sent it (10 % of 23.00): the checkout's total, not the order's.
    assert vm.attempt.payment_id == "p-rest" and vm.amount_text == "€56.20"
    assert vm.amount_text != vm.order_vm.fmt(vm.order_vm.totals().total)
    rest = {**share_event(2, "paid", "payment.succeeded", "p-rest", 5620, bill("settled", paid=9600))}
    del rest["bill"]
    feed(vm, {**rest, "attempt": 3})
    assert vm.state is CheckoutState.PAID


def test_split_refused_or_offline_says_so_in_the_waiters_words(vm, service, qtbot, qasync_loop):
    service.refuse = httpx.Response(
        409, json={"error": {"code": "checkout_live", "message": "This order has a live checkout: cancel it first."}}
    )
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.ERROR, timeout=5000)
    assert vm.message == "This order has a live checkout: cancel it first." and vm.splitting

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    vm.client = SyncClient("http://127.0.0.1:9", "t", transport=httpx.MockTransport(refuse))
    vm.retry()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.OFFLINE, timeout=5000)
    assert "Splitting the bill needs the connection" in vm.message
    assert vm.store.order(vm.order_vm.order.order_id).status == "open"


def test_stop_split_without_the_service_keeps_the_split(vm, service, qtbot, qasync_loop):
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT, timeout=5000)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    vm.client = SyncClient("http://127.0.0.1:9", "t", transport=httpx.MockTransport(refuse))
    vm.stop_split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT and "unreachable" in vm.message, timeout=5000)


def test_a_bill_answer_without_its_url_is_malformed_and_recovered_from(vm, service, qtbot, qasync_loop):
    service.refuse = httpx.Response(201, json={**bill()})
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.ERROR, timeout=5000)
    assert "Something went wrong (MalformedAnswer)" in vm.message


def test_the_progress_in_the_kiosks_locale(tmp_path, qapp, service, qtbot, qasync_loop):
    order_vm = OrderViewModel(KioskStore(open_db(tmp_path / "k.sqlite")), load_menu(), kiosk_settings(locale="de_DE"))
    order_vm.open_table("7")
    order_vm.add_item("MARG")
    vm = CheckoutViewModel(
        order_vm.store, SyncClient("http://svc", "t", transport=httpx.MockTransport(service)), order_vm
    )
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT, timeout=5000)
    feed(vm, share_event(1, "paid", "bill.share_paid", "s1", 4310, bill(paid=4210, held=1000, guests=1)))
    assert vm.progress_text == "42,10\xa0€ of 96,00\xa0€ paid · 1 guest paying"


def test_the_orders_list_shows_a_split_bills_progress(vm, service, qtbot, qasync_loop):
    from pos_app.viewmodels import OrdersViewModel

    orders = OrdersViewModel(vm.store, vm.order_vm.settings)
    vm.split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.SPLIT, timeout=5000)
    feed(vm, share_event(1, "paid", "bill.share_paid", "s1", 4310, bill(paid=4210)))
    orders.refresh()
    assert [(r.payment, r.payment_status) for r in orders.open_rows] == [("Split · €42.10 paid", "split")]
    service.state = bill(paid=4210)
    vm.stop_split()
    qtbot.waitUntil(lambda: vm.state is CheckoutState.STOPPED, timeout=5000)
    orders.refresh()
    assert [r.payment for r in orders.open_rows] == ["Split stopped · €53.90 left"]
