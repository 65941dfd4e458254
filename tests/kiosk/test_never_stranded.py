"""A malformed answer to any kiosk action leaves a way out on screen (issue 12).

The kiosk talks to the real sync service and sandbox through a loopback proxy that answers one route
wrong at a time (a 2xx with a body of the wrong shape, or no JSON at all). Each action must end in
a state the waiter can leave, with the error logged, and lose nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.app import Kiosk
from pos_app.viewmodels import CheckoutState, RefundState
from tests.support.faulty_proxy import FaultyProxy
from tests.support.harness import Harness, running_harness
from tests.support.live_server import LiveServer

from .conftest import running_kiosk
from .test_kiosk_flows import LONG, check_out, click, take_order
from .test_manager import open_manager
from .test_manager_live import paid_order, select

MALFORMED = [
    pytest.param(b"[]", id="a-list"),
    pytest.param(b"{}", id="no-fields"),
    pytest.param(b"<html>oops</html>", id="not-json"),
]


@pytest.fixture
def proxy(harness: Harness) -> Iterator[tuple[FaultyProxy, LiveServer]]:
    faulty = FaultyProxy(harness.service.url)
    with LiveServer(faulty.app) as server:
        yield faulty, server


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with running_harness(tmp_path, pos=True) as running:  # a POS, so Send to kitchen is there
        yield running


@pytest.fixture
def kiosk(qtbot, qasync_loop, harness: Harness, proxy, tmp_path: Path) -> Iterator[Kiosk]:
    with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk", service_url=proxy[1].url) as built:
        yield built


def assert_logged(caplog: pytest.LogCaptureFixture) -> None:
    failures = [r for r in caplog.records if "failed unexpectedly" in r.getMessage() or r.exc_info]
    assert failures and failures[-1].exc_info, "the error is logged with its trace"


@pytest.mark.parametrize("body", MALFORMED)
def test_checkout(qtbot, kiosk: Kiosk, proxy, body: bytes, caplog) -> None:
    proxy[0].break_route("POST", "/v1/checkouts", 201, body)
    order_id = take_order(qtbot, kiosk)
    click(qtbot, kiosk.window.order_page.checkout_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.ERROR, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert panel.back_button.isVisible() and panel.retry_button.isVisible()
    assert "Something went wrong" in kiosk.checkout_vm.message
    assert_logged(caplog)
    proxy[0].fault = None
    click(qtbot, panel.retry_button)  # the way out works: the same order is checked out for real
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    assert kiosk.checkout_vm.order_id == order_id


@pytest.mark.parametrize("body", MALFORMED)
def test_split(qtbot, kiosk: Kiosk, proxy, body: bytes, caplog) -> None:
    proxy[0].break_route("POST", r"/v1/orders/[^/]+/bill", 201, body)
    order_id = take_order(qtbot, kiosk)
    click(qtbot, kiosk.window.order_page.split_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.ERROR, timeout=LONG)
    panel = kiosk.window.checkout_panel
    assert panel.back_button.isVisible() and panel.retry_button.isVisible()
    assert "Something went wrong" in kiosk.checkout_vm.message
    assert_logged(caplog)
    proxy[0].fault = None
    click(qtbot, panel.retry_button)  # the way out works: the same order's bill, for real
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.SPLIT, timeout=LONG)
    assert kiosk.checkout_vm.order_id == order_id and "/bill/" in kiosk.checkout_vm.bill_url


@pytest.mark.parametrize("body", MALFORMED)
def test_stop_split(qtbot, kiosk: Kiosk, proxy, body: bytes, caplog) -> None:
    take_order(qtbot, kiosk)
    click(qtbot, kiosk.window.order_page.split_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.SPLIT, timeout=LONG)
    proxy[0].break_route("DELETE", r"/v1/orders/[^/]+/bill", 200, body)
    click(qtbot, kiosk.window.checkout_panel.split_view.stop_button)
    qtbot.waitUntil(
        lambda: (
            proxy[0].hits > 0
            and kiosk.checkout_vm.state is not CheckoutState.STOPPING
            and any("failed unexpectedly" in r.getMessage() for r in caplog.records)
        ),
        timeout=LONG,
    )
    assert_logged(caplog)
    proxy[0].fault = None
    panel = kiosk.window.checkout_panel
    # The way out: Back / Try the split again; or, when a feed event for the order came in just after,
    # the split shown again with its Stop split button. Either way Stop split then works.
    if kiosk.checkout_vm.state is CheckoutState.ERROR:
        assert panel.back_button.isVisible() and panel.retry_button.isVisible()
        click(qtbot, panel.retry_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.SPLIT, timeout=LONG)
    click(qtbot, panel.split_view.stop_button)
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.STOPPED, timeout=LONG)
    assert panel.pay_rest_button.isVisible()


@pytest.mark.parametrize("body", MALFORMED)
def test_cancel(qtbot, kiosk: Kiosk, proxy, body: bytes, caplog) -> None:
    take_order(qtbot, kiosk)
    check_out(qtbot, kiosk)
    proxy[0].break_route("POST", r"/v1/payments/[^/]+/cancel", 200, body)
    click(qtbot, kiosk.window.checkout_panel.cancel_button)
    qtbot.waitUntil(
        lambda: (
            proxy[0].hits > 0
            and kiosk.checkout_vm.state is not CheckoutState.CANCELLING
            and any("failed unexpectedly" in r.getMessage() for r in caplog.records)
        ),
        timeout=LONG,
    )
    assert_logged(caplog)
    panel = kiosk.window.checkout_panel
    # The way out: Back / Try again; or, when a feed event for the still-live attempt came in just
    # after, that attempt shown again with its Cancel button (also a state the waiter can leave).
    if kiosk.checkout_vm.state is CheckoutState.ERROR:
        assert panel.back_button.isVisible() and panel.retry_button.isVisible()
        click(qtbot, panel.retry_button)  # the attempt is still live: it is shown again, not opened twice
    qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.WAITING, timeout=LONG)
    assert panel.cancel_button.isVisible() and panel.cancel_button.isEnabled()
    assert kiosk.checkout_vm.attempt is not None and kiosk.checkout_vm.attempt.attempt == 1


@pytest.mark.parametrize("body", MALFORMED)
def test_send_to_kitchen(qtbot, kiosk: Kiosk, proxy, body: bytes, caplog) -> None:
    proxy[0].break_route("POST", "/v1/orders", 202, body)
    take_order(qtbot, kiosk)
    page = kiosk.window.order_page
    click(qtbot, page.kitchen_button)
    qtbot.waitUntil(lambda: not kiosk.kitchen_vm.sending and bool(kiosk.kitchen_vm.message), timeout=LONG)
    assert "Something went wrong" in kiosk.kitchen_vm.message
    assert page.kitchen_button.isEnabled() and page.checkout_button.isEnabled()
    assert kiosk.order_vm.editable
    assert_logged(caplog)


@pytest.mark.parametrize("body", MALFORMED)
def test_refund(qtbot, kiosk: Kiosk, harness: Harness, proxy, body: bytes, caplog) -> None:
    payment = paid_order(qtbot, kiosk, harness)
    open_manager(qtbot, kiosk)
    page = kiosk.window.manager_page
    select(qtbot, kiosk, payment["payment_id"])
    click(qtbot, page.history.refund_button)
    proxy[0].break_route("POST", r"/v1/payments/[^/]+/refunds", 202, body)
    click(qtbot, page.refund.refund_button)
    qtbot.waitUntil(lambda: kiosk.refund_vm.state is RefundState.NO_ANSWER, timeout=LONG)
    assert "Something went wrong" in page.refund.message.text()
    assert page.refund.refund_button.isEnabled() and page.refund.refund_button.text() == "Refund again"
    assert page.refund.close_button.isVisible()
    assert_logged(caplog)


@pytest.mark.parametrize("body", MALFORMED)
def test_reconciliation_refresh(qtbot, kiosk: Kiosk, harness: Harness, proxy, body: bytes, caplog) -> None:
    take_order(qtbot, kiosk)
    payment = check_out(qtbot, kiosk)
    proxy[0].break_route("POST", "/v1/payments/lookup", 200, body)
    open_manager(qtbot, kiosk)
    page = kiosk.window.manager_page
    click(qtbot, page.tab_buttons[2])
    tab = page.reconcile
    click(qtbot, tab.check_button)
    qtbot.waitUntil(lambda: proxy[0].hits > 0 and not kiosk.reconcile_vm.busy, timeout=LONG)
    qtbot.waitUntil(lambda: "Something went wrong" in tab.message.text(), timeout=LONG)
    assert tab.check_button.isEnabled()
    proxy[0].fault = None
    click(qtbot, tab.check_button)
    qtbot.waitUntil(lambda: "of the last 7 days" in tab.message.text(), timeout=LONG)
    assert payment["payment_id"] not in [row.payment_id for row in kiosk.reconcile_vm.rows]
    assert_logged(caplog)
