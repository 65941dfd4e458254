"""The TablePay sync service: hosted checkouts, provider webhooks, the payment
state machine, and the event feed the kiosks and the POS follow.

Nothing in this package imports Qt.
"""
