"""`tablepay` subcommands. Each imports only what it needs (no Qt for the service)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pos_app.settings import KioskSettings
    from sync_service.settings import Settings


def _data_dir(value: str | None) -> Path:
    if value:
        return Path(value)
    env = os.environ.get("TABLEPAY_DATA_DIR")
    if env:
        return Path(env)
    from sync_service.settings import default_data_dir

    return default_data_dir()


def _sync_settings() -> Settings:
    from sync_service.settings import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        print(f"tablepay sync: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _private_from_now_on() -> None:
    """Everything the command creates, by us or by a library (SQLite's -wal and -shm), is 0600 / 0700."""
    from tablepay_files import restrict_umask

    restrict_umask()


def cmd_sandbox(args: argparse.Namespace) -> int:
    from tablepay_sandbox.main import run

    _private_from_now_on()
    run(args.host, args.port, _data_dir(args.data_dir), args.webhook_url, args.webhook_secret)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    _private_from_now_on()
    if args.sync_command == "check-config":
        from sync_service.checks import main as check_config

        return check_config()
    if args.sync_command == "backup":
        return _backup(args)
    settings = _sync_settings()
    if args.sync_command == "add-kiosk":
        if args.code:
            return _add_kiosk_by_code(settings, args)
        from sync_service.main import add_kiosk

        token = add_kiosk(settings, args.kiosk_id, manager=args.manager)
        scope = " with manager rights (refunds)" if args.manager else ""
        print(f"Kiosk {args.kiosk_id!r} paired{scope}. Its token (shown only now, store it on the kiosk):")
        print(token)
        return 0
    if args.sync_command == "revoke-kiosk":
        from sync_service.main import revoke_kiosk

        revoked_at = revoke_kiosk(settings, args.kiosk_id)
        if revoked_at is None:
            print(
                f"tablepay sync revoke-kiosk: no kiosk {args.kiosk_id!r} was ever paired with this service "
                "(is TABLEPAY_DATA_DIR / the config the service's?); nothing changed.",
                file=sys.stderr,
            )
            return 2
        print(
            f"Kiosk {args.kiosk_id!r}: its token is revoked (since {revoked_at}); every request with it, "
            "a long poll in progress included, is now refused with 401. "
            f"`tablepay sync add-kiosk {args.kiosk_id}` pairs it again with a new token."
        )
        return 0
    if args.sync_command in PARTNER_COMMANDS:
        from .partner_cli import run_partner_command

        return run_partner_command(settings, args)
    if args.sync_command == "replay-webhooks":
        from sync_service.main import replay_webhooks

        outcomes = replay_webhooks(settings, args.id)
        if not outcomes:
            print("No failed webhook requests to replay.")
        for request_id, outcome in outcomes.items():
            print(f"request {request_id}: {outcome}")
        return 1 if "failed" in outcomes.values() else 0
    if args.sync_command == "backfill":
        from sync_service.main import run_backfill
        from sync_service.services.backfill import parse_duration

        try:
            seconds = parse_duration(args.since)
        except ValueError as exc:
            print(f"tablepay sync backfill: --since: {exc}", file=sys.stderr)
            return 2
        print(f"Backfill of the last {args.since}: {run_backfill(settings, seconds)}")
        return 0
    from sync_service.main import serve

    serve(settings, args.host, args.port)
    return 0


PARTNER_COMMANDS = ("add-partner", "partners", "rotate-secret", "remove", "partner-deliveries")
PAIRING_COLLECT_WAIT_SECONDS = 15.0  # how long add-kiosk --code waits to see the kiosk collect its token


def _add_kiosk_by_code(settings: Settings, args: argparse.Namespace) -> int:
    """Approve the code a kiosk's pairing screen shows; the kiosk then collects its token by itself."""
    from datetime import datetime

    from sync_service.main import approve_pairing_code
    from sync_service.services.pairing import Approval

    result, collected = approve_pairing_code(
        settings, args.code, args.kiosk_id, manager=args.manager, collect_wait=PAIRING_COLLECT_WAIT_SECONDS
    )
    until = datetime.fromtimestamp(result.expires_at).strftime("%H:%M") if result.expires_at else ""
    refusals = {
        Approval.NOT_A_CODE: f"{args.code!r} is not a pairing code: it is 8 letters and digits, as the kiosk's "
        "pairing screen shows them (e.g. KXM4-7RPQ; the dash and case do not matter).",
        Approval.UNKNOWN: f"no pairing code {args.code!r} is waiting on this service. Check it on the kiosk's "
        "screen, and that this is the service the kiosk asked (TABLEPAY_DATA_DIR / the config).",
        Approval.EXPIRED: f"pairing code {args.code!r} expired at {until}. Press New code on the kiosk and use "
        "the new one.",
        Approval.USED: f"pairing code {args.code!r} was already used (for kiosk {result.kiosk_id!r}); a code "
        "pairs one kiosk once. Press New code on the kiosk for another one.",
    }
    if result.outcome in refusals:
        print(f"tablepay sync add-kiosk: {refusals[result.outcome]} Nothing changed.", file=sys.stderr)
        return 2
    scope = " with manager rights (refunds)" if args.manager else ""
    name = f" (the kiosk calls itself {result.kiosk_name!r})" if result.kiosk_name else ""
    if collected:
        print(f"Kiosk {args.kiosk_id!r} paired{scope}{name}: its pairing screen collected its token.")
    else:
        print(
            f"Code approved for kiosk {args.kiosk_id!r}{scope}{name}. The kiosk collects its token when its "
            f"pairing screen next asks (it asks all the time while it shows the code), until {until}."
        )
    return 0


def _backup(args: argparse.Namespace) -> int:
    import sqlite3

    from sync_service.backup import POSTGRES_BACKUP, BackupError, backup_database, summary

    if not args.data_dir and _sync_settings().database_url is not None:
        print(POSTGRES_BACKUP, file=sys.stderr)  # nothing to copy here: the database is PostgreSQL's
        return 2
    source = (Path(args.data_dir) if args.data_dir else _sync_settings().data_dir) / "sync.sqlite"
    try:
        print(f"backed up {source} to {summary(backup_database(source, Path(args.path)))}")
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"tablepay sync backup: {exc}", file=sys.stderr)
        return 1
    return 0


