"""Pairing by code (services/pairing.py): the only /v1 routes a kiosk calls without a token.

Public by design, so they say nothing they need not: a wrong, expired or already collected code
and a wrong poll secret are all the same 404, and no answer names another kiosk. Each source
address has a budget for creating codes and one for polling (source_budget.py); past it, 429.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from ..services.pairing import Collected, PairingCodes, Waiting
from .schemas import ErrorResponse, PairingCodeIn, PairingCodeOut, PairingPoll
from .source_budget import SourceBudget

router = APIRouter(prefix="/v1/pairing", tags=["pairing"], responses={429: {"model": ErrorResponse}})
log = structlog.get_logger(__name__)

# A kiosk asks for a code at start and on "New code": 10 at once, then one a minute per address.
CREATE_BURST, CREATE_PER_SECOND = 10, 1 / 60
# A kiosk's long poll asks every few seconds at most (every 25 s while waiting): 30 at once, then one every 2 s.
POLL_BURST, POLL_PER_SECOND = 30, 0.5
POLL_SECRET_HEADER = "Poll-Token"  # noqa: S105 - a header name, not a secret


def create_budget() -> SourceBudget:
    return SourceBudget(burst=CREATE_BURST, per_second=CREATE_PER_SECOND)


def poll_budget() -> SourceBudget:
    return SourceBudget(burst=POLL_BURST, per_second=POLL_PER_SECOND)


def _within(request: Request, budget: SourceBudget, retry_after: int) -> None:
    source = request.client.host if request.client else None
    if not budget.take(source):
        if budget.refused % 1000 == 1:  # a flood: one line per thousand, not one per request
            log.warning("pairing_rate_limited", path=request.url.path, source=source, refused=budget.refused)
        raise HTTPException(
            429,
            "too many pairing requests from this address; try again in a minute",
            headers={"Retry-After": str(retry_after)},
        )


def _not_found() -> HTTPException:
    return HTTPException(
        404, "no such pairing code is waiting (wrong, expired or already used): ask the kiosk for a new code"
    )


@router.post("/codes", status_code=201, response_model=PairingCodeOut, responses={422: {"model": ErrorResponse}})
async def create_code(request: Request, body: PairingCodeIn | None = None) -> dict[str, Any]:
    """A new one-time code for an unpaired kiosk to show, and the secret it polls with."""
    _within(request, request.app.state.pairing_create_budget, retry_after=60)
    pairing: PairingCodes = request.app.state.pairing
    new = pairing.create(body.kiosk_name if body else None)
    if new is None:
        raise HTTPException(
            429,
            "too many pairing codes are waiting on this service; try again in a few minutes",
            headers={"Retry-After": "60"},
        )
    return {
        "code": new.code,
        "poll_token": new.poll_secret,
        "expires_at": int(new.expires_at),
        "expires_in": int(new.ttl_seconds),
    }


@router.get("/codes/{code}", response_model=PairingPoll, responses={404: {"model": ErrorResponse}})
async def poll_code(
    code: str,
    request: Request,
    poll_token: Annotated[str, Header(alias=POLL_SECRET_HEADER, max_length=100)] = "",
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to hold on for the operator's approval")] = 0,
) -> JSONResponse:
    """`waiting` until an operator runs `tablepay sync add-kiosk KIOSK_ID --code CODE`, then `paired`
    with the kiosk's new token, once. Needs the `Poll-Token` header from the code's creation."""
    _within(request, request.app.state.pairing_poll_budget, retry_after=2)
    pairing: PairingCodes = request.app.state.pairing
    answer = await _until_hung_up(request, pairing.wait_for(code, poll_token, wait))
    if isinstance(answer, Collected):
        log.info("kiosk_paired_by_code", kiosk_id=answer.kiosk_id)
        return JSONResponse(
            {"status": "paired", "kiosk_id": answer.kiosk_id, "token": answer.token},
            headers={"Cache-Control": "no-store"},
        )
    if isinstance(answer, Waiting):
        return JSONResponse({"status": "waiting", "expires_in": round(answer.expires_in)})
    raise _not_found()


async def _until_hung_up(request: Request, poll: Any) -> Waiting | Collected | None:
    """The long poll, ended early (as still waiting) when the kiosk hangs up, so it holds no shutdown."""

    async def hung_up() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    polling, watching = asyncio.create_task(poll), asyncio.create_task(hung_up())
    try:
        await asyncio.wait({polling, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (watching, polling):
            if not task.done():
                task.cancel()
        await asyncio.gather(polling, watching, return_exceptions=True)
    return Waiting(0) if polling.cancelled() else polling.result()
