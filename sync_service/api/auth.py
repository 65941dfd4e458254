"""Kiosk bearer tokens and partner API keys: shown once when issued, only their hash is stored."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import HTTPException, Request

from ..storage.partner_rows import PartnerRecord
from ..storage.repository import Repository

TOKEN_PREFIX = "tpk_"  # noqa: S105 - the prefix of every token, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token() -> tuple[str, str]:
    """A new token and the hash to store (pairing by code mints it inside its own transaction)."""
    token = new_token()
    return token, token_hash(token)


MANAGER_SCOPE = "manager"
TOKEN_REQUIRED = (
    "a valid kiosk token is required (Authorization: Bearer ...); "  # noqa: S105 - the 401's message, not a secret
    "pair the kiosk with `tablepay sync add-kiosk`"
)


def issue_kiosk_token(repo: Repository, kiosk_id: str, *, manager: bool = False) -> str:
    """A new token for the kiosk (replacing its old one); `manager` also lets it refund."""
    token = new_token()
    repo.add_kiosk(kiosk_id, token_hash(token), "kiosk manager" if manager else "kiosk")
    return token


def revoke_kiosk_token(repo: Repository, kiosk_id: str) -> str | None:
    """The kiosk's token stops working with the next request (a long poll ends too); None: no such kiosk."""
    return repo.revoke_kiosk(kiosk_id)


def token_kiosk(request: Request) -> str | None:
    """The kiosk whose token (not revoked) the request carries, asked of the store each time.

    Looked up on every request rather than cached, so a revocation from `tablepay sync
    revoke-kiosk` (another process, same database) takes effect at once.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    repo: Repository = request.app.state.repo
    return repo.kiosk_for_token_hash(token_hash(token.strip())) if scheme.lower() == "bearer" and token else None


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def kiosk_from_request(request: Request) -> str:
    """FastAPI dependency: the kiosk id behind the bearer token, or 401 (403 for a partner's key)."""
    kiosk_id = token_kiosk(request)
    if kiosk_id is None:
        token = _bearer(request)
        repo: Repository = request.app.state.repo
        if token and repo.partner_for_key_hash(token_hash(token)) is not None:
            raise HTTPException(403, "a partner key reaches only /v1/partner/... endpoints")
        raise HTTPException(401, TOKEN_REQUIRED, headers={"WWW-Authenticate": "Bearer"})
    return kiosk_id


PARTNER_KEY_REQUIRED = (
    "a valid partner key is required (Authorization: Bearer tpp_...); "
    "the restaurant issues one with `tablepay sync add-partner`"
)


def partner_from_request(request: Request) -> PartnerRecord:
    """FastAPI dependency: the partner whose API key the request carries; 403 for a kiosk's token, else 401."""
    token = _bearer(request)
    repo: Repository = request.app.state.repo
    partner = repo.partner_for_key_hash(token_hash(token)) if token else None
    if partner is not None:
        return partner
    if token and repo.kiosk_for_token_hash(token_hash(token)) is not None:
        raise HTTPException(403, "a kiosk token cannot reach partner endpoints: use the partner's API key")
    raise HTTPException(401, PARTNER_KEY_REQUIRED, headers={"WWW-Authenticate": "Bearer"})


def manager_from_request(request: Request) -> str:
    """FastAPI dependency: a kiosk whose token carries the manager scope, or 401/403."""
    kiosk_id = kiosk_from_request(request)
    repo: Repository = request.app.state.repo
    if MANAGER_SCOPE not in repo.kiosk_scopes(kiosk_id):
        raise HTTPException(
            403, f"this needs a manager token: pair the kiosk with `tablepay sync add-kiosk {kiosk_id} --manager`"
        )
    return kiosk_id
