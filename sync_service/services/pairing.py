"""Pairing by code: a kiosk with no token shows a short code; an operator on the service's machine approves it.

1. The kiosk asks for a code (`create`): it gets the code, to show, and a poll secret, to keep.
2. The operator runs `tablepay sync add-kiosk KIOSK_ID --code CODE` (`approve`): the code now names
   the kiosk id (and whether it may refund).
3. The kiosk's poll, with its secret (`wait_for`), collects a new token for that kiosk id, once.

The token is minted at step 3, inside the transaction that marks the code collected, so it is never
stored in clear and never handed out twice; a code approved but never collected issues nothing. The
code is only for a person to read and type (about 40 bits); the poll secret (256 bits) is what lets
a poll collect, so guessing codes gets nobody a token. Expiry is one constant, not a setting: ten
minutes is long enough to walk to the server, short enough that an old code on a screen is worthless.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from ..storage.pairing_repository import PairingRepository

# Letters and digits nobody confuses across a counter or on a keyboard: no 0/O, 1/I/L, and of the
# pairs 8/B, 5/S, 2/Z only the digit (a B typed for an 8 is read as the 8 it was).
CODE_ALPHABET = "23456789ACDEFGHJKMNPQRTUVWXY"
_READ_AS = str.maketrans("BSZ", "852")
CODE_LENGTH = 8
CODE_TTL_SECONDS = 600.0
MAX_LIVE_CODES = 1000  # codes waiting at once, whoever asked: bounds the table however many sources ask
POLL_CHECK_SECONDS = 0.5  # the approval comes from another process: a long poll looks this often
MAX_POLL_WAIT_SECONDS = 30.0
FORGET_AFTER_SECONDS = 3600.0  # an expired code is kept this long, so add-kiosk can say "expired", not "unknown"


def normalise_code(text: str) -> str | None:
    """The code as stored, from what a person typed ("kxm4-7rpq", "KXM4 7RPQ"); None if it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    return code if len(code) == CODE_LENGTH and all(c in CODE_ALPHABET for c in code) else None


def display_code(code: str) -> str:
    """Two groups of four: read aloud and typed without losing the place."""
    return f"{code[:4]}-{code[4:]}"


def _hash(value: str) -> str:
    # A code lives ten minutes and collects nothing without the poll secret (256 random bits), so a
    # fast hash is enough: the stored hashes give a reader of the database nothing to use.
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class NewCode:
    code: str  # display form, KXM4-7RPQ
    poll_secret: str
    expires_at: float
    ttl_seconds: float


@dataclass(frozen=True)
class Waiting:
    expires_in: float


@dataclass(frozen=True)
class Collected:
    kiosk_id: str
    token: str


class Approval(str, Enum):
    APPROVED = "approved"
    NOT_A_CODE = "not_a_code"  # not 8 characters of the alphabet
    UNKNOWN = "unknown"  # never issued here, or long gone
    EXPIRED = "expired"
    USED = "used"  # already approved (for this or another kiosk id): codes are single-use


@dataclass(frozen=True)
class ApprovalResult:
    outcome: Approval
    kiosk_name: str | None = None  # what the kiosk calls itself (its host name), for the operator to check
    expires_at: float | None = None
    kiosk_id: str | None = None  # USED: the kiosk id it was approved for


Mint = Callable[[], tuple[str, str]]  # a new token and its hash (api.auth)


class PairingCodes:
    """The use cases of pairing by code. `clock` is epoch seconds (the CLI, another process, compares too)."""

    def __init__(self, store: PairingRepository, *, mint: Mint, clock: Callable[[], float] = time.time) -> None:
        self.store, self._mint, self._clock = store, mint, clock

    def create(self, kiosk_name: str | None) -> NewCode | None:
        """A new code for a kiosk to show; None while MAX_LIVE_CODES are waiting."""
        now = self._clock()
        poll_secret = secrets.token_urlsafe(32)
        with self.store.repo.transaction():
            self.store.purge_expired(now - FORGET_AFTER_SECONDS)
            if self.store.live_codes(now) >= MAX_LIVE_CODES:
                return None
            while True:  # a collision among live codes is about one in 10^9 per code: draw again
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if self.store.add(_hash(code), _hash(poll_secret), kiosk_name, now, now + CODE_TTL_SECONDS):
                    break
        return NewCode(display_code(code), poll_secret, now + CODE_TTL_SECONDS, CODE_TTL_SECONDS)

    def poll(self, code: str, poll_secret: str) -> Waiting | Collected | None:
        """Collected once approved; None for a wrong, expired or collected code or a wrong secret (all alike)."""
        normal = normalise_code(code)
        if normal is None:
            return None
        now = self._clock()
        row = self.store.find_for_poll(_hash(normal), _hash(poll_secret), now)
        if row is None:
            return None
        if row.kiosk_id is None:
            return Waiting(max(0.0, row.expires_at - now))
        token, token_hash = self._mint()
        kiosk_id = self.store.collect(_hash(normal), _hash(poll_secret), token_hash, now)
        return Collected(kiosk_id, token) if kiosk_id is not None else None

    async def wait_for(self, code: str, poll_secret: str, wait: float) -> Waiting | Collected | None:
        """`poll`, holding on up to `wait` seconds for the operator's approval (a long poll)."""
        deadline = time.monotonic() + min(wait, MAX_POLL_WAIT_SECONDS)
        while True:
            answer = self.poll(code, poll_secret)
            if not isinstance(answer, Waiting) or time.monotonic() >= deadline:
                return answer
            await asyncio.sleep(min(POLL_CHECK_SECONDS, max(0.0, deadline - time.monotonic())))

    def approve(self, code: str, kiosk_id: str, *, manager: bool = False) -> ApprovalResult:
        """Attach a kiosk id (and the manager scope) to a waiting code: its kiosk's next poll collects a token."""
        normal = normalise_code(code)
        if normal is None:
            return ApprovalResult(Approval.NOT_A_CODE)
        now = self._clock()
        row = self.store.find(_hash(normal))
        if row is None:
            return ApprovalResult(Approval.UNKNOWN)
        if row.kiosk_id is not None or row.collected:
            return ApprovalResult(Approval.USED, row.kiosk_name, row.expires_at, row.kiosk_id)
        if row.expires_at <= now:
            return ApprovalResult(Approval.EXPIRED, row.kiosk_name, row.expires_at)
        scopes = "kiosk manager" if manager else "kiosk"
        if not self.store.approve(_hash(normal), kiosk_id, scopes, now):  # another add-kiosk got there first
            return self.approve(code, kiosk_id, manager=manager)
        return ApprovalResult(Approval.APPROVED, row.kiosk_name, row.expires_at, kiosk_id)

    def collected(self, code: str) -> bool:
        """Whether the kiosk has collected the token of this (approved) code."""
        normal = normalise_code(code)
        row = self.store.find(_hash(normal)) if normal else None
        return bool(row and row.collected)
