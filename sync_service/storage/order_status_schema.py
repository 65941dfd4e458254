"""The order status's columns and their backfill: one SQL text for SQLite (storage/db.py, m015) and
PostgreSQL (storage/postgres_schema.py, 0004), since both take it as it is.

The backfill follows tablepay_domain/order_status.py's rules for the orders already stored, so an
upgraded service shows old orders as it would have had it kept their status from the start.
"""

from __future__ import annotations

_PAID = (
    "EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.order_id AND p.bill_id IS NULL "
    "AND p.status IN ('paid', 'partially_refunded', 'refunded')) "
    "OR EXISTS (SELECT 1 FROM bills b WHERE b.order_id = orders.order_id AND b.status = 'settled')"
)
_IN_POS = "EXISTS (SELECT 1 FROM pos_packages k WHERE k.order_id = orders.order_id AND k.delivered_at IS NOT NULL)"
_CLOSED_IN_POS = "EXISTS (SELECT 1 FROM pos_orders o WHERE o.order_id = orders.order_id AND o.status = 'paid')"
_WAITING = (
    "EXISTS (SELECT 1 FROM bills b WHERE b.order_id = orders.order_id AND b.status = 'open') "
    "OR NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.order_id) "
    "OR EXISTS (SELECT 1 FROM payments p WHERE p.order_id = orders.order_id "
    "AND p.status IN ('open', 'pending', 'authorized'))"
)
_LAST_ENDED = (
    "(SELECT CASE p.status WHEN 'cancelled' THEN 'cancelled' WHEN 'expired' THEN 'expired' "
    "ELSE 'awaiting_payment' END FROM payments p WHERE p.order_id = orders.order_id "
    "ORDER BY p.attempt DESC LIMIT 1)"
)

ORDER_STATUS = f"""
-- When the POS hears of the order (on_send | after_payment), fixed when the order is first stored;
-- the order's status (tablepay_domain/order_status.py); and the status on `order.status` feed events.
ALTER TABLE orders ADD COLUMN kitchen TEXT NOT NULL DEFAULT 'on_send';
ALTER TABLE orders ADD COLUMN order_status TEXT NOT NULL DEFAULT 'awaiting_payment';
ALTER TABLE feed ADD COLUMN order_status TEXT;
UPDATE orders SET order_status = CASE
    WHEN {_PAID} THEN CASE WHEN {_CLOSED_IN_POS} THEN 'closed' WHEN {_IN_POS} THEN 'in_kitchen' ELSE 'paid' END
    WHEN {_IN_POS} THEN 'in_kitchen'
    WHEN {_WAITING} THEN 'awaiting_payment'
    ELSE COALESCE({_LAST_ENDED}, 'awaiting_payment')
END;
"""
