"""Manager mode's word on the partners (docs/partners.md): an endpoint that was disabled (410 Gone, or
every delivery failed for 5 days) or is failing now, from `GET /v1/partners/deliveries?failed=true`
(a manager token). Read when manager mode opens and with every reconciliation check."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..client import ApiError, SyncClient, Unreachable
from .actions import unexpected, waiter_action
from .wording import counted

log = logging.getLogger(__name__)


def partner_notices(body: dict[str, Any], clock_text: Callable[[float], str]) -> list[str]:
    """One sentence a manager understands per partner that needs a person, disabled ones first. `body`: the
    answer to `?failed=true`, so every delivery in it was given up on."""
    failed = Counter(str(d.get("partner")) for d in body.get("deliveries") or [])
    disabled, failing = [], []
    for partner in body.get("partners") or []:
        name = str(partner.get("name"))
        replay = f"then replay its {counted(failed[name], 'failed delivery')}" if failed[name] else "then replay"
        where = "(tablepay sync partner-deliveries --replay ID)."
        if partner.get("disabled_at"):
            reason = str(partner.get("disabled_reason") or "it kept failing").replace("the receiver", "its webhook")
            disabled.append(f"Partner '{name}' is disabled: {reason}. Fix its webhook, {replay} {where}")
        elif partner.get("failing_since"):
            since = clock_text(float(partner["failing_since"]))
            failing.append(
                f"Partner '{name}' is failing: its webhook has taken no delivery since {since}. It is tried again; "
                "after 5 days of failures it is disabled."
            )
    return disabled + failing


def _local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().strftime("%d %b %H:%M")


class PartnersViewModel(QObject):
    changed = Signal()

    def __init__(
        self, client: SyncClient, clock_text: Callable[[float], str] = _local, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.client, self._clock_text = client, clock_text
        self.notices: list[str] = []  # empty: every partner is fine (or there are none)

    @waiter_action()
    async def check(self) -> None:
        try:
            body = await self.client.partner_deliveries(failed=True)
        except Unreachable:
            return  # the notices stay as last read; reconciliation says the service is unreachable
        except ApiError as exc:
            log.info("partners' state refused: %s %s", exc.status, exc.code)  # 403: not a manager token
            return
        self.notices = partner_notices(body, self._clock_text)
        self.changed.emit()

    def recover(self, error: Exception) -> None:
        self.notices = [unexpected(error)]
        self.changed.emit()
