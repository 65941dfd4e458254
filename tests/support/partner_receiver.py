"""A partner's webhook receiver on 127.0.0.1: records every delivery, verified with `standardwebhooks`
(an implementation that is not ours), and answers as the test says."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

Answer = Callable[[int], tuple[int, dict[str, str]]]  # nth delivery (1-based) -> status, headers


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified_by: list[int]  # which of the receiver's secrets verified it
    at: float
    status: int = 0  # what the receiver answered


@dataclass
class Receiver:
    secrets: list[str]
    answer: Answer = field(default=lambda n: (200, {}))
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds before answering: a slow receiver

    def verified(self, headers: dict[str, str], body: bytes) -> list[int]:
        ok = []
        for i, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            ok.append(i)
        return ok

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        with self.lock:
            delivery = Delivery(headers, body, self.verified(headers, body), time.time())
            self.deliveries.append(delivery)
            status, extra = self.answer(len(self.deliveries))
            delivery.status = status
        await asyncio.sleep(self.delay)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in extra.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def ids(self) -> list[str]:
        return [d.headers["webhook-id"] for d in self.deliveries]
