"""What the routes share: the store, the state machine and the settings.

Built by `create_app` and filled in by its lifespan (the SQLite connection and
asyncio objects must be created on the server's own thread and loop).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import forms, objects
from .payments import Payments
from .sandbox import Ctx, Sandbox, paginate_params
from .store import Obj


@dataclass
class Options:
    """Knobs beyond Stripe's API, mostly so tests need not wait real seconds."""

    retry_base: float = 1.0  # first webhook retry after this many seconds ...
    retry_factor: float = 2.0  # ... then multiplied by this ...
    retry_cap: float = 60.0  # ... never more than this
    max_attempts: int = 8  # Stripe retries for 3 days; the sandbox gives up sooner
    delivery_timeout: float = 10.0  # httpx timeout for each webhook attempt
    delayed_settle_seconds: float = 5.0  # "Pay by bank" on the hosted page settles after this


@dataclass
class Runtime:
    data_dir: Path
    public_url: str
    options: Options
    webhook_url: str | None = None
    webhook_secret: str | None = None  # after startup: the secret in use, given or generated
    webhook_secret_given: bool = False
    _sandbox: Sandbox | None = field(default=None, repr=False)
    _payments: Payments | None = field(default=None, repr=False)

    def start(self, sandbox: Sandbox) -> None:
        """Called by the lifespan once SQLite is open on the server's thread."""
        self._sandbox = sandbox
        self._payments = Payments(sandbox)

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not started: run the app with its lifespan")
        return self._sandbox

    @property
    def payments(self) -> Payments:
        assert self._payments is not None
        return self._payments


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def params(request: Request) -> forms.Params:
    """Query string merged with the form body: Stripe accepts parameters in either."""
    merged = forms.decode(request.url.query)
    if request.method == "POST":
        body = await request.body()
        if body:
            merged.update(forms.decode(body))
    return merged


def ctx(request: Request) -> Ctx:
    state = request.scope.get("state", {})
    return Ctx(
        request_id=state.get("request_id"),
        idempotency_key=state.get("idempotency_key"),
        api_version=state.get("api_version") or objects.DEFAULT_API_VERSION,
    )


def expand_paths(p: forms.Params) -> list[str]:
    return [str(x) for x in forms.as_list(p, "expand")]


def list_page(
    rt: Runtime,
    kind: str,
    url: str,
    p: forms.Params,
    where: list[tuple[str, Any]] | None = None,
    view: Callable[[Obj], Obj] | None = None,
) -> JSONResponse:
    """A Stripe list object (newest first, cursor paging), with `expand[]=data.x` applied."""
    limit, after, before = paginate_params(p)
    data, has_more = rt.sandbox.store.page(kind, where or [], limit=limit, starting_after=after, ending_before=before)
    if view is not None:
        data = [view(obj) for obj in data]
    page = {"object": "list", "data": data, "has_more": has_more, "url": url}
    return ok(rt.sandbox.expand(page, expand_paths(p)))


def eq_filters(p: forms.Params, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """Exact-match list filters on top-level fields (`?payment_intent=pi_...`)."""
    where: list[tuple[str, Any]] = []
    for name in names:
        value = forms.as_str(p, name)
        if value:
            where.append((f"json_extract(data, '$.{name}') = ?", value))
    return where


def ok(obj: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(obj, status_code=status)


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2)
