"""`tablepay sync add-partner | partners | rotate-secret | remove | partner-deliveries` (docs/partners.md)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_service.settings import Settings


def add_partner_parsers(sync_commands: Any) -> None:
    add = sync_commands.add_parser(
        "add-partner", help="add a partner system: prints its API key and webhook signing secret once"
    )
    add.add_argument("name")
    add.add_argument("--webhook-url", required=True, help="https URL its payment webhooks are POSTed to")
    add.add_argument("--bearer-token", help="also sent as Authorization: Bearer ... with every webhook")
    sync_commands.add_parser("partners", help="list the partners (never their key or secrets)")
    rotate = sync_commands.add_parser(
        "rotate-secret", help="a new webhook signing secret (printed once); the old one also signs for 24 h"
    )
    rotate.add_argument("name")
    remove = sync_commands.add_parser("remove", help="remove a partner: its key stops working at once")
    remove.add_argument("name")
    deliveries = sync_commands.add_parser("partner-deliveries", help="partners' webhook deliveries, newest first")
    deliveries.add_argument("--failed", action="store_true", help="only those given up on (kept 30 days)")
    deliveries.add_argument("--replay", type=int, metavar="ID", help="send a failed delivery again (same bytes)")


def run_partner_command(settings: Settings, args: argparse.Namespace) -> int:
    from sync_service.main import partner_deliveries, partners_of
    from sync_service.services.partners import PartnerRefused

    command = args.sync_command
    if command == "partner-deliveries":
        rows = partner_deliveries(settings, failed=args.failed, replay=args.replay)
        if args.replay is not None and not rows:
            print(f"tablepay sync partner-deliveries: no failed delivery {args.replay}.", file=sys.stderr)
            return 2
        for row in rows:
            print(
                f"{row['id']}\t{row['partner']}\t{row['event_id']}\t{row['type']}\t{row['state']}\t"
                f"attempts={row['attempts']}\t{row['created_at']}\t{row['last_error'] or ''}"
            )
        if args.replay is not None:
            print(f"Delivery {args.replay} is back in line; the running service sends it within a second.")
        return 0
    partners = partners_of(settings)
    try:
        if command == "add-partner":
            new = partners.add(args.name, args.webhook_url, args.bearer_token)
            print(f"Partner {new.name!r} added. Shown only now, give both to the partner:")
            print(f"API key (Authorization: Bearer ...): {new.api_key}")
            print(f"Webhook signing secret: {new.secret}")
        elif command == "partners":
            for partner in partners.all():
                state = (
                    f"disabled {partner.disabled_at}: {partner.disabled_reason}" if partner.disabled_at else "active"
                )
                print(f"{partner.name}\t{partner.webhook_url}\t{state}")
        elif command == "rotate-secret":
            secret = partners.rotate_secret(args.name)
            print(f"New webhook signing secret of {args.name!r} (the old one also signs for 24 h):")
            print(secret)
        elif command == "remove":
            given_up = partners.remove(args.name)
            print(f"Partner {args.name!r} removed; its key no longer works ({given_up} pending deliveries given up).")
    except PartnerRefused as exc:
        print(f"tablepay sync {command}: {exc}", file=sys.stderr)
        return 2
    return 0