def _has_display() -> bool:
    """Qt needs a screen; on Linux without X or Wayland it aborts unless told to run offscreen."""
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from .demo import PROVIDERS, run_demo

    _private_from_now_on()
    data_dir = _data_dir(args.data_dir) / PROVIDERS[args.provider].folder
    terminal = args.terminal or args.once
    if not terminal and not _has_display():
        print(
            "demo: no display found (DISPLAY / WAYLAND_DISPLAY unset), so the terminal plays the kiosk. "
            "Run it on a desktop for the Qt kiosk, or set QT_QPA_PLATFORM=offscreen to run it headless."
        )
        terminal = True
    if not terminal:
        from .qt_probe import why_qt_cannot_start

        if why := why_qt_cannot_start():
            print(f"demo: the kiosk window cannot open ({why}), so the terminal plays the kiosk.", flush=True)
            terminal = True
    ports = {"sandbox_port": args.sandbox_port, "sync_port": args.sync_port}
    try:
        if terminal:
            asyncio.run(run_demo(data_dir, once=args.once, provider=args.provider, **ports))
        else:
            import qasync
            from PySide6.QtWidgets import QApplication

            app = QApplication.instance() or QApplication(sys.argv)  # must outlive the loop  # noqa: F841
            qasync.run(run_demo(data_dir, kiosk=True, provider=args.provider, **ports))
    except KeyboardInterrupt:
        print("demo stopped")
    return 0


def _kiosk_dir(value: str | None) -> Path:
    from pos_app.settings import default_dir

    return Path(value) if value else default_dir()


def _pair(args: argparse.Namespace, settings: KioskSettings, directory: Path) -> int:
    """Ask the service who this token belongs to (GET /v1/kiosk), then store the pairing."""
    import asyncio

    from pos_app.client import ApiError, SyncClient, Unreachable
    from pos_app.pairing import save_pairing

    url = args.url.rstrip("/")

    async def whoami() -> str:
        client = SyncClient(url, args.token, timeout=args.timeout)
        try:
            return await client.whoami()
        finally:
            await client.aclose()

    try:
        kiosk_id = asyncio.run(whoami())
    except Unreachable as exc:
        print(
            f"tablepay kiosk pair: cannot reach the sync service at {url} ({exc.__cause__ or exc}). "
            "Is it running (`tablepay sync`), and is the URL right? Nothing was stored.",
            file=sys.stderr,
        )
        return 2
    except ApiError as exc:
        if exc.status == 401:
            print(
                f"tablepay kiosk pair: the sync service at {url} refused this token (401). "
                "Issue a new one on the service with `tablepay sync add-kiosk KIOSK_ID`. Nothing was stored.",
                file=sys.stderr,
            )
        else:
            print(
                f"tablepay kiosk pair: the sync service at {url} answered {exc.status} ({exc.message}); "
                "is this a TablePay sync service? Nothing was stored.",
                file=sys.stderr,
            )
        return 2
    if args.kiosk_id and args.kiosk_id != kiosk_id:
        print(
            f"tablepay kiosk pair: this token belongs to kiosk {kiosk_id!r}, not {args.kiosk_id!r}. "
            "Nothing was stored.",
            file=sys.stderr,
        )
        return 2
    where = save_pairing(directory, settings, url, args.token, kiosk_id)
    print(f"Kiosk {kiosk_id!r} paired with {url}; the token is stored in {where}.")
    return 0


