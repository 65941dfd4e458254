"""A local, Stripe-compatible server: the demo's default and the tests' peer.

It speaks Stripe's wire format (form-encoded nested parameters in, Stripe's
JSON objects and error shapes out, signed webhooks) closely enough that the
official `stripe` SDK cannot tell it from api.stripe.com for the endpoints
TablePay uses. It is not part of the product: no product package imports it.
"""
