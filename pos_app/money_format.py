"""The kiosk shows money as the guest pages do: one formatter, in tablepay_locale."""

from __future__ import annotations

from tablepay_locale import format_money, format_money_whole

__all__ = ["format_money", "format_money_whole"]
