"""HTTP: the XML interface (`POST /rk7api/v0/xmlinterface.xml`) and the JSON test controls.

The XML endpoint is a plain ASGI app, because one fault ("drop") must start an
answer and then abandon it, which a Starlette Response cannot do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .commands import command_name, error_root, execute
from .context import Ctx
from .errors import RKError
from .faults import Faults, FaultSpecError
from .options import RKeeperOptions
from .orders import as_json
from .store import RKStore
from .xmlio import parse_query, to_bytes

XML_PATH = "/rk7api/v0/xmlinterface.xml"
DB_NAME = "rkeeper.sqlite"
UNAUTHORIZED_BODY = b"<HTML><BODY><B>401 Unauthorized</B></BODY></HTML>"
XML_TYPE = "text/xml; charset=utf-8"


@dataclass
class Simulator:
    """The simulator's runtime: built by `create_app`, its store opened by the app's lifespan.

    Of the password it accepts it keeps only the sha256, the way a real server should.
    """

    data_dir: Path
    user: str
    password: InitVar[str]
    options: RKeeperOptions
    faults: Faults = field(default_factory=Faults)
    calls: Counter[str] = field(default_factory=Counter)
    _store: RKStore | None = field(default=None, repr=False)
    _password_sha256: bytes = field(init=False, repr=False)

    def __post_init__(self, password: str) -> None:
        self._password_sha256 = _sha256(password)

    def start(self) -> None:
        self._store = RKStore(self.data_dir / DB_NAME)

    def stop(self) -> None:
        if self._store is not None:
            self._store.close()

    @property
    def store(self) -> RKStore:
        if self._store is None:
            raise RuntimeError("the R-Keeper simulator is not started: run the app with its lifespan")
        return self._store

    def authorized(self, headers: Headers) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        # Both compared, always: no early exit that tells which half was wrong.
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(_sha256(password), self._password_sha256)
        return bool(sep) and user_ok and password_ok


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class XmlInterface:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        sim = self.sim
        if not sim.authorized(request.headers):
            response = Response(
                UNAUTHORIZED_BODY, 401, media_type="text/html", headers={"WWW-Authenticate": 'Basic realm="RK7"'}
            )
            await response(scope, receive, send)
            return
        arrival, started = datetime.now(), time.monotonic()
        body = await request.body()
        # [V] a form-encoded post (what `curl -d` sends) reaches the server as no body at all.
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            body = b""
        query, parse_failure = None, None
        try:
            query = parse_query(body)
        except RKError as exc:
            parse_failure = exc
        names = [command_name(c) for c in query.commands] if query else []
        sim.calls.update(names)
        if sim.faults.take_fail():
            await Response(b"Service Unavailable", 503, media_type="text/plain")(scope, receive, send)
            return
        if parse_failure is not None:
            root = error_root(sim.options, parse_failure, arrival, started)
        else:
            assert query is not None
            ctx = Ctx(sim.store, sim.options, sim.faults.locks, arrival)
            root = execute(query, ctx, arrival, started)
        payload = to_bytes(root)
        if sim.faults.take_drop(names):
            await _send_half(send, payload)
            return
        delay = sim.faults.take_delay()
        if delay:
            await asyncio.sleep(delay)
        await Response(payload, 200, media_type=XML_TYPE)(scope, receive, send)


async def _send_half(send: Send, payload: bytes) -> None:
    """Promise the whole body, send half, and return: the server then closes the connection mid-body."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", XML_TYPE.encode()), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload[: len(payload) // 2], "more_body": True})


def make_routes(sim: Simulator) -> list[Route]:
    async def faults(request: Request) -> JSONResponse:
        if request.method == "POST":
            raw = await request.body()
            try:
                data = json.loads(raw) if raw else {}
                if not isinstance(data, dict):
                    raise FaultSpecError("the body must be a JSON object")
                sim.faults.update(data)
            except (ValueError, FaultSpecError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            sim.faults = Faults()
        return JSONResponse(sim.faults.as_json())

    async def orders(request: Request) -> JSONResponse:
        finished = {v["visit"]: v["finished"] for v in sim.store.visits()}
        return JSONResponse([as_json(o, finished[o["visit"]]) for o in sim.store.orders()])

    async def calls(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            sim.calls.clear()
        return JSONResponse(dict(sim.calls))

    return [
        Route(XML_PATH, XmlInterface(sim), methods=["POST"]),
        Route("/_sandbox/rkeeper/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/rkeeper/orders", orders, methods=["GET"]),
        Route("/_sandbox/rkeeper/calls", calls, methods=["GET", "DELETE"]),
    ]
