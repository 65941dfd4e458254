"""Backfill: events lost for longer than the provider retries are listed and applied, once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sync_service.services.backfill import backfill, parse_duration
from tests.support.harness import make_order, running_harness
from tests.support.providers import PROVIDERS


def test_durations() -> None:
    assert [parse_duration(t) for t in ("30m", "6h", "2d", "1d12h", "45s")] == [1800, 21600, 172800, 129600, 45]
    for bad in ("", "6", "h", "31d", "0m", "-1h", "6 hours"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_backfill_applies_what_the_webhooks_never_brought_and_is_safe_to_repeat(tmp_path: Path, provider: str) -> None:
    with running_harness(tmp_path, provider=provider) as h:
        h.sandbox_mode("drop")  # the provider's deliveries never arrive
        paid = h.checkout(make_order()).json()
        h.complete(paid, "succeeded")
        declined = h.checkout(make_order()).json()
        h.complete(declined, "failed")
        assert h.payment(paid["payment_id"])["status"] == "open"

        app = h.app
        report = h.service.run(backfill(app.state.provider, app.state.payment_events, 3600))
        assert report.outcomes.get("applied", 0) >= 2 and "duplicate" not in report.outcomes
        assert h.payment(paid["payment_id"])["status"] == "paid"
        assert h.payment(declined["payment_id"])["status"] == "failed"
        assert [e["event"] for e in h.feed() if e["payment_id"] == paid["payment_id"]] == [
            "payment.created",
            "payment.succeeded",
        ]

        again = h.service.run(backfill(app.state.provider, app.state.payment_events, 3600))
        assert again.listed == report.listed and set(again.outcomes) == {"duplicate"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_backfill_command_runs_beside_the_service(tmp_path: Path, provider: str) -> None:
    with running_harness(tmp_path, provider=provider) as h:
        h.sandbox_mode("drop")
        payment = h.checkout(make_order()).json()
        h.complete(payment, "succeeded")
        env = h.command_env()
        done = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "backfill", "--since", "1h"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "events listed" in done.stdout and "applied" in done.stdout
        h.wait_status(payment["payment_id"], "paid")
        bad = subprocess.run(
            [sys.executable, "-m", "tablepay", "sync", "backfill", "--since", "45d"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2 and "at most 30d" in bad.stderr
