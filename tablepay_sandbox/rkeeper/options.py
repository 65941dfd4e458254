"""Settings for behaviour no source confirms ([I] in docs/sandbox.md): each is a choice a test can flip."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_USER = "tablepay"  # sandbox-only credentials; a real cash server has its own employees
DEFAULT_PASSWORD = "tablepay"  # noqa: S105 - the simulator's documented demo login


@dataclass(frozen=True)
class RKeeperOptions:
    # [I] A restaurant may require a guest count; then CreateOrder without <Guests> gives 3444.
    require_guests: bool = False
    # [I] Whether PayOrder's Payment@amount includes Payment@tipAmount. False: amount covers the
    # order and the tip rides on top (tipAmount + TipCharge); True: amount - tipAmount covers it.
    payment_amount_includes_tip: bool = False
    server_version: str = "7.6.4.483"
    xml_version: str = "248"
    net_name: str = "TABLEPAY-SIM"
    restaurant_name: str = "TablePay Sandbox"
