"""View models: QObjects holding the kiosk's state and logic, with Signals for the views.

No widgets here, so every rule is testable without a screen. Async slots
(qasync.asyncSlot) do the network calls; they never start a nested Qt loop.
"""

from .checkout import CheckoutState, CheckoutViewModel
from .feed import FeedViewModel
from .kitchen import POS_LABELS, KitchenViewModel, Tone
from .order import OrderViewModel
from .orders import OrdersViewModel
from .settings import PinResult, SettingsViewModel

__all__ = ["POS_LABELS", "CheckoutState", "CheckoutViewModel", "FeedViewModel", "KitchenViewModel", "OrderViewModel",
           "OrdersViewModel", "PinResult", "SettingsViewModel", "Tone"]
