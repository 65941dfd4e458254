"""Guest-facing pages after the hosted checkout. They show the state, never set it."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tablepay_domain.money import Money
from tablepay_locale import format_money, guest_locale

from ..models import PaymentRecord
from ..storage.repository import Repository
from .page_headers import guest_page_headers

router = APIRouter(tags=["guest pages"], include_in_schema=False)
_TEMPLATE = (Path(__file__).parent / "guest_page.html").read_text(encoding="utf-8")
_HEADERS = guest_page_headers(_TEMPLATE)  # its CSP allows the template's own <style> by hash

_MESSAGES = {
    "paid": ("Thank you!", "Your payment was received. You can close this page.", "ok"),
    "partially_refunded": ("Thank you!", "Your payment was received.", "ok"),
    "refunded": ("Refunded", "This payment was refunded.", "info"),
    "pending": ("Almost there", "Your bank is confirming the payment. This page updates by itself.", "wait"),
    "authorized": ("Almost there", "Your payment is authorised and being confirmed.", "wait"),
    "open": ("Waiting for payment", "We have not received your payment yet. This page updates by itself.", "wait"),
    "failed": ("Payment failed", "No money was taken. Please ask your waiter to try again.", "bad"),
    "cancelled": ("Payment cancelled", "No money was taken. Your waiter can start a new payment.", "bad"),
    "expired": ("Payment expired", "No money was taken. Your waiter can start a new payment.", "bad"),
}


def _render(payment: PaymentRecord | None, *, cancelled_page: bool, locale: str) -> HTMLResponse:
    if payment is None:
        title, text, tone, amount, refresh = "Payment not found", "Please ask your waiter.", "bad", "", False
    else:
        state = payment.status.value
        if cancelled_page and payment.status.is_live:
            title, text, tone = (
                "Payment not completed",
                "You left the payment page. No money was taken. Ask your waiter if you want to pay another way.",
                "info",
            )
        else:
            title, text, tone = _MESSAGES[state]
        # As the kiosk shows it, in the guest's locale ("€38.00", "38,00 €"), never "38.00 EUR".
        amount = format_money(Money(payment.amount_total, payment.currency), locale)
        refresh = payment.status.is_live and not cancelled_page
    page = (
        _TEMPLATE.replace("{{title}}", html.escape(title))
        .replace("{{text}}", html.escape(text))
        .replace("{{tone}}", tone)
        .replace("{{amount}}", html.escape(amount))
        .replace("{{refresh}}", '<meta http-equiv="refresh" content="3">' if refresh else "")
    )
    return HTMLResponse(page, status_code=200 if payment else 404, headers=_HEADERS)


@router.get("/pay/success")
async def success_page(request: Request, session_id: str = "", payment_id: str = "") -> HTMLResponse:
    """Stripe comes back with its session id, Mollie with our payment id (its redirect carries none)."""
    repo: Repository = request.app.state.repo
    found = repo.find_payment(session_id=session_id) if session_id else None
    return _render(
        found or (repo.payment(payment_id) if payment_id else None),
        cancelled_page=False,
        locale=guest_locale(request.headers.get("accept-language")),
    )


@router.get("/pay/cancel")
async def cancel_page(request: Request, payment_id: str = "") -> HTMLResponse:
    repo: Repository = request.app.state.repo
    return _render(
        repo.payment(payment_id) if payment_id else None,
        cancelled_page=True,
        locale=guest_locale(request.headers.get("accept-language")),
    )
