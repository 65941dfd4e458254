"""An async client for the R-Keeper 7 XML interface over httpx.

One POST of an RK7Query to /rk7api/v0/xmlinterface.xml per command, HTTP
Basic auth, a timeout on every call. The cash server's certificate is
usually self-signed: trust it with a CA bundle, or (explicitly) turn
verification off.

An answer is read as it streams and refused past MAX_ANSWER_BYTES (a
menu of thousands of dishes is a few MiB); it is parsed in a worker thread,
so a large one does not stall the event loop.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog

from . import rkeeper_xml as rx

log = structlog.get_logger(__name__)

ENDPOINT = "/rk7api/v0/xmlinterface.xml"
# The largest answer read (after any content decoding). More is not a cash server's answer to one
# command: refused as a protocol error (parked, not retried: asking again reads as much again).
MAX_ANSWER_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Connection:
    url: str  # scheme://host:port of the cash server
    user: str
    password: str
    ca_bundle: Path | None = None
    verify_tls: bool = True
    timeout_seconds: float = 10.0


def _verify(connection: Connection) -> ssl.SSLContext | bool:
    if not connection.verify_tls:
        return False
    if connection.ca_bundle:
        return ssl.create_default_context(cafile=str(connection.ca_bundle))
    return True


class RKeeperClient:
    def __init__(self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._http = httpx.AsyncClient(
            base_url=connection.url.rstrip("/"),
            auth=httpx.BasicAuth(connection.user, connection.password),
            verify=_verify(connection),
            timeout=httpx.Timeout(connection.timeout_seconds),
            headers={"Content-Type": "application/xml; charset=utf-8"},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(self, command: str, document: bytes) -> rx.Result:
        try:
            async with self._http.stream("POST", ENDPOINT, content=document) as response:
                if response.status_code == 401:
                    raise rx.PosAuthError(
                        f"{command}: the POS refused the login (HTTP 401): check RKEEPER_USER "
                        "and RKEEPER_PASSWORD, and that the user's role has the HTTP access "
                        "privilege"
                    )
                if response.status_code >= 500:
                    raise rx.PosUnavailable(f"{command}: the POS answered HTTP {response.status_code}")
                if response.status_code != 200:
                    raise rx.PosProtocolError(f"{command}: unexpected HTTP {response.status_code} from the POS")
                content = await _read_capped(command, response)
        except httpx.HTTPError as exc:
            raise rx.PosUnavailable(f"{command}: cannot reach the POS: {type(exc).__name__}: {exc}") from exc
        return await asyncio.to_thread(rx.parse_result, command, content)

    # reads -----------------------------------------------------------------
    async def system_info(self) -> dict[str, str]:
        result = await self.call("GetSystemInfo", rx.get_system_info())
        info = result.root.find("SystemInfo")
        return dict(info.attrib) if info is not None else {}

    async def get_order(self, guid: str) -> rx.PosOrder | None:
        """The order with our GUID, or None when the POS has none."""
        try:
            return rx.order_from(await self.call("GetOrder", rx.get_order(guid)))
        except rx.PosCommandError as exc:
            if exc.number == rx.ORDER_NOT_FOUND:
                return None
            raise

    async def menu(self, station: rx.Ref) -> tuple[list[rx.MenuItem], dict[str, str], dict[str, int]]:
        """Menu items, category names by Ident, and prices (hundredths) by item Ident."""
        items = rx.ref_items(await self.call("GetRefData", rx.get_ref_data("MENUITEMS")))
        categories = rx.ref_items(await self.call("GetRefData", rx.get_ref_data("CATEGLIST")))
        prices = rx.prices_from(await self.call("GetOrderMenu", rx.get_order_menu(station)))
        return (
            [
                rx.MenuItem(
                    ident=i.get("Ident", ""), code=i.get("Code", ""), name=i.get("Name", ""), parent=i.get("Parent", "")
                )
                for i in items
            ],
            {c.get("Ident", ""): c.get("Name", "") for c in categories},
            prices,
        )

    # writes ----------------------------------------------------------------
    async def create_order(self, guid: str, **fields: object) -> rx.PosOrder:
        result = await self.call("CreateOrder", rx.create_order(guid, **fields))  # type: ignore[arg-type]
        if result.root.find("Order") is not None:
            return rx.order_from(result)
        # Servers before 7.5.5 answer with ids on the root only.
        order = await self.get_order(guid)
        if order is None:
            raise rx.PosProtocolError(f"CreateOrder said Ok but GetOrder cannot find {guid}")
        return order

    async def save_order(self, guid: str, *, station: rx.Ref, line_guid: str, dishes: list[rx.DishLine]) -> rx.PosOrder:
        result = await self.call("SaveOrder", rx.save_order(guid, station=station, line_guid=line_guid, dishes=dishes))
        return rx.order_from(result)

    async def pay_order(
        self, guid: str, *, station: rx.Ref, cashier: rx.Ref, payments: Sequence[rx.PaymentLine]
    ) -> str:
        """Pay and close the order with one `<Payment>` per line; returns the receipt's CheckNum."""
        result = await self.call("PayOrder", rx.pay_order(guid, station=station, cashier=cashier, payments=payments))
        check = result.root.find("PrintCheck")
        return check.get("CheckNum", "") if check is not None else ""

    async def close_visit(self, visit_id: str) -> None:
        await self.call("CloseVisit", rx.close_visit(visit_id))


async def _read_capped(command: str, response: httpx.Response) -> bytes:
    """The answer's body, or PosProtocolError as soon as it says or shows it is over MAX_ANSWER_BYTES."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise rx.PosProtocolError(
            f"{command}: the POS's answer is {declared} bytes, over the limit of {MAX_ANSWER_BYTES}; not read"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise rx.PosProtocolError(
                f"{command}: the POS's answer passed the limit of {MAX_ANSWER_BYTES} bytes; the rest was not read"
            )
        chunks.append(chunk)
    return b"".join(chunks)
