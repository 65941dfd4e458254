"""Kiosk bearer tokens: shown once when issued, only their hash is stored."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import HTTPException, Request

from ..storage.repository import Repository

TOKEN_PREFIX = "tpk_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_kiosk_token(repo: Repository, kiosk_id: str) -> str:
    token = new_token()
    repo.add_kiosk(kiosk_id, token_hash(token))
    return token


def kiosk_from_request(request: Request) -> str:
    """FastAPI dependency: the kiosk id behind the bearer token, or 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    repo: Repository = request.app.state.repo
    kiosk_id = repo.kiosk_for_token_hash(token_hash(token.strip())) if scheme.lower() == "bearer" and token else None
    if kiosk_id is None:
        raise HTTPException(401, "a valid kiosk token is required (Authorization: Bearer ...); "
                                 "pair the kiosk with `tablepay sync add-kiosk`",
                            headers={"WWW-Authenticate": "Bearer"})
    return kiosk_id
