"""The menu source: the file, or the POS's menu through the sync service, cached for when it is away."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from pos_app.app import DB_NAME
from pos_app.client import SyncClient
from pos_app.menu import load_menu, menu_from_dict
from pos_app.menu_source import choose_menu
from pos_app.settings import KioskSettings, load_settings
from pos_app.store import KioskStore, open_db
from tablepay.cli import main
from tests.support.harness import running_harness

from .conftest import kiosk_settings, running_kiosk

POS_MENU = {
    "currency": "EUR",
    "source": "pos",
    "categories": [
        {"name": "Pizze", "items": [{"sku": "MARG", "name": "Margherita (POS)", "unit_amount": 990}]},
        {"name": "Specials", "items": [{"sku": "SPEC", "name": "Chef's special", "unit_amount": 1750}]},
    ],
}


def test_menu_from_dict_keeps_the_files_tables():
    file_menu = load_menu()
    menu = menu_from_dict(POS_MENU, tables=file_menu.tables)
    assert menu.tables == file_menu.tables and menu.categories == ("Pizze", "Specials")
    assert menu.item("SPEC").unit_amount == 1750
    with pytest.raises(ValueError, match="unit_amount"):
        menu_from_dict(
            {"currency": "EUR", "categories": [{"name": "x", "items": [{"sku": "A", "name": "A", "unit_amount": 9.5}]}]}
        )


def test_set_menu_source_saves_the_setting(tmp_path, capsys):
    directory = tmp_path / "k"
    assert main(["kiosk", "--data-dir", str(directory), "set-menu-source", "pos"]) == 0
    assert load_settings(directory).menu_source == "pos"
    assert main(["kiosk", "--data-dir", str(directory), "set-menu-source", "file"]) == 0
    assert load_settings(directory).menu_source == "file"
    with pytest.raises(SystemExit):
        main(["kiosk", "--data-dir", str(directory), "set-menu-source", "kitchen"])
    with pytest.raises(ValueError, match="menu_source"):
        KioskSettings(menu_source="kitchen").validate()


def choose(tmp_path, handler, source: str = "pos"):
    store = KioskStore(open_db(tmp_path / "k.sqlite"))

    async def run():
        client = SyncClient("http://sync.invalid", "t", transport=httpx.MockTransport(handler))
        try:
            return await choose_menu(kiosk_settings(menu_source=source), client, store, load_menu())
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_the_pos_menu_is_used_and_saved_then_used_when_the_pos_is_away(tmp_path):
    asked: list[str] = []

    def fresh(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json=POS_MENU)

    choice = choose(tmp_path, fresh)
    assert (choice.source, choice.note, choice.degraded) == ("pos", "Menu: POS", False)
    assert asked == ["http://sync.invalid/v1/menu?currency=EUR"]
    assert choice.menu.item("SPEC").name == "Chef's special" and choice.menu.tables == load_menu().tables

    def away(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, json={"error": {"code": "pos_unavailable", "message": "could not read"}})

    choice = choose(tmp_path, away)
    assert choice.source == "pos-cache" and choice.degraded
    assert choice.note.startswith("Menu: POS as saved ") and choice.note.endswith("(POS not answering)")
    assert choice.menu.item("MARG").unit_amount == 990


def test_without_a_saved_pos_menu_the_file_is_used_and_the_note_says_why(tmp_path):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    choice = choose(tmp_path, down)
    assert (choice.source, choice.menu) == ("file", load_menu())
    assert choice.note == "Menu: file (sync service unreachable, no saved POS menu)"

    def disabled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"code": "pos_disabled", "message": "no POS"}})

    assert choose(tmp_path, disabled).note == "Menu: file (the sync service has no POS, no saved POS menu)"
    wrong = {**POS_MENU, "currency": "GBP"}
    assert choose(tmp_path, lambda request: httpx.Response(200, json=wrong)).source == "file"
    assert choose(tmp_path, lambda request: httpx.Response(200, json={})).source == "file"


def test_menu_source_file_asks_nothing(tmp_path):
    def never(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the file menu needs no request")

    assert choose(tmp_path, never, source="file").note == "Menu: file"


def test_a_pos_that_cannot_answer_falls_back_to_the_file_and_says_so(qtbot, qasync_loop, tmp_path):
    with running_harness(tmp_path, pos=True, rkeeper_password="wrong") as harness:  # GET /v1/menu answers 502
        with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk", kiosk_settings(menu_source="pos")) as kiosk:
            note = kiosk.window.menu_note.text()
            assert note == "Menu: file (POS not answering, no saved POS menu)"
            assert kiosk.window.order_page.vm.menu == load_menu()


def test_offline_the_kiosk_builds_the_grid_from_the_saved_pos_menu(qtbot, qasync_loop, tmp_path):
    directory = tmp_path / "kiosk"
    KioskStore(open_db(directory / DB_NAME)).save_pos_menu("EUR", POS_MENU)  # what an earlier start saved
    with running_harness(tmp_path) as harness:
        harness.service.stop()
        with running_kiosk(
            qtbot, qasync_loop, harness, directory, kiosk_settings(menu_source="pos"), online=False
        ) as kiosk:
            window = kiosk.window
            assert "Menu: POS as saved" in window.menu_note.text()
            assert "sync service unreachable" in window.menu_note.text()
            assert list(window.order_page.category_buttons) == ["Pizze", "Specials"]
            window.tables_page.buttons["Terrace 1"].click()  # the tables still come from the file
            window.order_page.show_category("Specials")
            tile = window.order_page.menu_buttons["SPEC"]
            assert tile.text() == "Chef's special\n€17.50"
            tile.click()
            assert [(line.sku, line.unit_amount) for line in kiosk.order_vm.order.lines] == [("SPEC", 1750)]
            assert json.loads(json.dumps(kiosk.store.cached_pos_menu("EUR")[0])) == POS_MENU


def test_the_grid_comes_from_the_pos_and_from_its_saved_copy_when_the_service_is_away(qtbot, qasync_loop, tmp_path):
    # A menu file that differs from the POS: only its currency and tables may show.
    own = tmp_path / "menu.json"
    own.write_text(
        json.dumps(
            {
                "currency": "EUR",
                "tables": ["Patio A", "Patio B"],
                "categories": [
                    {"name": "Old", "items": [{"sku": "OLD", "name": "Yesterday's dish", "unit_amount": 100}]}
                ],
            }
        )
    )
    settings = kiosk_settings(menu_source="pos", menu_path=str(own))
    pos = load_menu()  # the simulator seeds its menu from resources/menu.json
    with running_harness(tmp_path, pos=True) as harness:
        with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk", settings) as kiosk:
            window = kiosk.window
            assert window.menu_note.text() == "Menu: POS"
            assert list(window.order_page.category_buttons) == list(pos.categories)
            assert list(window.tables_page.buttons) == ["Patio A", "Patio B"]
            window.order_page.show_category("Mains")
            assert window.order_page.menu_buttons["STEA"].text() == "Sirloin steak\n€24.50"
            assert "9001" not in {item.sku for item in kiosk.order_vm.menu.items}  # the POS's tip dish
        harness.service.stop()
        with running_kiosk(qtbot, qasync_loop, harness, tmp_path / "kiosk", settings, online=False) as kiosk:
            assert kiosk.window.menu_note.text().startswith("Menu: POS as saved ")
            assert "(sync service unreachable)" in kiosk.window.menu_note.text()
            assert kiosk.order_vm.menu.items == pos.items
