"""Mollie's error object, raised as one exception type and answered as `application/hal+json`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

HAL = "application/hal+json"
DOCS = "https://docs.mollie.com/reference/handling-errors"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized Request",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


class HalResponse(JSONResponse):
    media_type = HAL


class MollieError(Exception):
    """`{"status", "title", "detail", "field"?, "_links": {"documentation"}}` with that status."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.field = field

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": self.status,
            "title": _TITLES.get(self.status, "Error"),
            "detail": self.detail,
        }
        if self.field is not None:
            body["field"] = self.field
        # Documentation links point at Mollie's own docs, as Mollie's do; every other link is the sandbox's.
        body["_links"] = {"documentation": {"href": DOCS, "type": "text/html"}}
        return body

    def response(self, headers: dict[str, str] | None = None) -> Response:
        return HalResponse(self.body(), self.status, headers=headers)


def unprocessable(detail: str, field: str | None = None) -> MollieError:
    return MollieError(422, detail, field)


def bad_request(detail: str, field: str | None = None) -> MollieError:
    return MollieError(400, detail, field)


def not_found(kind: str, object_id: str) -> MollieError:
    return MollieError(404, f"No {kind} exists with token {object_id}.")


async def handle(request: Request, exc: Exception) -> Response:
    """Starlette exception handler (registered by `create_app`)."""
    assert isinstance(exc, MollieError)
    return exc.response()
