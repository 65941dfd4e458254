"""A partner's webhook receiver (docs/partners.md): verify, check the time window, dedupe, then act."""

import base64
import hashlib
import hmac
import time

TOLERANCE = 300  # seconds either side of our clock
seen: set[str] = set()  # in production: a table with a UNIQUE webhook_id, kept 4 days or more


def receive(secret: str, headers: dict[str, str], body: bytes) -> int:
    """The HTTP status to answer: 2xx once handled (or already handled), 4xx for a forgery."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, sigs = h.get("webhook-id", ""), h.get("webhook-timestamp", ""), h.get("webhook-signature", "")
    if not (msg_id and stamp.isdigit() and abs(time.time() - int(stamp)) <= TOLERANCE):
        return 400  # unsigned, or too old / too new: a replay
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{stamp}.".encode() + body  # the raw bytes, never re-serialised JSON
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    if not any(hmac.compare_digest(expected, s.partition(",")[2]) for s in sigs.split() if s.startswith("v1,")):
        return 401
    if msg_id in seen:
        return 200  # a retry of what we handled already: no second effect
    seen.add(msg_id)  # ... then mark the order paid (json.loads(body)["data"]) in the same transaction
    return 200
