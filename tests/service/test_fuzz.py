"""Fuzzing with hypothesis: the webhook intake over real HTTP, and the R-Keeper XML reader.

Whatever arrives, the answer is a clean 400 (429 once the sender's budget of stored
rejections is spent; or 200 for a well-signed event we can read), never a 5xx, and a
request that is refused changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_service.pos import rkeeper_xml as rx
from tests.service.test_webhooks import sign
from tests.support.harness import Harness, make_order, running_harness

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, dict[str, Any]]]:
    with running_harness(tmp_path_factory.mktemp("fuzz")) as h:
        h.sandbox_mode("hold")  # keep the sandbox's own events out of the way
        payment = h.checkout(make_order()).json()
        event = {
            "id": "evt_1Template0000000000000",
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1,
            "data": {
                "object": {
                    "id": h.session_id(payment),
                    "object": "checkout.session",
                    "payment_status": "unpaid",
                    "status": "open",
                    "metadata": {"payment_id": payment["payment_id"]},
                }
            },
        }
        yield h, event


def _state(h: Harness) -> tuple[Any, ...]:
    with h.db() as conn:
        return (
            conn.execute("SELECT count(*) FROM integration_events").fetchone(),
            conn.execute("SELECT group_concat(status) FROM payments").fetchone(),
            conn.execute("SELECT count(*) FROM feed").fetchone(),
        )


def _post(h: Harness, body: bytes, signature: str | None) -> httpx.Response:
    if signature is not None:
        signature = signature.strip() or "x"  # HTTP forbids header values with edge whitespace
    headers = {"Content-Type": "application/json", **({"Stripe-Signature": signature} if signature is not None else {})}
    return httpx.post(f"{h.service.url}/webhooks/stripe", content=body, headers=headers, timeout=10)


@FUZZ
@given(
    body=st.binary(max_size=2048),
    signature=st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
        st.builds(lambda t, v: f"t={t},v1={v}", st.integers(), st.text("0123456789abcdef", max_size=64)),
    ),
)
def test_random_requests_are_refused_and_change_nothing(
    live: tuple[Harness, dict[str, Any]], body: bytes, signature: str | None
) -> None:
    h, _ = live
    before = _state(h)
    response = _post(h, body, signature)
    assert response.status_code in (400, 429), response.text
    assert response.json()["error"]["code"] in ("invalid_webhook", "too_large", "rate_limited")
    assert _state(h) == before


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=400),
    flip=st.integers(min_value=0, max_value=400),
    byte=st.integers(min_value=0, max_value=255),
)
def test_a_valid_event_tampered_after_signing_is_refused(
    live: tuple[Harness, dict[str, Any]], cut: int, flip: int, byte: int
) -> None:
    h, event = live
    body = json.dumps(event).encode()
    signature = sign(body)
    tampered = bytearray(body[: max(1, len(body) - cut)])
    tampered[flip % len(tampered)] = byte
    if bytes(tampered) == body:
        return
    before = _state(h)
    assert _post(h, bytes(tampered), signature).status_code in (400, 429)
    assert _state(h) == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FUZZ
@given(data=st.dictionaries(st.sampled_from(["id", "type", "data", "object", "created"]), json_values, max_size=5))
def test_well_signed_but_odd_events_never_fail_the_service(
    live: tuple[Harness, dict[str, Any]], data: dict[str, Any]
) -> None:
    h, _ = live
    body = json.dumps(data).encode()
    response = _post(h, body, sign(body))
    assert response.status_code in (200, 400), response.text


# The R-Keeper XML reader ------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=1024))
def test_random_bytes_are_a_protocol_error_or_a_result(body: bytes) -> None:
    try:
        rx.parse_result("GetOrder", body)
    except rx.PosError:
        pass


def _xml_text() -> st.SearchStrategy[str]:
    attr = st.text(alphabet="abcdefghijklmnopqrstuvwxyzAZ019{}-", min_size=0, max_size=12)
    dish = st.builds(lambda c, q, p: f'<Dish code="{c}" quantity="{q}" price="{p}" amount="{p}"/>', attr, attr, attr)
    session = st.builds(
        lambda g, ds: f'<Session uni="1" line_guid="{g}">{"".join(ds)}</Session>', attr, st.lists(dish, max_size=3)
    )
    order = st.builds(
        lambda v, s, sessions: (
            f'<Order visit="{v}" orderIdent="256" guid="{{A}}" version="{s}" '
            f'orderSum="{s}" unpaidSum="{s}" paid="{s}">{"".join(sessions)}</Order>'
        ),
        attr,
        attr,
        st.lists(session, max_size=3),
    )
    status = st.sampled_from(["Ok", "No changes", "Query Executing Error", "Bad Query Parameters", ""])
    return st.builds(
        lambda s, n, o: f'<RK7QueryResult Status="{s}" CMD="GetOrder" RK7ErrorN="{n}">{o}</RK7QueryResult>',
        status,
        attr,
        st.one_of(st.just(""), order),
    )


@settings(max_examples=300, deadline=None)
@given(text=_xml_text(), cut=st.integers(min_value=0, max_value=50))
def test_odd_and_truncated_answers_are_read_or_refused_cleanly(text: str, cut: int) -> None:
    for body in (text.encode(), text.encode()[: max(0, len(text) - cut)]):
        try:
            order = rx.order_from(rx.parse_result("GetOrder", body))
        except rx.PosError:
            continue
        assert isinstance(order.version, int) and isinstance(order.unpaid_sum, int)


@pytest.mark.parametrize(
    "bomb",
    [
        # quadratic blowup: one large entity used many times
        '<!DOCTYPE r [<!ENTITY a "'
        + "x" * 10000
        + '">]><RK7QueryResult Status="Ok">'
        + "&a;" * 1000
        + "</RK7QueryResult>",
        # external DTD
        '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><RK7QueryResult Status="Ok"/>',
        # parameter entity
        '<!DOCTYPE r [<!ENTITY % p "x">]><RK7QueryResult Status="Ok"/>',
    ],
)
def test_entity_tricks_are_refused(bomb: str) -> None:
    with pytest.raises(rx.PosProtocolError):
        rx.parse_result("GetOrder", bomb.encode())
