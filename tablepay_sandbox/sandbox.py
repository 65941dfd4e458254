"""The sandbox's state machine core: request context, events, expansion.

API routers parse parameters; this object (and `payments.py`) change state and
emit events, so the hosted page, the control endpoints and the API share one
implementation of every transition.
"""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from typing import Any

from . import objects
from .errors import invalid_request
from .forms import as_int, as_str
from .store import Obj, Store

DELIVERY_MODES = ("deliver", "hold", "drop")
_STATUS_FOR_MODE = {"deliver": "pending", "hold": "held", "drop": "dropped"}


@dataclass(frozen=True)
class Ctx:
    """Who asked: becomes the event's `request` block and `api_version`."""

    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str = objects.DEFAULT_API_VERSION


SYSTEM = Ctx()  # hosted page, timers and control endpoints: Stripe sends request.id null there


class Sandbox:
    def __init__(self, store: Store, public_url: str) -> None:
        self.store = store
        self.public_url = public_url.rstrip("/")
        # Set by the webhook worker; emitting an event wakes it without polling.
        self.wakeup = asyncio.Event()

    # -- events ----------------------------------------------------------------
    def endpoints_for(self, event_type: str) -> list[Obj]:
        return [
            ep
            for ep in self.store.all_of("webhook_endpoint")
            if ep["status"] == "enabled" and ("*" in ep["enabled_events"] or event_type in ep["enabled_events"])
        ]

    @property
    def delivery_mode(self) -> str:
        return self.store.setting("delivery_mode", "deliver")

    def emit(self, type_: str, obj: Obj, ctx: Ctx, previous_attributes: Obj | None = None) -> Obj:
        endpoints = self.endpoints_for(type_)
        status = _STATUS_FOR_MODE[self.delivery_mode]
        event = objects.event(
            type_=type_,
            data_object=copy.deepcopy(obj),
            api_version=ctx.api_version,
            request_id=ctx.request_id,
            idempotency_key=ctx.idempotency_key,
            pending_webhooks=0 if status == "dropped" else len(endpoints),
            previous_attributes=previous_attributes,
        )
        with self.store.transaction():
            self.store.insert(event)
            for endpoint in endpoints:
                self.store.add_delivery(event, endpoint, status)
        self.wakeup.set()
        return event

    def event_view(self, event: Obj) -> Obj:
        """`pending_webhooks` is live in Stripe: recount it whenever an event is read."""
        event["pending_webhooks"] = self.store.pending_webhooks(event["id"])
        return event

    # -- reads -----------------------------------------------------------------
    def line_items(self, session_id: str) -> list[Obj]:
        items: list[Obj] = self.store.private(session_id).get("line_items", [])
        return items

    def expand(self, obj: Obj, paths: list[str]) -> Obj:
        for path in paths:
            self._expand_path(obj, path.split("."), path)
        return obj

    def _expand_path(self, obj: Obj, parts: list[str], full: str) -> None:
        head, rest = parts[0], parts[1:]
        if obj.get("object") == "list" and head == "data":
            for item in obj["data"]:
                if rest:
                    self._expand_path(item, rest, full)
            return
        if head == "line_items" and obj.get("object") == "checkout.session":
            items = self.line_items(obj["id"])
            obj["line_items"] = {
                "object": "list",
                "data": items,
                "has_more": False,
                "url": f"/v1/checkout/sessions/{obj['id']}/line_items",
            }
            return
        if head not in obj:
            raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
        value = obj[head]
        if isinstance(value, str):
            target = self.store.get(value)
            if target is None:
                raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
            if target["object"] == "event":
                target = self.event_view(target)
            obj[head] = target
            value = target
        if rest and isinstance(value, dict):
            self._expand_path(value, rest, full)


def paginate_params(params: dict[str, Any]) -> tuple[int, str | None, str | None]:
    limit = as_int(params, "limit", default=10)
    assert limit is not None
    if limit < 1 or limit > 100:
        raise invalid_request(
            "This value must be less than or equal to 100."
            if limit > 100
            else "This value must be greater than or equal to 1.",
            param="limit",
        )
    return limit, as_str(params, "starting_after"), as_str(params, "ending_before")
