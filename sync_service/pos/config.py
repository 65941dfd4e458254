"""How this restaurant's R-Keeper is set up: codes and modes, read from Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..settings import Settings
from .rkeeper_client import Connection
from .rkeeper_xml import Ref


class TipMode(str, Enum):
    # tipAmount + TipCharge on the payment line: the POS books the tip as a tip.
    TIP_CHARGE = "tip_charge"
    # An open-price "tips" dish added to the order before paying.
    DISH = "dish"


@dataclass(frozen=True)
class PosConfig:
    station: Ref
    cashier: Ref
    currency: Ref  # the online-payment currency (payment type) in the POS
    waiter: Ref | None = None
    order_type: Ref | None = None
    tables: dict[str, str] = field(default_factory=dict)
    tip_mode: TipMode = TipMode.TIP_CHARGE
    tip_charge: Ref | None = None
    tip_dish_code: str | None = None
    # Inferred, not documented: whether Payment@amount includes tipAmount.
    payment_includes_tip: bool = False

    def table(self, label: str) -> Ref:
        return Ref(code=self.tables.get(label, label))

    @classmethod
    def from_settings(cls, settings: Settings) -> PosConfig:
        def ref(code: str | None) -> Ref | None:
            return Ref(code=code) if code else None

        assert settings.rkeeper_station_code and settings.rkeeper_cashier_code and settings.rkeeper_currency_id
        return cls(
            station=Ref(code=settings.rkeeper_station_code),
            cashier=Ref(code=settings.rkeeper_cashier_code),
            currency=Ref(id=settings.rkeeper_currency_id),
            waiter=ref(settings.rkeeper_waiter_code),
            order_type=ref(settings.rkeeper_order_type_code),
            tables=settings.pos_tables,
            tip_mode=TipMode(settings.rkeeper_tip_mode),
            tip_charge=ref(settings.rkeeper_tip_charge_code),
            tip_dish_code=settings.rkeeper_tip_dish_code,
            payment_includes_tip=settings.rkeeper_payment_includes_tip,
        )


def connection_from(settings: Settings) -> Connection:
    assert settings.rkeeper_url and settings.rkeeper_user and settings.rkeeper_password
    return Connection(
        url=settings.rkeeper_url,
        user=settings.rkeeper_user,
        password=settings.rkeeper_password.get_secret_value(),
        ca_bundle=settings.rkeeper_ca_bundle,
        verify_tls=settings.rkeeper_verify_tls,
        timeout_seconds=settings.rkeeper_timeout_seconds,
    )
