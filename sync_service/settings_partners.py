"""The settings of partners' webhooks (docs/partners.md), a part of Settings (settings.py) kept apart for size."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings


def _alias(env: str, name: str) -> AliasChoices:
    return AliasChoices(env, name)


class PartnerSettings(BaseSettings):
    # Loopback (127.0.0.0/8, ::1) over http or https: for a receiver on the same machine (tests, a demo).
    allow_http_webhooks: bool = Field(
        default=False, validation_alias=_alias("TABLEPAY_ALLOW_HTTP_WEBHOOKS", "allow_http_webhooks")
    )
    # Private, link-local, shared and other non-global addresses (the restaurant's own network): SSRF guard.
    allow_private_webhooks: bool = Field(
        default=False, validation_alias=_alias("TABLEPAY_ALLOW_PRIVATE_WEBHOOKS", "allow_private_webhooks")
    )
    partner_webhook_timeout_seconds: float = Field(
        default=15,
        gt=0,
        le=60,
        validation_alias=_alias("TABLEPAY_PARTNER_WEBHOOK_TIMEOUT", "partner_webhook_timeout_seconds"),
    )
    # Deliveries of one partner in flight at once; other partners have their own.
    partner_webhook_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        validation_alias=_alias("TABLEPAY_PARTNER_WEBHOOK_CONCURRENCY", "partner_webhook_concurrency"),
    )
    # Multiplies every delay of the retry schedule (and the 24 h of a rotation, the 5 days before an
    # endpoint is disabled): 1 in production; tests and the bench compress time with e.g. 0.001.
    partner_retry_time_factor: float = Field(
        default=1.0,
        gt=0,
        le=1,
        validation_alias=_alias("TABLEPAY_PARTNER_RETRY_TIME_FACTOR", "partner_retry_time_factor"),
    )
    partner_deliveries_days: float = Field(
        default=30,
        gt=0,
        le=3650,
        validation_alias=_alias("TABLEPAY_PARTNER_DELIVERIES_DAYS", "partner_deliveries_days"),
    )
