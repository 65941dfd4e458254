"""Run one benchmark target in its own process: `python -m bench.serve TARGET PORT DATA_DIR`.

The webhook secret comes in BENCH_WEBHOOK_SECRET (secrets never on a command line); the sandbox's webhook
retries can be shortened with BENCH_RETRY_BASE / BENCH_RETRY_CAP / BENCH_MAX_ATTEMPTS.
`sandbox` is the Stripe + Mollie fake (`tablepay_sandbox`) without its access log, so the fake
spends nothing on logging; its Stripe webhooks go to BENCH_WEBHOOK_URL.

One uvicorn worker with the same settings for every target, so the only
difference between them is the application. `--cprofile PATH` wraps the
server in cProfile and dumps the stats when the server stops (SIGTERM).
"""

from __future__ import annotations

import argparse
import cProfile
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from sync_service.server import ConnectionGuard, connection_cap, guarded_protocol, raise_open_file_limit

if TYPE_CHECKING:
    from tablepay_sandbox.runtime import Options


def sandbox_options(defaults: Options) -> Options:
    """The webhook retry schedule from BENCH_RETRY_BASE, BENCH_RETRY_CAP and BENCH_MAX_ATTEMPTS (seconds, seconds,
    a count), else the sandbox's own: bench/chain.py retries a killed instance's webhooks within a second or two."""
    return replace(
        defaults,
        retry_base=float(os.environ.get("BENCH_RETRY_BASE", defaults.retry_base)),
        retry_cap=float(os.environ.get("BENCH_RETRY_CAP", defaults.retry_cap)),
        max_attempts=int(os.environ.get("BENCH_MAX_ATTEMPTS", defaults.max_attempts)),
    )


def build(target: str, data_dir: Path, secret: str, port: int) -> Starlette:
    if target == "sandbox":
        from tablepay_sandbox.app import create_app as create_sandbox
        from tablepay_sandbox.runtime import Options

        return create_sandbox(
            data_dir,
            public_url=f"http://127.0.0.1:{port}",
            webhook_url=os.environ["BENCH_WEBHOOK_URL"],
            webhook_secret=secret,
            options=sandbox_options(Options()),
        )
    if target == "ours":
        from sync_service.api.app import create_app
        from sync_service.logs import configure_logging
        from sync_service.settings import Settings

        # As `tablepay sync serve` does: INFO logs as JSON lines on stderr (the runner sends them to a file).
        configure_logging("INFO", json_lines=True)
        settings = Settings(
            stripe_secret_key="sk_test_bench",
            stripe_webhook_secret=secret,
            stripe_api_base="http://127.0.0.1:1",
            data_dir=data_dir,
            reconcile_interval_seconds=3600,
        )
        from sync_service.main import freeze_startup_objects

        app = create_app(settings, public_url="http://127.0.0.1:8787", background=True)
        freeze_startup_objects()  # as `tablepay sync` does
        return app
    from .reference_servers import minimal_app, trivial_app

    if target == "minimal":
        return minimal_app(data_dir / "minimal.sqlite", secret)
    if target == "trivial":
        return trivial_app()
    raise SystemExit(f"unknown target {target!r}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target", choices=["ours", "minimal", "trivial", "sandbox"])
    parser.add_argument("port", type=int)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--cprofile", type=Path)
    args = parser.parse_args()
    app = build(args.target, args.data_dir, os.environ["BENCH_WEBHOOK_SECRET"], args.port)
    # The service's own connection guard (sync_service/server.py) for every target, as `tablepay sync` runs.
    guard = ConnectionGuard(connection_cap(raise_open_file_limit()), header_timeout=10.0)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            access_log=False,
            workers=1,
            http=guarded_protocol(guard),
            # a parked long poll must not hold the shutdown for 30 s
            timeout_graceful_shutdown=3,
        )
    )
    if args.cprofile is None:
        server.run()
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(args.cprofile)


if __name__ == "__main__":
    main()
