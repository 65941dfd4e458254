"""Strict input over real HTTP: no integer written as text, float or boolean, no unprintable text.

Each refusal is a 422 whose message names the field, and nothing is stored: no
order, no payment, no package for the POS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.harness import Harness, make_order, running_harness

RAW = "__raw_json_value__"

# One of each family the service refuses: C0 controls (tab and line break included), DEL,
# C1 controls, Unicode non-characters (in the BMP and in a supplementary plane), a lone surrogate.
BAD_CHARACTERS = {
    "NUL": "\u0000",
    "ESC": "\u001b",
    "tab": "\t",
    "line break": "\n",
    "carriage return": "\r",
    "DEL": "\u007f",
    "NEL": "\u0085",
    "APC": "\u009f",
    "U+FDD0": "\ufdd0",
    "U+FFFE": "\ufffe",
    "U+1FFFF": "\U0001ffff",
    "lone surrogate": "\ud800",
}
ORDER_TEXT_FIELDS = ["order_id", "kiosk_id", "currency", "table", "waiter", "note", "lines.0.sku", "lines.0.name"]
ORDER_INTEGER_FIELDS = ["lines.0.quantity", "lines.0.unit_amount", "tip_amount", "donation_amount"]
# Written as JSON text: a string of digits, a float, an exponent, a boolean.
NOT_INTEGERS = ['"950"', "950.0", "1e3", "true"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with running_harness(tmp_path_factory.mktemp("strict"), pos=True) as h:
        yield h


def _with(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(body))
    *path, last = dotted.split(".")
    target: Any = body
    for part in path:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return body


def _post(h: Harness, url: str, body: dict[str, Any], raw: str | None = None) -> httpx.Response:
    # ensure_ascii writes a lone surrogate as the escape "\ud800", which is how a client can send one.
    text = json.dumps(body, ensure_ascii=True)
    if raw is not None:
        text = text.replace(json.dumps(RAW), raw)
    return h.kiosk.post(url, content=text, headers={"Content-Type": "application/json"})


def _nothing_stored(h: Harness) -> None:
    with h.db() as conn:
        for table in ("orders", "payments", "pos_orders", "pos_packages", "outbox"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


def _refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 422, response.text
    message = str(response.json()["error"]["message"])
    assert message.startswith(f"{field}: "), message
    return message


# A kitchen note may span lines (test_a_note_may_hold_line_breaks_and_tabs); nothing else may.
TEXT_CASES = [
    (field, name)
    for field in ORDER_TEXT_FIELDS
    for name in BAD_CHARACTERS
    if not (field == "note" and name in ("tab", "line break"))
]


@pytest.mark.parametrize("url", ["/v1/checkouts", "/v1/orders"])
@pytest.mark.parametrize(("field", "name"), TEXT_CASES)
def test_unprintable_text_in_an_order_is_refused(live: Harness, url: str, field: str, name: str) -> None:
    order = make_order()
    current = order.get(field, "") if "." not in field else order["lines"][0][field.rsplit(".", 1)[1]]
    # In place of the first character, so the length stays within the field's bounds (currency: 3).
    value = BAD_CHARACTERS[name] + (current or "xy")[1:]
    message = _refused(_post(live, url, _with(order, field, value)), field)
    assert "must not contain" in message and "printable text" in message
    _nothing_stored(live)


@pytest.mark.parametrize("url", ["/v1/checkouts", "/v1/orders"])
@pytest.mark.parametrize("field", ORDER_INTEGER_FIELDS)
@pytest.mark.parametrize("raw", NOT_INTEGERS)
def test_integers_in_an_order_must_be_json_integers(live: Harness, url: str, field: str, raw: str) -> None:
    message = _refused(_post(live, url, _with(make_order(), field, RAW), raw), field)
    assert "valid integer" in message
    _nothing_stored(live)


@pytest.mark.parametrize("raw", NOT_INTEGERS)
def test_a_refund_amount_must_be_a_json_integer(live: Harness, raw: str) -> None:
    _refused(_post(live, "/v1/payments/pay_x/refunds", {"amount": RAW}, raw), "amount")


@pytest.mark.parametrize("name", list(BAD_CHARACTERS))
def test_unprintable_payment_ids_in_a_lookup_are_refused(live: Harness, name: str) -> None:
    _refused(_post(live, "/v1/payments/lookup", {"payment_ids": ["pay_" + BAD_CHARACTERS[name]]}), "payment_ids.0")


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/events?after=1.0", "after"),
        ("/v1/events?after=%2B5", "after"),
        ("/v1/events?after=1_000", "after"),
        ("/v1/events?limit=1e3", "limit"),
        ("/v1/events?limit=true", "limit"),
        ("/v1/events?limit=%205", "limit"),
    ],
)
def test_integers_in_a_query_are_plain_digits(live: Harness, url: str, field: str) -> None:
    assert "digits 0-9" in _refused(live.kiosk.get(url), f"query.{field}")


@pytest.mark.parametrize("row_id", ["1.0", "+1", "1_0"])
def test_a_dead_letter_id_is_plain_digits(live: Harness, row_id: str) -> None:
    assert "digits 0-9" in _refused(live.kiosk.post(f"/v1/outbox/{row_id}/retry"), "path.row_id")


def test_a_note_may_hold_line_breaks_and_tabs(tmp_path) -> None:
    with running_harness(tmp_path) as h:
        response = h.checkout(make_order(note="No onions\n\tallergy: nuts", waiter="Zoë 日本"))
        assert response.status_code == 201, response.text
        with h.db() as conn:
            [(snapshot,)] = conn.execute("SELECT snapshot FROM orders").fetchall()
        assert json.loads(snapshot)["note"] == "No onions\n\tallergy: nuts"
