"""Stripe's error objects and HTTP statuses, raised as one exception type."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """Becomes `{"error": {...}}` with Stripe's status code at the HTTP boundary."""

    def __init__(
        self, status: int, type_: str, message: str, *, param: str | None = None, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.param = param
        self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def invalid_request(
    message: str, *, param: str | None = None, code: str | None = None, status: int = 400
) -> StripeError:
    return StripeError(status, "invalid_request_error", message, param=param, code=code)


def no_such(kind: str, object_id: str, *, param: str = "id") -> StripeError:
    """Stripe answers unknown ids with 404 resource_missing ('No such checkout.session: ...')."""
    return invalid_request(f"No such {kind}: '{object_id}'", param=param, code="resource_missing", status=404)


def authentication(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def idempotency(message: str, status: int = 400) -> StripeError:
    return StripeError(status, "idempotency_error", message)
