"""TablePay: the `tablepay` command that composes the kiosk, the sync service and the sandbox."""

__version__ = "0.1.0"