PIN_KINDS = {  # subcommand -> (settings field, what it opens, what happens without it)
    "set-settings-pin": ("settings_pin_hash", "Settings PIN", "the kiosk's settings screen is locked"),
    "set-manager-pin": ("manager_pin_hash", "Manager PIN", "manager mode is locked"),
}


def _set_pin(args: argparse.Namespace, settings: KioskSettings, directory: Path) -> int:
    """Read the PIN without echo (twice) or from stdin, store only its salted scrypt hash."""
    import getpass

    from pos_app.pin import MAX_DIGITS, MIN_DIGITS, hash_pin, valid_pin
    from pos_app.settings import save_settings

    field, name, locked = PIN_KINDS[args.kiosk_command]
    if args.remove:
        setattr(settings, field, "")
        save_settings(settings, directory)
        print(f"{name} removed: {locked} until a new PIN is set.")
        return 0
    if sys.stdin.isatty():
        pin = getpass.getpass(f"New {name[0].lower()}{name[1:]} ({MIN_DIGITS}-{MAX_DIGITS} digits): ")
        if getpass.getpass("Again: ") != pin:
            print(f"tablepay kiosk {args.kiosk_command}: the two PINs differ; nothing changed.", file=sys.stderr)
            return 2
    else:
        pin = sys.stdin.readline().strip()
    if not valid_pin(pin):
        print(
            f"tablepay kiosk {args.kiosk_command}: the PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits "
            "(the kiosk's pad has digits only); nothing changed.",
            file=sys.stderr,
        )
        return 2
    setattr(settings, field, hash_pin(pin))
    path = save_settings(settings, directory)
    print(f"{name} set (stored as a salted scrypt hash in {path}).")
    return 0


