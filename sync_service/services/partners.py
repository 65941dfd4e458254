"""Partners: systems that create orders with an API key and receive signed webhooks (docs/partners.md).

Adding one mints its API key (`tpp_...`, shown once, only its sha256 kept, as kiosk tokens) and its
signing secret (`whsec_` + base64 of 32 random bytes, shown once, kept: we sign with it). A webhook
URL is checked when the partner is added and again before every delivery, since a name that resolved
to a public address yesterday may resolve to the restaurant's router today (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import ipaddress
import secrets
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..models import utc_now
from ..storage.partner_rows import PartnerRecord
from ..storage.repository import Repository

KEY_PREFIX = "tpp_"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix of every secret, not a secret
ROTATION_OVERLAP_SECONDS = 24 * 3600  # both secrets sign for this long after a rotation


class PartnerRefused(ValueError):
    """A partner that cannot be added or changed as asked; the message says why."""


def key_hash(key: str) -> str:
    # 256 random bits: a fast hash is enough, nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class UrlPolicy:
    allow_http: bool  # loopback receivers (over http or https)
    allow_private: bool  # private, link-local and other non-global addresses

    def shape_refusal(self, url: str) -> str | None:
        """Why the URL itself is refused (before any DNS), or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return f"{url!r} is not an http(s) URL with a host"
        if parts.username or parts.password:
            return "a webhook URL must not carry credentials (use --bearer-token)"
        if parts.scheme == "http" and not (self.allow_http and _is_loopback_name(parts.hostname)):
            return (
                "a webhook URL must be https (http only to a loopback address, with TABLEPAY_ALLOW_HTTP_WEBHOOKS=true)"
            )
        return None

    def address_refusal(self, host: str, addresses: list[str]) -> str | None:
        """Why a host resolving to `addresses` is refused, or None: every address must be allowed."""
        if not addresses:
            return f"{host!r} does not resolve"
        for text in addresses:
            address = _judged(ipaddress.ip_address(text.split("%")[0]))
            if address.is_loopback:
                if not (self.allow_http or self.allow_private):
                    return f"{host!r} resolves to the loopback address {text}"
            elif not _is_public(address) and not self.allow_private:
                return (
                    f"{host!r} resolves to {text}, not a public address (set TABLEPAY_ALLOW_PRIVATE_WEBHOOKS=true "
                    "to deliver into a private network)"
                )
        return None

    def refusal(self, url: str) -> str | None:
        """Blocking (it resolves the host): the CLI's check when a partner is added."""
        shape = self.shape_refusal(url)
        if shape:
            return shape
        host, port = _host_port(url)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return f"{host!r} does not resolve: {exc}"
        return self.address_refusal(host, sorted({str(info[4][0]) for info in infos}))

    async def refusal_now(self, url: str) -> str | None:
        """The same check off the event loop's blocking path: before each delivery."""
        shape = self.shape_refusal(url)
        if shape:
            return shape
        host, port = _host_port(url)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            return f"{host!r} does not resolve: {exc}"
        return self.address_refusal(host, sorted({str(info[4][0]) for info in infos}))


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, still routed by some stacks


def _judged(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address a connection really reaches: the IPv4 one inside an IPv6 form (mapped, 6to4, NAT64,
    IPv4-compatible), which ipaddress otherwise judges as an IPv6 address (and calls most of them global)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return address
    inside = address.ipv4_mapped or address.sixtofour
    if inside is None and (address in _NAT64 or address in _IPV4_COMPATIBLE) and int(address) > 1:
        inside = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return inside or address


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # Site-local fec0::/10 is deprecated but still routed in some networks; ipaddress calls it global.
    return address.is_global and not (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def _is_loopback_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class NewPartner:
    """What `add-partner` prints, once."""

    name: str
    api_key: str
    secret: str


class Partners:
    """Add, list, rotate and remove partners (the CLI's use cases)."""

    def __init__(self, repo: Repository, policy: UrlPolicy, *, time_factor: float = 1.0) -> None:
        self._repo = repo
        self._policy = policy
        self._overlap = ROTATION_OVERLAP_SECONDS * time_factor

    def add(self, name: str, webhook_url: str, bearer_token: str | None = None) -> NewPartner:
        if not name or len(name) > 64 or not all(c.isalnum() or c in "-_." for c in name):
            raise PartnerRefused("a partner's name is 1 to 64 letters, digits, '-', '_' or '.'")
        refusal = self._policy.refusal(webhook_url)
        if refusal:
            raise PartnerRefused(f"webhook URL refused: {refusal}")
        api_key = KEY_PREFIX + secrets.token_urlsafe(32)
        record = PartnerRecord(
            name=name,
            key_hash=key_hash(api_key),
            webhook_url=webhook_url,
            bearer_token=bearer_token,
            secret=new_secret(),
            previous_secret=None,
            rotated_at=None,
            disabled_at=None,
            disabled_reason=None,
            failing_since=None,
            created_at=utc_now(),
        )
        with self._repo.transaction():
            if not self._repo.insert_partner(record):
                raise PartnerRefused(f"a partner {name!r} exists already (`remove` it first)")
        return NewPartner(name, api_key, record.secret)

    def all(self) -> list[PartnerRecord]:
        return self._repo.all_partners()

    def rotate_secret(self, name: str) -> str:
        """A new signing secret (printed once); the old one keeps signing beside it for 24 h."""
        secret = new_secret()
        with self._repo.transaction():
            partner = self._repo.partner(name)
            if partner is None:
                raise PartnerRefused(f"no partner {name!r}")
            self._repo.update_partner(name, secret=secret, previous_secret=partner.secret, rotated_at=time.time())
        return secret

    def remove(self, name: str) -> int:
        """Forget the partner (its key stops working at once); its pending deliveries are given up."""
        with self._repo.transaction():
            if not self._repo.delete_partner(name):
                raise PartnerRefused(f"no partner {name!r}")
            return self._repo.park_partner_deliveries(name, "partner removed")

    def signing_secrets(self, partner: PartnerRecord, now: float) -> list[str]:
        """The secrets a delivery is signed with now: both for 24 h after a rotation."""
        if partner.previous_secret and partner.rotated_at is not None and now - partner.rotated_at < self._overlap:
            return [partner.secret, partner.previous_secret]
        return [partner.secret]
