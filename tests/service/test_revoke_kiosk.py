"""`tablepay sync revoke-kiosk`, run as a real process beside a running service: the token is refused at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.harness import Harness, make_order
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]


def _tablepay(h: Harness, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tablepay", "sync", *args],
        env=h.command_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _paired(h: Harness, kiosk_id: str) -> str:
    added = _tablepay(h, "add-kiosk", kiosk_id)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().splitlines()[-1]


def test_a_revoked_token_is_refused_from_the_next_request_on(harness: Harness) -> None:
    token = _paired(harness, "bar-2")
    client = httpx.Client(base_url=harness.service.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    with client:
        assert client.get("/v1/kiosk").json()["kiosk_id"] == "bar-2"
        payment = client.post("/v1/checkouts", json=make_order(kiosk_id="bar-2")).json()
        revoked = _tablepay(harness, "revoke-kiosk", "bar-2")
        assert revoked.returncode == 0, revoked.stderr
        assert "Kiosk 'bar-2': its token is revoked" in revoked.stdout
        for response in (
            client.get("/v1/kiosk"),
            client.get(f"/v1/payments/{payment['payment_id']}"),
            client.post("/v1/checkouts", json=make_order(kiosk_id="bar-2")),
            client.get("/v1/events"),
        ):
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"] == "Bearer"
    assert harness.kiosk.get("/v1/kiosk").status_code == 200  # other kiosks carry on
    assert len(harness.state()["payments"]) == 1


def test_a_long_poll_in_progress_ends_with_401_when_its_token_is_revoked(harness: Harness) -> None:
    token = _paired(harness, "bar-3")

    async def run() -> tuple[httpx.Response, float]:
        async with httpx.AsyncClient(
            base_url=harness.service.url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            poll = asyncio.create_task(client.get("/v1/events", params={"after": 0, "wait": 50}))
            # The poll has reached the service and waits there for events that will not come.
            await asyncio.to_thread(
                eventually,
                lambda: harness.app.state.feed.waiting("bar-3") or poll.done(),
                message="the long poll waiting in the service",
            )
            assert not poll.done() and harness.app.state.feed.waiting("bar-3") == 1
            await asyncio.to_thread(_tablepay, harness, "revoke-kiosk", "bar-3")
            revoked_at = time.monotonic()
            response = await poll
            return response, time.monotonic() - revoked_at

    response, after = asyncio.run(run())
    assert response.status_code == 401, response.text
    assert after < 5, f"the poll answered {after:.1f} s after the revocation"


def test_revoking_twice_or_an_unknown_kiosk_says_so(harness: Harness) -> None:
    _paired(harness, "bar-4")
    assert _tablepay(harness, "revoke-kiosk", "bar-4").returncode == 0
    again = _tablepay(harness, "revoke-kiosk", "bar-4")
    assert again.returncode == 0 and "revoked" in again.stdout
    unknown = _tablepay(harness, "revoke-kiosk", "nobody")
    assert unknown.returncode == 2 and "no kiosk 'nobody' was ever paired" in unknown.stderr


def test_add_kiosk_pairs_a_revoked_kiosk_again_with_a_new_token(harness: Harness) -> None:
    old = _paired(harness, "bar-5")
    assert _tablepay(harness, "revoke-kiosk", "bar-5").returncode == 0
    new = _paired(harness, "bar-5")
    assert httpx.get(f"{harness.service.url}/v1/kiosk", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert (
        httpx.get(f"{harness.service.url}/v1/kiosk", headers={"Authorization": f"Bearer {new}"}).json()["kiosk_id"]
        == "bar-5"
    )