def cmd_kiosk(args: argparse.Namespace) -> int:
    import logging

    from pos_app.secrets import load_pairing
    from pos_app.settings import load_settings, save_settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    directory = _kiosk_dir(args.data_dir)
    settings = load_settings(directory)
    command = args.kiosk_command
    if command == "pair":
        return _pair(args, settings, directory)
    if command in PIN_KINDS:
        return _set_pin(args, settings, directory)
    if command == "set-tips":
        settings.tip_presets = args.percent
    elif command == "set-donation":
        settings.donation_partner = args.partner
        if args.amounts:
            settings.donation_amounts = args.amounts
    elif command == "set-locale":
        settings.locale = args.locale
    elif command == "set-menu-source":
        settings.menu_source = args.source
    if command is not None:
        try:
            print(f"saved {save_settings(settings, directory)}")
        except ValueError as exc:
            print(f"tablepay kiosk: {exc}", file=sys.stderr)
            return 2
        return 0
    # Without a pairing the window opens on the pairing screen (nobody reads a terminal at a kiosk).
    pairing = load_pairing(directory)
    if args.smoke_test:
        from pos_app.smoke import run_smoke_test

        return run_smoke_test(directory, settings, pairing, Path(args.smoke_test))
    from pos_app.app import run

    return run(directory, settings, pairing, fullscreen=args.fullscreen)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tablepay", description="TablePay pay-at-table point of sale")
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser(
        "sandbox",
        help="run the local Stripe-compatible sandbox (with the R-Keeper 7 XML simulator)",
        epilog="The R-Keeper simulator's Basic auth comes from RKEEPER_USER / RKEEPER_PASSWORD "
        "(default tablepay / tablepay, for the local sandbox only).",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=12111)
    sandbox.add_argument("--data-dir", help="default: TABLEPAY_DATA_DIR")
    sandbox.add_argument("--webhook-url", help="register a webhook endpoint for every event at start")
    sandbox.add_argument("--webhook-secret", help="its signing secret (whsec_...); generated if omitted")
    sandbox.set_defaults(func=cmd_sandbox)

    sync = commands.add_parser("sync", help="run the sync service, or manage it")
    sync.add_argument("--host", default="127.0.0.1")
    sync.add_argument("--port", type=int, default=8787)
    sync_commands = sync.add_subparsers(dest="sync_command")
    add_kiosk = sync_commands.add_parser("add-kiosk", help="pair a kiosk: prints its new bearer token once")
    add_kiosk.add_argument("kiosk_id")
    add_kiosk.add_argument(
        "--manager", action="store_true", help="the token may also refund payments (manager mode on this kiosk)"
    )
    add_kiosk.add_argument(
        "--code",
        help="the pairing code an unpaired kiosk shows (e.g. KXM4-7RPQ): the kiosk "
        "collects its token by itself; without --code the token is printed",
    )
    revoke = sync_commands.add_parser(
        "revoke-kiosk",
        help="revoke a kiosk's token at once (a lost or stolen tablet); `add-kiosk` again issues a new one",
    )
    revoke.add_argument("kiosk_id")
    backfill = sync_commands.add_parser(
        "backfill", help="apply provider events never seen (after an outage longer than webhook retries)"
    )
    backfill.add_argument("--since", required=True, help="how far back, e.g. 6h, 2d (at most 30d)")
    replay = sync_commands.add_parser(
        "replay-webhooks",
        help="process again the stored webhook requests whose processing failed (after fixing the cause)",
    )
    replay.add_argument("--id", type=int, help="only this stored request")
    from .partner_cli import add_partner_parsers

    add_partner_parsers(sync_commands)
    sync_commands.add_parser(
        "check-config",
        help="check the settings and that Stripe (or the sandbox) and the "
        "POS answer; prints OK/WARN/FAIL per check, exit 1 if any failed",
    )
    backup = sync_commands.add_parser(
        "backup",
        help="copy the service's SQLite store while it runs (online backup API); PATH is a new file or a directory",
    )
    backup.add_argument("path")
    backup.add_argument("--data-dir", help="the service's data dir (default: TABLEPAY_DATA_DIR / the settings)")
    sync.set_defaults(func=cmd_sync)

    demo = commands.add_parser("demo", help="run sandbox + sync service wired together, offline, and walk a payment")
    demo.add_argument(
        "--data-dir", help="default: TABLEPAY_DATA_DIR (a demo/ folder inside it; demo-mollie/ with --provider mollie)"
    )
    demo.add_argument(
        "--provider",
        choices=("stripe", "mollie"),
        default="stripe",
        help="the payment provider the sandbox plays: Stripe (default) or Mollie (its fake and hosted test page)",
    )
    demo.add_argument("--sandbox-port", type=int, default=12111)
    demo.add_argument("--sync-port", type=int, default=8787)
    demo.add_argument("--once", action="store_true", help="terminal kiosk: stop after the sample payment is paid")
    demo.add_argument("--terminal", action="store_true", help="the terminal plays the kiosk instead of the Qt window")
    demo.set_defaults(func=cmd_demo)

    kiosk = commands.add_parser("kiosk", help="run the Qt kiosk, or pair and configure it")
    kiosk.add_argument("--data-dir", help="default: TABLEPAY_KIOSK_DIR or the platform's user data dir")
    kiosk.add_argument("--fullscreen", action="store_true", help="kiosk mode: full screen, no window chrome")
    kiosk.add_argument(
        "--smoke-test",
        metavar="PNG",
        help="start, open the order screen, save a screenshot "
        "there, print a JSON report and quit (0 = it worked); what the bundle's CI check runs",
    )
    kiosk_commands = kiosk.add_subparsers(dest="kiosk_command")
    pair = kiosk_commands.add_parser("pair", help="store the sync service URL and this kiosk's token")
    pair.add_argument("url")
    pair.add_argument("token")
    pair.add_argument(
        "--kiosk-id",
        help="optional check: the id the token must belong to (by default the service tells it: GET /v1/kiosk)",
    )
    pair.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the service")
    pin = kiosk_commands.add_parser(
        "set-settings-pin",
        help="the PIN that opens the kiosk's settings (asked without echo, "
        "or one line on stdin); only a salted hash is stored",
    )
    pin.add_argument("--remove", action="store_true", help="remove the PIN: settings stay locked")
    manager_pin = kiosk_commands.add_parser(
        "set-manager-pin",
        help="the PIN that opens manager mode (history, totals, refunds); "
        "asked without echo, or one line on stdin; only a salted hash "
        "is stored",
    )
    manager_pin.add_argument("--remove", action="store_true", help="remove the PIN: manager mode stays locked")
    tips = kiosk_commands.add_parser("set-tips", help="tip presets in percent, e.g. 10 15 20")
    tips.add_argument("percent", type=int, nargs="+")
    donation = kiosk_commands.add_parser("set-donation", help="partner name and fixed amounts in minor units")
    donation.add_argument("partner")
    donation.add_argument("amounts", type=int, nargs="*")
    locale = kiosk_commands.add_parser("set-locale", help="display locale for amounts, e.g. de_DE")
    locale.add_argument("locale")
    menu_source = kiosk_commands.add_parser(
        "set-menu-source",
        help="where dishes and prices come from: the menu file (default) or "
        "the restaurant's POS through the sync service (cached)",
    )
    menu_source.add_argument("source", choices=["file", "pos"])
    kiosk.set_defaults(func=cmd_kiosk)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
