"""A partner's order on the real kiosk (against the real service and sandbox): paid at the sandbox, it shows
in the orders list and the manager's history under the partner's name, and the kiosk offers neither to
open nor to check it out; a partner whose webhook answered 410 Gone is named in manager mode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from pos_app.app import Kiosk
from tests.service.test_partners import an_order, paid_order, partner, world
from tests.support.harness import Harness
from tests.support.partner_receiver import Receiver
from tests.support.waiting import eventually

from .test_kiosk_flows import LONG, click
from .test_manager import open_manager
from .test_small_screen import resized

SCREENSHOTS = os.environ.get("TABLEPAY_SCREENSHOTS")


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    """The kiosk fixture's service, taking partners with webhooks on loopback."""
    with world(tmp_path) as h:
        yield h


def _row_widget(page, order_id: str):
    return next(
        w for w in page.findChildren(object) if getattr(w, "property", None) and w.property("order_id") == order_id
    )


def test_a_partner_order_paid_at_the_sandbox_shows_in_the_orders_list_and_the_history(
    qtbot, kiosk: Kiosk, harness: Harness, tmp_path: Path
) -> None:
    with partner(harness, name="menu-app") as (client, _):
        paid = paid_order(harness, client)
        waiting = client.post("/v1/partner/orders", json=an_order(table="12")).json()
    vm = kiosk.orders_vm
    qtbot.waitUntil(lambda: [r.order_id for r in vm.paid_rows] == [paid["order_id"]], timeout=LONG)
    qtbot.waitUntil(lambda: [r.order_id for r in vm.open_rows] == [waiting["order_id"]], timeout=LONG)
    [done], [open_] = vm.paid_rows, vm.open_rows
    assert (done.title, done.total, done.payment) == ("Table 7", "€21.00", "Paid")
    assert done.detail.startswith("via menu-app · ") and not done.openable
    assert (open_.title, open_.payment, open_.openable) == ("Table 12", "Waiting for guest", False)
    assert vm.open_tables() == {}  # no badge on table 12: a waiter cannot open it there
    assert kiosk.store.open_order_for_table("12") is None
    assert kiosk.store.awaiting_service() == (0, 0)  # its guest pays on the partner's checkout, not here

    window = kiosk.window
    click(qtbot, window.nav_orders)
    resized(qtbot, window, (1024, 768))
    page = window.orders_page
    row = _row_widget(page, waiting["order_id"])
    assert not [b for b in row.findChildren(QPushButton) if b.text() == "Open"]  # never opened here
    assert window.minimumSizeHint().width() <= 1024 and window.minimumSizeHint().height() <= 768
    window.grab().save(str(Path(SCREENSHOTS or tmp_path) / "kiosk-orders-partner-1024x768.png"))

    open_manager(qtbot, kiosk)
    model = kiosk.history_model
    qtbot.waitUntil(lambda: {r.order_id for r in model.rows} == {paid["order_id"], waiting["order_id"]}, timeout=LONG)
    mine = next(r for r in model.rows if r.order_id == paid["order_id"])
    assert (model.text(mine, "waiter"), model.text(mine, "table"), model.text(mine, "total")) == (
        "menu-app (partner)",
        "7",
        "€21.00",
    )
    assert mine.refundable == 0  # the service refunds only the kiosk that took the payment
    detail = kiosk.manager_vm.detail(paid["order_id"])
    assert [a.payment.status for a in detail.attempts] == ["paid"]
    assert "order of partner 'menu-app'" in kiosk.manager_vm.order_heading(detail.order)


def test_manager_mode_names_a_partner_whose_webhook_answered_410(qtbot, kiosk: Kiosk, harness: Harness) -> None:
    with partner(harness, Receiver([], answer=lambda n: (410, {})), name="menu-app") as (client, _):
        paid_order(harness, client)
        eventually(lambda: harness.app.state.repo.partner("menu-app").disabled_at or None, timeout=15)
        paid_order(harness, client)  # given up unsent: two failed deliveries to replay
        eventually(
            lambda: (
                len(harness.kiosk.get("/v1/partners/deliveries", params={"failed": "true"}).json()["deliveries"]) == 2
                or None
            ),
            timeout=15,
        )
    open_manager(qtbot, kiosk)
    notice = kiosk.window.manager_page.partner_notice
    qtbot.waitUntil(notice.isVisible, timeout=LONG)
    assert notice.text() == (
        "Partner 'menu-app' is disabled: its webhook answered 410 Gone. Fix its webhook, then replay its "
        "2 failed deliveries (tablepay sync partner-deliveries --replay ID)."
    )
