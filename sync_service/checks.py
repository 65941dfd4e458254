"""`tablepay sync check-config`: are the settings right, and can the service reach what it needs?

Each check says OK, WARN (works, but probably not what you want in production), FAIL (the service
will not work) or SKIP, what it found, and how to fix it. Reachability is checked the cheapest way
that still proves the credentials: Stripe lists one event with the secret key (the sandbox answers the
same), the POS answers GetSystemInfo with the configured login. Nothing is written anywhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

from .pos import rkeeper_xml as rx
from .pos.config import connection_from
from .pos.rkeeper_client import RKeeperClient
from .provider_keys import MOLLIE_API, STRIPE_API, live_key_misdirected, mollie_live_key_misdirected
from .settings import ConfigError, Settings, load_settings
from .storage import postgres_schema

WEBHOOK_PATH = "/webhooks/stripe"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN, FAIL, SKIP
    detail: str
    fix: str = ""


def check_settings() -> tuple[Settings | None, Check]:
    config = os.environ.get("TABLEPAY_CONFIG")
    where = f"the environment and {config} (TABLEPAY_CONFIG)" if config else "the environment (no TABLEPAY_CONFIG)"
    if config and not Path(config).is_file():
        return None, Check(
            "settings",
            "FAIL",
            f"TABLEPAY_CONFIG names {config}, which is not a readable file",
            "fix the path, or unset TABLEPAY_CONFIG to use environment variables only",
        )
    try:
        settings = load_settings()
    except ConfigError as exc:
        return None, Check(
            "settings",
            "FAIL",
            str(exc).replace("\n  ", "\n    "),
            "set each named setting (docs/configuration.md; resources/tablepay-sync.example.toml)",
        )
    return settings, Check("settings", "OK", f"loaded from {where}")


def check_database(settings: Settings) -> Check:
    """SQLite: the data dir is writable. PostgreSQL: reachable, its version, the migrations applied."""
    if settings.database_url is None:
        return check_data_dir(settings)
    url = settings.database_url.get_secret_value()
    where = urlsplit(url)
    target = f"{where.hostname or 'localhost'}:{where.port or 5432}{where.path}"  # never the password
    try:
        version, applied, missing = postgres_schema.describe(url, settings.stripe_timeout_seconds)
    except psycopg.Error as exc:
        return Check(
            "database",
            "FAIL",
            f"PostgreSQL at {target} cannot be reached: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "check TABLEPAY_DATABASE_URL (host, port, database, user, password, sslmode) and that the server "
            "lets this machine in (pg_hba.conf)",
        )
    detail = f"PostgreSQL {version} at {target}: {len(applied)} of {len(applied) + len(missing)} migrations applied"
    if missing:
        return Check("database", "WARN", f"{detail}; {', '.join(missing)} at the next start", "start the service")
    return Check("database", "OK", detail)


def check_data_dir(settings: Settings) -> Check:
    folder = settings.data_dir
    probe = folder if folder.exists() else folder.parent
    if folder.exists() and not folder.is_dir():
        return Check(
            "data dir", "FAIL", f"{folder} exists but is not a directory", "set TABLEPAY_DATA_DIR to a directory"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        return Check(
            "data dir",
            "FAIL",
            f"{probe} is not writable by this user",
            f"create it for the service's user (e.g. install -d -o tablepay -g tablepay {folder}), "
            "or set TABLEPAY_DATA_DIR; run this check as that user",
        )
    db = settings.database_path
    found = f"{db.name}: {db.stat().st_size / 2**20:.1f} MB" if db.exists() else f"{db.name} is created at first start"
    return Check("data dir", "OK", f"{folder} is writable ({found})")


def _stripe_error(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def check_api_base(settings: Settings) -> Check | None:
    """FAIL for a live key aimed anywhere but Stripe; WARN for any other base: its payments are not real."""
    problem = live_key_misdirected(settings.stripe_key, settings.stripe_api_base)
    if problem:
        return Check(
            "payments",
            "FAIL",
            problem,
            f"unset STRIPE_API_BASE (then {STRIPE_API} is used), or put a "
            "sk_test_ key in STRIPE_SECRET_KEY for the sandbox",
        )
    if settings.uses_real_stripe:
        return None
    return Check(
        "payments",
        "WARN",
        f"STRIPE_API_BASE is {settings.stripe_api_base}, not Stripe: payments are not "
        "real (the sandbox or a mock); no guest is charged",
        "unset STRIPE_API_BASE in production",
    )


async def check_stripe(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[Check]:
    base = settings.stripe_api_base or STRIPE_API
    key = settings.stripe_key
    if live_key_misdirected(key, settings.stripe_api_base):
        return []  # check_api_base fails it; the live key is not sent there, not even to ask
    mode = "LIVE mode: real cards are charged" if "_live_" in key else "test mode"
    target = "Stripe" if settings.uses_real_stripe else "the sandbox"
    async with httpx.AsyncClient(
        base_url=base,
        timeout=settings.stripe_timeout_seconds,
        transport=transport,
        headers={"Authorization": f"Bearer {key}"},
    ) as http:
        try:
            response = await http.get("/v1/events", params={"limit": 1})
        except httpx.HTTPError as exc:
            fix = (
                "check the machine's Internet access, DNS, firewall and proxy (HTTPS to api.stripe.com)"
                if settings.uses_real_stripe
                else "start it (`tablepay sandbox`) or fix STRIPE_API_BASE"
            )
            return [Check("Stripe", "FAIL", f"cannot reach {target} at {base}: {type(exc).__name__}: {exc}", fix)]
        if response.status_code == 401:
            return [
                Check(
                    "Stripe",
                    "FAIL",
                    f"{target} at {base} refused STRIPE_SECRET_KEY (HTTP 401: {_stripe_error(response)})",
                    "copy the secret key from the Stripe Dashboard, Developers > API keys (sk_test_... in "
                    "test mode); the sandbox takes any sk_test_ key",
                )
            ]
        if response.status_code == 403:
            return [
                Check(
                    "Stripe",
                    "FAIL",
                    f"STRIPE_SECRET_KEY may not read events (HTTP 403: {_stripe_error(response)})",
                    "a restricted key needs write access to Checkout Sessions, Refunds and Transfers and "
                    "read access to Events and PaymentIntents",
                )
            ]
        if response.status_code != 200:
            return [
                Check(
                    "Stripe",
                    "FAIL",
                    f"{target} at {base} answered HTTP {response.status_code}: {_stripe_error(response)}",
                    "retry later; check https://status.stripe.com",
                )
            ]
        checks = [Check("Stripe", "OK", f"{target} at {base} accepted STRIPE_SECRET_KEY ({mode})")]
        checks.append(await _check_webhook_endpoint(settings, http))
    return checks


async def _check_webhook_endpoint(settings: Settings, http: httpx.AsyncClient) -> Check:
    if not settings.public_url:
        return Check(
            "webhooks",
            "WARN",
            "TABLEPAY_PUBLIC_URL is not set: guests are sent back to the service's "
            "own address, which a phone cannot reach, and Stripe cannot deliver webhooks there",
            "set TABLEPAY_PUBLIC_URL to the HTTPS address of the reverse proxy (docs/operations.md)",
        )
    wanted = f"{settings.public_url}{WEBHOOK_PATH}"
    try:
        response = await http.get("/v1/webhook_endpoints", params={"limit": 100})
    except httpx.HTTPError as exc:
        return Check("webhooks", "WARN", f"could not list webhook endpoints: {type(exc).__name__}: {exc}")
    if response.status_code != 200:
        return Check(
            "webhooks",
            "WARN",
            f"could not list webhook endpoints (HTTP {response.status_code}: {_stripe_error(response)})",
            "check by hand in the Stripe Dashboard, Developers > Webhooks",
        )
    urls = {endpoint.get("url"): endpoint.get("status") for endpoint in response.json().get("data", [])}
    if urls.get(wanted) == "enabled":
        return Check("webhooks", "OK", f"an enabled webhook endpoint sends events to {wanted}")
    return Check(
        "webhooks",
        "WARN",
        f"no enabled webhook endpoint sends events to {wanted}",
        f"add one in the Stripe Dashboard (Developers > Webhooks, URL {wanted}) and put its signing "
        "secret in STRIPE_WEBHOOK_SECRET; during setup `stripe listen --forward-to "
        f"localhost:8787{WEBHOOK_PATH}` works without one",
    )


async def check_pos(settings: Settings) -> Check:
    if not settings.pos_enabled:
        return Check("POS", "SKIP", "RKEEPER_URL is not set: orders are not sent to a restaurant POS")
    client = RKeeperClient(connection_from(settings))
    try:
        info = await client.system_info()
    except rx.PosAuthError as exc:
        return Check("POS", "FAIL", str(exc), "fix RKEEPER_USER / RKEEPER_PASSWORD (docs/pos.md)")
    except rx.PosUnavailable as exc:
        return Check(
            "POS",
            "FAIL",
            str(exc),
            "check RKEEPER_URL (https://host:port, the cash server's HTTP Data Port), that the cash "
            "server runs and the firewall lets this machine in; a self-signed certificate needs "
            "RKEEPER_CA_BUNDLE",
        )
    except (rx.PosError, OSError) as exc:  # e.g. an unreadable RKEEPER_CA_BUNDLE
        return Check("POS", "FAIL", f"{type(exc).__name__}: {exc}", "see docs/pos.md")
    finally:
        await client.aclose()
    summary = ", ".join(f"{key}={info[key]}" for key in ("RestCode", "ShiftDate") if key in info)
    return Check(
        "POS",
        "OK",
        f"R-Keeper at {settings.rkeeper_url} answered GetSystemInfo as "
        f"{settings.rkeeper_user} ({summary or 'no details'})",
    )


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_pos_transport(settings: Settings) -> list[Check]:
    """WARN when the POS login and orders would cross the network readable or unauthenticated."""
    if not settings.rkeeper_url:
        return []
    url = urlsplit(settings.rkeeper_url)
    if url.scheme == "http" and not _is_loopback(url.hostname or ""):
        return [
            Check(
                "POS TLS",
                "WARN",
                f"RKEEPER_URL {settings.rkeeper_url} is plain http://: the POS login "
                "(Basic auth) and every order cross the network readable by anyone on it",
                "use https://host:port (the cash server's HTTP Data Port serves TLS) with RKEEPER_CA_BUNDLE "
                "for its certificate (docs/pos.md)",
            )
        ]
    if url.scheme == "https" and not settings.rkeeper_verify_tls:
        return [
            Check(
                "POS TLS",
                "WARN",
                "RKEEPER_VERIFY_TLS=false: the cash server's certificate is not checked, "
                "so anyone on the network can pose as the POS and read its login",
                "set RKEEPER_CA_BUNDLE to the cash server's certificate (PEM) and RKEEPER_VERIFY_TLS=true",
            )
        ]
    return []


def check_mollie_base(settings: Settings) -> Check | None:
    """FAIL for a live key aimed anywhere but Mollie; WARN for any other base: its payments are not real."""
    problem = mollie_live_key_misdirected(settings.mollie_key, settings.mollie_api_base)
    if problem:
        return Check("payments", "FAIL", problem, "unset MOLLIE_API_BASE, or use a test_ key with the sandbox")
    if settings.mollie_api_base in (None, MOLLIE_API):
        return None
    return Check(
        "payments",
        "WARN",
        f"MOLLIE_API_BASE is {settings.mollie_api_base}, not Mollie: payments are not real (the sandbox or a mock)",
        "unset MOLLIE_API_BASE in production",
    )


async def check_mollie(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> list[Check]:
    """The key works at the base; Mollie can call the webhook; donations are routed or not offered."""
    key, base = settings.mollie_key, settings.mollie_api_base or MOLLIE_API
    if mollie_live_key_misdirected(key, settings.mollie_api_base):
        return []  # check_mollie_base fails it; the live key is not sent there, not even to ask
    mode = "LIVE mode: real payments" if key.startswith("live_") else "test mode"
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, timeout=settings.mollie_timeout_seconds, transport=transport) as http:
        try:
            response = await http.get("/v2/payments", params={"limit": 1}, headers=headers)
        except httpx.HTTPError as exc:
            return [
                Check("Mollie", "FAIL", f"cannot reach {base}: {type(exc).__name__}: {exc}", "check MOLLIE_API_BASE")
            ]
    if response.status_code == 401:
        return [
            Check(
                "Mollie",
                "FAIL",
                f"{base} refused MOLLIE_API_KEY (HTTP 401)",
                "copy the website profile's API key from the Mollie Dashboard, Developers > API keys",
            )
        ]
    if response.status_code != 200:
        return [Check("Mollie", "FAIL", f"{base} answered HTTP {response.status_code}", "retry later")]
    checks = [Check("Mollie", "OK", f"{base} accepted MOLLIE_API_KEY ({mode})")]
    public = settings.public_url or ""
    host = urlsplit(public).hostname or ""
    if not public.startswith("https://") or _is_loopback(host):
        checks.append(
            Check(
                "webhooks",
                "WARN" if settings.mollie_api_base not in (None, MOLLIE_API) else "FAIL",
                f"Mollie calls {public or '(TABLEPAY_PUBLIC_URL unset)'}/webhooks/mollie, which it cannot reach "
                "(Mollie needs a public HTTPS address)",
                "set TABLEPAY_PUBLIC_URL to the HTTPS address of the reverse proxy (docs/operations.md)",
            )
        )
    else:
        checks.append(Check("webhooks", "OK", f"each payment asks Mollie to call {public}/webhooks/mollie"))
    if settings.donation_destination:
        checks.append(Check("donations", "OK", f"routed to {settings.donation_destination} (split payments)"))
    else:
        checks.append(
            Check("donations", "SKIP", "not offered: MOLLIE_SPLIT_PAYMENTS and TABLEPAY_DONATION_ORGANIZATION unset")
        )
    return checks


async def run_checks(settings: Settings) -> list[Check]:
    if settings.provider == "mollie":
        provider_checks, pos_check = await asyncio.gather(check_mollie(settings), check_pos(settings))
        base_check = check_mollie_base(settings)
    else:
        provider_checks, pos_check = await asyncio.gather(check_stripe(settings), check_pos(settings))
        base_check = check_api_base(settings)
    return [
        check_database(settings),
        *([base_check] if base_check else []),
        *provider_checks,
        pos_check,
        *check_pos_transport(settings),
    ]


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{check.status:<5} {check.name:<9} {check.detail}")
        if check.fix and check.status in ("FAIL", "WARN"):
            lines.append(f"{'':<15} fix: {check.fix}")
    failed = sum(check.status == "FAIL" for check in checks)
    lines.append(f"{failed} check(s) failed." if failed else "All checks passed.")
    return "\n".join(lines)


def main() -> int:
    """Print every check; 1 if any failed (a settings error stops before the network checks)."""
    settings, first = check_settings()
    checks = [first]
    if settings is not None:
        checks += asyncio.run(run_checks(settings))
    print(render(checks))
    return 1 if any(check.status == "FAIL" for check in checks) else 0
