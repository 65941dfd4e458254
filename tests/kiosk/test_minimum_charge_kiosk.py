"""The waiter sees, on the checkout panel, why a total too small for a card payment was refused."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from pos_app.viewmodels import CheckoutState
from tests.support.harness import Harness

from .conftest import kiosk_settings, running_kiosk


def test_a_total_below_the_card_minimum_is_explained_on_the_panel(qtbot, qasync_loop, harness: Harness, tmp_path):
    menu = tmp_path / "menu.json"
    menu.write_text(
        json.dumps(
            {
                "currency": "EUR",
                "tables": ["1"],
                "categories": [{"name": "Bar", "items": [{"sku": "MINT", "name": "Mint", "unit_amount": 30}]}],
            }
        )
    )
    with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk", kiosk_settings(menu_path=str(menu))) as kiosk:
        page = kiosk.window.order_page
        qtbot.mouseClick(kiosk.window.tables_page.buttons["1"], Qt.MouseButton.LeftButton)
        page.show_category("Bar")
        qtbot.mouseClick(page.menu_buttons["MINT"], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(page.checkout_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: kiosk.checkout_vm.state is CheckoutState.ERROR, timeout=15_000)
        assert kiosk.window.checkout_panel.result_message.text() == (
            "The total 0.30 EUR is below the smallest card payment Stripe accepts (0.50 EUR)"
        )
        assert harness.state()["payments"] == []
