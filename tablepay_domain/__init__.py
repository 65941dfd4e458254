"""TablePay's domain core: money, orders, the payment state machine.

Pure Python, no I/O and no framework imports, so the kiosk (Qt) and the sync
service (ASGI) share exactly the same rules.
"""
