"""View models: QObjects holding the kiosk's state and logic, with Signals for the views.

No widgets here, so every rule is testable without a screen. Async slots
(qasync.asyncSlot) do the network calls; they never start a nested Qt loop.
"""

from .checkout import CheckoutState, CheckoutViewModel
from .feed import FeedViewModel
from .history import COLUMNS, ROW_ROLE, HistoryModel, HistoryRow
from .kitchen import POS_LABELS, KitchenViewModel, Tone
from .manager import ManagerViewModel, OrderDetail
from .offer import OfferViewModel
from .order import OrderViewModel
from .orders import PAYMENT_LABELS, OrdersViewModel
from .partners import PartnersViewModel
from .reconcile import Mismatch, ReconcileViewModel
from .refund import RefundState, RefundViewModel
from .settings import PinResult, SettingsViewModel

__all__ = [
    "COLUMNS",
    "PAYMENT_LABELS",
    "POS_LABELS",
    "ROW_ROLE",
    "CheckoutState",
    "CheckoutViewModel",
    "FeedViewModel",
    "HistoryModel",
    "HistoryRow",
    "KitchenViewModel",
    "ManagerViewModel",
    "Mismatch",
    "OfferViewModel",
    "OrderDetail",
    "OrderViewModel",
    "OrdersViewModel",
    "PartnersViewModel",
    "PinResult",
    "ReconcileViewModel",
    "RefundState",
    "RefundViewModel",
    "SettingsViewModel",
    "Tone",
]
