"""The sandbox's Mollie: a local fake of Mollie's Payments API v2 (see docs/sandbox.md).

Money is kept in integer minor units; Mollie's `{"currency", "value"}` strings exist only
at the HTTP edge (`money.py`). State lives in `mollie.sqlite` beside the Stripe part's file.
"""

from .options import MollieOptions

__all__ = ["MollieOptions"]
