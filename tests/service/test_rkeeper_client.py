"""The R-Keeper XML client on its own: safe parsing, typed errors, Basic auth and TLS, over real HTTP.

A tiny cash-server stand-in answers here so each transport case is exact;
the full protocol runs against the sandbox's simulator in test_pos_sync.py.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from sync_service.pos import rkeeper_xml as rx
from sync_service.pos.rkeeper_client import MAX_ANSWER_BYTES, Connection, RKeeperClient
from tests.support.live_server import LiveServer

OK_SYSTEM_INFO = (
    b'<?xml version="1.0" encoding="utf-8"?><RK7QueryResult ServerVersion="7.6.4.483" Status="Ok" '
    b'CMD="GetSystemInfo" ErrorText=""><SystemInfo RestCode="1" ShiftDate="2026-11-23"/>'
    b"</RK7QueryResult>"
)


def _cash_server(answer: bytes = OK_SYSTEM_INFO, status: int = 200) -> Starlette:
    expected = "Basic " + base64.b64encode(b"http_user:secret").decode()

    async def xml(request: Request) -> Response:
        if request.headers.get("authorization") != expected:
            return HTMLResponse(
                "<HTML><BODY><B>401 Unauthorized</B></BODY></HTML>",
                401,
                headers={"WWW-Authenticate": 'Basic realm="RK7"'},
            )
        body = await request.body()
        assert body.startswith(b"<?xml") and b"<RK7Query>" in body
        return Response(answer, status, media_type="text/xml")

    return Starlette(routes=[Route("/rk7api/v0/xmlinterface.xml", xml, methods=["POST"])])


def _client(url: str, **changes: object) -> RKeeperClient:
    values: dict[str, object] = dict(url=url, user="http_user", password="secret", timeout_seconds=5)
    values.update(changes)
    return RKeeperClient(Connection(**values))  # type: ignore[arg-type]


async def _system_info(client: RKeeperClient) -> dict[str, str]:
    try:
        return await client.system_info()
    finally:
        await client.aclose()


def test_basic_auth_and_answer_over_http() -> None:
    with LiveServer(_cash_server()) as server:
        assert asyncio.run(_system_info(_client(server.url)))["RestCode"] == "1"


def test_wrong_password_is_an_authentication_error_not_a_retry() -> None:
    with LiveServer(_cash_server()) as server, pytest.raises(rx.PosAuthError) as caught:
        asyncio.run(_system_info(_client(server.url, password="wrong")))
    assert caught.value.permanent and "RKEEPER_PASSWORD" in str(caught.value)


def test_server_errors_and_silence_are_retryable() -> None:
    with LiveServer(_cash_server(b"busy", 503)) as server, pytest.raises(rx.PosUnavailable) as caught:
        asyncio.run(_system_info(_client(server.url)))
    assert not caught.value.permanent
    with pytest.raises(rx.PosUnavailable):  # nothing listens there
        asyncio.run(_system_info(_client("http://127.0.0.1:9")))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    chain, key, ca_file = folder / "chain.pem", folder / "key.pem", folder / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(chain))
    cert.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    return chain, key, ca_file


def test_self_signed_cash_server_needs_its_ca_or_an_explicit_opt_out(tls_files: tuple[Path, Path, Path]) -> None:
    chain, key, ca_file = tls_files
    with LiveServer(_cash_server(), tls=(str(chain), str(key))) as server:
        with pytest.raises(rx.PosUnavailable, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            asyncio.run(_system_info(_client(server.url)))
        assert asyncio.run(_system_info(_client(server.url, ca_bundle=ca_file)))["RestCode"] == "1"
        assert asyncio.run(_system_info(_client(server.url, verify_tls=False)))["RestCode"] == "1"


def test_business_errors_become_typed_errors() -> None:
    body = (
        '<RK7QueryResult Status="Query Executing Error" CMD="PayOrder" ErrorText="Недостаточно денег" '
        'RK7ErrorN="3373" Processed="0"/>'
    ).encode()
    with pytest.raises(rx.PosCommandError) as caught:
        rx.parse_result("PayOrder", body)
    assert (caught.value.number, caught.value.status, caught.value.permanent) == (3373, "Query Executing Error", True)
    locked = b'<RK7QueryResult Status="Query Executing Error" CMD="SaveOrder" ErrorText="locked" RK7ErrorN="2219"/>'
    with pytest.raises(rx.PosCommandError) as caught:
        rx.parse_result("SaveOrder", locked)
    assert not caught.value.permanent  # a terminal holding the order lets go: retry later


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<RK7QueryResult Status='Ok'",
        b"<html>gateway</html>",
        # An entity-expansion bomb: refused, never expanded.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><RK7QueryResult Status="Ok" CMD="x" ErrorText="&c;"/>',
        # An external entity reading a local file.
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<RK7QueryResult Status="Ok" CMD="x" ErrorText="&x;"/>',
    ],
)
def test_unreadable_or_malicious_answers_are_refused(body: bytes) -> None:
    with pytest.raises(rx.PosProtocolError):
        rx.parse_result("GetOrder", body)


def test_order_answer_is_read_into_packages_and_sums() -> None:
    body = b"""<RK7QueryResult Status="Ok" CMD="GetOrder" ErrorText="">
      <Order visit="356255787" orderIdent="256" guid="{AB}" version="3" orderSum="3150" unpaidSum="3150"
             paid="0" finished="0">
        <ExternalProps><Prop name="tablepay_order_id" value="A-1"/></ExternalProps>
        <Session uni="1" line_guid="{S1}"><Dish code="MARG" quantity="2000" price="950" amount="1900"/></Session>
        <Session uni="2" line_guid="{S2}"><Dish code="MARG" quantity="1000" price="950" amount="950"/>
          <Dish code="WATR" quantity="1000" price="300" amount="300"/></Session>
      </Order></RK7QueryResult>"""
    order = rx.order_from(rx.parse_result("GetOrder", body))
    assert (order.visit, order.order_ident, order.version, order.unpaid_sum, order.paid) == (
        "356255787",
        "256",
        3,
        3150,
        False,
    )
    assert order.quantities() == {"MARG": 3000, "WATR": 1000}
    assert order.session("{s2}") is not None and order.ext_props == {"tablepay_order_id": "A-1"}


def test_requests_are_well_formed_rk7_queries() -> None:
    document = rx.pay_order(
        "{AB}",
        station=rx.Ref(code="3"),
        cashier=rx.Ref(code="5"),
        payments=[
            rx.PaymentLine(
                currency=rx.Ref(id="1030240"),
                amount=3150,
                ext_transaction_info="stripe:pi_1",
                tip_amount=300,
                tip_charge=rx.Ref(code="7"),
            )
        ],
    )
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    root = rx.SafeET.fromstring(document)
    payment = root.find("RK7CMD/Payment")
    assert root.find("RK7CMD").get("CMD") == "PayOrder" and payment is not None
    assert payment.attrib == {
        "id": "1030240",
        "amount": "3150",
        "extTransactionInfo": "stripe:pi_1",
        "tipAmount": "300",
    }
    assert payment.find("TipCharge").get("code") == "7"


def test_pay_order_writes_one_payment_element_per_line_in_order() -> None:
    card = rx.Ref(id="1030240")
    document = rx.pay_order(
        "{AB}",
        station=rx.Ref(code="3"),
        cashier=rx.Ref(code="5"),
        payments=[
            rx.PaymentLine(card, 1500, "stripe:pi_1", tip_amount=150, tip_charge=rx.Ref(code="7")),
            rx.PaymentLine(card, 1650, "mollie:tr_2"),
        ],
    )
    lines = rx.SafeET.fromstring(document).findall("RK7CMD/Payment")
    assert [line.attrib for line in lines] == [
        {"id": "1030240", "amount": "1500", "extTransactionInfo": "stripe:pi_1", "tipAmount": "150"},
        {"id": "1030240", "amount": "1650", "extTransactionInfo": "mollie:tr_2"},
    ]
    assert [line.find("TipCharge") is not None for line in lines] == [True, False]
    with pytest.raises(ValueError, match="at least one payment"):
        rx.pay_order("{AB}", station=rx.Ref(code="3"), cashier=rx.Ref(code="5"), payments=[])


def _oversize_cash_server(*, declared: bool) -> Starlette:
    """Answers 200 MiB of XML-looking bytes, in 1 MiB pieces."""
    total, piece = 200 * 2**20, b"<a/>" * (2**18)

    async def pieces() -> AsyncIterator[bytes]:
        yield b'<?xml version="1.0" encoding="utf-8"?><RK7QueryResult Status="Ok" CMD="GetSystemInfo">'
        for _ in range(total // len(piece)):
            yield piece

    async def xml(request: Request) -> Response:
        headers = {"Content-Length": str(total + 86)} if declared else {}
        return StreamingResponse(pieces(), media_type="text/xml", headers=headers)

    return Starlette(routes=[Route("/rk7api/v0/xmlinterface.xml", xml, methods=["POST"])])


class _CountedStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, counted: list[int]) -> None:
        self._stream, self._counted = stream, counted

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._counted.append(len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _CountingTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, counting the body bytes the client takes off the socket."""

    def __init__(self, counted: list[int]) -> None:
        super().__init__()
        self._counted = counted

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            extensions=response.extensions,
            stream=_CountedStream(response.stream, self._counted),
        )


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_an_oversize_answer_is_refused_without_reading_it_all(declared: bool) -> None:
    read: list[int] = []
    with LiveServer(_oversize_cash_server(declared=declared)) as server:
        client = RKeeperClient(
            Connection(url=server.url, user="u", password="p", timeout_seconds=5), transport=_CountingTransport(read)
        )
        with pytest.raises(rx.PosProtocolError, match=r"over the limit|passed the limit") as caught:
            asyncio.run(_system_info(client))
    assert caught.value.permanent  # parked for a person, not retried into reading it again
    assert sum(read) <= (0 if declared else MAX_ANSWER_BYTES + 2**20)  # of 200 MiB
