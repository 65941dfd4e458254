"""CSV exports of manager mode: the filtered payment history and a day's totals.

Amounts are decimal strings in major units (Money.to_decimal_string: exact for 0-, 2- and
3-decimal currencies) beside a currency column; times are ISO 8601 with their UTC offset.
UTF-8, optionally with a BOM so Excel detects the encoding (LibreOffice reads both).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from pathlib import Path

from tablepay_domain.day_totals import DayTotals
from tablepay_domain.money import Money

from .store import HistoryRow

HISTORY_HEADER = (
    "time",
    "table",
    "waiter",
    "order_id",
    "payment_id",
    "attempt",
    "state",
    "currency",
    "dish_subtotal",
    "tip",
    "donation",
    "total",
    "refunded",
    "provider_reference",
    "pos_state",
    "paid_at",
    "charged_back",  # the newer columns last, so a sheet that reads the columns by position still reads the others
    "share",  # "share": one guest's part of a split bill; "": the order's own checkout
)


def local_iso(stamp: str | None, tz: tzinfo | None = None) -> str:
    """A stored UTC ISO time as ISO 8601 in local time with its offset ('' for none)."""
    if not stamp:
        return ""
    return datetime.fromisoformat(stamp).astimezone(tz).isoformat(timespec="seconds")


def _amount(amount: int, currency: str) -> str:
    return Money(amount, currency).to_decimal_string()


def write_history_csv(path: Path, rows: Iterable[HistoryRow], *, bom: bool = False, tz: tzinfo | None = None) -> int:
    """One row per payment attempt; returns how many were written."""
    count = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HISTORY_HEADER)
        for r in rows:
            c = r.currency
            writer.writerow(
                (
                    local_iso(r.created_at, tz),
                    r.table,
                    r.waiter,
                    r.order_id,
                    r.payment_id,
                    r.attempt,
                    r.status,
                    c,
                    _amount(r.dish_subtotal, c),
                    _amount(r.tip_amount, c),
                    _amount(r.donation_amount, c),
                    _amount(r.amount_total, c),
                    _amount(r.amount_refunded, c),
                    r.provider_reference or "",
                    r.pos_status or "",
                    local_iso(r.paid_at, tz),
                    _amount(r.amount_charged_back, c),
                    "share" if r.share else "",
                )
            )
            count += 1
    return count


def write_totals_csv(path: Path, day: date, totals: DayTotals, *, bom: bool = False) -> None:
    """A day's totals as `section, name, amount, currency` rows (counts have no currency)."""
    c = totals.currency
    rows: list[tuple[str, str, str, str]] = [
        ("day", "business_day", day.isoformat(), ""),
        ("day", "paid_orders", str(totals.paid_orders), ""),
        ("day", "gross", _amount(totals.gross, c), c),
        ("day", "revenue_dishes", _amount(totals.revenue, c), c),
        ("day", "tips", _amount(totals.tips, c), c),
        ("day", "donations", _amount(totals.donations, c), c),
        ("day", "refunds", _amount(totals.refunds, c), c),
        ("day", "chargebacks", _amount(totals.chargebacks, c), c),
        ("day", "net", _amount(totals.net, c), c),
        ("day", "needing_attention", str(len(totals.attention)), ""),
    ]
    rows += [
        ("tips_by_waiter", waiter, _amount(amount, c), c) for waiter, amount in sorted(totals.tips_by_waiter.items())
    ]
    rows += [
        ("donations_by_partner", partner, _amount(amount, c), c)
        for partner, amount in sorted(totals.donations_by_partner.items())
    ]
    rows += [
        ("takings_by_hour", f"{hour:02d}:00", _amount(amount, c), c)
        for hour, amount in sorted(totals.takings_by_hour.items())
    ]
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("section", "name", "value", "currency"))
        writer.writerows(rows)
